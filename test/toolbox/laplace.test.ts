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
    const relu = tf.sequential();
    relu.add(tf.layers.dense({ units: 3, activation: 'relu', inputShape: [3] }));
    expect(() => lastLayerLaplace(relu, x, y)).toThrow(/model: .*'linear' or 'softmax'.*'relu'/);
    const la = lastLayerLaplace(net, x, y);
    expect(() => la.logMarginalLikelihood(0)).toThrow(/priorPrecision/);
    expect(() => la.sampleProbs(x, 0)).toThrow(/numSamples/);
    x.dispose();
  });
});

/** `net` with its head replaced: `'dense'` Dense(softmax), `'activation'` Dense + Activation(softmax),
 * `'softmax'` Dense + Softmax, `'dropout'` Dense + Dropout + Softmax; weights copied. */
function softmaxVariant(
  net: tf.Sequential,
  kind: 'dense' | 'activation' | 'softmax' | 'dropout',
): tf.Sequential {
  const [l0, l1] = net.layers as [tf.layers.Layer, tf.layers.Layer];
  const d = (l0.input as tf.SymbolicTensor).shape[1] as number;
  const h = (l0.output as tf.SymbolicTensor).shape[1] as number;
  const k = (l1.output as tf.SymbolicTensor).shape[1] as number;
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: h, activation: 'tanh', inputShape: [d] }));
  m.add(tf.layers.dense({ units: k, ...(kind === 'dense' ? { activation: 'softmax' } : {}) }));
  if (kind === 'activation') m.add(tf.layers.activation({ activation: 'softmax' }));
  if (kind === 'dropout') m.add(tf.layers.dropout({ rate: 0.5 }));
  if (kind === 'softmax' || kind === 'dropout') m.add(tf.layers.softmax());
  m.layers[0]!.setWeights(l0.getWeights());
  m.layers[1]!.setWeights(l1.getWeights());
  return m;
}

describe('last-layer Laplace: models users bring', () => {
  it('a softmax-ended classifier gives the posterior and predictive of the identical logits model', () => {
    const { net, x, y } = setup(40);
    const xt = tf.tensor2d([
      [0.3, -0.2, 0.9],
      [-1, 0.5, 0.1],
    ]);
    for (const structure of ['kron', 'full'] as const) {
      const ref = lastLayerLaplace(net, x, y, { hessianStructure: structure });
      const refP = expectNoLeak(() => ref.predictProbs(xt));
      const refS = expectNoLeak(() => ref.sampleProbs(xt, 5, 3));
      for (const kind of ['dense', 'activation', 'softmax', 'dropout'] as const) {
        const soft = softmaxVariant(net, kind);
        // the model's own probabilities are softmax(logits)
        const logits = net.predict(xt) as tf.Tensor;
        const sm = tf.softmax(logits);
        const mp = soft.predict(xt) as tf.Tensor;
        expect(Array.from(mp.dataSync())).toEqual(
          Array.from(sm.dataSync()).map((v) => expect.closeTo(v, 6)),
        );
        tf.dispose([logits, sm, mp]);
        const before = tf.memory().numTensors;
        const la = lastLayerLaplace(soft, x, y, { hessianStructure: structure });
        expect(tf.memory().numTensors).toBe(before);
        expect(la.logLikelihood).toBeCloseTo(ref.logLikelihood, 4);
        expect(la.logMarginalLikelihood(0.7)).toBeCloseTo(ref.logMarginalLikelihood(0.7), 4);
        const a = la.denseMatrix('precision');
        const b = ref.denseMatrix('precision');
        a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 4));
        expectNoLeak(() => la.predictProbs(xt)).forEach((v, i) =>
          expect(v).toBeCloseTo(refP[i]!, 5),
        );
        expectNoLeak(() => la.sampleProbs(xt, 5, 3)).forEach((v, i) =>
          expect(v).toBeCloseTo(refS[i]!, 5),
        );
        soft.dispose();
      }
    }
    tf.dispose([x, xt]);
  });

  it('rejects models it cannot use with an ArgumentError naming model, before any work', () => {
    const { net, x, y } = setup(10);
    const dense = (units: number, activation?: 'sigmoid' | 'softmax'): tf.layers.Layer =>
      tf.layers.dense({ units, ...(activation ? { activation } : {}) });
    const seq = (...layers: tf.layers.Layer[]): tf.Sequential =>
      tf.sequential({
        layers: [tf.layers.dense({ units: 4, inputShape: [3], activation: 'tanh' }), ...layers],
      });
    const inp = tf.input({ shape: [3] });
    const hid = tf.layers.dense({ units: 4 }).apply(inp) as tf.SymbolicTensor;
    const twoOut = tf.model({
      inputs: inp,
      outputs: [dense(3).apply(hid) as tf.SymbolicTensor, dense(3).apply(hid) as tf.SymbolicTensor],
    });
    const shared = tf.layers.dense({ units: 3 });
    const inp2 = tf.input({ shape: [3] });
    const twice = tf.model({
      inputs: inp2,
      outputs: shared.apply(shared.apply(inp2) as tf.SymbolicTensor) as tf.SymbolicTensor,
    });
    const rank3 = tf.sequential({
      layers: [tf.layers.dense({ units: 4, inputShape: [5, 3] }), tf.layers.dense({ units: 3 })],
    });
    const cases: [tf.LayersModel, RegExp][] = [
      [
        twoOut,
        /model: expected a model with one output \(and one input or several\), got 1 inputs and 2 outputs/,
      ],
      [seq(dense(3, 'sigmoid')), /model: .*'sigmoid' head over K = 3 .*multi-label/],
      [seq(dense(1, 'softmax')), /model: .*binary classifier .*got a softmax over one output/],
      [
        seq(tf.layers.dense({ units: 1, activation: 'hardSigmoid' })),
        /model: .*'hardSigmoid' head .*not the logistic link/,
      ],
      [
        seq(dense(1, 'sigmoid'), tf.layers.activation({ activation: 'sigmoid' })),
        /model: expected at most one final sigmoid.*got 2/,
      ],
      [
        seq(dense(3, 'softmax'), tf.layers.softmax()),
        /model: expected at most one final softmax.*got 2/,
      ],
      [
        seq(dense(3), tf.layers.batchNormalization()),
        /model: expected the output to come from a Dense layer .* of class BatchNormalization/,
      ],
      [rank3, /model: expected outputs \[batch, K\], got \[null, 5, 3\]/],
    ];
    for (const [m, msg] of cases) {
      const before = tf.memory().numTensors;
      expect(() => lastLayerLaplace(m, x, y)).toThrow(msg);
      expect(() => lastLayerLaplace(m, x, y)).toThrow(ArgumentError);
      expect(tf.memory().numTensors).toBe(before);
    }
    // regression reads the output as the mean: no softmax is removed
    const soft = seq(dense(3, 'softmax'));
    expect(() =>
      lastLayerLaplace(soft, x, tf.zeros([10, 3]), { likelihood: 'regression' }),
    ).toThrow(/model: .*means \(activation 'linear'\), got 'softmax'/);
    expect(() => lastLayerLaplace(net, x, y)).not.toThrow();
    // a last Dense applied twice is fitted with its Jacobian summed over its applications
    expect(lastLayerLaplace(twice, x, y).numParams).toBe(12);
    x.dispose();
  });

  it('checks x against the model input (shape, finite) and regression targets, before any work', () => {
    const { net, x, y } = setup(10);
    const bad = [
      [tf.zeros([10, 4]), /x: expected inputs \[N, 3\] \(the model's input\), got \[10, 4\]/],
      [tf.zeros([10, 3, 1]), /x: expected inputs \[N, 3\]/],
      [tf.zeros([0, 3]), /x: expected at least 1 input/],
      [
        tf.concat([x.slice([0], [3]), tf.fill([1, 3], NaN), x.slice([4], [6])]),
        /x: expected finite inputs, got NaN in row 3/,
      ],
      [tf.fill([10, 3], Infinity), /x: expected finite inputs, got Infinity in row 0/],
    ] as const;
    for (const [xb, msg] of bad) {
      for (const structure of ['diag', 'kron', 'full'] as const) {
        const before = tf.memory().numTensors;
        expect(() => lastLayerLaplace(net, xb, y, { hessianStructure: structure })).toThrow(msg);
        expect(tf.memory().numTensors).toBe(before);
      }
      xb.dispose();
    }
    const reg = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    const targets = Array.from({ length: 20 }, (_, i) => (i === 7 ? NaN : i / 10));
    expect(() => lastLayerLaplace(reg, x, targets, { likelihood: 'regression' })).toThrow(
      /y: expected finite targets, got NaN at 7/,
    );
    x.dispose();
  });

  it('predicts empty batches as empty results [.., 0, K]; rejects a wrong input shape', () => {
    const { net, x, y, k } = setup(10);
    const la = lastLayerLaplace(net, x, y);
    const empty = tf.zeros([0, 3]);
    const shapes: number[][] = [];
    expectNoLeak(() => {
      const p = la.predictProbs(empty);
      const m = la.predictProbs(empty, { link: 'mc', numSamples: 4 });
      const s = la.sampleProbs(empty, 4);
      const { mean, cov } = la.glmPredictive(empty);
      shapes.push(p.shape, m.shape, s.shape, mean.shape, cov.shape);
      return [p, m, s, mean, cov];
    });
    expect(shapes).toEqual([
      [0, k],
      [0, k],
      [4, 0, k],
      [0, k],
      [0, k, k],
    ]);
    const wrong = tf.zeros([2, 5]);
    const before = tf.memory().numTensors;
    expect(() => la.predictProbs(wrong)).toThrow(/x: expected inputs \[N, 3\]/);
    expect(() => la.sampleProbs(wrong, 3)).toThrow(/x: expected inputs \[N, 3\]/);
    expect(() => la.glmPredictive(wrong)).toThrow(/x: expected inputs \[N, 3\]/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, empty, wrong]);
  });
});

describe('last-layer Laplace: the last Dense inside a nested model', () => {
  /** The same weights as `flat` (Dense(4, tanh) -> Dense(K, act)), with the head nested `depth` deep. */
  function nestedTwin(
    flat: tf.Sequential,
    depth: number,
    act: 'softmax' | 'linear',
  ): tf.LayersModel {
    const [l0, l1] = flat.layers as [tf.layers.Layer, tf.layers.Layer];
    const k = (l1.getWeights()[0] as tf.Tensor).shape[1] as number;
    const dense = tf.layers.dense({ units: k, activation: act });
    // innermost: a Sequential head; each further level wraps it in a functional model
    let head: tf.LayersModel = tf.sequential({
      layers: [tf.layers.dropout({ inputShape: [4], rate: 0.5 }), dense],
    });
    for (let i = 1; i < depth; i++) {
      const inp = tf.input({ shape: [4] });
      head = tf.model({ inputs: inp, outputs: head.apply(inp) as tf.SymbolicTensor });
    }
    const inp = tf.input({ shape: [3] });
    const hid = tf.layers.dense({ units: 4, activation: 'tanh' });
    const out = head.apply(hid.apply(inp) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const m = tf.model({ inputs: inp, outputs: out });
    hid.setWeights(l0.getWeights());
    dense.setWeights(l1.getWeights());
    return m;
  }

  it('gives the posterior, marginal likelihood and predictive of the flattened model (laplace-torch FeatureExtractor)', () => {
    const { net, x, y } = setup(30);
    const xt = tf.tensor2d([
      [0.3, -0.2, 0.9],
      [-1, 0.5, 0.1],
    ]);
    for (const structure of ['diag', 'kron', 'full'] as const) {
      const ref = lastLayerLaplace(net, x, y, { hessianStructure: structure });
      const refP = expectNoLeak(() => ref.predictProbs(xt));
      const refS = expectNoLeak(() => ref.sampleProbs(xt, 5, 3));
      for (const [depth, act] of [
        [1, 'linear'],
        [2, 'softmax'],
        [3, 'linear'],
      ] as const) {
        const m = nestedTwin(net, depth, act);
        const before = tf.memory().numTensors;
        const la = lastLayerLaplace(m, x, y, { hessianStructure: structure, batchSize: 7 });
        expect(tf.memory().numTensors).toBe(before);
        expect(la.logLikelihood).toBeCloseTo(ref.logLikelihood, 4);
        expect(la.logMarginalLikelihood(0.7)).toBeCloseTo(ref.logMarginalLikelihood(0.7), 4);
        const a = la.denseMatrix('covariance');
        const b = ref.denseMatrix('covariance');
        a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 4));
        expectNoLeak(() => la.predictProbs(xt)).forEach((v, i) =>
          expect(v).toBeCloseTo(refP[i]!, 5),
        );
        expectNoLeak(() => la.sampleProbs(xt, 5, 3)).forEach((v, i) =>
          expect(v).toBeCloseTo(refS[i]!, 5),
        );
        const g = la.glmPredictive(xt);
        expect(g.cov.shape).toEqual([2, 3, 3]);
        tf.dispose([g.mean, g.cov]);
      }
    }
    tf.dispose([x, xt]);
  });

  it('a nested head applied to two branches or twice in series is fitted; followed by a second softmax, refused naming model', () => {
    const { x, y } = setup(10);
    const head = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3 })] });
    const inp = tf.input({ shape: [3] });
    const a = tf.layers.dense({ units: 4 }).apply(inp) as tf.SymbolicTensor;
    const b = tf.layers.dense({ units: 4 }).apply(inp) as tf.SymbolicTensor;
    const twice = tf.model({
      inputs: inp,
      outputs: tf.layers
        .add()
        .apply([
          head.apply(a) as tf.SymbolicTensor,
          head.apply(b) as tf.SymbolicTensor,
        ]) as tf.SymbolicTensor,
    });
    // the nested head's Dense applied to both branches and added: the same fit as a flat shared Dense
    const flatHead = tf.layers.dense({ units: 3 });
    const flat = tf.model({
      inputs: inp,
      outputs: tf.layers
        .add()
        .apply([
          flatHead.apply(a) as tf.SymbolicTensor,
          flatHead.apply(b) as tf.SymbolicTensor,
        ]) as tf.SymbolicTensor,
    });
    flatHead.setWeights(head.getWeights());
    for (const hessianStructure of ['full', 'kron'] as const) {
      const nested = lastLayerLaplace(twice, x, y, { hessianStructure });
      const ref = lastLayerLaplace(flat, x, y, { hessianStructure });
      const pn = nested.denseMatrix('precision');
      const pr = ref.denseMatrix('precision');
      expect(pn.length).toBe(15 * 15);
      pn.forEach((v, i) => expect(v).toBeCloseTo(pr[i]!, 4));
    }
    // two different Dense layers nearest the output: refused, naming them
    const other = tf.layers.dense({ units: 3 });
    const mixed = tf.model({
      inputs: inp,
      outputs: tf.layers
        .add()
        .apply([
          head.apply(a) as tf.SymbolicTensor,
          other.apply(b) as tf.SymbolicTensor,
        ]) as tf.SymbolicTensor,
    });
    expect(() => lastLayerLaplace(mixed, x, y)).toThrow(
      /model: expected the output to come from a Dense layer .*expected one Dense layer nearest the output/,
    );
    // a nested head applied twice in series: the same fit as a flat Dense applied twice
    const inp2 = tf.input({ shape: [3] });
    const first = tf.layers.dense({ units: 4, activation: 'tanh' });
    const h2 = first.apply(inp2) as tf.SymbolicTensor;
    const square = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 4 })] });
    const once = square.apply(h2) as tf.SymbolicTensor;
    const shared = tf.model({ inputs: inp2, outputs: square.apply(once) as tf.SymbolicTensor });
    const flatSquare = tf.layers.dense({ units: 4 });
    const flatTwice = tf.model({
      inputs: inp2,
      outputs: flatSquare.apply(flatSquare.apply(h2)) as tf.SymbolicTensor,
    });
    flatSquare.setWeights(square.getWeights());
    const y4 = tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3, 0, 1], 'int32');
    const sharedFit = lastLayerLaplace(shared, x, y4, { hessianStructure: 'full' });
    const flatFit = lastLayerLaplace(flatTwice, x, y4, { hessianStructure: 'full' });
    const ps = sharedFit.denseMatrix('precision');
    const pf = flatFit.denseMatrix('precision');
    expect(ps.length).toBe(20 * 20);
    ps.forEach((v, i) => expect(v).toBeCloseTo(pf[i]!, 4));
    // the same outputs at the MAP (both run the layer graph through the two applications)
    expect(sharedFit.logLikelihood).toBeCloseTo(flatFit.logLikelihood, 4);
    y4.dispose();
    const softHead = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [4], units: 3, activation: 'softmax' })],
    });
    const inp3 = tf.input({ shape: [3] });
    const h3 = tf.layers.dense({ units: 4 }).apply(inp3) as tf.SymbolicTensor;
    const two = tf.model({
      inputs: inp3,
      outputs: tf.layers.softmax().apply(softHead.apply(h3)) as tf.SymbolicTensor,
    });
    expect(() => lastLayerLaplace(two, x, y)).toThrow(
      /model: expected at most one final softmax.*got 2/,
    );
    x.dispose();
  });
});
