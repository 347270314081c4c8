/**
 * Audit 17 probes of the laplace-torch API off the seed paths: the normalised Laplace bridge
 * (`link_approx='bridge_norm'`), regression and classification, last layer and all layers,
 * diag / kron / full, `sample`, the predictive links, `logMarginalLikelihood` with explicit
 * `delta` and `sigma`, empty batches and bad inputs. References are written here in float64
 * (laplace-torch's formulas, closed forms, finite differences) or are Monte Carlo with tolerances
 * from their standard errors.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectBadInput, expectNoLeak } from '../helpers.js';

const { lastLayerLaplace, allLayersLaplace } = toolbox;

const D = 2;
const H = 4;

function rand(n: number, rng: () => number, scale = 1): number[] {
  return Array.from({ length: n }, () => scale * (2 * rng() - 1));
}

function mlp(seed: number, k: number, head: 'linear' | 'sigmoid' | 'softmax' = 'linear') {
  const rng = makeRng(seed);
  const net = tf.sequential();
  net.add(tf.layers.dense({ units: H, inputShape: [D], activation: 'tanh' }));
  net.add(tf.layers.dense({ units: k, activation: head }));
  const ws = [
    tf.tensor2d(rand(D * H, rng, 1.3), [D, H]),
    tf.tensor1d(rand(H, rng, 0.3)),
    tf.tensor2d(rand(H * k, rng, 1.5), [H, k]),
    tf.tensor1d(rand(k, rng, 0.3)),
  ];
  net.setWeights(ws);
  tf.dispose(ws);
  const xs = Array.from({ length: 14 }, () => rand(D, rng, 1.5));
  return { net, xs, rng };
}

/** laplace-torch's bridge / bridge_norm on one row, float64. */
function bridgeRef(f0: number[], v0: number[][], norm: boolean): number[] {
  const k = f0.length;
  const rowSum = v0.map((r) => r.reduce((a, b) => a + b, 0));
  const colSum = Array.from({ length: k }, (_, j) => v0.reduce((a, r) => a + r[j]!, 0));
  const tot = rowSum.reduce((a, b) => a + b, 0);
  const fSum = f0.reduce((a, b) => a + b, 0);
  let f = f0.map((m, i) => m - (rowSum[i]! * fSum) / tot);
  let vd = Array.from({ length: k }, (_, i) => v0[i]![i]! - (rowSum[i]! * colSum[i]!) / tot);
  if (norm) {
    const s = vd.reduce((a, b) => a + b, 0) / k / Math.sqrt(k / 2);
    f = f.map((m) => m / Math.sqrt(s));
    vd = vd.map((v) => v / s);
  }
  const sumExp = f.reduce((a, m) => a + Math.exp(-m), 0);
  const alpha = f.map((m, i) => (1 - 2 / k + (Math.exp(m) / (k * k)) * sumExp) / vd[i]!);
  const a0 = alpha.reduce((a, b) => a + b, 0);
  return alpha.map((a) => a / a0);
}

function near(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(tol);
}

describe('audit17 Laplace probes (laplace-torch API)', () => {
  it("bridgeNorm (laplace-torch 'bridge_norm') equals the formula on glmPredictive, last layer K = 4", () => {
    const { net, xs } = mlp(1, 4);
    const x = tf.tensor2d(xs);
    const la = lastLayerLaplace(
      net,
      x,
      xs.map((_, i) => i % 4),
      { hessianStructure: 'full' },
    );
    const xt = tf.tensor2d(xs.slice(0, 5));
    const got = expectNoLeak(() => la.predictProbs(xt, { link: 'bridgeNorm' }));
    const plain = expectNoLeak(() => la.predictProbs(xt, { link: 'bridge' }));
    const { mean, cov } = la.glmPredictive(xt);
    const mu = mean.arraySync();
    const cv = cov.arraySync();
    tf.dispose([mean, cov]);
    let diff = 0;
    mu.forEach((m, r) => {
      near(got.slice(r * 4, r * 4 + 4), bridgeRef(m, cv[r]!, true), 2e-4);
      near(plain.slice(r * 4, r * 4 + 4), bridgeRef(m, cv[r]!, false), 2e-4);
      diff += Math.abs(got[r * 4]! - plain[r * 4]!);
    });
    expect(diff).toBeGreaterThan(1e-3); // the normalisation changes the answer here
    tf.dispose([x, xt]);
  });

  it('bridgeNorm over all layers (kron) equals the formula on its glmPredictive; rows sum to 1', () => {
    const { net, xs } = mlp(2, 3);
    const x = tf.tensor2d(xs);
    const la = allLayersLaplace(
      net,
      x,
      xs.map((_, i) => i % 3),
    );
    const got = expectNoLeak(() => la.predictProbs(x, { link: 'bridgeNorm' }));
    const { mean, cov } = la.glmPredictive(x);
    const mu = mean.arraySync();
    const cv = cov.arraySync();
    tf.dispose([mean, cov]);
    mu.forEach((m, r) => {
      const row = got.slice(r * 3, r * 3 + 3);
      near(row, bridgeRef(m, cv[r]!, true), 2e-4);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    });
    x.dispose();
  });

  it("a binary head refuses the bridges naming link; 'bridge_norm' is refused with the camelCase name", async () => {
    const { net, xs } = mlp(3, 1, 'sigmoid');
    const x = tf.tensor2d(xs);
    const la = lastLayerLaplace(
      net,
      x,
      xs.map((_, i) => i % 2),
    );
    await expectBadInput({
      call: 'binary bridgeNorm',
      arg: 'link',
      run: () => la.predictProbs(x, { link: 'bridgeNorm' }),
    });
    const { net: n3 } = mlp(3, 3);
    const l3 = lastLayerLaplace(
      n3,
      x,
      xs.map((_, i) => i % 3),
    );
    await expectBadInput({
      call: 'snake case',
      arg: 'link',
      message: /bridgeNorm/,
      run: () => l3.predictProbs(x, { link: 'bridge_norm' as never }),
    });
    x.dispose();
  });

  it('binary sigmoid head: probit = sigmoid(mu / sqrt(1 + pi v / 8)) on glmPredictive, [1 - p, p]', () => {
    const { net, xs } = mlp(4, 1, 'sigmoid');
    const x = tf.tensor2d(xs);
    for (const structure of ['diag', 'kron', 'full'] as const) {
      const la = lastLayerLaplace(
        net,
        x,
        xs.map((v) => (v[0]! > 0 ? 1 : 0)),
        {
          hessianStructure: structure,
        },
      );
      const got = expectNoLeak(() => la.predictProbs(x));
      const { mean, cov } = la.glmPredictive(x);
      const mu = mean.dataSync();
      const v = cov.dataSync();
      tf.dispose([mean, cov]);
      for (let n = 0; n < xs.length; n++) {
        const p = 1 / (1 + Math.exp(-mu[n]! / Math.sqrt(1 + (Math.PI / 8) * v[n]!)));
        expect(got[2 * n + 1]).toBeCloseTo(p, 5);
        expect(got[2 * n]).toBeCloseTo(1 - p, 5);
      }
    }
    x.dispose();
  });

  it('regression diag: GLM variance = sum_i phi_i^2 / (h_i + delta) with h the diagonal GGN (closed form)', () => {
    const { net, xs } = mlp(5, 1);
    const x = tf.tensor2d(xs);
    const sigma = 0.5;
    const y = xs.map((v) => Math.sin(v[0]!));
    const la = lastLayerLaplace(net, x, y, {
      likelihood: 'regression',
      hessianStructure: 'diag',
      sigmaNoise: sigma,
      priorPrecision: 0.8,
    });
    const w = net.getWeights().map((t) => Array.from(t.dataSync()));
    const phi = (v: number[]) => [
      ...Array.from({ length: H }, (_, j) =>
        Math.tanh(w[1]![j]! + v[0]! * w[0]![j]! + v[1]! * w[0]![H + j]!),
      ),
      1,
    ];
    const h = new Array<number>(H + 1).fill(0);
    for (const v of xs) phi(v).forEach((p, i) => (h[i]! += (p * p) / (sigma * sigma)));
    const { mean, cov } = la.glmPredictive(x);
    const got = cov.dataSync();
    tf.dispose([mean, cov]);
    xs.forEach((v, n) => {
      const want = phi(v).reduce((s, p, i) => s + (p * p) / (h[i]! + 0.8), 0);
      expect(got[n]).toBeCloseTo(want, 4);
    });
    x.dispose();
  });

  it('regression with one output: kron equals full (G is a scalar), covariance and marginal likelihood', () => {
    const { net, xs } = mlp(6, 1);
    const x = tf.tensor2d(xs);
    const y = xs.map((v) => v[0]! * v[1]!);
    const opts = { likelihood: 'regression' as const, sigmaNoise: 0.4, priorPrecision: 1.3 };
    const kr = lastLayerLaplace(net, x, y, { ...opts, hessianStructure: 'kron' });
    const fu = lastLayerLaplace(net, x, y, { ...opts, hessianStructure: 'full' });
    near(kr.denseMatrix('covariance'), fu.denseMatrix('covariance'), 1e-4);
    expect(kr.logMarginalLikelihood()).toBeCloseTo(fu.logMarginalLikelihood(), 3);
    x.dispose();
  });

  it('logMarginalLikelihood(delta, sigma) equals a fit made with that sigma (H scales as 1/sigma^2)', () => {
    const { net, xs } = mlp(7, 2);
    const x = tf.tensor2d(xs);
    const y = xs.flatMap((v) => [v[0]!, -v[1]!]);
    for (const structure of ['diag', 'kron', 'full'] as const) {
      const a = lastLayerLaplace(net, x, y, {
        likelihood: 'regression',
        hessianStructure: structure,
        sigmaNoise: 1,
      });
      const b = lastLayerLaplace(net, x, y, {
        likelihood: 'regression',
        hessianStructure: structure,
        sigmaNoise: 0.3,
      });
      expect(a.logMarginalLikelihood(2.5, 0.3)).toBeCloseTo(b.logMarginalLikelihood(2.5), 3);
      expect(b.logMarginalLikelihood(0.7, 1)).toBeCloseTo(a.logMarginalLikelihood(0.7), 3);
    }
    const all1 = allLayersLaplace(net, x, y, {
      likelihood: 'regression',
      hessianStructure: 'diag',
    });
    const all2 = allLayersLaplace(net, x, y, {
      likelihood: 'regression',
      hessianStructure: 'diag',
      sigmaNoise: 0.6,
    });
    expect(all1.logMarginalLikelihood([0.5, 2], 0.6)).toBeCloseTo(
      all2.logMarginalLikelihood([0.5, 2]),
      3,
    );
    x.dispose();
  });

  it('per-layer [d, d] = scalar d; per-parameter all-d = scalar d (lml, precision)', () => {
    const { net, xs } = mlp(8, 3);
    const x = tf.tensor2d(xs);
    const la = allLayersLaplace(
      net,
      x,
      xs.map((_, i) => i % 3),
      { hessianStructure: 'diag' },
    );
    const p = la.numParams;
    expect(p).toBe((D + 1) * H + (H + 1) * 3);
    expect(la.logMarginalLikelihood([0.9, 0.9])).toBeCloseTo(la.logMarginalLikelihood(0.9), 5);
    expect(la.logMarginalLikelihood(new Array<number>(p).fill(0.9))).toBeCloseTo(
      la.logMarginalLikelihood(0.9),
      5, // ||theta||^2 summed in float32 for the scalar form
    );
    la.priorPrecision = 0.9;
    const iso = la.denseBlock(1, 'precision');
    const isoGlm = la.glmPredictive(x);
    const isoSample = la.sample(3, 21);
    la.paramPriorPrecision = new Array<number>(p).fill(0.9);
    near(la.denseBlock(1, 'precision'), iso, 1e-12);
    // the GLM predictive and the draws go through the per-parameter blocks: the same here
    const parGlm = la.glmPredictive(x);
    const parSample = la.sample(3, 21);
    near(parGlm.cov.dataSync(), isoGlm.cov.dataSync(), 1e-5);
    near(parSample.dataSync(), isoSample.dataSync(), 1e-5);
    tf.dispose([isoGlm.mean, isoGlm.cov, parGlm.mean, parGlm.cov, isoSample, parSample]);
    x.dispose();
  });

  it('all layers: optimizePriorPrecision zeroes d lml / d delta (FD), layerwise each block', () => {
    const { net, xs } = mlp(9, 3);
    const x = tf.tensor2d(xs);
    for (const structure of ['diag', 'kron'] as const) {
      const la = allLayersLaplace(
        net,
        x,
        xs.map((_, i) => i % 3),
        { hessianStructure: structure },
      );
      const d = la.optimizePriorPrecision();
      const h = 1e-4 * d;
      const g = (la.logMarginalLikelihood(d + h) - la.logMarginalLikelihood(d - h)) / (2 * h);
      expect(Math.abs(g * d)).toBeLessThan(1e-4);
      const dl = la.optimizePriorPrecision({ priorStructure: 'layerwise' });
      for (let b = 0; b < 2; b++) {
        const up = [...dl];
        const dn = [...dl];
        up[b] = dl[b]! * 1.0001;
        dn[b] = dl[b]! * 0.9999;
        const gb = (la.logMarginalLikelihood(up) - la.logMarginalLikelihood(dn)) / (2e-4 * dl[b]!);
        expect(Math.abs(gb * dl[b]!)).toBeLessThan(1e-4);
      }
    }
    x.dispose();
  });

  it('sample(): seeded, [S, P], mean theta_* and per-coordinate variance diag(Sigma) within 4 SE (all layers kron)', () => {
    const { net, xs } = mlp(10, 2);
    const x = tf.tensor2d(xs);
    const la = allLayersLaplace(net, x, xs.map((_, i) => (i % 2 === 0 ? [1, 0] : [0, 1])).flat(), {
      likelihood: 'regression',
      priorPrecision: 2,
    });
    const S = 3000;
    const a = la.sample(S, 5);
    const b = la.sample(S, 5);
    expect(a.shape).toEqual([S, la.numParams]);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    const theta = net.getWeights().flatMap((t) => Array.from(t.dataSync()));
    const v = a.arraySync();
    tf.dispose([a, b]);
    const p0 = (D + 1) * H;
    const cov0 = la.denseBlock(0, 'covariance');
    const cov1 = la.denseBlock(1, 'covariance');
    const p1 = (H + 1) * 2;
    for (const i of [0, 3, p0 - 1, p0, p0 + p1 - 1]) {
      const s2 = i < p0 ? cov0[i * p0 + i]! : cov1[(i - p0) * p1 + (i - p0)]!;
      let m = 0;
      for (const r of v) m += r[i]!;
      m /= S;
      expect(Math.abs(m - theta[i]!)).toBeLessThan(4 * Math.sqrt(s2 / S));
      let q = 0;
      for (const r of v) q += (r[i]! - theta[i]!) ** 2;
      expect(Math.abs(q / S - s2)).toBeLessThan(4 * Math.sqrt(2 / S) * s2);
    }
    x.dispose();
  });

  it('sampleOutputs moments match glmPredictive (all layers regression, MC 4 SE)', () => {
    const { net, xs } = mlp(11, 1);
    const x = tf.tensor2d(xs.slice(0, 4));
    const xt = tf.tensor2d(xs);
    const la = allLayersLaplace(
      net,
      xt,
      xs.map((v) => v[0]!),
      {
        likelihood: 'regression',
        hessianStructure: 'diag',
        priorPrecision: 3,
      },
    );
    const S = 3000;
    const f = la.sampleOutputs(x, S, 17);
    const { mean, variance } = tf.moments(f, 0);
    const m = mean.dataSync();
    const v = variance.dataSync();
    const g = la.glmPredictive(x);
    const gm = g.mean.dataSync();
    const gv = g.cov.dataSync();
    tf.dispose([f, mean, variance, g.mean, g.cov]);
    for (let n = 0; n < 4; n++) {
      expect(Math.abs(m[n]! - gm[n]!)).toBeLessThan(4 * Math.sqrt(gv[n]! / S));
      expect(Math.abs(v[n]! - gv[n]!)).toBeLessThan(4 * Math.sqrt(2 / S) * gv[n]!);
    }
    tf.dispose([x, xt]);
  });

  it("predictProbs link 'mc' = mean of sampleProbs with the same seed (last layer and all layers)", () => {
    const { net, xs } = mlp(12, 3);
    const x = tf.tensor2d(xs);
    const y = xs.map((_, i) => i % 3);
    for (const la of [
      lastLayerLaplace(net, x, y, { hessianStructure: 'diag' }),
      allLayersLaplace(net, x, y),
    ]) {
      const p = expectNoLeak(() => la.predictProbs(x, { link: 'mc', numSamples: 50, seed: 4 }));
      const s = la.sampleProbs(x, 50, 4);
      const m = tf.mean(s, 0);
      near(p, m.dataSync(), 1e-6);
      tf.dispose([s, m]);
      const q = expectNoLeak(() => la.predictProbs(x, { link: 'mc', numSamples: 50, seed: 5 }));
      expect(q).not.toEqual(p);
    }
    x.dispose();
  });

  it('all layers: nnSampleOutputs = the float64 network at sample() draws; batchSize invariant', () => {
    const { net, xs } = mlp(13, 2);
    const x = tf.tensor2d(xs);
    const y = xs.flatMap((v) => [v[0]!, v[1]!]);
    const la = allLayersLaplace(net, x, y, { likelihood: 'regression', batchSize: 3 });
    const S = 4;
    const draws = la.sample(S, 8);
    const th = draws.arraySync();
    draws.dispose();
    const f = la.nnSampleOutputs(x, S, 8);
    const got = f.arraySync();
    f.dispose();
    const fwd = (t: number[], v: number[]) => {
      const h = Array.from({ length: H }, (_, j) =>
        Math.tanh(t[D * H + j]! + v[0]! * t[j]! + v[1]! * t[H + j]!),
      );
      const o = (D + 1) * H;
      return [0, 1].map((c) =>
        h.reduce((s, hj, j) => s + hj * t[o + j * 2 + c]!, t[o + H * 2 + c]!),
      );
    };
    for (let s = 0; s < S; s++) xs.forEach((v, n) => near(got[s]![n]!, fwd(th[s]!, v), 1e-4));
    x.dispose();
  });

  it('an empty batch gives empty results of the right shape (probs, nn samples, glm)', () => {
    const { net, xs } = mlp(14, 3);
    const x = tf.tensor2d(xs);
    const la = lastLayerLaplace(
      net,
      x,
      xs.map((_, i) => i % 3),
      { hessianStructure: 'full' },
    );
    const e = tf.zeros([0, D]);
    for (const link of ['probit', 'mc', 'bridge', 'bridgeNorm'] as const) {
      const p = la.predictProbs(e, { link });
      expect(p.shape).toEqual([0, 3]);
      p.dispose();
    }
    const s = la.nnSampleOutputs(e, 3, 1);
    expect(s.shape).toEqual([3, 0, 3]);
    s.dispose();
    tf.dispose([x, e]);
  });

  it('bad inputs are refused by name before any work (sample, predictive, lml, nn samples)', async () => {
    const { net, xs } = mlp(15, 3);
    const x = tf.tensor2d(xs);
    const la = lastLayerLaplace(
      net,
      x,
      xs.map((_, i) => i % 3),
    );
    const reg = lastLayerLaplace(
      net,
      x,
      xs.flatMap((v) => [v[0]!, v[1]!, 0]),
      {
        likelihood: 'regression',
      },
    );
    const bad = tf.tensor2d([[Number.NaN, 1]]);
    const cases: [string, string | RegExp, () => unknown][] = [
      ['sample 0', 'numSamples', () => la.sample(0)],
      ['sample NaN seed', 'seed', () => la.sample(2, Number.NaN)],
      ['nn samples 2.5', 'numSamples', () => la.nnSampleOutputs(x, 2.5)],
      ['nn samples NaN input', 'x', () => la.nnSampleOutputs(bad, 2)],
      ['probs of a regressor', 'likelihood', () => reg.predictProbs(x)],
      ['lml negative delta', 'priorPrecision', () => la.logMarginalLikelihood(-1)],
      ['lml sigma for a classifier', 'sigmaNoise', () => la.logMarginalLikelihood(1, 0.5)],
      ['lml zero sigma', 'sigmaNoise', () => reg.logMarginalLikelihood(1, 0)],
      [
        'unknown predict key',
        /predictProbs|predType/,
        () => la.predictProbs(x, { predType: 'nn' } as never),
      ],
      [
        'all layers full',
        'hessianStructure',
        () =>
          allLayersLaplace(
            net,
            x,
            xs.map(() => 0),
            { hessianStructure: 'full' as never },
          ),
      ],
      ['fit NaN input', 'x', () => lastLayerLaplace(net, bad, [0])],
      ['dense matrix kind', 'which', () => la.denseMatrix('hessian' as never)],
    ];
    for (const [call, arg, run] of cases) await expectBadInput({ call, arg, run });
    tf.dispose([x, bad]);
  });
});
