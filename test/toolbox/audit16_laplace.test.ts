/**
 * Audit 16 (issue 17, laplace-torch parity): last-layer and all-layers Laplace probed off the seed
 * paths — a tanh MLP classifier with three classes, regression with the noise changed after the
 * fit (`log_marginal_likelihood(prior_precision, sigma_noise)`), batch-size invariance, the
 * Laplace bridge link, the prior-precision maximiser, bad inputs — against float64 references
 * written here: finite-difference Hessians of the NLL, finite-difference network Jacobians, the
 * closed-form evidence of Bayesian linear regression, the probit and bridge formulas.
 */
import * as tf from '@tensorflow/tfjs';
import { CholeskyDecomposition, EigenvalueDecomposition, Matrix, inverse } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectBadInput, expectNoLeak } from '../helpers.js';

const { lastLayerLaplace, allLayersLaplace } = toolbox;

const D = 3;
const H = 4;
const K = 3;
const N = 9;

function rand(n: number, rng: () => number, scale = 1): number[] {
  return Array.from({ length: n }, () => scale * (2 * rng() - 1));
}

interface Mlp {
  w1: number[]; // [D, H]
  b1: number[];
  w2: number[]; // [H, K]
  b2: number[];
}

function mlpWeights(seed: number): Mlp {
  const rng = makeRng(seed);
  return {
    w1: rand(D * H, rng, 1.2),
    b1: rand(H, rng, 0.3),
    w2: rand(H * K, rng, 1.5),
    b2: rand(K, rng, 0.3),
  };
}

function buildMlp(w: Mlp, act: 'tanh' | 'softmaxHead' = 'tanh'): tf.Sequential {
  const net = tf.sequential();
  net.add(tf.layers.dense({ units: H, inputShape: [D], activation: 'tanh' }));
  net.add(tf.layers.dense({ units: K, activation: act === 'softmaxHead' ? 'softmax' : 'linear' }));
  const ws = [
    tf.tensor2d(w.w1, [D, H]),
    tf.tensor1d(w.b1),
    tf.tensor2d(w.w2, [H, K]),
    tf.tensor1d(w.b2),
  ];
  net.setWeights(ws);
  tf.dispose(ws);
  return net;
}

/** float64 forward: hidden `h` and logits `z`. */
function forward(w: Mlp, x: number[]): { h: number[]; z: number[] } {
  const h = Array.from({ length: H }, (_, j) => {
    let s = w.b1[j]!;
    for (let i = 0; i < D; i++) s += x[i]! * w.w1[i * H + j]!;
    return Math.tanh(s);
  });
  const z = Array.from({ length: K }, (_, k) => {
    let s = w.b2[k]!;
    for (let j = 0; j < H; j++) s += h[j]! * w.w2[j * K + k]!;
    return s;
  });
  return { h, z };
}

function softmax(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function flat(w: Mlp): number[] {
  return [...w.w1, ...w.b1, ...w.w2, ...w.b2];
}

function unflat(t: number[]): Mlp {
  let o = 0;
  const take = (n: number): number[] => {
    const r = t.slice(o, o + n);
    o += n;
    return r;
  };
  return { w1: take(D * H), b1: take(H), w2: take(H * K), b2: take(K) };
}

/** Per-example Jacobian of the logits in all parameters by central differences, `[K][P]`. */
function jacobianFd(w: Mlp, x: number[]): number[][] {
  const t = flat(w);
  const eps = 1e-6;
  const jac = Array.from({ length: K }, () => new Array<number>(t.length).fill(0));
  for (let p = 0; p < t.length; p++) {
    const tp = t.slice();
    const tm = t.slice();
    tp[p]! += eps;
    tm[p]! -= eps;
    const zp = forward(unflat(tp), x).z;
    const zm = forward(unflat(tm), x).z;
    for (let k = 0; k < K; k++) jac[k]![p] = (zp[k]! - zm[k]!) / (2 * eps);
  }
  return jac;
}

function dataset(seed: number, n = N): { xs: number[][]; ys: number[] } {
  const rng = makeRng(seed);
  const xs = Array.from({ length: n }, () => rand(D, rng));
  const ys = Array.from({ length: n }, () => Math.floor(rng() * K));
  return { xs, ys };
}

function near(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs((a[i] as number) - (b[i] as number));
    expect(err, `entry ${i}: ${a[i]} vs ${b[i]}`).toBeLessThanOrEqual(
      tol * (1 + Math.abs(b[i] as number)),
    );
  }
}

const W = mlpWeights(11);
const DATA = dataset(12);
const P_LAST = (H + 1) * K;

describe('audit16 last-layer Laplace on a tanh MLP with three classes', () => {
  it('full precision = finite-difference Hessian of the float64 NLL in the last layer + delta I', () => {
    const net = buildMlp(W);
    const x = tf.tensor2d(DATA.xs);
    const delta = 0.7;
    const la = lastLayerLaplace(net, x, DATA.ys, {
      hessianStructure: 'full',
      priorPrecision: delta,
    });
    const prec = la.denseMatrix('precision');
    // gradient of sum_n -log softmax(h W2 + b2)_y in theta = [W2 (h-major), b2]
    const grad = (th: number[]): number[] => {
      const g = new Array<number>(P_LAST).fill(0);
      for (let n = 0; n < N; n++) {
        const h = [...forward(W, DATA.xs[n]!).h, 1];
        const z = Array.from({ length: K }, (_, k) =>
          h.reduce((s, hv, j) => s + hv * th[j * K + k]!, 0),
        );
        const p = softmax(z);
        for (let j = 0; j <= H; j++)
          for (let k = 0; k < K; k++) g[j * K + k]! += h[j]! * (p[k]! - (k === DATA.ys[n] ? 1 : 0));
      }
      return g;
    };
    const th0 = [...W.w2, ...W.b2];
    const eps = 1e-5;
    for (let a = 0; a < P_LAST; a++) {
      const tp = th0.slice();
      const tm = th0.slice();
      tp[a]! += eps;
      tm[a]! -= eps;
      const gp = grad(tp);
      const gm = grad(tm);
      for (let b = 0; b < P_LAST; b++) {
        const hess = (gp[b]! - gm[b]!) / (2 * eps) + (a === b ? delta : 0);
        expect(Math.abs(prec[a * P_LAST + b]! - hess)).toBeLessThan(2e-4 * (1 + Math.abs(hess)));
      }
    }
    x.dispose();
  });

  it('diag = diagonal of the full GGN; kron = (1/N) A (x) G with A, G in float64', () => {
    const net = buildMlp(W);
    const x = tf.tensor2d(DATA.xs);
    const full = lastLayerLaplace(net, x, DATA.ys, {
      hessianStructure: 'full',
      priorPrecision: 1,
    }).denseMatrix('precision');
    const diag = lastLayerLaplace(net, x, DATA.ys, {
      hessianStructure: 'diag',
      priorPrecision: 1,
    }).denseMatrix('precision');
    const kron = lastLayerLaplace(net, x, DATA.ys, {
      hessianStructure: 'kron',
      priorPrecision: 1,
    }).denseMatrix('precision');
    const A = Array.from({ length: H + 1 }, () => new Array<number>(H + 1).fill(0));
    const G = Array.from({ length: K }, () => new Array<number>(K).fill(0));
    for (let n = 0; n < N; n++) {
      const { h, z } = forward(W, DATA.xs[n]!);
      const ht = [...h, 1];
      const p = softmax(z);
      for (let i = 0; i <= H; i++) for (let j = 0; j <= H; j++) A[i]![j]! += ht[i]! * ht[j]!;
      for (let i = 0; i < K; i++)
        for (let j = 0; j < K; j++) G[i]![j]! += (i === j ? p[i]! : 0) - p[i]! * p[j]!;
    }
    for (let a = 0; a < P_LAST; a++) {
      for (let b = 0; b < P_LAST; b++) {
        const want = a === b ? full[a * P_LAST + b]! : 0;
        expect(Math.abs(diag[a * P_LAST + b]! - want)).toBeLessThan(1e-4 * (1 + Math.abs(want)));
        const [ia, ka] = [Math.floor(a / K), a % K];
        const [ib, kb] = [Math.floor(b / K), b % K];
        const kr = (A[ia]![ib]! * G[ka]![kb]!) / N + (a === b ? 1 : 0);
        expect(Math.abs(kron[a * P_LAST + b]! - kr)).toBeLessThan(1e-4 * (1 + Math.abs(kr)));
      }
    }
    x.dispose();
  });

  it('probit predictive = softmax(mu_k / sqrt(1 + pi/8 Var_kk)) with Var = J Sigma J^T in float64', () => {
    const net = buildMlp(W);
    const x = tf.tensor2d(DATA.xs);
    for (const structure of ['full', 'kron', 'diag'] as const) {
      const la = lastLayerLaplace(net, x, DATA.ys, {
        hessianStructure: structure,
        priorPrecision: 0.5,
      });
      const cov = new Matrix(
        Array.from({ length: P_LAST }, (_, i) =>
          Array.from(la.denseMatrix('covariance').subarray(i * P_LAST, (i + 1) * P_LAST)),
        ),
      );
      const xt = tf.tensor2d([
        [0.3, -2, 1.5],
        [3, 3, -3],
      ]);
      const got = expectNoLeak(() => la.predictProbs(xt));
      const glm = la.glmPredictive(xt);
      const gotCov = glm.cov.arraySync();
      tf.dispose([glm.mean, glm.cov]);
      [
        [0.3, -2, 1.5],
        [3, 3, -3],
      ].forEach((row, r) => {
        const { h, z } = forward(W, row);
        const ht = [...h, 1];
        // J = phi~^T (x) I_K: Var_kl = sum_{i,j} phi_i phi_j Sigma[(i,k),(j,l)]
        const v = Array.from({ length: K }, (_, k) =>
          Array.from({ length: K }, (_, l) => {
            let s = 0;
            for (let i = 0; i <= H; i++)
              for (let j = 0; j <= H; j++) s += ht[i]! * ht[j]! * cov.get(i * K + k, j * K + l);
            return s;
          }),
        );
        near(gotCov[r]!.flat(), v.flat(), 2e-3);
        const want = softmax(z.map((m, k) => m / Math.sqrt(1 + (Math.PI / 8) * v[k]![k]!)));
        near(got.slice(r * K, r * K + K), want, 1e-4);
      });
      xt.dispose();
    }
    x.dispose();
  });

  it("the Laplace bridge link (Hobbhahn et al.) equals laplace-torch's formula in float64", () => {
    const net = buildMlp(W);
    const x = tf.tensor2d(DATA.xs);
    const la = lastLayerLaplace(net, x, DATA.ys, { hessianStructure: 'full', priorPrecision: 0.3 });
    const rows = [
      [0.3, -2, 1.5],
      [0.1, 0.2, 0.3],
      [-1, 1, 2],
    ];
    const xt = tf.tensor2d(rows);
    const got = expectNoLeak(() => la.predictProbs(xt, { link: 'bridge' }));
    const glm = la.glmPredictive(xt);
    const mu = glm.mean.arraySync();
    const cov = glm.cov.arraySync();
    tf.dispose([glm.mean, glm.cov]);
    rows.forEach((_, r) => {
      const f = mu[r]!.slice();
      const v = cov[r]!.map((row) => row.slice());
      const rowSum = v.map((row) => row.reduce((a, b) => a + b, 0));
      const colSum = Array.from({ length: K }, (_, j) => v.reduce((a, row) => a + row[j]!, 0));
      const tot = rowSum.reduce((a, b) => a + b, 0);
      const fSum = f.reduce((a, b) => a + b, 0);
      const fc = f.map((m, k) => m - (rowSum[k]! * fSum) / tot);
      const vd = Array.from({ length: K }, (_, k) => v[k]![k]! - (rowSum[k]! * colSum[k]!) / tot);
      const sumExp = fc.reduce((a, m) => a + Math.exp(-m), 0);
      const alpha = fc.map((m, k) => (1 - 2 / K + (Math.exp(m) / (K * K)) * sumExp) / vd[k]!);
      const a0 = alpha.reduce((a, b) => a + b, 0);
      near(
        got.slice(r * K, r * K + K),
        alpha.map((a) => a / a0),
        2e-3,
      );
    });
    tf.dispose([x, xt]);
  });

  it('batchSize does not change the posterior, the marginal likelihood or the predictive (N = 9, batches of 2)', () => {
    const net = buildMlp(W);
    const x = tf.tensor2d(DATA.xs);
    for (const structure of ['kron', 'diag', 'full'] as const) {
      const a = lastLayerLaplace(net, x, DATA.ys, { hessianStructure: structure });
      const b = lastLayerLaplace(net, x, DATA.ys, { hessianStructure: structure, batchSize: 2 });
      near(b.denseMatrix('precision'), a.denseMatrix('precision'), 1e-5);
      expect(b.logMarginalLikelihood(0.8)).toBeCloseTo(a.logMarginalLikelihood(0.8), 4);
      const pa = a.predictProbs(x);
      const pb = b.predictProbs(x);
      near(pb.dataSync(), pa.dataSync(), 1e-5);
      tf.dispose([pa, pb]);
    }
    x.dispose();
  });

  it('optimizePriorPrecision: a maximum of the marginal likelihood (its derivative ~ 0, both sides lower)', () => {
    const net = buildMlp(W);
    const x = tf.tensor2d(DATA.xs);
    for (const structure of ['kron', 'diag', 'full'] as const) {
      const la = lastLayerLaplace(net, x, DATA.ys, { hessianStructure: structure });
      const d = la.optimizePriorPrecision();
      expect(la.priorPrecision).toBe(d);
      const f0 = la.logMarginalLikelihood(d);
      expect(f0).toBeGreaterThan(la.logMarginalLikelihood(d * 1.05));
      expect(f0).toBeGreaterThan(la.logMarginalLikelihood(d / 1.05));
      const h = d * 1e-4;
      const slope = (la.logMarginalLikelihood(d + h) - la.logMarginalLikelihood(d - h)) / (2 * h);
      expect(Math.abs(slope * d)).toBeLessThan(1e-3);
    }
    x.dispose();
  });

  it('the marginal likelihood equals its formula with log p(D|theta) computed in float64', () => {
    const net = buildMlp(W);
    const x = tf.tensor2d(DATA.xs);
    const la = lastLayerLaplace(net, x, DATA.ys, { hessianStructure: 'full' });
    let ll = 0;
    for (let n = 0; n < N; n++) ll += Math.log(softmax(forward(W, DATA.xs[n]!).z)[DATA.ys[n]!]!);
    const thetaSq = [...W.w2, ...W.b2].reduce((s, v) => s + v * v, 0);
    for (const delta of [0.05, 1, 20]) {
      la.priorPrecision = delta;
      const prec = la.denseMatrix('precision');
      const m = new Matrix(
        Array.from({ length: P_LAST }, (_, i) =>
          Array.from(prec.subarray(i * P_LAST, (i + 1) * P_LAST)),
        ),
      );
      const ev = new EigenvalueDecomposition(m, { assumeSymmetric: true });
      const logDet = (ev.realEigenvalues as number[]).reduce(
        (s: number, l: number) => s + Math.log(l),
        0,
      );
      const want = ll - 0.5 * (logDet - P_LAST * Math.log(delta)) - 0.5 * delta * thetaSq;
      expect(la.logMarginalLikelihood(delta)).toBeCloseTo(want, 3);
    }
    x.dispose();
  });

  it('MC predictive: reproducible for a seed, its mean within 5 SE of float64 MC of the linearised model', () => {
    const net = buildMlp(W);
    const x = tf.tensor2d(DATA.xs);
    const la = lastLayerLaplace(net, x, DATA.ys, { hessianStructure: 'kron', priorPrecision: 0.2 });
    const xt = tf.tensor2d([[0.5, -0.5, 1]]);
    const a = la.predictProbs(xt, { link: 'mc', numSamples: 3000, seed: 3 });
    const b = la.predictProbs(xt, { link: 'mc', numSamples: 3000, seed: 3 });
    near(b.dataSync(), a.dataSync(), 0);
    const glm = la.glmPredictive(xt);
    const mu = glm.mean.arraySync()[0]!;
    const cov = new Matrix(glm.cov.arraySync()[0]!);
    tf.dispose([glm.mean, glm.cov]);
    const L = new CholeskyDecomposition(cov.add(Matrix.eye(K).mul(1e-9))).lowerTriangularMatrix;
    const rng = makeRng(99);
    const S = 20000;
    const m = new Array<number>(K).fill(0);
    const m2 = new Array<number>(K).fill(0);
    for (let s = 0; s < S; s++) {
      const z = Array.from(
        { length: K },
        () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()),
      );
      const f = mu.map((v, i) => v + z.reduce((acc, zv, j) => acc + L.get(i, j) * zv, 0));
      const p = softmax(f);
      p.forEach((v, k) => {
        m[k]! += v / S;
        m2[k]! += (v * v) / S;
      });
    }
    const got = a.dataSync();
    for (let k = 0; k < K; k++) {
      const sd = Math.sqrt(m2[k]! - m[k]! * m[k]!);
      const se = sd * Math.sqrt(1 / 3000 + 1 / S);
      expect(Math.abs(got[k]! - m[k]!)).toBeLessThan(5 * se + 1e-6);
    }
    tf.dispose([a, b, x, xt]);
  });

  it('a softmax-ended MLP gives the posterior and predictive of its logits twin', () => {
    const x = tf.tensor2d(DATA.xs);
    const a = lastLayerLaplace(buildMlp(W), x, DATA.ys, { hessianStructure: 'kron' });
    const b = lastLayerLaplace(buildMlp(W, 'softmaxHead'), x, DATA.ys, {
      hessianStructure: 'kron',
    });
    near(b.denseMatrix('precision'), a.denseMatrix('precision'), 1e-5);
    expect(b.optimizePriorPrecision()).toBeCloseTo(a.optimizePriorPrecision(), 4);
    const pa = a.predictProbs(x);
    const pb = b.predictProbs(x);
    near(pb.dataSync(), pa.dataSync(), 1e-5);
    tf.dispose([pa, pb, x]);
  });

  it('fit, optimise, predict (probit, mc), sample and glm leave no tensors behind', () => {
    const net = buildMlp(W);
    const x = tf.tensor2d(DATA.xs);
    const before = tf.memory().numTensors;
    const la = lastLayerLaplace(net, x, DATA.ys);
    la.optimizePriorPrecision();
    tf.dispose([
      la.predictProbs(x),
      la.predictProbs(x, { link: 'mc', numSamples: 7, seed: 1 }),
      la.sampleProbs(x, 3, 2),
      la.sampleOutputs(x, 2, 1),
    ]);
    const g = la.glmPredictive(x);
    tf.dispose([g.mean, g.cov]);
    const x0 = tf.zeros([0, D]);
    const e = la.predictProbs(x0);
    expect(e.shape).toEqual([0, K]);
    tf.dispose([e, x0]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('an int32 input gives the float input prediction (or is refused by name)', () => {
    const net = buildMlp(W);
    const xs = [
      [1, 0, -1],
      [2, 1, 0],
      [0, 0, 3],
    ];
    const xf = tf.tensor2d(xs);
    const xi = tf.tensor2d(xs, [3, 3], 'int32');
    const la = lastLayerLaplace(net, xf, [0, 1, 2]);
    const pf = la.predictProbs(xf);
    let pi: tf.Tensor | undefined;
    try {
      pi = la.predictProbs(xi);
    } catch (e) {
      expect((e as Error).name).toBe('ArgumentError');
    }
    if (pi !== undefined) near(pi.dataSync(), pf.dataSync(), 1e-6);
    tf.dispose([pf, pi, xf, xi].filter((t): t is tf.Tensor => t !== undefined));
  });

  it('rejects bad options, labels and prediction arguments with ArgumentError naming them', async () => {
    const net = buildMlp(W);
    const x = tf.tensor2d(DATA.xs);
    const la = lastLayerLaplace(net, x, DATA.ys);
    const [wide, empty, wider, vec] = [
      tf.zeros([N, D + 1]),
      tf.zeros([0, D]),
      tf.zeros([2, D + 2]),
      tf.zeros([D]),
    ];
    const cases: Array<[string, () => unknown]> = [
      [
        'hessianStructure',
        () => lastLayerLaplace(net, x, DATA.ys, { hessianStructure: 'lowrank' as never }),
      ],
      ['priorPrecision', () => lastLayerLaplace(net, x, DATA.ys, { priorPrecision: -1 })],
      [
        'priorPrecision',
        () => lastLayerLaplace(net, x, DATA.ys, { priorPrecision: [1, 2] as never }),
      ],
      ['batchSize', () => lastLayerLaplace(net, x, DATA.ys, { batchSize: 0 })],
      [
        'y',
        () =>
          lastLayerLaplace(
            net,
            x,
            DATA.ys.map((v) => v + 0.5),
          ),
      ],
      [
        'y',
        () =>
          lastLayerLaplace(
            net,
            x,
            DATA.ys.map(() => K),
          ),
      ],
      ['y', () => lastLayerLaplace(net, x, DATA.ys.slice(1))],
      ['x', () => lastLayerLaplace(net, wide, DATA.ys)],
      ['x', () => lastLayerLaplace(net, empty, [])],
      ['numSamples', () => la.predictProbs(x, { link: 'mc', numSamples: 0 })],
      ['numSamples', () => la.predictProbs(x, { link: 'mc', numSamples: 2.5 })],
      ['numSamples', () => la.sampleProbs(x, -3)],
      ['link', () => la.predictProbs(x, { link: 'sigmoid' as never })],
      ['priorPrecision', () => la.logMarginalLikelihood(0)],
      ['priorPrecision', () => la.logMarginalLikelihood(Number.NaN)],
      ['which', () => la.denseMatrix('hessian' as never)],
      ['x', () => la.predictProbs(wider)],
      ['x', () => la.glmPredictive(vec as tf.Tensor2D)],
    ];
    for (const [i, [arg, run]] of cases.entries())
      await expectBadInput({ call: `case ${i}`, arg, run });
    tf.dispose([x, wide, empty, wider, vec]);
  });
});

describe('audit16 last-layer Laplace for regression: sigma_noise after the fit', () => {
  // y = phi^T theta + eps on phi = [x, 1]; the net's weights are the posterior mean at (delta0, sigma0)
  const rng = makeRng(21);
  const n = 14;
  const xs = Array.from({ length: n }, () => rand(2, rng));
  const ys = xs.map((r) => [
    0.9 * r[0]! - 0.4 * r[1]! + 0.2 + 0.3 * rand(1, rng)[0]!,
    -0.5 * r[0]! + 0.1 + 0.3 * rand(1, rng)[0]!,
  ]);
  const Phi = new Matrix(xs.map((r) => [...r, 1]));
  const Y = new Matrix(ys);

  function posteriorMean(ratio: number): Matrix {
    // (Phi^T Phi + delta sigma^2 I)^{-1} Phi^T Y: depends on delta sigma^2 only
    return inverse(Phi.transpose().mmul(Phi).add(Matrix.eye(3).mul(ratio))).mmul(
      Phi.transpose().mmul(Y),
    );
  }

  function evidence(delta: number, sigma: number): number {
    const C = Phi.mmul(Phi.transpose())
      .div(delta)
      .add(Matrix.eye(n).mul(sigma * sigma));
    const Ci = inverse(C);
    const ev = new EigenvalueDecomposition(C, { assumeSymmetric: true });
    const logDet = (ev.realEigenvalues as number[]).reduce(
      (s: number, l: number) => s + Math.log(l),
      0,
    );
    let out = 0;
    for (let k = 0; k < 2; k++) {
      const y = Y.getColumnVector(k);
      out += -0.5 * (y.transpose().mmul(Ci).mmul(y).get(0, 0) + logDet + n * Math.log(2 * Math.PI));
    }
    return out;
  }

  function linearNet(mean: Matrix): tf.Sequential {
    const net = tf.sequential();
    net.add(tf.layers.dense({ units: 2, inputShape: [2] }));
    const ws = [tf.tensor2d(mean.subMatrix(0, 1, 0, 1).to2DArray()), tf.tensor1d(mean.getRow(2))];
    net.setWeights(ws);
    tf.dispose(ws);
    return net;
  }

  it('logMarginalLikelihood(delta, sigma) equals the BLR evidence at a new sigma (theta* the posterior mean there)', () => {
    const [d0, s0] = [2, 0.5];
    const net = linearNet(posteriorMean(d0 * s0 * s0));
    const x = tf.tensor2d(xs);
    const y = tf.tensor2d(ys);
    for (const structure of ['full', 'kron'] as const) {
      const la = lastLayerLaplace(net, x, y, {
        likelihood: 'regression',
        hessianStructure: structure,
        sigmaNoise: s0,
        priorPrecision: d0,
      });
      expect(la.logMarginalLikelihood()).toBeCloseTo(evidence(d0, s0), 3);
      for (const s of [0.25, 1, 2]) {
        const delta = (d0 * s0 * s0) / (s * s);
        expect(la.logMarginalLikelihood(delta, s)).toBeCloseTo(evidence(delta, s), 3);
      }
    }
    // all layers of a one-Dense net: the same posterior, so the same evidence at any sigma
    for (const structure of ['diag', 'kron'] as const) {
      const all = allLayersLaplace(net, x, y, {
        likelihood: 'regression',
        hessianStructure: structure,
        sigmaNoise: s0,
      });
      const last = lastLayerLaplace(net, x, y, {
        likelihood: 'regression',
        hessianStructure: structure,
        sigmaNoise: s0,
      });
      for (const s of [0.3, 1.7]) {
        expect(all.logMarginalLikelihood(0.9, s)).toBeCloseTo(
          last.logMarginalLikelihood(0.9, s),
          3,
        );
      }
      if (structure === 'kron')
        expect(all.logMarginalLikelihood(0.5, 1)).toBeCloseTo(evidence(0.5, 1), 3);
    }
    tf.dispose([x, y]);
  });

  it('sigmaNoise for a classifier, or a bad sigmaNoise, is refused naming sigmaNoise', async () => {
    const net = linearNet(posteriorMean(1));
    const x = tf.tensor2d(xs);
    const y = tf.tensor2d(ys);
    const la = lastLayerLaplace(net, x, y, { likelihood: 'regression' });
    await expectBadInput({
      call: 'sigma 0',
      arg: 'sigmaNoise',
      run: () => la.logMarginalLikelihood(1, 0),
    });
    await expectBadInput({
      call: 'sigma NaN',
      arg: 'sigmaNoise',
      run: () => la.logMarginalLikelihood(1, Number.NaN),
    });
    await expectBadInput({
      call: 'delta -1',
      arg: 'priorPrecision',
      run: () => la.logMarginalLikelihood(-1, 1),
    });
    const xc = tf.tensor2d(DATA.xs);
    const cls = lastLayerLaplace(buildMlp(W), xc, DATA.ys);
    await expectBadInput({
      call: 'classifier',
      arg: 'sigmaNoise',
      run: () => cls.logMarginalLikelihood(1, 0.5),
    });
    tf.dispose([x, y, xc]);
  });

  it('targets [K, N] (transposed) are refused naming y, not read in the wrong order', async () => {
    const net = linearNet(posteriorMean(1));
    // N = 2 rows, K = 2 outputs: [2, 2] is ambiguous; use N = 4 with targets [2, 4]
    const x = tf.tensor2d(xs.slice(0, 4));
    const yT = tf.tensor2d([ys.slice(0, 4).map((r) => r[0]!), ys.slice(0, 4).map((r) => r[1]!)]);
    await expectBadInput({
      call: 'y',
      arg: 'y',
      run: () => lastLayerLaplace(net, x, yT, { likelihood: 'regression' }),
    });
    await expectBadInput({
      call: 'y',
      arg: 'y',
      run: () => allLayersLaplace(net, x, yT, { likelihood: 'regression' }),
    });
    tf.dispose([x, yT]);
  });

  it('regression predictive: glmPredictive variance = phi~^T Sigma phi~ on the diagonal, mean the net', () => {
    const net = linearNet(posteriorMean(0.5));
    const x = tf.tensor2d(xs);
    const y = tf.tensor2d(ys);
    const la = lastLayerLaplace(net, x, y, {
      likelihood: 'regression',
      hessianStructure: 'full',
      sigmaNoise: 0.4,
      priorPrecision: 3,
    });
    const S = inverse(Phi.transpose().mmul(Phi).div(0.16).add(Matrix.eye(3).mul(3)));
    const xt = [
      [0.2, 5],
      [-3, 1],
    ];
    const g = la.glmPredictive(tf.tensor2d(xt));
    const cov = g.cov.arraySync();
    const mean = g.mean.arraySync();
    const pred = net.predict(tf.tensor2d(xt)) as tf.Tensor;
    near(mean.flat(), Array.from(pred.dataSync()), 1e-6);
    xt.forEach((r, i) => {
      const phi = Matrix.columnVector([...r, 1]);
      const v = phi.transpose().mmul(S).mmul(phi).get(0, 0);
      near(cov[i]!.flat(), [v, 0, 0, v], 1e-4);
    });
    tf.dispose([g.mean, g.cov, pred, x, y]);
  });
});

describe('audit16 all-layers Laplace on a tanh MLP classifier vs finite-difference Jacobians', () => {
  const P1 = (D + 1) * H;
  const P2 = (H + 1) * K;

  /** Exact GGN `sum_n J^T Lambda J` from FD Jacobians (float64), `[P, P]`, P in layer order. */
  function exactGgn(): { ggn: number[][]; jacs: number[][][] } {
    const P = P1 + P2;
    const ggn = Array.from({ length: P }, () => new Array<number>(P).fill(0));
    const jacs: number[][][] = [];
    for (let n = 0; n < N; n++) {
      const J = jacobianFd(W, DATA.xs[n]!);
      jacs.push(J);
      const p = softmax(forward(W, DATA.xs[n]!).z);
      for (let a = 0; a < P; a++)
        for (let b = 0; b < P; b++) {
          let s = 0;
          for (let k = 0; k < K; k++)
            for (let l = 0; l < K; l++)
              s += J[k]![a]! * ((k === l ? p[k]! : 0) - p[k]! * p[l]!) * J[l]![b]!;
          ggn[a]![b]! += s;
        }
    }
    return { ggn, jacs };
  }

  // our parameter order per layer: kernel rows [D, U] flattened, then the bias — as in flat()
  const { ggn } = exactGgn();

  it('diag equals the exact GGN diagonal of both layers', () => {
    const la = allLayersLaplace(buildMlp(W), tf.tensor2d(DATA.xs), DATA.ys, {
      hessianStructure: 'diag',
    });
    const b0 = la.denseBlock(0, 'curvature');
    const b1 = la.denseBlock(1, 'curvature');
    for (let i = 0; i < P1; i++) expect(b0[i * P1 + i]).toBeCloseTo(ggn[i]![i]!, 4);
    for (let i = 0; i < P2; i++) expect(b1[i * P2 + i]).toBeCloseTo(ggn[P1 + i]![P1 + i]!, 4);
  });

  it('logMarginalLikelihood equals ll - 1/2 [sum log(h + delta) - P log delta] - delta/2 ||theta||^2 in float64', () => {
    const la = allLayersLaplace(buildMlp(W), tf.tensor2d(DATA.xs), DATA.ys, {
      hessianStructure: 'diag',
    });
    let ll = 0;
    for (let n = 0; n < N; n++) ll += Math.log(softmax(forward(W, DATA.xs[n]!).z)[DATA.ys[n]!]!);
    const th = flat(W);
    const thetaSq = th.reduce((s, v) => s + v * v, 0);
    for (const delta of [0.1, 2]) {
      let logDet = 0;
      for (let i = 0; i < th.length; i++) logDet += Math.log(ggn[i]![i]! + delta);
      const want = ll - 0.5 * (logDet - th.length * Math.log(delta)) - 0.5 * delta * thetaSq;
      expect(la.logMarginalLikelihood(delta)).toBeCloseTo(want, 3);
    }
  });

  it('glmPredictive cov = sum_l J_l Sigma_l J_l^T (diag) with FD Jacobians; probit its formula', () => {
    const la = allLayersLaplace(buildMlp(W), tf.tensor2d(DATA.xs), DATA.ys, {
      hessianStructure: 'diag',
      priorPrecision: 0.6,
    });
    const xt = [
      [1, -1, 0.5],
      [-2, 0.3, 0.1],
    ];
    const g = la.glmPredictive(tf.tensor2d(xt));
    const cov = g.cov.arraySync();
    const probs = la.predictProbs(tf.tensor2d(xt), { link: 'probit' }).arraySync();
    xt.forEach((r, i) => {
      const J = jacobianFd(W, r);
      const v = Array.from({ length: K }, (_, k) =>
        Array.from({ length: K }, (_, l) => {
          let s = 0;
          for (let a = 0; a < P1 + P2; a++) s += (J[k]![a]! * J[l]![a]!) / (ggn[a]![a]! + 0.6);
          return s;
        }),
      );
      near(cov[i]!.flat(), v.flat(), 2e-3);
      const z = forward(W, r).z;
      near(probs[i]!, softmax(z.map((m, k) => m / Math.sqrt(1 + (Math.PI / 8) * v[k]![k]!))), 5e-4);
    });
    tf.dispose([g.mean, g.cov]);
  });

  it("refuses 'full' and an unknown link naming them; a bad layer index names l", async () => {
    const x = tf.tensor2d(DATA.xs);
    const la = allLayersLaplace(buildMlp(W), x, DATA.ys, { hessianStructure: 'diag' });
    const net2 = buildMlp(W);
    await expectBadInput({
      call: 'hessianStructure',
      arg: 'hessianStructure',
      run: () => allLayersLaplace(net2, x, DATA.ys, { hessianStructure: 'full' as never }),
    });
    await expectBadInput({
      call: 'link',
      arg: 'link',
      run: () => la.predictProbs(x, { link: 'logit' as never }),
    });
    await expectBadInput({ call: 'l', arg: 'l', run: () => la.denseBlock(2, 'curvature') });
    await expectBadInput({
      call: 'numSamples',
      arg: 'numSamples',
      run: () => la.sampleProbs(x, 0),
    });
    x.dispose();
  });
});

describe('audit16 Laplace: more structures and inputs', () => {
  it('all layers, kron on one example: every block equals the exact GGN block (FD Jacobians)', () => {
    const x1 = [DATA.xs[0]!];
    const y1 = [DATA.ys[0]!];
    const la = allLayersLaplace(buildMlp(W), tf.tensor2d(x1), y1, { hessianStructure: 'kron' });
    const J = jacobianFd(W, x1[0]!);
    const p = softmax(forward(W, x1[0]!).z);
    const P1 = (D + 1) * H;
    const P2 = (H + 1) * K;
    const ggn = (a: number, b: number): number => {
      let s = 0;
      for (let k = 0; k < K; k++)
        for (let l = 0; l < K; l++)
          s += J[k]![a]! * ((k === l ? p[k]! : 0) - p[k]! * p[l]!) * J[l]![b]!;
      return s;
    };
    // kernel rows then bias, as flat(): block 0 = params [0, P1), block 1 = [P1, P1 + P2)
    const b0 = la.denseBlock(0, 'curvature');
    const b1 = la.denseBlock(1, 'curvature');
    for (let a = 0; a < P1; a++)
      for (let b = 0; b < P1; b++) expect(b0[a * P1 + b]).toBeCloseTo(ggn(a, b), 4);
    for (let a = 0; a < P2; a++)
      for (let b = 0; b < P2; b++) expect(b1[a * P2 + b]).toBeCloseTo(ggn(P1 + a, P1 + b), 4);
  });

  it('all layers: the bridge link equals the formula on its own glmPredictive; no tensors left', () => {
    const x = tf.tensor2d(DATA.xs);
    const net = buildMlp(W);
    const la = allLayersLaplace(net, x, DATA.ys, { hessianStructure: 'diag', priorPrecision: 2 });
    const before = tf.memory().numTensors;
    const got = la.predictProbs(x, { link: 'bridge' });
    const g = la.glmPredictive(x);
    const mu = g.mean.arraySync();
    const cov = g.cov.arraySync();
    const rows = got.arraySync();
    tf.dispose([got, g.mean, g.cov]);
    expect(tf.memory().numTensors).toBe(before);
    rows.forEach((row, r) => {
      const v = cov[r]!;
      const rs = v.map((q) => q.reduce((a, b) => a + b, 0));
      const tot = rs.reduce((a, b) => a + b, 0);
      const fs = mu[r]!.reduce((a, b) => a + b, 0);
      const fc = mu[r]!.map((m, k) => m - (rs[k]! * fs) / tot);
      const vd = v.map((q, k) => q[k]! - (rs[k]! * rs[k]!) / tot);
      const se = fc.reduce((a, m) => a + Math.exp(-m), 0);
      const al = fc.map((m, k) => (1 - 2 / K + (Math.exp(m) * se) / (K * K)) / vd[k]!);
      const a0 = al.reduce((a, b) => a + b, 0);
      near(
        row,
        al.map((a) => a / a0),
        2e-3,
      );
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    });
    x.dispose();
  });

  it('a binary (sigmoid) head refuses the bridge naming link; labels [N, 1] are accepted', async () => {
    const net = tf.sequential();
    net.add(tf.layers.dense({ units: 3, inputShape: [D], activation: 'tanh' }));
    net.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));
    const x = tf.tensor2d(DATA.xs);
    const y = tf.tensor2d(
      DATA.ys.map((v) => [v % 2]),
      [N, 1],
    );
    const la = lastLayerLaplace(net, x, y);
    const all = allLayersLaplace(net, x, y, { hessianStructure: 'diag' });
    await expectBadInput({
      call: 'last',
      arg: 'link',
      run: () => la.predictProbs(x, { link: 'bridge' }),
    });
    await expectBadInput({
      call: 'all',
      arg: 'link',
      run: () => all.predictProbs(x, { link: 'bridge' }),
    });
    const p = la.predictProbs(x);
    expect(p.shape).toEqual([N, 2]);
    tf.dispose([p, x, y]);
  });

  it('a last Dense with a relu (not a link function) is refused naming the model, before any work', async () => {
    const net = tf.sequential();
    net.add(tf.layers.dense({ units: 3, inputShape: [D], activation: 'tanh' }));
    net.add(tf.layers.dense({ units: 2, activation: 'relu' }));
    const x = tf.tensor2d(DATA.xs);
    const y = tf.zeros([N, 2]);
    await expectBadInput({
      call: 'relu head',
      arg: /model/,
      run: () => lastLayerLaplace(net, x, y, { likelihood: 'regression' }),
    });
    tf.dispose([x, y]);
  });
});

describe("audit16 Laplace: sample(n), laplace-torch's parameter draws", () => {
  function checkDraws(
    draws: number[][],
    mean: number[],
    cov: (a: number, b: number) => number,
  ): void {
    const S = draws.length;
    const p = mean.length;
    for (let a = 0; a < p; a++) {
      const m = draws.reduce((s, d) => s + d[a]!, 0) / S;
      expect(Math.abs(m - mean[a]!), `mean ${a}`).toBeLessThanOrEqual(
        5 * Math.sqrt(cov(a, a) / S) + 1e-6,
      );
      for (let b = 0; b < p; b++) {
        const c = draws.reduce((s, d) => s + (d[a]! - mean[a]!) * (d[b]! - mean[b]!), 0) / S;
        const se = Math.sqrt((cov(a, a) * cov(b, b) + cov(a, b) ** 2) / S);
        expect(Math.abs(c - cov(a, b)), `cov ${a},${b}`).toBeLessThanOrEqual(5 * se + 1e-7);
      }
    }
  }

  for (const structure of ['full', 'kron', 'diag'] as const) {
    it(`last layer (${structure}): mean theta_MAP, covariance (H + delta I)^-1 within 5 MC SE`, () => {
      const x = tf.tensor2d(DATA.xs);
      const la = lastLayerLaplace(buildMlp(W), x, DATA.ys, {
        hessianStructure: structure,
        priorPrecision: 0.5,
      });
      const cov = la.denseMatrix('covariance');
      const before = tf.memory().numTensors;
      const t = la.sample(3000, 17);
      expect(t.shape).toEqual([3000, P_LAST]);
      const again = la.sample(3000, 17);
      expect(Array.from(again.dataSync())).toEqual(Array.from(t.dataSync()));
      const draws = t.arraySync();
      tf.dispose([t, again]);
      expect(tf.memory().numTensors).toBe(before);
      checkDraws(draws, [...W.w2, ...W.b2], (a, b) => cov[a * P_LAST + b]!);
      x.dispose();
    });
  }

  it('all layers (kron): blocks in layer order, no covariance between layers', () => {
    const x = tf.tensor2d(DATA.xs);
    const la = allLayersLaplace(buildMlp(W), x, DATA.ys, {
      hessianStructure: 'kron',
      priorPrecision: 1.5,
    });
    const P1 = (D + 1) * H;
    const P2 = (H + 1) * K;
    const c0 = la.denseBlock(0, 'covariance');
    const c1 = la.denseBlock(1, 'covariance');
    const t = la.sample(2500, 3);
    expect(t.shape).toEqual([2500, P1 + P2]);
    const draws = t.arraySync();
    t.dispose();
    checkDraws(draws, flat(W), (a, b) => {
      if (a < P1 && b < P1) return c0[a * P1 + b]!;
      if (a >= P1 && b >= P1) return c1[(a - P1) * P2 + (b - P1)]!;
      return 0;
    });
    x.dispose();
  });

  it('bad numSamples / seed are refused by name', async () => {
    const x = tf.tensor2d(DATA.xs);
    const la = lastLayerLaplace(buildMlp(W), x, DATA.ys);
    await expectBadInput({ call: '0', arg: 'numSamples', run: () => la.sample(0) });
    await expectBadInput({ call: '1.5', arg: 'numSamples', run: () => la.sample(1.5) });
    await expectBadInput({ call: 'seed', arg: 'seed', run: () => la.sample(2, Number.NaN) });
    x.dispose();
  });
});

describe('audit16 Laplace: per-layer prior precision (laplace-torch layerwise)', () => {
  const P1 = (D + 1) * H;
  const P2 = (H + 1) * K;
  const th = flat(W);
  const t1 = th.slice(0, P1).reduce((s, v) => s + v * v, 0);
  const t2 = th.slice(P1).reduce((s, v) => s + v * v, 0);

  function fitDiag() {
    const x = tf.tensor2d(DATA.xs);
    const la = allLayersLaplace(buildMlp(W), x, DATA.ys, { hessianStructure: 'diag' });
    x.dispose();
    const h0 = la.curvatureEigenvalues(0);
    const h1 = la.curvatureEigenvalues(1);
    return { la, h0, h1 };
  }

  it('logMarginalLikelihood([d1, d2]) equals the per-layer formula in float64; equal deltas the scalar one', () => {
    const { la, h0, h1 } = fitDiag();
    let ll = 0;
    for (let n = 0; n < N; n++) ll += Math.log(softmax(forward(W, DATA.xs[n]!).z)[DATA.ys[n]!]!);
    const [d1, d2] = [0.3, 4];
    let s = 0;
    h0.forEach((h) => (s += Math.log(h + d1)));
    h1.forEach((h) => (s += Math.log(h + d2)));
    s += -P1 * Math.log(d1) - P2 * Math.log(d2) + d1 * t1 + d2 * t2;
    expect(la.logMarginalLikelihood([d1, d2])).toBeCloseTo(ll - 0.5 * s, 3);
    expect(la.logMarginalLikelihood([0.7, 0.7])).toBeCloseTo(la.logMarginalLikelihood(0.7), 6);
  });

  it("optimizePriorPrecision({priorStructure: 'layerwise'}) zeroes every block's derivative and beats the scalar optimum", () => {
    const { la, h0, h1 } = fitDiag();
    const scalar = la.optimizePriorPrecision();
    const best = la.logMarginalLikelihood();
    const ds = la.optimizePriorPrecision({ priorStructure: 'layerwise' });
    expect(ds).toHaveLength(2);
    expect(la.layerPriorPrecision).toEqual(ds);
    const grad = (h: Float64Array, p: number, t: number, d: number): number =>
      p / d - h.reduce((a, v) => a + 1 / (v + d), 0) - t;
    expect(Math.abs(grad(h0, P1, t1, ds[0]!) * ds[0]!)).toBeLessThan(1e-6 * P1);
    expect(Math.abs(grad(h1, P2, t2, ds[1]!) * ds[1]!)).toBeLessThan(1e-6 * P2);
    expect(la.logMarginalLikelihood()).toBeGreaterThanOrEqual(best - 1e-9);
    expect(la.logMarginalLikelihood()).toBeCloseTo(la.logMarginalLikelihood(ds), 12);
    // setting the isotropic precision drops the per-layer ones
    la.priorPrecision = scalar;
    expect(la.layerPriorPrecision).toEqual([scalar, scalar]);
    expect(la.logMarginalLikelihood()).toBeCloseTo(best, 9);
  });

  it('per-layer precisions reach the posterior blocks and the GLM covariance (FD Jacobians)', () => {
    const { la, h0, h1 } = fitDiag();
    la.layerPriorPrecision = [0.4, 3];
    const p0 = la.denseBlock(0, 'precision');
    const p1 = la.denseBlock(1, 'precision');
    h0.forEach((h, i) => expect(p0[i * P1 + i]).toBeCloseTo(h + 0.4, 5));
    h1.forEach((h, i) => expect(p1[i * P2 + i]).toBeCloseTo(h + 3, 5));
    const r = [0.7, -0.2, 1.1];
    const xt = tf.tensor2d([r]);
    const g = la.glmPredictive(xt);
    const cov = g.cov.arraySync()[0]!;
    tf.dispose([g.mean, g.cov, xt]);
    const J = jacobianFd(W, r);
    const hh = [...h0, ...h1];
    const want = Array.from({ length: K }, (_, k) =>
      Array.from({ length: K }, (_, l) => {
        let s = 0;
        for (let a = 0; a < P1 + P2; a++)
          s += (J[k]![a]! * J[l]![a]!) / (hh[a]! + (a < P1 ? 0.4 : 3));
        return s;
      }),
    );
    near(cov.flat(), want.flat(), 2e-3);
  });

  it('the last layer has one block: layerwise = scalar', () => {
    const x = tf.tensor2d(DATA.xs);
    const la = lastLayerLaplace(buildMlp(W), x, DATA.ys, { hessianStructure: 'kron' });
    const d = la.optimizePriorPrecision();
    const [dl] = la.optimizePriorPrecision({ priorStructure: 'layerwise' });
    expect(dl).toBeCloseTo(d, 6);
    x.dispose();
  });

  it('bad per-layer precisions and prior structures are refused by name', async () => {
    const { la } = fitDiag();
    const setLayer = (v: unknown) => () => {
      la.layerPriorPrecision = v as number[];
    };
    await expectBadInput({ call: 'length', arg: 'priorPrecision', run: setLayer([1]) });
    await expectBadInput({ call: 'negative', arg: 'priorPrecision[1]', run: setLayer([1, -1]) });
    await expectBadInput({ call: 'NaN', arg: 'priorPrecision[0]', run: setLayer([Number.NaN, 1]) });
    await expectBadInput({
      call: 'lml length',
      arg: 'priorPrecision',
      run: () => la.logMarginalLikelihood([1, 2, 3]),
    });
    await expectBadInput({
      call: 'unknown structure',
      arg: 'priorStructure',
      run: () => la.optimizePriorPrecision({ priorStructure: 'blockwise' as never }),
    });
    await expectBadInput({
      call: 'gridsearch without validation data',
      arg: 'xVal',
      run: () => la.optimizePriorPrecision({ method: 'gridsearch' }),
    });
    await expectBadInput({
      call: 'scalar setter',
      arg: 'priorPrecision',
      run: () => {
        la.priorPrecision = -2;
      },
    });
  });
});
