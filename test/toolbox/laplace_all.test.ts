/**
 * Laplace over all Dense/Conv2D weights (`subset 'all'`): the diagonal GGN equals the exact
 * Gauss-Newton `sum_n J_n^T Lambda_n J_n` (Jacobians by tfjs autodiff through the model's own
 * layers, checked against finite differences), KFAC equals the exact block on one example, the
 * marginal likelihood equals Bayesian linear regression's closed form, and the GLM predictive
 * samples have the covariance `J Sigma J^T` within Monte Carlo error.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ArgumentError, toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { bayesianLinearRegression } from './blr_reference.js';
import { expectNoLeak } from '../helpers.js';

const { allLayersLaplace, lastLayerLaplace } = toolbox;

/** conv 2@kxk (tanh) -> flatten -> dense 4 (tanh, fused) -> dense K; seeded initializers. */
function convNet(side: number, kernel: number, k = 3, seed = 1): tf.Sequential {
  const init = (s: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.5, seed: s });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [side, side, 1],
        filters: 2,
        kernelSize: kernel,
        activation: 'tanh',
        kernelInitializer: init(seed),
        biasInitializer: init(seed + 1),
      }),
      tf.layers.flatten(),
      tf.layers.dense({
        units: 4,
        activation: 'tanh',
        kernelInitializer: init(seed + 2),
        biasInitializer: init(seed + 3),
      }),
      tf.layers.dense({
        units: k,
        kernelInitializer: init(seed + 4),
        biasInitializer: init(seed + 5),
      }),
    ],
  });
}

function inputs(n: number, side: number, seed: number): tf.Tensor4D {
  const rng = makeRng(seed);
  return tf.tensor4d(
    Array.from({ length: n * side * side }, () => 2 * rng() - 1),
    [n, side, side, 1],
  );
}

/** Per-example Jacobians `J_n` `[K][P]` (all trainable weights, in order) by autodiff. */
function jacobians(m: tf.Sequential, x: tf.Tensor4D): number[][][] {
  const n = x.shape[0];
  const k = m.outputs[0]!.shape[1] as number;
  const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
  const out: number[][][] = [];
  for (let i = 0; i < n; i++) {
    const rows: number[][] = [];
    for (let c = 0; c < k; c++) {
      const g = tf.tidy(() => {
        const xi = tf.slice(x, [i], [1]);
        const { grads } = tf.variableGrads(
          () => tf.sum(tf.slice(m.apply(xi) as tf.Tensor, [0, c], [1, 1])) as tf.Scalar,
          vars,
        );
        const flat = vars.map((v) => Array.from(grads[v.name]!.dataSync()));
        tf.dispose(Object.values(grads));
        return flat.flat();
      });
      rows.push(g);
    }
    out.push(rows);
  }
  return out;
}

/** Exact GGN in float64 for the softmax likelihood. */
function exactGgn(m: tf.Sequential, x: tf.Tensor4D): number[][] {
  const J = jacobians(m, x);
  const logits = (m.predict(x) as tf.Tensor).arraySync() as number[][];
  const p = J[0]![0]!.length;
  const H = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  J.forEach((Jn, i) => {
    const z = logits[i]!;
    const mx = Math.max(...z);
    const e = z.map((v) => Math.exp(v - mx));
    const s = e.reduce((a, b) => a + b, 0);
    const pr = e.map((v) => v / s);
    const k = pr.length;
    for (let c = 0; c < k; c++) {
      for (let d = 0; d < k; d++) {
        const lam = (c === d ? pr[c]! : 0) - pr[c]! * pr[d]!;
        if (lam === 0) continue;
        for (let a = 0; a < p; a++) {
          const ja = Jn[c]![a]! * lam;
          for (let b = 0; b < p; b++) H[a]![b]! += ja * Jn[d]![b]!;
        }
      }
    }
  });
  return H;
}

/** Offsets of each parameter layer's block (kernel + bias) in the flat parameter vector. */
function blocks(m: tf.Sequential): { start: number; size: number }[] {
  const out: { start: number; size: number }[] = [];
  let start = 0;
  for (const l of m.layers) {
    const size = l.trainableWeights.reduce((s, w) => s + w.shape.reduce((a, b) => a! * b!, 1)!, 0);
    if (size > 0) out.push({ start, size });
    start += size;
  }
  return out;
}

describe("Laplace subset 'all': curvature", () => {
  it('autodiff Jacobians used as the reference agree with central finite differences', () => {
    const m = convNet(5, 3);
    const x = inputs(1, 5, 3);
    const J = jacobians(m, x)[0]!;
    const w = m.getWeights();
    const flat = w.map((t) => Array.from(t.dataSync()));
    const shapes = w.map((t) => t.shape); // getWeights returns the variables' own tensors
    const f = (vals: number[][]): number[] => {
      const ts = vals.map((v, i) => tf.tensor(v, shapes[i]));
      m.setWeights(ts);
      tf.dispose(ts);
      return tf.tidy(() => Array.from((m.predict(x) as tf.Tensor).dataSync()));
    };
    const h = 1e-2;
    let idx = 0;
    flat.forEach((vals, wi) => {
      for (let j = 0; j < vals.length; j += 3) {
        const plus = flat.map((v) => v.slice());
        const minus = flat.map((v) => v.slice());
        plus[wi]![j]! += h;
        minus[wi]![j]! -= h;
        const fp = f(plus);
        const fm = f(minus);
        for (let c = 0; c < 3; c++) {
          const fd = (fp[c]! - fm[c]!) / (2 * h);
          expect(Math.abs(fd - J[c]![idx + j]!)).toBeLessThan(2e-3 + 1e-2 * Math.abs(fd));
        }
      }
      idx += vals.length;
    });
    f(flat);
    x.dispose();
    m.dispose();
  });

  it('diag equals the diagonal of the exact GGN sum_n J_n^T Lambda_n J_n over all layers', () => {
    const m = convNet(5, 3);
    const x = inputs(7, 5, 4);
    const y = [0, 1, 2, 0, 1, 2, 0];
    const H = exactGgn(m, x);
    const before = tf.memory().numTensors;
    const la = allLayersLaplace(m, x, y, { hessianStructure: 'diag', batchSize: 3 });
    expect(tf.memory().numTensors).toBe(before);
    expect(la.layerNames.length).toBe(3);
    const bl = blocks(m);
    expect(la.numParams).toBe(H.length);
    bl.forEach((b, l) => {
      const diag = la.curvatureEigenvalues(l);
      expect(diag.length).toBe(b.size);
      for (let i = 0; i < b.size; i++) {
        const ref = H[b.start + i]![b.start + i]!;
        expect(Math.abs(diag[i]! - ref)).toBeLessThan(1e-4 + 1e-3 * ref);
      }
    });
    x.dispose();
    m.dispose();
  });

  it('kron equals the exact GGN block of every layer on one example (conv with one output position)', () => {
    // kernel 5 on a 5x5 input: the convolution has T = 1 position, so KFAC is exact too
    const m = convNet(5, 5, 3, 7);
    const x = inputs(1, 5, 9);
    const H = exactGgn(m, x);
    const la = allLayersLaplace(m, x, [2], { hessianStructure: 'kron' });
    blocks(m).forEach((b, l) => {
      const block = la.denseBlock(l, 'curvature');
      let maxRef = 0;
      for (let i = 0; i < b.size; i++)
        for (let j = 0; j < b.size; j++)
          maxRef = Math.max(maxRef, Math.abs(H[b.start + i]![b.start + j]!));
      for (let i = 0; i < b.size; i++) {
        for (let j = 0; j < b.size; j++) {
          const ref = H[b.start + i]![b.start + j]!;
          expect(Math.abs(block[i * b.size + j]! - ref)).toBeLessThan(1e-4 * maxRef + 1e-7);
        }
      }
    });
    x.dispose();
    m.dispose();
  });

  it('a single Dense layer gives the same kron posterior and marginal likelihood as last-layer Laplace', () => {
    const rng = makeRng(8);
    const xs = Array.from({ length: 30 }, () => [2 * rng() - 1, 2 * rng() - 1, 2 * rng() - 1]);
    const ys = xs.map((r) => (r[0]! > 0 ? (r[1]! > 0 ? 0 : 1) : 2));
    const net = tf.sequential({
      layers: [
        tf.layers.dense({
          units: 3,
          inputShape: [3],
          kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 1, seed: 2 }),
        }),
      ],
    });
    const x = tf.tensor2d(xs);
    const all = allLayersLaplace(net, x, ys, { hessianStructure: 'kron', batchSize: 7 });
    const last = lastLayerLaplace(net, x, ys, { hessianStructure: 'kron' });
    const a = all.denseBlock(0, 'curvature');
    const b = last.denseMatrix('precision'); // delta = 1
    for (let i = 0; i < 12; i++) {
      for (let j = 0; j < 12; j++) {
        expect(a[i * 12 + j]! + (i === j ? 1 : 0)).toBeCloseTo(b[i * 12 + j]!, 4);
      }
    }
    expect(all.logMarginalLikelihood(0.7)).toBeCloseTo(last.logMarginalLikelihood(0.7), 4);
    expect(all.optimizePriorPrecision()).toBeCloseTo(last.optimizePriorPrecision(), 3);
    x.dispose();
    net.dispose();
  });
});

describe("Laplace subset 'all': marginal likelihood and predictive", () => {
  it('logMarginalLikelihood equals Bayesian linear regression: log N(y | 0, sigma^2 I + Phi Phi^T / delta)', () => {
    const delta = 2.5;
    const sigma = 0.3;
    const { xs, ys, mean, prec, closed, d } = bayesianLinearRegression(delta, sigma);
    const net = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [d] })] });
    net.setWeights([tf.tensor2d([mean[0]!, mean[1]!], [d, 1]), tf.tensor1d([mean[d]!])]);
    const x = tf.tensor2d(xs);
    const la = allLayersLaplace(net, x, ys, {
      likelihood: 'regression',
      hessianStructure: 'kron',
      sigmaNoise: sigma,
      priorPrecision: delta,
    });
    expect(la.logMarginalLikelihood()).toBeCloseTo(closed, 3);
    // the posterior precision is Phi^T Phi / sigma^2 + delta I
    const P = la.denseBlock(0, 'precision');
    // parameter order: kernel rows (x1, x2), then the bias
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) expect(P[i * 3 + j]!).toBeCloseTo(prec.get(i, j), 2);
    const best = la.optimizePriorPrecision();
    for (const f of [0.5, 0.9, 1.1, 2])
      expect(la.logMarginalLikelihood(best * f)).toBeLessThan(la.logMarginalLikelihood(best));
    x.dispose();
    net.dispose();
  });

  it('GLM predictive samples have mean f(x; theta*) and covariance J Sigma J^T (MC, 5 SE)', () => {
    for (const structure of ['diag', 'kron'] as const) {
      const m = convNet(5, 3, 3, 11);
      const xTrain = inputs(12, 5, 12);
      const yTrain = Array.from({ length: 12 }, (_, i) => i % 3);
      const la = allLayersLaplace(m, xTrain, yTrain, {
        hessianStructure: structure,
        priorPrecision: 2,
      });
      const x = inputs(2, 5, 13);
      const J = jacobians(m, x);
      const mu = (m.predict(x) as tf.Tensor).arraySync() as number[][];
      const bl = blocks(m);
      const covs = bl.map((_, l) => la.denseBlock(l, 'covariance'));
      const S = 3000;
      const before = tf.memory().numTensors;
      const f = la.sampleOutputs(x, S, 5);
      const fs = f.arraySync() as number[][][];
      f.dispose();
      expect(tf.memory().numTensors).toBe(before);
      for (let i = 0; i < 2; i++) {
        // reference covariance J Sigma J^T, block-diagonal Sigma
        const ref = (c: number, e: number): number =>
          bl.reduce((s, b, l) => {
            const cov = covs[l]!;
            let v = 0;
            for (let a = 0; a < b.size; a++) {
              const ja = J[i]![c]![b.start + a]!;
              if (ja === 0) continue;
              for (let bb = 0; bb < b.size; bb++)
                v += ja * cov[a * b.size + bb]! * J[i]![e]![b.start + bb]!;
            }
            return s + v;
          }, 0);
        for (let c = 0; c < 3; c++) {
          const mc = fs.reduce((s, smp) => s + smp[i]![c]!, 0) / S;
          expect(Math.abs(mc - mu[i]![c]!)).toBeLessThan(5 * Math.sqrt(ref(c, c) / S) + 1e-5);
          for (let e = c; e < 3; e++) {
            const me = fs.reduce((s, smp) => s + smp[i]![e]!, 0) / S;
            const emp =
              fs.reduce((s, smp) => s + (smp[i]![c]! - mc) * (smp[i]![e]! - me), 0) / (S - 1);
            const r = ref(c, e);
            const se = Math.sqrt((ref(c, c) * ref(e, e) + r * r) / S);
            expect(Math.abs(emp - r)).toBeLessThan(5 * se + 1e-6);
          }
        }
      }
      const p = la.sampleProbs(x, 4, 1);
      expect(p.shape).toEqual([4, 2, 3]);
      p.dispose();
      tf.dispose([x, xTrain]);
      m.dispose();
    }
  });

  it('rejects bad input with an ArgumentError naming the argument', () => {
    const m = convNet(5, 3);
    const x = inputs(2, 5, 1);
    expect(() => allLayersLaplace(m, x, [0, 1], { hessianStructure: 'full' as 'kron' })).toThrow(
      /hessianStructure.*last layer only/,
    );
    expect(() => allLayersLaplace(m, x, [0, 5])).toThrow(/y: expected integer labels/);
    expect(() => allLayersLaplace(m, x, [0])).toThrow(/expected 2 labels/);
    expect(() => allLayersLaplace(m, x, [0, 1], { priorPrecision: 0 })).toThrow(ArgumentError);
    const la = allLayersLaplace(m, x, [0, 1]);
    expect(() => la.sampleProbs(x, 0)).toThrow(/numSamples/);
    expect(() => la.denseBlock(9, 'curvature')).toThrow(/layer index/);
    x.dispose();
    m.dispose();
  });
});

/** `J Sigma J^T` `[K][K]` of example `i` from the Jacobians and the dense covariance blocks. */
function jsjt(
  J: number[][][],
  i: number,
  bl: { start: number; size: number }[],
  covs: Float64Array[],
) {
  const k = J[i]!.length;
  return Array.from({ length: k }, (_, c) =>
    Array.from({ length: k }, (_, e) =>
      bl.reduce((s, b, l) => {
        const cov = covs[l]!;
        let v = 0;
        for (let a = 0; a < b.size; a++) {
          const ja = J[i]![c]![b.start + a]!;
          if (ja === 0) continue;
          for (let bb = 0; bb < b.size; bb++)
            v += ja * cov[a * b.size + bb]! * J[i]![e]![b.start + bb]!;
        }
        return s + v;
      }, 0),
    ),
  );
}

function softmaxRow(z: number[]): number[] {
  const mx = Math.max(...z);
  const e = z.map((v) => Math.exp(v - mx));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

describe("Laplace subset 'all': GLM covariance and the probit link", () => {
  it('glmPredictive equals the brute-force J Sigma J^T; probit is softmax(mu / sqrt(1 + pi/8 diag))', () => {
    for (const structure of ['diag', 'kron'] as const) {
      const m = convNet(5, 3, 3, 11);
      const xTrain = inputs(12, 5, 12);
      const yTrain = Array.from({ length: 12 }, (_, i) => i % 3);
      const la = allLayersLaplace(m, xTrain, yTrain, {
        hessianStructure: structure,
        priorPrecision: 2,
        batchSize: 5,
      });
      const x = inputs(3, 5, 13);
      const J = jacobians(m, x);
      const mu = (m.predict(x) as tf.Tensor).arraySync() as number[][];
      const bl = blocks(m);
      const covs = bl.map((_, l) => la.denseBlock(l, 'covariance'));
      const before = tf.memory().numTensors;
      const { mean, cov } = la.glmPredictive(x);
      const mv = mean.arraySync();
      const cv = cov.arraySync();
      tf.dispose([mean, cov]);
      expect(tf.memory().numTensors).toBe(before);
      const probit = expectNoLeak(() => la.predictProbs(x, { link: 'probit' }));
      for (let i = 0; i < 3; i++) {
        const ref = jsjt(J, i, bl, covs);
        let scale = 0;
        for (let c = 0; c < 3; c++) scale = Math.max(scale, Math.abs(ref[c]![c]!));
        expect(scale).toBeGreaterThan(1e-3);
        for (let c = 0; c < 3; c++) {
          expect(mv[i]![c]!).toBeCloseTo(mu[i]![c]!, 5);
          for (let e = 0; e < 3; e++) {
            expect(Math.abs(cv[i]![c]![e]! - ref[c]![e]!)).toBeLessThan(1e-4 * scale + 1e-7);
          }
        }
        const want = softmaxRow(
          mu[i]!.map((v, c) => v / Math.sqrt(1 + (Math.PI / 8) * ref[c]![c]!)),
        );
        want.forEach((w, c) => expect(probit[i * 3 + c]!).toBeCloseTo(w, 5));
      }
      tf.dispose([x, xTrain]);
      m.dispose();
    }
  });

  it('predictProbs takes the options of the last-layer one (default probit); the positional form is the mc link', () => {
    const m = convNet(5, 3, 3, 4);
    const xTrain = inputs(6, 5, 2);
    const la = allLayersLaplace(m, xTrain, [0, 1, 2, 0, 1, 2]);
    const x = inputs(2, 5, 3);
    const positional = expectNoLeak(() => la.predictProbs(x, 7, 3));
    const mc = expectNoLeak(() => la.predictProbs(x, { link: 'mc', numSamples: 7, seed: 3 }));
    const dflt = expectNoLeak(() => la.predictProbs(x, { numSamples: 7, seed: 3 }));
    const mean = expectNoLeak(() => tf.tidy(() => tf.mean(la.sampleProbs(x, 7, 3), 0)));
    expect(mc).toEqual(positional);
    positional.forEach((v, i) => expect(v).toBeCloseTo(mean[i]!, 6));
    const probit = expectNoLeak(() => la.predictProbs(x, { link: 'probit' }));
    // the default link is probit, as laplace-torch's link_approx and the last-layer fit
    expect(dflt).toEqual(probit);
    expect(probit.length).toBe(6);
    expect(probit.slice(0, 3).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const before = tf.memory().numTensors;
    expect(() => la.predictProbs(x, { link: 'laplace' as 'mc' })).toThrow(
      /link: expected 'probit', 'mc', 'bridge' or 'bridgeNorm', got 'laplace'/,
    );
    expect(() => la.predictProbs(x, { numSamples: 0 })).toThrow(/numSamples/);
    expect(tf.memory().numTensors).toBe(before);
    const reg = allLayersLaplace(m, xTrain, tf.zeros([6, 3]), { likelihood: 'regression' });
    expect(() => reg.predictProbs(x, { link: 'probit' })).toThrow(/likelihood: .*glmPredictive/);
    tf.dispose([x, xTrain]);
    m.dispose();
  });
});

/** Dense(5, tanh) -> Dense(3) with `head` appended or fused; weights copied from `ref` if given. */
function mlp(
  head: 'logits' | 'dense' | 'activation' | 'softmax',
  ref?: tf.Sequential,
): tf.Sequential {
  const init = (s: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.8, seed: s });
  const layers: tf.layers.Layer[] = [
    tf.layers.dense({ units: 5, inputShape: [3], activation: 'tanh', kernelInitializer: init(1) }),
    tf.layers.dense({
      units: 3,
      kernelInitializer: init(2),
      biasInitializer: init(3),
      ...(head === 'dense' ? { activation: 'softmax' as const } : {}),
    }),
  ];
  if (head === 'activation') layers.push(tf.layers.activation({ activation: 'softmax' }));
  if (head === 'softmax') layers.push(tf.layers.softmax());
  const m = tf.sequential({ layers });
  if (ref !== undefined) m.setWeights(ref.getWeights());
  return m;
}

describe("Laplace subset 'all': models users bring", () => {
  it('a softmax-ended classifier gives the posterior and predictive of the identical logits model', () => {
    const rng = makeRng(21);
    const xs = Array.from({ length: 25 }, () => [2 * rng() - 1, 2 * rng() - 1, 2 * rng() - 1]);
    const ys = xs.map((r) => (r[0]! > 0 ? (r[1]! > 0 ? 0 : 1) : 2));
    const x = tf.tensor2d(xs);
    const xt = tf.tensor2d([
      [0.2, -0.5, 0.9],
      [-0.7, 0.1, 0.4],
    ]);
    const logits = mlp('logits');
    for (const structure of ['diag', 'kron'] as const) {
      const ref = allLayersLaplace(logits, x, ys, { hessianStructure: structure });
      const refOut = expectNoLeak(() => ref.sampleOutputs(xt, 6, 4));
      const refProbit = expectNoLeak(() => ref.predictProbs(xt, { link: 'probit' }));
      // the true log-likelihood of the model's own probabilities
      const lp = tf.tidy(() =>
        tf.sum(tf.mul(tf.logSoftmax(logits.predict(x) as tf.Tensor), tf.oneHot(ys, 3))),
      );
      expect(ref.logLikelihood).toBeCloseTo(lp.dataSync()[0]!, 3);
      lp.dispose();
      for (const head of ['dense', 'activation', 'softmax'] as const) {
        const soft = mlp(head, logits);
        const before = tf.memory().numTensors;
        const la = allLayersLaplace(soft, x, ys, { hessianStructure: structure });
        expect(tf.memory().numTensors).toBe(before);
        expect(la.layerNames.length).toBe(2);
        expect(la.logLikelihood).toBeCloseTo(ref.logLikelihood, 4);
        for (let l = 0; l < 2; l++) {
          const a = la.denseBlock(l, 'curvature');
          const b = ref.denseBlock(l, 'curvature');
          a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 5));
        }
        expectNoLeak(() => la.sampleOutputs(xt, 6, 4)).forEach((v, i) =>
          expect(v).toBeCloseTo(refOut[i]!, 5),
        );
        expectNoLeak(() => la.predictProbs(xt, { link: 'probit' })).forEach((v, i) =>
          expect(v).toBeCloseTo(refProbit[i]!, 5),
        );
        soft.dispose();
      }
    }
    tf.dispose([x, xt]);
    logits.dispose();
  });

  it('a dilated Conv2D anywhere in the chain: diag equals the GGN diagonal from finite differences', () => {
    const init = (s: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.5, seed: s });
    const m = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [7, 7, 1],
          filters: 2,
          kernelSize: 3,
          dilationRate: 2,
          activation: 'tanh',
          kernelInitializer: init(1),
          biasInitializer: init(2),
        }),
        tf.layers.conv2d({
          filters: 2,
          kernelSize: 2,
          dilationRate: [2, 1],
          padding: 'same',
          activation: 'tanh',
          kernelInitializer: init(3),
          biasInitializer: init(4),
        }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3, kernelInitializer: init(5), biasInitializer: init(6) }),
      ],
    });
    const x = inputs(4, 7, 5);
    const y = [0, 1, 2, 1];
    // reference Jacobians by central differences of model.predict (tfjs has no dilated gradient)
    const weights = m.getWeights().map((t) => Array.from(t.dataSync()));
    const shapes = m.getWeights().map((t) => t.shape);
    const predict = (vals: number[][]): number[][] => {
      const ts = vals.map((v, i) => tf.tensor(v, shapes[i]));
      m.setWeights(ts);
      tf.dispose(ts);
      return tf.tidy(() => (m.predict(x) as tf.Tensor).arraySync() as number[][]);
    };
    const h = 1e-2;
    const cols: number[][][] = []; // [P][N][K]
    weights.forEach((vals, wi) => {
      vals.forEach((_, j) => {
        const plus = weights.map((v) => v.slice());
        const minus = weights.map((v) => v.slice());
        plus[wi]![j]! += h;
        minus[wi]![j]! -= h;
        const fp = predict(plus);
        const fm = predict(minus);
        cols.push(fp.map((r, n) => r.map((v, c) => (v - fm[n]![c]!) / (2 * h))));
      });
    });
    const logits = predict(weights);
    const ref = cols.map((col) =>
      col.reduce((s, jn, n) => {
        const pr = softmaxRow(logits[n]!);
        const jp = jn.reduce((a, v, c) => a + v * pr[c]!, 0);
        return s + jn.reduce((a, v, c) => a + pr[c]! * v * v, 0) - jp * jp;
      }, 0),
    );
    const before = tf.memory().numTensors;
    const la = allLayersLaplace(m, x, y, { hessianStructure: 'diag', batchSize: 3 });
    const kron = allLayersLaplace(m, x, y, { hessianStructure: 'kron' });
    expect(tf.memory().numTensors).toBe(before);
    expect(la.numParams).toBe(ref.length);
    let idx = 0;
    for (let l = 0; l < 3; l++) {
      const diag = la.curvatureEigenvalues(l);
      diag.forEach((v) => {
        expect(Math.abs(v - ref[idx]!)).toBeLessThan(1e-3 + 1e-2 * ref[idx]!);
        idx++;
      });
    }
    // the chain's forward pass is the model's
    const { mean } = kron.glmPredictive(x);
    (mean.arraySync() as number[][]).forEach((r, n) =>
      r.forEach((v, c) => expect(v).toBeCloseTo(logits[n]![c]!, 5)),
    );
    mean.dispose();
    expectNoLeak(() => kron.sampleProbs(x, 3, 1));
    x.dispose();
    m.dispose();
  });

  it('rejects models and inputs it cannot use with an ArgumentError, before any work', () => {
    const seq = (...layers: tf.layers.Layer[]): tf.Sequential =>
      tf.sequential({
        layers: [tf.layers.dense({ units: 4, inputShape: [3], activation: 'relu' }), ...layers],
      });
    const inp = tf.input({ shape: [3] });
    const hid = tf.layers.dense({ units: 4 }).apply(inp) as tf.SymbolicTensor;
    const twoOut = tf.model({
      inputs: inp,
      outputs: [
        tf.layers.dense({ units: 3 }).apply(hid) as tf.SymbolicTensor,
        tf.layers.dense({ units: 3 }).apply(hid) as tf.SymbolicTensor,
      ],
    });
    const x = tf.tensor2d([
      [0.1, 0.2, 0.3],
      [-1, 0, 1],
    ]);
    const y = [0, 1];
    const models: [tf.LayersModel, RegExp][] = [
      [
        twoOut,
        /model: expected a model with one output \(and one input or several\), got 1 inputs and 2 outputs/,
      ],
      [
        seq(tf.layers.dense({ units: 3 }), tf.layers.activation({ activation: 'sigmoid' })),
        /model: .*'sigmoid' head over K = 3 .*multi-label/,
      ],
      [
        seq(tf.layers.dense({ units: 1, activation: 'softmax' })),
        /model: .*got a softmax over one output/,
      ],
      [
        seq(
          tf.layers.dense({ units: 3 }),
          tf.layers.softmax(),
          tf.layers.activation({ activation: 'softmax' }),
        ),
        /model: expected at most one final softmax/,
      ],
    ];
    for (const [m, msg] of models) {
      const before = tf.memory().numTensors;
      expect(() => allLayersLaplace(m, x, y)).toThrow(msg);
      expect(tf.memory().numTensors).toBe(before);
    }
    const net = seq(tf.layers.dense({ units: 3 }));
    const inputsBad = [
      [tf.zeros([2, 4]), /x: expected inputs \[N, 3\] \(the model's input\), got \[2, 4\]/],
      [
        tf.tensor2d([
          [0, NaN, 0],
          [0, 0, 0],
        ]),
        /x: expected finite inputs, got NaN in row 0/,
      ],
      [
        tf.tensor2d([
          [0, 0, 0],
          [0, -Infinity, 0],
        ]),
        /x: expected finite inputs, got -Infinity in row 1/,
      ],
    ] as const;
    for (const [xb, msg] of inputsBad) {
      for (const structure of ['diag', 'kron'] as const) {
        const before = tf.memory().numTensors;
        expect(() => allLayersLaplace(net, xb, y, { hessianStructure: structure })).toThrow(msg);
        expect(tf.memory().numTensors).toBe(before);
      }
      xb.dispose();
    }
    const la = allLayersLaplace(net, x, y);
    const empty = tf.zeros([0, 3]);
    const shapes: number[][] = [];
    expectNoLeak(() => {
      const outs = [
        la.sampleOutputs(empty, 4),
        la.sampleProbs(empty, 4),
        la.predictProbs(empty),
        la.predictProbs(empty, { link: 'probit' }),
        ...Object.values(la.glmPredictive(empty)),
      ];
      shapes.push(...outs.map((t) => t.shape));
      return outs;
    });
    expect(shapes).toEqual([
      [4, 0, 3],
      [4, 0, 3],
      [0, 3],
      [0, 3],
      [0, 3],
      [0, 3, 3],
    ]);
    const wrong = tf.zeros([2, 5]);
    const before = tf.memory().numTensors;
    expect(() => la.predictProbs(wrong, 3)).toThrow(/x: expected inputs \[N, 3\]/);
    expect(() => la.glmPredictive(wrong)).toThrow(/x: expected inputs \[N, 3\]/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, empty, wrong]);
  });

  it('refuses trainable layers it cannot put a posterior on (not silently left out); frozen ones stay fixed', () => {
    const x = tf.tensor3d([
      [[0.1], [0.2], [0.3], [0.4]],
      [[-1], [0], [1], [0.5]],
    ]);
    const y = [0, 1];
    const seq = (...layers: tf.layers.Layer[]): tf.Sequential => tf.sequential({ layers });
    const conv1d = () => tf.layers.conv1d({ inputShape: [4, 1], filters: 2, kernelSize: 2 });
    // a trainable layer it cannot cover is found inside a nested model too
    const inner = tf.sequential({ layers: [conv1d(), tf.layers.flatten()] });
    const cases: [tf.LayersModel, RegExp][] = [
      [
        seq(conv1d(), tf.layers.flatten(), tf.layers.dense({ units: 2 })),
        /model: layer 'conv1d_\w+' \(Conv1D\) has trainable weights that all-layers Laplace cannot put a posterior on/,
      ],
      [
        seq(tf.layers.lstm({ inputShape: [4, 1], units: 3 }), tf.layers.dense({ units: 2 })),
        /model: layer '\w+' \(LSTM\) has trainable weights/,
      ],
      [
        seq(inner, tf.layers.dense({ units: 2 })),
        /model: layer 'conv1d_\w+' \(Conv1D\) has trainable weights/,
      ],
    ];
    for (const [m, msg] of cases) {
      const before = tf.memory().numTensors;
      for (const hessianStructure of ['diag', 'kron'] as const) {
        expect(() => allLayersLaplace(m, x, y, { hessianStructure })).toThrow(msg);
      }
      expect(tf.memory().numTensors).toBe(before);
    }
    // a frozen Conv1D and a frozen Dense keep their weights: the posterior is the last layer's
    const frozenConv = conv1d();
    frozenConv.trainable = false;
    const frozenDense = tf.layers.dense({ units: 3, activation: 'tanh' });
    frozenDense.trainable = false;
    const net = seq(frozenConv, tf.layers.flatten(), frozenDense, tf.layers.dense({ units: 2 }));
    const before = tf.memory().numTensors;
    const all = allLayersLaplace(net, x, y, { hessianStructure: 'diag' });
    const last = lastLayerLaplace(net, x, y, { hessianStructure: 'diag' });
    expect(tf.memory().numTensors).toBe(before);
    expect(all.logMarginalLikelihood(0.7)).toBeCloseTo(last.logMarginalLikelihood(0.7), 4);
    x.dispose();
    net.dispose();
  });
});
