/**
 * Audit (issue 17): last-layer Laplace on classifiers the seed tests did not use — a small conv
 * net whose last Dense has no bias, a softmax-activated head, a sigmoid head without bias — with
 * the GGN computed by hand in float64 from the features, the MC predictive against Monte Carlo of
 * the linearised model drawn in float64 from the dense posterior covariance, the probit link from
 * its formula, and bad inputs named before any work.
 */
import * as tf from '@tensorflow/tfjs';
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectBadInput, expectNoLeak } from '../helpers.js';

const { lastLayerLaplace } = toolbox;

const H = 5;
const K = 3;

/** Conv2D(2, 3x3, relu) -> Flatten -> Dense(3, no bias[, softmax]) on 5x5x1 images. */
function convNet(softmax: boolean, seed: number): { net: tf.LayersModel; feat: tf.LayersModel } {
  const inp = tf.input({ shape: [H, H, 1] });
  const conv = tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'relu' });
  const flat = tf.layers.flatten();
  const dense = tf.layers.dense({
    units: K,
    useBias: false,
    activation: softmax ? 'softmax' : 'linear',
    kernelInitializer: tf.initializers.randomNormal({ stddev: 0.8, seed: seed + 1 }),
  });
  const f = flat.apply(conv.apply(inp)) as tf.SymbolicTensor;
  const out = dense.apply(f) as tf.SymbolicTensor;
  const net = tf.model({ inputs: inp, outputs: out });
  const r = makeRng(seed + 2);
  conv.setWeights([
    tf.tensor4d(
      Array.from({ length: 18 }, () => 2 * r() - 1),
      [3, 3, 1, 2],
    ),
    tf.tensor1d([0.1, -0.05]),
  ]);
  return { net, feat: tf.model({ inputs: inp, outputs: f }) };
}

function images(n: number, seed: number): { x: tf.Tensor4D; y: number[] } {
  const r = makeRng(seed);
  const x = tf.tensor4d(
    Array.from({ length: n * H * H }, () => r()),
    [n, H, H, 1],
  );
  const y = Array.from({ length: n }, () => Math.floor(r() * K));
  return { x, y };
}

function softmax(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Host features (float64 copies of the float32 features) and the kernel [D, K]. */
function hostParts(net: tf.LayersModel, feat: tf.LayersModel, x: tf.Tensor) {
  const phi = tf.tidy(() => feat.predict(x) as tf.Tensor).arraySync() as number[][];
  const w = (
    net.layers[net.layers.length - 1]!.getWeights()[0] as tf.Tensor
  ).arraySync() as number[][];
  const logits = (z: number[], theta?: number[]): number[] =>
    Array.from({ length: K }, (_, c) =>
      z.reduce((s, v, d) => s + v * (theta ? theta[d * K + c]! : w[d]![c]!), 0),
    );
  return { phi, w, logits, d: phi[0]!.length };
}

describe('audit15 last-layer Laplace on a conv net with a bias-free head', () => {
  const n = 24;

  for (const softmaxHead of [false, true]) {
    it(`full = Σ φφᵀ ⊗ (diag p − ppᵀ) (float64 by hand), diag its diagonal, kron (1/N) A ⊗ G; softmax head=${softmaxHead}`, () => {
      const { net, feat } = convNet(softmaxHead, 3);
      const { x, y } = images(n, 4);
      const { phi, logits, d } = hostParts(net, feat, x);
      const p = d * K;
      expect(d).toBe(18);
      const full = Array.from({ length: p }, () => new Array<number>(p).fill(0));
      const A = Array.from({ length: d }, () => new Array<number>(d).fill(0));
      const G = Array.from({ length: K }, () => new Array<number>(K).fill(0));
      phi.forEach((f) => {
        const pr = softmax(logits(f));
        for (let a = 0; a < d; a++)
          for (let b = 0; b < d; b++) {
            A[a]![b]! += f[a]! * f[b]!;
            for (let c = 0; c < K; c++)
              for (let e = 0; e < K; e++)
                full[a * K + c]![b * K + e]! +=
                  f[a]! * f[b]! * ((c === e ? pr[c]! : 0) - pr[c]! * pr[e]!);
          }
        for (let c = 0; c < K; c++)
          for (let e = 0; e < K; e++) G[c]![e]! += (c === e ? pr[c]! : 0) - pr[c]! * pr[e]!;
      });
      const delta = 0.7;
      const before = tf.memory().numTensors;
      const laF = lastLayerLaplace(net, x, y, { hessianStructure: 'full', priorPrecision: delta });
      const laD = lastLayerLaplace(net, x, y, { hessianStructure: 'diag', priorPrecision: delta });
      const laK = lastLayerLaplace(net, x, y, {
        hessianStructure: 'kron',
        priorPrecision: delta,
        batchSize: 5,
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(laF.numParams).toBe(p);
      const mF = laF.denseMatrix('precision');
      const mD = laD.denseMatrix('precision');
      const mK = laK.denseMatrix('precision');
      for (let i = 0; i < p; i++)
        for (let j = 0; j < p; j++) {
          const want = full[i]![j]! + (i === j ? delta : 0);
          expect(Math.abs(mF[i * p + j]! - want)).toBeLessThan(2e-4 * (1 + Math.abs(want)));
          const [a, c] = [Math.floor(i / K), i % K];
          const [b, e] = [Math.floor(j / K), j % K];
          const kr = (A[a]![b]! * G[c]![e]!) / n + (i === j ? delta : 0);
          expect(Math.abs(mK[i * p + j]! - kr)).toBeLessThan(2e-4 * (1 + Math.abs(kr)));
          expect(mD[i * p + j]!).toBeCloseTo(i === j ? want : 0, 3);
        }
      // log p(D | theta*) in float64
      let ll = 0;
      phi.forEach((f, i) => {
        ll += Math.log(softmax(logits(f))[y[i]!]!);
      });
      expect(laF.logLikelihood).toBeCloseTo(ll, 3);
      x.dispose();
      net.dispose();
    });
  }

  it('the softmax-ended net gives the same posterior, marginal likelihood and predictive as its logits twin', () => {
    const a = convNet(false, 7);
    const b = convNet(true, 7);
    const { x, y } = images(n, 8);
    for (const s of ['kron', 'diag', 'full'] as const) {
      const la = lastLayerLaplace(a.net, x, y, { hessianStructure: s });
      const lb = lastLayerLaplace(b.net, x, y, { hessianStructure: s });
      expect(lb.optimizePriorPrecision()).toBeCloseTo(la.optimizePriorPrecision(), 4);
      expect(lb.logMarginalLikelihood()).toBeCloseTo(la.logMarginalLikelihood(), 3);
      const pa = la.predictProbs(x);
      const pb = lb.predictProbs(x);
      expect(
        Math.max(...Array.from(tf.tidy(() => tf.abs(tf.sub(pa, pb))).dataSync())),
      ).toBeLessThan(1e-5);
      tf.dispose([pa, pb]);
    }
    x.dispose();
    a.net.dispose();
    b.net.dispose();
  });

  for (const structure of ['full', 'kron', 'diag'] as const) {
    it(`${structure}: the MC predictive equals Monte Carlo of the linearised model drawn in float64 (5 SE); probit its formula`, () => {
      const { net, feat } = convNet(false, 11);
      const { x, y } = images(n, 12);
      const la = lastLayerLaplace(net, x, y, { hessianStructure: structure, priorPrecision: 0.4 });
      const xt = images(2, 13).x;
      const { phi, w, logits, d } = hostParts(net, feat, xt);
      const p = d * K;
      const cov = la.denseMatrix('covariance');
      const L = new CholeskyDecomposition(
        new Matrix(Array.from({ length: p }, (_, i) => Array.from(cov.slice(i * p, (i + 1) * p)))),
      ).lowerTriangularMatrix;
      const theta0 = w.flat();
      const S = 3000;
      const r = makeRng(99);
      const gauss = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
      const sum = phi.map(() => new Array<number>(K).fill(0));
      const sq = phi.map(() => new Array<number>(K).fill(0));
      for (let s = 0; s < S; s++) {
        const z = Array.from({ length: p }, gauss);
        const theta = theta0.map((t, i) => {
          let v = t;
          for (let j = 0; j <= i; j++) v += L.get(i, j) * z[j]!;
          return v;
        });
        phi.forEach((f, i) => {
          const pr = softmax(logits(f, theta));
          for (let c = 0; c < K; c++) {
            sum[i]![c]! += pr[c]!;
            sq[i]![c]! += pr[c]! ** 2;
          }
        });
      }
      const mc = expectNoLeak(() => la.predictProbs(xt, { link: 'mc', numSamples: S, seed: 5 }));
      phi.forEach((_, i) => {
        for (let c = 0; c < K; c++) {
          const m = sum[i]![c]! / S;
          const se = Math.sqrt(Math.max(sq[i]![c]! / S - m * m, 1e-12) / S);
          expect(Math.abs(mc[i * K + c]! - m)).toBeLessThan(5 * Math.SQRT2 * se + 1e-4);
        }
      });
      // probit: softmax(mu / sqrt(1 + pi/8 diag(J Sigma J^T))) with J Sigma J^T in float64
      const probit = expectNoLeak(() => la.predictProbs(xt));
      phi.forEach((f, i) => {
        const mu = logits(f);
        const v = Array.from({ length: K }, (_, c) => {
          let s = 0;
          for (let a = 0; a < d; a++)
            for (let b = 0; b < d; b++) s += f[a]! * cov[(a * K + c) * p + b * K + c]! * f[b]!;
          return s;
        });
        const want = softmax(mu.map((m, c) => m / Math.sqrt(1 + (Math.PI / 8) * v[c]!)));
        for (let c = 0; c < K; c++) expect(probit[i * K + c]!).toBeCloseTo(want[c]!, 4);
      });
      tf.dispose([x, xt]);
      net.dispose();
    });
  }

  it('rejects bad labels, inputs and predictive options naming them, before any work', async () => {
    const { net } = convNet(false, 21);
    const { x, y } = images(6, 22);
    const la = lastLayerLaplace(net, x, y);
    const all = toolbox.allLayersLaplace(net, x, y, { hessianStructure: 'diag' });
    const xNaN = x.clone();
    const bad = tf.tidy(() => tf.concat([tf.fill([1, H, H, 1], NaN), x.slice([1], [5])]));
    const wrong = tf.zeros([2, 4, 4, 1]);
    const cases = [
      { call: 'label K', run: () => lastLayerLaplace(net, x, [...y.slice(1), K]), arg: 'y' },
      { call: 'label -1', run: () => lastLayerLaplace(net, x, [...y.slice(1), -1]), arg: 'y' },
      { call: 'label 1.5', run: () => lastLayerLaplace(net, x, [...y.slice(1), 1.5]), arg: 'y' },
      { call: 'too few labels', run: () => lastLayerLaplace(net, x, y.slice(1)), arg: 'y' },
      { call: 'NaN image', run: () => lastLayerLaplace(net, bad, y), arg: 'x' },
      { call: 'wrong image size', run: () => lastLayerLaplace(net, wrong, [0, 1]), arg: 'x' },
      { call: 'predict wrong size', run: () => la.predictProbs(wrong), arg: 'x' },
      { call: 'probit of a NaN image', run: () => la.predictProbs(bad), arg: 'x' },
      {
        call: 'MC of a NaN image',
        run: () => la.predictProbs(bad, { link: 'mc', numSamples: 2 }),
        arg: 'x',
      },
      { call: 'samples of a NaN image', run: () => la.sampleProbs(bad, 2), arg: 'x' },
      { call: 'GLM of a NaN image', run: () => la.glmPredictive(bad), arg: 'x' },
      {
        call: 'all layers: probit of a NaN image',
        run: () => all.predictProbs(bad, { link: 'probit' }),
        arg: 'x',
      },
      { call: 'all layers: samples of a NaN image', run: () => all.sampleProbs(bad, 2), arg: 'x' },
      { call: 'all layers: GLM of a NaN image', run: () => all.glmPredictive(bad), arg: 'x' },
      {
        call: 'link',
        run: () => la.predictProbs(x, { link: 'laplace' as 'mc' }),
        arg: 'link',
      },
      { call: 'numSamples 0', run: () => la.sampleProbs(x, 0), arg: 'numSamples' },
      {
        call: "laplace-torch's link_approx",
        run: () =>
          la.predictProbs(x, { link_approx: 'mc' } as unknown as toolbox.LaplacePredictOptions),
        arg: 'link_approx',
      },
      {
        call: 'all layers: an unknown predictive option',
        run: () =>
          all.predictProbs(x, { linkApprox: 'probit' } as unknown as toolbox.LaplacePredictOptions),
        arg: 'linkApprox',
      },
      { call: 'numSamples 2.5', run: () => la.sampleProbs(x, 2.5), arg: 'numSamples' },
      {
        call: 'regression targets for a classifier',
        run: () => lastLayerLaplace(net, x, [0.5, 1, 2, 0, 1, 2]),
        arg: 'y',
      },
      {
        call: 'prior_precision',
        run: () =>
          lastLayerLaplace(net, x, y, { prior_precision: 2 } as unknown as toolbox.LaplaceOptions),
        arg: /prior_precision/,
      },
      {
        call: 'batchSize 0',
        run: () => lastLayerLaplace(net, x, y, { batchSize: 0 }),
        arg: 'batchSize',
      },
    ];
    for (const c of cases) await expectBadInput(c);
    // an empty batch predicts [0, K]
    const empty = tf.zeros([0, H, H, 1]);
    const out = la.predictProbs(empty);
    expect(out.shape).toEqual([0, K]);
    tf.dispose([out, empty, xNaN, bad, wrong, x]);
    net.dispose();
  });
});

describe('audit15 last-layer Laplace: a sigmoid head without bias (binary)', () => {
  it('full precision = Σ φφᵀ p(1−p) + δI, marginal likelihood from the float64 Bernoulli log-likelihood', () => {
    const r = makeRng(31);
    const n = 40;
    const d = 3;
    const xs = Array.from({ length: n }, () => Array.from({ length: d }, () => 2 * r() - 1));
    const w = [1.2, -0.7, 0.4];
    const ys = xs.map((row) =>
      r() < 1 / (1 + Math.exp(-row.reduce((s, v, i) => s + v * w[i]!, 0))) ? 1 : 0,
    );
    const net = tf.sequential();
    net.add(tf.layers.dense({ units: 1, inputShape: [d], useBias: false, activation: 'sigmoid' }));
    net.layers[0]!.setWeights([tf.tensor2d(w, [d, 1])]);
    const x = tf.tensor2d(xs);
    const delta = 1.3;
    const la = lastLayerLaplace(net, x, ys, { hessianStructure: 'full', priorPrecision: delta });
    expect(la.binary).toBe(true);
    const Hm = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    let ll = 0;
    xs.forEach((row, i) => {
      const z = row.reduce((s, v, j) => s + v * w[j]!, 0);
      const pr = 1 / (1 + Math.exp(-z));
      ll += ys[i] === 1 ? Math.log(pr) : Math.log(1 - pr);
      for (let a = 0; a < d; a++)
        for (let b = 0; b < d; b++) Hm[a]![b]! += row[a]! * row[b]! * pr * (1 - pr);
    });
    const prec = la.denseMatrix('precision');
    for (let a = 0; a < d; a++)
      for (let b = 0; b < d; b++)
        expect(prec[a * d + b]!).toBeCloseTo(Hm[a]![b]! + (a === b ? delta : 0), 4);
    const P = new Matrix(Hm).add(Matrix.eye(d).mul(delta));
    const logDet =
      Math.log(
        new CholeskyDecomposition(P).lowerTriangularMatrix.diag().reduce((a, v) => a * v, 1),
      ) * 2;
    const thetaSq = w.reduce((s, v) => s + Math.fround(v) ** 2, 0);
    const ml = ll - 0.5 * (logDet - d * Math.log(delta)) - 0.5 * delta * thetaSq;
    expect(la.logMarginalLikelihood()).toBeCloseTo(ml, 3);
    const probs = expectNoLeak(() => la.predictProbs(x));
    expect(probs.length).toBe(2 * n);
    for (let i = 0; i < n; i++) expect(probs[2 * i]! + probs[2 * i + 1]!).toBeCloseTo(1, 5);
    expect(() =>
      lastLayerLaplace(
        net,
        x,
        ys.map(() => 2),
      ),
    ).toThrow(/y/);
    x.dispose();
    net.dispose();
  });
});

describe('audit15 all-layers Laplace on a conv net without biases', () => {
  it('the last block equals the last-layer fit (diag exactly, kron with T = 1); blocks sized without bias rows', () => {
    const inp = tf.input({ shape: [H, H, 1] });
    const conv = tf.layers.conv2d({
      filters: 2,
      kernelSize: 2,
      useBias: false,
      activation: 'tanh',
      kernelInitializer: tf.initializers.randomNormal({ stddev: 0.7, seed: 41 }),
    });
    const hidden = tf.layers.dense({
      units: 4,
      activation: 'relu',
      kernelInitializer: tf.initializers.randomNormal({ stddev: 0.5, seed: 42 }),
      biasInitializer: tf.initializers.constant({ value: 0.1 }),
    });
    const head = tf.layers.dense({
      units: K,
      useBias: false,
      kernelInitializer: tf.initializers.randomNormal({ stddev: 1, seed: 43 }),
    });
    const out = head.apply(
      hidden.apply(tf.layers.flatten().apply(conv.apply(inp))),
    ) as tf.SymbolicTensor;
    const net = tf.model({ inputs: inp, outputs: out });
    const { x, y } = images(16, 44);
    for (const s of ['diag', 'kron'] as const) {
      const all = toolbox.allLayersLaplace(net, x, y, { hessianStructure: s, priorPrecision: 1.1 });
      const last = lastLayerLaplace(net, x, y, { hessianStructure: s, priorPrecision: 1.1 });
      expect(all.layerNames.length).toBe(3);
      // conv 2x2x1x2 = 8 (no bias), hidden (32 + 1) x 4 = 132, head 4 x 3 = 12 (no bias)
      expect(all.numParams).toBe(8 + 132 + 12);
      const a = all.denseBlock(2, 'precision');
      const b = last.denseMatrix('precision');
      expect(a.length).toBe(b.length);
      for (let i = 0; i < a.length; i++) {
        expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(b[i]!)));
      }
      expect(all.logLikelihood).toBeCloseTo(last.logLikelihood, 3);
    }
    x.dispose();
    net.dispose();
  });
});

describe('audit15 last-layer Laplace: GLM output samples of a classifier', () => {
  it('softmax of sampleOutputs equals sampleProbs with the same seed; a binary head samples one logit', () => {
    const { net } = convNet(false, 51);
    const { x, y } = images(12, 52);
    const la = lastLayerLaplace(net, x, y, { hessianStructure: 'kron' });
    const f = la.sampleOutputs(x, 5, 9);
    const p = la.sampleProbs(x, 5, 9);
    expect(f.shape).toEqual([5, 12, K]);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.softmax(f), p))).dataSync()[0]!);
    expect(diff).toBeLessThan(1e-6);
    tf.dispose([f, p, x]);
    net.dispose();
    const bin = tf.sequential();
    bin.add(tf.layers.dense({ units: 1, inputShape: [2], activation: 'sigmoid' }));
    const xb = tf.tensor2d([
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
    const lb = lastLayerLaplace(bin, xb, [0, 1, 1]);
    const fb = lb.sampleOutputs(xb, 4, 1);
    const pb = lb.sampleProbs(xb, 4, 1);
    expect(fb.shape).toEqual([4, 3, 1]);
    expect(pb.shape).toEqual([4, 3, 2]);
    const d2 = tf.tidy(
      () =>
        tf.max(tf.abs(tf.sub(tf.sigmoid(fb), tf.slice(pb, [0, 0, 1], [-1, -1, 1])))).dataSync()[0]!,
    );
    expect(d2).toBeLessThan(1e-6);
    tf.dispose([fb, pb, xb]);
    bin.dispose();
  });
});
