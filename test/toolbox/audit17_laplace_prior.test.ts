/**
 * Audit 17 (laplace-torch parity): per-parameter prior precisions (`prior_precision` of length
 * `P`, `prior_structure='diag'`) for the `diag` and `full` structures, refused for `kron` as
 * laplace-torch's KronLaplace does. References written here in float64: the GGN of a tiny tanh
 * classifier's last layer, the evidence of Bayesian linear regression with a per-weight prior
 * `log N(y | 0, sigma^2 I + Phi diag(1/delta) Phi^T)`, finite differences of the marginal
 * likelihood in each `delta_i`.
 */
import * as tf from '@tensorflow/tfjs';
import { CholeskyDecomposition, Matrix, inverse } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectBadInput } from '../helpers.js';

const { lastLayerLaplace, allLayersLaplace } = toolbox;

const D = 2;
const H = 3;
const K = 3;
const N = 8;

function rand(n: number, rng: () => number, scale = 1): number[] {
  return Array.from({ length: n }, () => scale * (2 * rng() - 1));
}

/** A tanh MLP classifier `D -> H -> K` with seeded weights, its weights and data. */
function classifier(seed: number) {
  const rng = makeRng(seed);
  const w1 = rand(D * H, rng, 1.2);
  const b1 = rand(H, rng, 0.3);
  const w2 = rand(H * K, rng, 1.5);
  const b2 = rand(K, rng, 0.3);
  const net = tf.sequential();
  net.add(tf.layers.dense({ units: H, inputShape: [D], activation: 'tanh' }));
  net.add(tf.layers.dense({ units: K }));
  const ws = [tf.tensor2d(w1, [D, H]), tf.tensor1d(b1), tf.tensor2d(w2, [H, K]), tf.tensor1d(b2)];
  net.setWeights(ws);
  tf.dispose(ws);
  const xs = Array.from({ length: N }, () => rand(D, rng, 1.5));
  const ys = xs.map((_, i) => i % K);
  /** float64 features `[h; 1]` and logits. */
  const fwd = (x: number[]) => {
    const h = Array.from({ length: H }, (_, j) => {
      let s = b1[j]!;
      for (let i = 0; i < D; i++) s += x[i]! * w1[i * H + j]!;
      return Math.tanh(s);
    });
    const z = Array.from({ length: K }, (_, k) => {
      let s = b2[k]!;
      for (let j = 0; j < H; j++) s += h[j]! * w2[j * K + k]!;
      return s;
    });
    return { phi: [...h, 1], z };
  };
  return { net, xs, ys, fwd, theta: [...w2, ...b2] };
}

/** float64 last-layer GGN `sum_n phi phi^T (x) (diag(p) - p p^T)`, params ordered `(d, k)`. */
function lastLayerGgn(c: ReturnType<typeof classifier>): number[][] {
  const p = (H + 1) * K;
  const g = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  for (const x of c.xs) {
    const { phi, z } = c.fwd(x);
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    const pr = e.map((v) => v / s);
    for (let d = 0; d < H + 1; d++)
      for (let k = 0; k < K; k++)
        for (let e2 = 0; e2 < H + 1; e2++)
          for (let l = 0; l < K; l++) {
            const lam = (k === l ? pr[k]! : 0) - pr[k]! * pr[l]!;
            g[d * K + k]![e2 * K + l]! += phi[d]! * phi[e2]! * lam;
          }
  }
  return g;
}

function perParam(p: number): number[] {
  return Array.from({ length: p }, (_, i) => 0.3 + 0.45 * i);
}

describe('audit17 Laplace: per-parameter prior precision', () => {
  it('full: posterior precision = GGN + diag(delta) and covariance its inverse (float64 GGN)', () => {
    const c = classifier(3);
    const x = tf.tensor2d(c.xs);
    const p = (H + 1) * K;
    const delta = perParam(p);
    const la = lastLayerLaplace(c.net, x, c.ys, {
      hessianStructure: 'full',
      priorPrecision: delta,
    });
    expect(la.paramPriorPrecision).toEqual(delta);
    const g = lastLayerGgn(c);
    const prec = la.denseMatrix('precision');
    const want = g.map((r, i) => r.map((v, j) => v + (i === j ? delta[i]! : 0)));
    for (let i = 0; i < p; i++)
      for (let j = 0; j < p; j++) expect(prec[i * p + j]).toBeCloseTo(want[i]![j]!, 4);
    const cov = la.denseMatrix('covariance');
    const inv = inverse(new Matrix(want));
    for (let i = 0; i < p; i++)
      for (let j = 0; j < p; j++) expect(cov[i * p + j]).toBeCloseTo(inv.get(i, j), 4);
    // the same precisions set afterwards give the same matrix; the scalar setter drops them
    const la2 = lastLayerLaplace(c.net, x, c.ys, { hessianStructure: 'full' });
    la2.paramPriorPrecision = delta;
    expect(Array.from(la2.denseMatrix('precision'))).toEqual(Array.from(prec));
    la2.priorPrecision = 2;
    expect(la2.denseMatrix('precision')[0]).toBeCloseTo(want[0]![0]! - delta[0]! + 2, 4);
    expect(la2.paramPriorPrecision).toEqual(new Array<number>(p).fill(2));
    x.dispose();
  });

  it('diag: precision diagonal = diag(GGN) + delta; all-layers diag blocks too', () => {
    const c = classifier(5);
    const x = tf.tensor2d(c.xs);
    const p = (H + 1) * K;
    const delta = perParam(p);
    const la = lastLayerLaplace(c.net, x, c.ys, {
      hessianStructure: 'diag',
      priorPrecision: delta,
    });
    const g = lastLayerGgn(c);
    const prec = la.denseMatrix('precision');
    for (let i = 0; i < p; i++) expect(prec[i * p + i]).toBeCloseTo(g[i]![i]! + delta[i]!, 4);
    // all layers: P = (D + 1) H + (H + 1) K; the last block is the last layer's
    const pAll = (D + 1) * H + p;
    const dAll = perParam(pAll);
    const all = allLayersLaplace(c.net, x, c.ys, {
      hessianStructure: 'diag',
      priorPrecision: dAll,
    });
    expect(all.numParams).toBe(pAll);
    const h0 = all.denseBlock(0, 'curvature');
    const pr0 = all.denseBlock(0, 'precision');
    const p0 = (D + 1) * H;
    for (let i = 0; i < p0; i++) expect(pr0[i * p0 + i]).toBeCloseTo(h0[i * p0 + i]! + dAll[i]!, 5);
    const pr1 = all.denseBlock(1, 'precision');
    for (let i = 0; i < p; i++) expect(pr1[i * p + i]).toBeCloseTo(g[i]![i]! + dAll[p0 + i]!, 4);
    x.dispose();
  });

  it('logMarginalLikelihood = closed-form BLR evidence with a per-weight prior', () => {
    // y = X w + b + eps: one Dense layer, its posterior mean set as the weights
    const rng = makeRng(11);
    const n = 12;
    const sigma = 0.35;
    const xs = Array.from({ length: n }, () => rand(2, rng, 1.5));
    const ys = xs.map((x) => [0.8 * x[0]! - 0.5 * x[1]! + 0.2 + sigma * (2 * rng() - 1)]);
    const delta = [0.7, 3.1, 0.2];
    const phi = new Matrix(xs.map((x) => [...x, 1]));
    const prec = phi
      .transpose()
      .mmul(phi)
      .div(sigma * sigma);
    for (let i = 0; i < 3; i++) prec.set(i, i, prec.get(i, i) + delta[i]!);
    const mean = inverse(prec)
      .mmul(phi.transpose().mmul(new Matrix(ys)))
      .div(sigma * sigma);
    // closed form log N(y | 0, sigma^2 I + Phi diag(1/delta) Phi^T)
    const cy = phi.mmul(Matrix.diag(delta.map((d) => 1 / d))).mmul(phi.transpose());
    for (let i = 0; i < n; i++) cy.set(i, i, cy.get(i, i) + sigma * sigma);
    const cs = new Matrix(n, n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) cs.set(i, j, 0.5 * (cy.get(i, j) + cy.get(j, i)));
    const ch = new CholeskyDecomposition(cs);
    const l = ch.lowerTriangularMatrix;
    let logDet = 0;
    for (let i = 0; i < n; i++) logDet += 2 * Math.log(l.get(i, i));
    const alpha = ch.solve(new Matrix(ys));
    let quad = 0;
    for (let i = 0; i < n; i++) quad += ys[i]![0]! * alpha.get(i, 0);
    const closed = -0.5 * (quad + logDet + n * Math.log(2 * Math.PI));

    const net = tf.sequential();
    net.add(tf.layers.dense({ units: 1, inputShape: [2] }));
    const ws = [
      tf.tensor2d([mean.get(0, 0), mean.get(1, 0)], [2, 1]),
      tf.tensor1d([mean.get(2, 0)]),
    ];
    net.setWeights(ws);
    tf.dispose(ws);
    const x = tf.tensor2d(xs);
    for (const structure of ['full', 'diag'] as const) {
      const la = lastLayerLaplace(net, x, ys.flat(), {
        likelihood: 'regression',
        hessianStructure: structure,
        sigmaNoise: sigma,
        priorPrecision: delta,
      });
      const ml = la.logMarginalLikelihood();
      if (structure === 'full') {
        expect(ml).toBeCloseTo(closed, 3);
        // explicit vector = the one in use; the scalar form differs
        expect(la.logMarginalLikelihood(delta)).toBeCloseTo(ml, 10);
        expect(Math.abs(la.logMarginalLikelihood(1) - closed)).toBeGreaterThan(1e-2);
      } else {
        expect(Math.abs(ml - closed)).toBeGreaterThan(1e-3); // diag approximates the GGN
      }
    }
    // sigmaNoise: a per-parameter prior with another noise = the closed form at that noise
    const la = lastLayerLaplace(net, x, ys.flat(), {
      likelihood: 'regression',
      hessianStructure: 'full',
      sigmaNoise: 1,
      priorPrecision: 1,
    });
    expect(la.logMarginalLikelihood(delta, sigma)).toBeCloseTo(closed, 3);
    x.dispose();
  });

  it("GLM predictive variance uses (H + diag(delta))^{-1}; optimize 'diag' zeroes each d lml / d delta_i", () => {
    const c = classifier(7);
    const x = tf.tensor2d(c.xs);
    const p = (H + 1) * K;
    const delta = perParam(p);
    const la = lastLayerLaplace(c.net, x, c.ys, {
      hessianStructure: 'full',
      priorPrecision: delta,
    });
    const want = lastLayerGgn(c).map((r, i) => r.map((v, j) => v + (i === j ? delta[i]! : 0)));
    const sig = inverse(new Matrix(want));
    const xt = [0.4, -1.1];
    const before = tf.memory().numTensors;
    const xtt = tf.tensor2d([xt]);
    const { mean, cov } = la.glmPredictive(xtt);
    const cv = Array.from(cov.dataSync());
    tf.dispose([mean, cov, xtt]);
    expect(tf.memory().numTensors).toBe(before);
    const { phi } = c.fwd(xt);
    for (let k = 0; k < K; k++)
      for (let l = 0; l < K; l++) {
        let s = 0;
        for (let d = 0; d < H + 1; d++)
          for (let e = 0; e < H + 1; e++) s += phi[d]! * phi[e]! * sig.get(d * K + k, e * K + l);
        expect(cv[k * K + l]).toBeCloseTo(s, 4);
      }
    for (const structure of ['diag', 'full'] as const) {
      const fit = lastLayerLaplace(c.net, x, c.ys, { hessianStructure: structure });
      const d = fit.optimizePriorPrecision({ priorStructure: 'diag' });
      expect(d).toHaveLength(p);
      expect(fit.paramPriorPrecision).toEqual(d);
      const best = fit.logMarginalLikelihood();
      for (let i = 0; i < p; i++) {
        if (d[i]! <= 1e-8 * 1.01 || d[i]! >= 1e8 * 0.99) continue; // clamped at an end
        const h = 1e-4 * d[i]!;
        const up = [...d];
        const dn = [...d];
        up[i] = d[i]! + h;
        dn[i] = d[i]! - h;
        const grad = (fit.logMarginalLikelihood(up) - fit.logMarginalLikelihood(dn)) / (2 * h);
        // relative to the size of the terms, 1/(2 delta_i)
        expect(Math.abs(grad) * d[i]!).toBeLessThan(1e-4);
        expect(fit.logMarginalLikelihood(up)).toBeLessThanOrEqual(best + 1e-9);
      }
    }
    x.dispose();
  });

  it('sample() under per-parameter precisions has covariance (H + diag(delta))^{-1} (MC, 4 SE)', () => {
    const c = classifier(9);
    const x = tf.tensor2d(c.xs);
    const p = (H + 1) * K;
    const delta = perParam(p);
    const la = lastLayerLaplace(c.net, x, c.ys, {
      hessianStructure: 'full',
      priorPrecision: delta,
    });
    const sig = la.denseMatrix('covariance');
    const S = 4000;
    const before = tf.memory().numTensors;
    const draws = la.sample(S, 123);
    const v = draws.arraySync();
    draws.dispose();
    expect(tf.memory().numTensors).toBe(before);
    for (const i of [0, 4, p - 1]) {
      let m = 0;
      for (const r of v) m += r[i]!;
      m /= S;
      expect(Math.abs(m - c.theta[i]!)).toBeLessThan(4 * Math.sqrt(sig[i * p + i]! / S));
      let s2 = 0;
      for (const r of v) s2 += (r[i]! - c.theta[i]!) ** 2;
      s2 /= S;
      // var of the sample variance of a Gaussian: 2 sigma^4 / S
      expect(Math.abs(s2 - sig[i * p + i]!)).toBeLessThan(4 * Math.sqrt(2 / S) * sig[i * p + i]!);
    }
    x.dispose();
  });

  it('kron refuses per-parameter precisions (laplace-torch KronLaplace), layerwise accepted; bad vectors refused', async () => {
    const c = classifier(13);
    const x = tf.tensor2d(c.xs);
    const p = (H + 1) * K;
    await expectBadInput({
      call: 'kron per-parameter fit',
      arg: 'priorPrecision',
      message: /kron/,
      run: () =>
        lastLayerLaplace(c.net, x, c.ys, { hessianStructure: 'kron', priorPrecision: perParam(p) }),
    });
    const pAll = (D + 1) * H + p;
    await expectBadInput({
      call: 'all-layers kron per-parameter fit',
      arg: 'priorPrecision',
      run: () => allLayersLaplace(c.net, x, c.ys, { priorPrecision: perParam(pAll) }),
    });
    const kr = allLayersLaplace(c.net, x, c.ys, { priorPrecision: [0.5, 2] });
    expect(kr.layerPriorPrecision).toEqual([0.5, 2]);
    await expectBadInput({
      call: 'kron per-parameter setter',
      arg: 'priorPrecision',
      run: () => {
        kr.paramPriorPrecision = perParam(pAll);
      },
    });
    await expectBadInput({
      call: 'kron optimize diag',
      arg: 'priorStructure',
      run: () => kr.optimizePriorPrecision({ priorStructure: 'diag' }),
    });
    const la = lastLayerLaplace(c.net, x, c.ys, { hessianStructure: 'diag' });
    await expectBadInput({
      call: 'wrong length',
      arg: 'priorPrecision',
      run: () =>
        lastLayerLaplace(c.net, x, c.ys, { hessianStructure: 'diag', priorPrecision: [1, 2] }),
    });
    const bad = perParam(p);
    bad[3] = 0;
    await expectBadInput({
      call: 'zero entry at fit',
      arg: 'priorPrecision[3]',
      run: () =>
        lastLayerLaplace(c.net, x, c.ys, { hessianStructure: 'diag', priorPrecision: bad }),
    });
    await expectBadInput({
      call: 'zero entry in setter',
      arg: 'priorPrecision[3]',
      run: () => {
        la.paramPriorPrecision = bad;
      },
    });
    await expectBadInput({
      call: 'lml with NaN entry',
      arg: 'priorPrecision[0]',
      run: () => la.logMarginalLikelihood([Number.NaN, ...perParam(p - 1)]),
    });
    await expectBadInput({
      call: 'string prior',
      arg: 'priorPrecision',
      run: () => lastLayerLaplace(c.net, x, c.ys, { priorPrecision: 'big' as never }),
    });
    x.dispose();
  });
});
