import * as tf from '@tensorflow/tfjs';
import { Matrix, inverse } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { ArgumentError, setSeed, toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { bayesianLinearRegression } from './blr_reference.js';
import { expectNoLeak } from '../helpers.js';

const { lastLayerLaplace } = toolbox;

/** A tiny classifier: Dense(H, tanh) -> Dense(K), with seeded weights. */
function tinyNet(d: number, h: number, k: number, rng: () => number): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: h, activation: 'tanh', inputShape: [d] }));
  m.add(tf.layers.dense({ units: k }));
  const rnd = (n: number): Float32Array => Float32Array.from({ length: n }, () => 2 * rng() - 1);
  m.layers[0]!.setWeights([tf.tensor2d(rnd(d * h), [d, h]), tf.tensor1d(rnd(h))]);
  m.layers[1]!.setWeights([tf.tensor2d(rnd(h * k), [h, k]), tf.tensor1d(rnd(k))]);
  return m;
}

/** Host float64 features phi~ = [tanh(x W1 + b1), 1] of tinyNet. */
function hostFeatures(m: tf.Sequential, x: number[][]): number[][] {
  const [w1, b1] = m.layers[0]!.getWeights().map((w) => Array.from(w.dataSync()));
  const h = b1!.length;
  return x.map((row) => {
    const f = Array.from({ length: h }, (_, j) =>
      Math.tanh(row.reduce((s, v, i) => s + v * w1![i * h + j]!, b1![j]!)),
    );
    return [...f, 1];
  });
}

/** Sum over data of the softmax NLL as a function of theta = [W (d-major), b] (float64). */
function nllOfTheta(phi: number[][], y: number[], k: number): (theta: number[]) => number {
  return (theta) => {
    let s = 0;
    phi.forEach((p, n) => {
      const z = Array.from({ length: k }, (_, c) =>
        p.reduce((a, v, d) => a + v * theta[d * k + c]!, 0),
      );
      const mx = Math.max(...z);
      const lse = mx + Math.log(z.reduce((a, v) => a + Math.exp(v - mx), 0));
      s += lse - z[y[n]!]!;
    });
    return s;
  };
}

/** Central finite-difference Hessian (float64). */
function fdHessian(f: (t: number[]) => number, t: number[], h = 1e-4): number[][] {
  const p = t.length;
  const H = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) {
      const at = (di: number, dj: number): number => {
        const u = [...t];
        u[i] = u[i]! + di;
        u[j] = u[j]! + dj;
        return f(u);
      };
      const v = (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h);
      H[i]![j] = v;
      H[j]![i] = v;
    }
  }
  return H;
}

function thetaOf(m: tf.Sequential): number[] {
  const [w, b] = m.layers[1]!.getWeights().map((t) => Array.from(t.dataSync()));
  return [...w!, ...b!];
}

function setup(n = 40, d = 3, h = 4, k = 3) {
  setSeed(3);
  const rng = makeRng(11);
  const net = tinyNet(d, h, k, rng);
  const xs = Array.from({ length: n }, () => Array.from({ length: d }, () => 2 * rng() - 1));
  const y = xs.map(() => Math.floor(rng() * k));
  return { net, xs, y, x: tf.tensor2d(xs), k };
}

describe('last-layer Laplace: curvature', () => {
  it('full GGN equals the finite-difference Hessian of the NLL (linear last layer), diag its diagonal', () => {
    const { net, xs, y, x, k } = setup();
    const theta = thetaOf(net);
    const H = fdHessian(nllOfTheta(hostFeatures(net, xs), y, k), theta);
    const p = theta.length;
    const delta = 0.7;
    for (const structure of ['full', 'diag'] as const) {
      const before = tf.memory().numTensors;
      const la = lastLayerLaplace(net, x, y, {
        hessianStructure: structure,
        priorPrecision: delta,
        batchSize: 7,
      });
      expect(tf.memory().numTensors).toBe(before);
      const P = la.denseMatrix('precision');
      for (let i = 0; i < p; i++) {
        for (let j = 0; j < p; j++) {
          const want = (structure === 'full' || i === j ? H[i]![j]! : 0) + (i === j ? delta : 0);
          expect(Math.abs(P[i * p + j]! - want)).toBeLessThan(2e-3 * (1 + Math.abs(want)));
        }
      }
    }
    x.dispose();
  });

  it('kron equals (1/N) (sum phi phi^T) (x) (sum Lambda_n), computed independently', () => {
    const { net, xs, y, x, k } = setup(30);
    const phi = hostFeatures(net, xs);
    const [w, b] = net.layers[1]!.getWeights().map((t) => Array.from(t.dataSync()));
    const d1 = phi[0]!.length;
    const A = Array.from({ length: d1 }, (_, i) =>
      Array.from({ length: d1 }, (_, j) => phi.reduce((s, f) => s + f[i]! * f[j]!, 0)),
    );
    const G = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    for (const f of phi) {
      const z = Array.from({ length: k }, (_, c) =>
        f.reduce((a, v, dd) => a + v * (dd < d1 - 1 ? w![dd * k + c]! : b![c]!), 0),
      );
      const mx = Math.max(...z);
      const e = z.map((v) => Math.exp(v - mx));
      const sum = e.reduce((a, v) => a + v, 0);
      const pr = e.map((v) => v / sum);
      for (let a = 0; a < k; a++)
        for (let c = 0; c < k; c++) G[a]![c]! += (a === c ? pr[a]! : 0) - pr[a]! * pr[c]!;
    }
    const la = lastLayerLaplace(net, x, y, { hessianStructure: 'kron', priorPrecision: 0.5 });
    const P = la.denseMatrix('precision');
    const p = d1 * k;
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) {
        const want =
          (A[Math.floor(i / k)]![Math.floor(j / k)]! * G[i % k]![j % k]!) / xs.length +
          (i === j ? 0.5 : 0);
        expect(Math.abs(P[i * p + j]! - want)).toBeLessThan(1e-4 * (1 + Math.abs(want)));
      }
    }
    x.dispose();
  });
});

describe('last-layer Laplace: marginal likelihood and predictive (Bayesian linear regression)', () => {
  // y = phi^T theta + eps with phi = [x, 1]: the Laplace approximation is exact.
  function regression(delta: number, sigma: number) {
    const { xs, ys, mean, closed, prec, n, d } = bayesianLinearRegression(delta, sigma);
    const net = tf.sequential();
    net.add(tf.layers.activation({ activation: 'linear', inputShape: [d] }));
    net.add(tf.layers.dense({ units: 1 }));
    net.layers[1]!.setWeights([tf.tensor2d([mean[0]!, mean[1]!], [d, 1]), tf.tensor1d([mean[d]!])]);
    return { net, xs, ys, closed, prec, n, d };
  }

  it('logMarginalLikelihood equals the closed form log N(y | 0, sigma^2 I + Phi Phi^T / delta)', () => {
    for (const structure of ['full', 'kron', 'diag'] as const) {
      const delta = 2.5;
      const sigma = 0.3;
      const { net, xs, ys, closed } = regression(delta, sigma);
      const x = tf.tensor2d(xs);
      const la = lastLayerLaplace(net, x, ys, {
        likelihood: 'regression',
        hessianStructure: structure,
        sigmaNoise: sigma,
        priorPrecision: delta,
      });
      const ml = la.logMarginalLikelihood();
      if (structure === 'diag') {
        expect(Math.abs(ml - closed)).toBeGreaterThan(1e-3); // diag is an approximation here
      } else {
        // kron is exact for one output (G = N / sigma^2 is a scalar)
        expect(ml).toBeCloseTo(closed, 3);
      }
      x.dispose();
    }
  });

  it('optimizePriorPrecision maximises the marginal likelihood', () => {
    const { net, xs, ys } = regression(1, 0.3);
    const x = tf.tensor2d(xs);
    const la = lastLayerLaplace(net, x, ys, {
      likelihood: 'regression',
      hessianStructure: 'full',
      sigmaNoise: 0.3,
    });
    const d = la.optimizePriorPrecision();
    const best = la.logMarginalLikelihood(d);
    for (const f of [0.5, 0.9, 1.1, 2]) expect(la.logMarginalLikelihood(d * f)).toBeLessThan(best);
    x.dispose();
  });

  it('GLM predictive variance equals phi*^T Sigma phi* of Bayesian linear regression', () => {
    const delta = 1.5;
    const sigma = 0.4;
    const { net, xs, ys, prec } = regression(delta, sigma);
    const x = tf.tensor2d(xs);
    const la = lastLayerLaplace(net, x, ys, {
      likelihood: 'regression',
      hessianStructure: 'full',
      sigmaNoise: sigma,
      priorPrecision: delta,
    });
    const xt = tf.tensor2d([
      [0.2, -0.4],
      [1.5, 2],
    ]);
    const before = tf.memory().numTensors;
    const { mean, cov } = la.glmPredictive(xt);
    const cv = Array.from(cov.dataSync());
    tf.dispose([mean, cov]);
    expect(tf.memory().numTensors).toBe(before);
    const S = inverse(prec);
    [
      [0.2, -0.4, 1],
      [1.5, 2, 1],
    ].forEach((p, i) => {
      const v = Matrix.rowVector(p).mmul(S).mmul(Matrix.columnVector(p)).get(0, 0);
      expect(cv[i]!).toBeCloseTo(v, 4);
    });
    tf.dispose([x, xt]);
  });
});

describe('last-layer Laplace: classification predictive', () => {
  it('probit link matches softmax(mu / sqrt(1 + pi/8 var)); MC samples match the GLM moments', () => {
    const { net, x, y, k } = setup(60);
    const la = lastLayerLaplace(net, x, y, { hessianStructure: 'full', priorPrecision: 0.3 });
    const xt = tf.tensor2d([[0.3, -0.2, 0.9]]);
    const { mean, cov } = la.glmPredictive(xt);
    const mu = Array.from(mean.dataSync());
    const c = Array.from(cov.dataSync());
    const z = mu.map((m, i) => m / Math.sqrt(1 + (Math.PI / 8) * c[i * k + i]!));
    const mx = Math.max(...z);
    const e = z.map((v) => Math.exp(v - mx));
    const want = e.map((v) => v / e.reduce((a, b) => a + b, 0));
    const got = expectNoLeak(() => la.predictProbs(xt));
    got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 5));
    // MC: sample logits through the predictor and compare their mean with mu within 5 SE
    const s = 4000;
    const probs = expectNoLeak(() => la.predictProbs(xt, { link: 'mc', numSamples: 50, seed: 1 }));
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const samples = la.sampleProbs(xt, s, 2);
    expect(samples.shape).toEqual([s, 1, k]);
    const logp = tf.log(samples);
    // logit differences z_c - z_0 are Gaussian with mean mu_c - mu_0, var S_cc + S_00 - 2 S_c0
    const diffs = tf.sub(logp, tf.slice(logp, [0, 0, 0], [s, 1, 1]));
    const dv = diffs.arraySync() as number[][][];
    for (let cl = 1; cl < k; cl++) {
      const vals = dv.map((r) => r[0]![cl]!);
      const m = vals.reduce((a, b) => a + b, 0) / s;
      const v = c[cl * k + cl]! + c[0]! - 2 * c[cl * k]!;
      const vs = vals.reduce((a, b) => a + (b - m) ** 2, 0) / (s - 1);
      expect(Math.abs(m - (mu[cl]! - mu[0]!))).toBeLessThan(5 * Math.sqrt(v / s));
      expect(Math.abs(vs - v)).toBeLessThan(5 * v * Math.sqrt(2 / s));
    }
    tf.dispose([mean, cov, samples, logp, diffs, x, xt]);
  });

  it('rejects bad input with ArgumentError naming the argument', () => {
    const { net, x, y } = setup(10);
    expect(() => lastLayerLaplace(net, x, y.slice(0, 5))).toThrow(/y: expected 10 labels/);
    expect(() => lastLayerLaplace(net, x, y, { hessianStructure: 'block' as 'full' })).toThrow(
      ArgumentError,
    );
    expect(() => lastLayerLaplace(net, x, y, { priorPrecision: -1 })).toThrow(/priorPrecision/);
    const soft = tf.sequential();
    soft.add(tf.layers.dense({ units: 3, activation: 'softmax', inputShape: [3] }));
    expect(() => lastLayerLaplace(soft, x, y)).toThrow(/activation 'linear'/);
    const la = lastLayerLaplace(net, x, y);
    expect(() => la.logMarginalLikelihood(0)).toThrow(/priorPrecision/);
    expect(() => la.sampleProbs(x, 0)).toThrow(/numSamples/);
    x.dispose();
  });
});
