import * as tf from '@tensorflow/tfjs';
import { Matrix, inverse } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { ArgumentError, setSeed, toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

const { lastLayerLaplace, allLayersLaplace } = toolbox;

type Act = 'tanh' | 'linear';

/** Dense(H, act) -> Dense(1, sigmoid | linear): a binary classifier with seeded weights. */
function binaryNet(d: number, h: number, act: Act, head: 'sigmoid' | 'linear', seed: number) {
  const rng = makeRng(seed);
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: h, activation: act, inputShape: [d] }));
  m.add(tf.layers.dense({ units: 1, activation: head }));
  const rnd = (n: number): Float32Array =>
    Float32Array.from({ length: n }, () => 1.6 * rng() - 0.8);
  m.layers[0]!.setWeights([tf.tensor2d(rnd(d * h), [d, h]), tf.tensor1d(rnd(h))]);
  m.layers[1]!.setWeights([tf.tensor2d(rnd(h), [h, 1]), tf.tensor1d(rnd(1))]);
  return m;
}

/** All parameters of the two layers, ordered as the all-layers blocks: [W1, b1, W2, b2]. */
function allTheta(m: tf.Sequential): number[] {
  return m.layers.flatMap((l) => l.getWeights().flatMap((w) => Array.from(w.dataSync())));
}

/** Float64 logit of the net for a flat parameter vector [W1 (d x h), b1, W2 (h), b2]. */
function logitOf(theta: number[], row: number[], h: number, act: Act): number {
  const d = row.length;
  let z = theta[d * h + h + h]!; // b2
  for (let j = 0; j < h; j++) {
    let a = theta[d * h + j]!;
    for (let i = 0; i < d; i++) a += row[i]! * theta[i * h + j]!;
    z += (act === 'tanh' ? Math.tanh(a) : a) * theta[d * h + h + j]!;
  }
  return z;
}

const softplus = (z: number): number => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** The Bernoulli NLL sum_n softplus(z_n) - y_n z_n over all parameters (float64). */
function bernoulliNll(xs: number[][], y: number[], h: number, act: Act) {
  return (theta: number[]): number =>
    xs.reduce((s, row, n) => {
      const z = logitOf(theta, row, h, act);
      return s + softplus(z) - y[n]! * z;
    }, 0);
}

/** Central finite-difference Hessian of `f` in the coordinates `idx` of `t` (float64). */
function fdHessian(f: (t: number[]) => number, t: number[], idx: number[], h = 1e-3): number[][] {
  return idx.map((i) =>
    idx.map((j) => {
      const at = (di: number, dj: number): number => {
        const u = [...t];
        u[i] = u[i]! + di;
        u[j] = u[j]! + dj;
        return f(u);
      };
      return (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h);
    }),
  );
}

function logDet(a: number[][]): number {
  // Cholesky in float64
  const n = a.length;
  const l = a.map(() => new Array<number>(n).fill(0));
  let s = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let v = a[i]![j]!;
      for (let k = 0; k < j; k++) v -= l[i]![k]! * l[j]![k]!;
      l[i]![j] = i === j ? Math.sqrt(v) : v / l[j]![j]!;
    }
    s += 2 * Math.log(l[i]![i]!);
  }
  return s;
}

/** E[sigmoid(z)^power], z ~ N(mu, v), by the trapezoid rule on +-10 sd (float64). */
function sigmoidGaussian(mu: number, v: number, power = 1): number {
  const sd = Math.sqrt(v);
  const m = 4000;
  let s = 0;
  for (let i = 0; i <= m; i++) {
    const u = -10 + (20 * i) / m;
    const w = (i === 0 || i === m ? 0.5 : 1) * Math.exp(-0.5 * u * u);
    s += w * sigmoid(mu + sd * u) ** power;
  }
  return (s * (20 / m)) / Math.sqrt(2 * Math.PI);
}

function data(n: number, d: number, net: tf.Sequential, seed: number) {
  const rng = makeRng(seed);
  const xs = Array.from({ length: n }, () => Array.from({ length: d }, () => 2 * rng() - 1));
  const x = tf.tensor2d(xs);
  const out = net.predict(x) as tf.Tensor;
  const p = out.dataSync();
  out.dispose();
  // labels drawn from a tempered model, so the MAP-like weights are not perfectly separating
  const y = xs.map((_, i) => (rng() < 0.25 + 0.5 * (p[i]! > 0.5 ? 1 : 0) ? 1 : 0));
  return { xs, y, x };
}

describe('Laplace on a binary head (Bernoulli likelihood)', () => {
  it('last layer: full GGN equals the finite-difference Hessian of the Bernoulli NLL, diag its diagonal, kron (1/N) A (x) sum p(1-p)', () => {
    setSeed(1);
    const d = 3;
    const h = 4;
    const net = binaryNet(d, h, 'tanh', 'sigmoid', 5);
    const { xs, y, x } = data(40, d, net, 6);
    const theta = allTheta(net);
    const last = Array.from({ length: h + 1 }, (_, i) => d * h + h + i);
    const H = fdHessian(bernoulliNll(xs, y, h, 'tanh'), theta, last);
    const p = h + 1;
    const delta = 0.7;
    for (const structure of ['full', 'diag'] as const) {
      const before = tf.memory().numTensors;
      const la = lastLayerLaplace(net, x, y, {
        hessianStructure: structure,
        priorPrecision: delta,
        batchSize: 7,
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(la.binary).toBe(true);
      const P = la.denseMatrix('precision');
      for (let i = 0; i < p; i++) {
        for (let j = 0; j < p; j++) {
          const want = (structure === 'full' || i === j ? H[i]![j]! : 0) + (i === j ? delta : 0);
          expect(Math.abs(P[i * p + j]! - want)).toBeLessThan(2e-3 * (1 + Math.abs(want)));
        }
      }
    }
    // kron: A = sum phi~ phi~^T, G = sum p (1 - p), H = A G / N
    const phi = xs.map((row) => [
      ...Array.from({ length: h }, (_, j) => {
        let a = theta[d * h + j]!;
        for (let i = 0; i < d; i++) a += row[i]! * theta[i * h + j]!;
        return Math.tanh(a);
      }),
      1,
    ]);
    const g = xs.reduce((s, row) => {
      const q = sigmoid(logitOf(theta, row, h, 'tanh'));
      return s + q * (1 - q);
    }, 0);
    const la = lastLayerLaplace(net, x, y, { hessianStructure: 'kron', priorPrecision: delta });
    const P = la.denseMatrix('precision');
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) {
        const a = phi.reduce((s, f) => s + f[i]! * f[j]!, 0);
        const want = (a * g) / xs.length + (i === j ? delta : 0);
        expect(Math.abs(P[i * p + j]! - want)).toBeLessThan(1e-4 * (1 + Math.abs(want)));
      }
    }
    x.dispose();
  });

  it('a raw-logit head gives the posterior of the sigmoid head; the log-likelihood and marginal likelihood are the Bernoulli ones', () => {
    setSeed(2);
    const d = 3;
    const h = 4;
    const sig = binaryNet(d, h, 'tanh', 'sigmoid', 8);
    const raw = binaryNet(d, h, 'tanh', 'linear', 8);
    const { xs, y, x } = data(30, d, sig, 9);
    const theta = allTheta(sig);
    const last = Array.from({ length: h + 1 }, (_, i) => d * h + h + i);
    const nll = bernoulliNll(xs, y, h, 'tanh');
    const H = fdHessian(nll, theta, last);
    const a = lastLayerLaplace(sig, x, y, { hessianStructure: 'full' });
    const b = lastLayerLaplace(raw, x, y, { hessianStructure: 'full' });
    expect(a.logLikelihood).toBeCloseTo(-nll(theta), 3);
    expect(b.logLikelihood).toBeCloseTo(a.logLikelihood, 5);
    const thetaSq = last.reduce((s, i) => s + theta[i]! ** 2, 0);
    for (const delta of [0.1, 1, 7]) {
      const prec = H.map((r, i) => r.map((v, j) => v + (i === j ? delta : 0)));
      const want =
        -nll(theta) - 0.5 * (logDet(prec) - last.length * Math.log(delta)) - 0.5 * delta * thetaSq;
      expect(a.logMarginalLikelihood(delta)).toBeCloseTo(want, 2);
      expect(b.logMarginalLikelihood(delta)).toBeCloseTo(want, 2);
    }
    // a trailing Activation('sigmoid') (after a Dropout) is the same head, for both fits
    const act = tf.sequential({
      layers: [
        tf.layers.dense({ units: h, activation: 'tanh', inputShape: [d] }),
        tf.layers.dense({ units: 1 }),
        tf.layers.dropout({ rate: 0.3 }),
        tf.layers.activation({ activation: 'sigmoid' }),
      ],
    });
    act.setWeights(raw.getWeights());
    const c = lastLayerLaplace(act, x, y, { hessianStructure: 'full' });
    const pa = a.denseMatrix('covariance');
    c.denseMatrix('covariance').forEach((v, i) => expect(v).toBeCloseTo(pa[i]!, 6));
    const allSig = allLayersLaplace(sig, x, y, { hessianStructure: 'diag' });
    const allAct = allLayersLaplace(act, x, y, { hessianStructure: 'diag' });
    expect(allAct.logLikelihood).toBeCloseTo(allSig.logLikelihood, 5);
    expect(Array.from(allAct.curvatureEigenvalues(1))).toEqual(
      Array.from(allSig.curvatureEigenvalues(1)).map((v) => expect.closeTo(v, 6)),
    );
    const best = a.optimizePriorPrecision();
    const lm = a.logMarginalLikelihood(best);
    expect(lm).toBeGreaterThanOrEqual(a.logMarginalLikelihood(best * 1.05));
    expect(lm).toBeGreaterThanOrEqual(a.logMarginalLikelihood(best / 1.05));
    x.dispose();
  });

  it('last layer: GLM moments equal phi^T Sigma phi; probit is [1 - sigmoid(kappa mu), sigmoid(kappa mu)]; MC matches the Gaussian integral within its SE', () => {
    setSeed(3);
    const d = 3;
    const h = 4;
    const net = binaryNet(d, h, 'tanh', 'sigmoid', 12);
    const { xs, y, x } = data(25, d, net, 13);
    const theta = allTheta(net);
    const last = Array.from({ length: h + 1 }, (_, i) => d * h + h + i);
    const delta = 0.5;
    const H = fdHessian(bernoulliNll(xs, y, h, 'tanh'), theta, last);
    const sigma = inverse(new Matrix(H.map((r, i) => r.map((v, j) => v + (i === j ? delta : 0)))));
    const la = lastLayerLaplace(net, x, y, { hessianStructure: 'full', priorPrecision: delta });
    const rows = [
      [0.3, -0.2, 0.9],
      [-0.8, 0.6, 0.1],
    ];
    const xt = tf.tensor2d(rows);
    const { mean, cov } = la.glmPredictive(xt);
    expect(mean.shape).toEqual([2, 1]);
    expect(cov.shape).toEqual([2, 1, 1]);
    const mu = Array.from(mean.dataSync());
    const v = Array.from(cov.dataSync());
    rows.forEach((row, n) => {
      const f = [
        ...Array.from({ length: h }, (_, j) => {
          let a = theta[d * h + j]!;
          for (let i = 0; i < d; i++) a += row[i]! * theta[i * h + j]!;
          return Math.tanh(a);
        }),
        1,
      ];
      let want = 0;
      for (let i = 0; i <= h; i++)
        for (let j = 0; j <= h; j++) want += f[i]! * sigma.get(i, j) * f[j]!;
      expect(mu[n]).toBeCloseTo(logitOf(theta, row, h, 'tanh'), 4);
      expect(Math.abs(v[n]! - want)).toBeLessThan(2e-3 * want);
    });
    const probit = expectNoLeak(() => la.predictProbs(xt));
    expect(probit.length).toBe(4);
    rows.forEach((_, n) => {
      const q = sigmoid(mu[n]! / Math.sqrt(1 + (Math.PI * v[n]!) / 8));
      expect(probit[2 * n + 1]).toBeCloseTo(q, 5);
      expect(probit[2 * n]).toBeCloseTo(1 - q, 5);
      // MacKay's approximation is within 0.02 of the exact Gaussian integral
      expect(Math.abs(q - sigmoidGaussian(mu[n]!, v[n]!))).toBeLessThan(0.02);
    });
    const s = 4000;
    const mc = expectNoLeak(() => la.predictProbs(xt, { link: 'mc', numSamples: s, seed: 4 }));
    rows.forEach((_, n) => {
      const exact = sigmoidGaussian(mu[n]!, v[n]!);
      const se = Math.sqrt((sigmoidGaussian(mu[n]!, v[n]!, 2) - exact ** 2) / s);
      expect(Math.abs(mc[2 * n + 1]! - exact)).toBeLessThan(5 * se);
      expect(mc[2 * n]! + mc[2 * n + 1]!).toBeCloseTo(1, 5);
    });
    const samples = la.sampleProbs(xt, 3, 1);
    expect(samples.shape).toEqual([3, 2, 2]);
    const empty = la.predictProbs(tf.zeros([0, 3]));
    expect(empty.shape).toEqual([0, 2]);
    tf.dispose([mean, cov, samples, empty, xt, x]);
  });

  it('all layers: diag equals the finite-difference Hessian diagonal of the Bernoulli NLL (a net linear in each weight), kron on one example each exact block', () => {
    setSeed(4);
    const d = 3;
    const h = 3;
    const net = binaryNet(d, h, 'linear', 'sigmoid', 21);
    const { xs, y, x } = data(20, d, net, 22);
    const theta = allTheta(net);
    const nll = bernoulliNll(xs, y, h, 'linear');
    const all = theta.map((_, i) => i);
    const diagH = all.map((i) => fdHessian(nll, theta, [i])[0]![0]!);
    const la = allLayersLaplace(net, x, y, { hessianStructure: 'diag', batchSize: 6 });
    expect(la.binary).toBe(true);
    const got = [...la.curvatureEigenvalues(0), ...la.curvatureEigenvalues(1)];
    // the blocks are [W1 (d x h); b1] and [W2 (h x 1); b2], the order of allTheta
    got.forEach((g, i) => expect(Math.abs(g - diagH[i]!)).toBeLessThan(2e-3 * (1 + diagH[i]!)));
    expect(la.logLikelihood).toBeCloseTo(-nll(theta), 3);
    // kron with one example: A (x) G = (a (x) g)(a (x) g)^T, the exact GGN = Hessian block
    const one = tf.tensor2d([xs[0]!]);
    const nll1 = bernoulliNll([xs[0]!], [y[0]!], h, 'linear');
    const kron = allLayersLaplace(net, one, [y[0]!], { hessianStructure: 'kron' });
    const blocks: number[][] = [
      Array.from({ length: d * h + h }, (_, i) => i),
      Array.from({ length: h + 1 }, (_, i) => d * h + h + i),
    ];
    blocks.forEach((idx, l) => {
      const Hb = fdHessian(nll1, theta, idx);
      const B = kron.denseBlock(l, 'curvature');
      const q = idx.length;
      for (let i = 0; i < q; i++) {
        for (let j = 0; j < q; j++) {
          expect(Math.abs(B[i * q + j]! - Hb[i]![j]!)).toBeLessThan(
            2e-3 * (1 + Math.abs(Hb[i]![j]!)),
          );
        }
      }
    });
    tf.dispose([x, one]);
  });

  it('all layers: MC predictive matches the Gaussian integral over glmPredictive within its SE; probit is MacKay', () => {
    setSeed(5);
    const d = 3;
    const net = binaryNet(d, 5, 'tanh', 'linear', 31);
    const { y, x } = data(30, d, net, 32);
    const la = allLayersLaplace(net, x, y, { hessianStructure: 'kron', priorPrecision: 2 });
    const xt = tf.tensor2d([
      [0.5, 0.1, -0.4],
      [1.5, -1.2, 0.8],
    ]);
    const { mean, cov } = la.glmPredictive(xt);
    const mu = Array.from(mean.dataSync());
    const v = Array.from(cov.dataSync());
    const s = 3000;
    const mc = expectNoLeak(() => la.predictProbs(xt, { link: 'mc', numSamples: s, seed: 7 }));
    const probit = expectNoLeak(() => la.predictProbs(xt, { link: 'probit' }));
    mu.forEach((m, n) => {
      const exact = sigmoidGaussian(m, v[n]!);
      const se = Math.sqrt((sigmoidGaussian(m, v[n]!, 2) - exact ** 2) / s);
      expect(Math.abs(mc[2 * n + 1]! - exact)).toBeLessThan(5 * se);
      expect(probit[2 * n + 1]).toBeCloseTo(sigmoid(m / Math.sqrt(1 + (Math.PI * v[n]!) / 8)), 5);
    });
    const samples = la.sampleProbs(xt, 4, 1);
    expect(samples.shape).toEqual([4, 2, 2]);
    tf.dispose([mean, cov, samples, xt, x]);
  });

  it('binary labels outside {0, 1} are refused naming y, before any work', () => {
    const net = binaryNet(3, 2, 'tanh', 'sigmoid', 1);
    const x = tf.zeros([3, 3]);
    const before = tf.memory().numTensors;
    for (const fit of [lastLayerLaplace, allLayersLaplace] as const) {
      expect(() => fit(net, x, [0, 1, 2])).toThrow(/y: expected integer labels in \[0, 2\), got 2/);
      expect(() => fit(net, x, [0, 1, 2])).toThrow(ArgumentError);
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
