import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Batcher, type ImageSet } from '../../src/data/index.js';
import { DenseReparam, setMode } from '../../src/layers/index.js';
import { evaluate } from '../../src/train/evaluate.js';
import { setSeed } from '../../src/utils/seed.js';

/** 1x1x2 "images" with values in 0..255 and given labels. */
function pairs(values: number[][], labels: number[]): ImageSet {
  return {
    name: 'pairs',
    images: Uint8Array.from(values.flat()),
    labels: Uint8Array.from(labels),
    count: labels.length,
    height: 1,
    width: 1,
    channels: 2,
    numClasses: 2,
  };
}

const X = [
  [255, 0],
  [0, 255],
  [200, 100],
  [40, 220],
  [128, 128],
];
const Y = [0, 1, 1, 1, 0];

/** logits = x W + b with x in [0, 1]. */
const W = [
  [2, -1],
  [-1, 3],
];
const B = [0.1, -0.2];

function reference(): { acc: number; nll: number; ent: number; ece: number } {
  let acc = 0;
  let nll = 0;
  let ent = 0;
  // 15 equal-width confidence bins ((b-1)/15, b/15]: [images, summed confidence, correct]
  const bins = Array.from({ length: 15 }, () => [0, 0, 0]);
  X.forEach((x, i) => {
    const u = x.map((v) => v / 255);
    const l = [0, 1].map(
      (j) => (u[0] as number) * W[0]![j]! + (u[1] as number) * W[1]![j]! + B[j]!,
    );
    const m = Math.max(...l);
    const z = l.reduce((a, v) => a + Math.exp(v - m), 0);
    const p = l.map((v) => Math.exp(v - m) / z);
    const hit = (l[1]! > l[0]! ? 1 : 0) === Y[i] ? 1 : 0;
    acc += hit;
    const conf = Math.max(...p);
    const bin = bins[Math.min(14, Math.ceil(conf * 15) - 1)]!;
    bin[0]! += 1;
    bin[1]! += conf;
    bin[2]! += hit;
    nll -= Math.log(p[Y[i]!]!);
    ent -= p.reduce((a, q) => a + q * Math.log(q), 0);
  });
  const ece = bins.reduce((a, [n, c, h]) => a + (n! > 0 ? Math.abs(h! - c!) / X.length : 0), 0);
  return { acc: acc / X.length, nll: nll / X.length, ent: ent / X.length, ece };
}

function plainModel(activation: 'linear' | 'softmax' = 'linear'): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.flatten({ inputShape: [1, 1, 2] }));
  m.add(tf.layers.dense({ units: 2, activation }));
  m.setWeights([tf.tensor2d(W), tf.tensor1d(B)]);
  return m;
}

function bayesModel(rho: number): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.flatten({ inputShape: [1, 1, 2] }));
  m.add(new DenseReparam({ outChannels: 2, inChannels: 2, hasBias: true }));
  m.setWeights([tf.tensor2d(W), tf.fill([2, 2], rho), tf.tensor1d(B), tf.fill([2], rho)]);
  return m;
}

describe('evaluate', () => {
  const batcher = new Batcher(pairs(X, Y), { batchSize: 2, shuffle: false });

  it('plain model: accuracy, NLL and entropy against a hand computation', async () => {
    const ref = reference();
    const m = plainModel();
    const before = tf.memory().numTensors;
    const r = await evaluate(m, batcher, { perExample: true });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.count).toBe(5);
    expect(r.accuracy).toBeCloseTo(ref.acc, 6);
    expect(r.nll).toBeAllclose(ref.nll, { rtol: 1e-5 });
    expect(r.entropy).toBeAllclose(ref.ent, { rtol: 1e-5 });
    expect(ref.ece).toBeGreaterThan(0.05);
    expect(r.ece).toBeAllclose(ref.ece, { rtol: 1e-5 });
    expect(r.accuracyMc).toBeUndefined();
    expect(Array.from(r.perExample?.correct ?? [])).toEqual([1, 1, 0, 1, 0]);
    m.dispose();
  });

  it('a softmax-ended model is read as its log-probabilities, not given a second softmax', async () => {
    const ref = reference();
    const m = plainModel('softmax');
    const before = tf.memory().numTensors;
    const r = await evaluate(m, batcher, {});
    expect(tf.memory().numTensors).toBe(before);
    expect(r.accuracy).toBeCloseTo(ref.acc, 6);
    expect(r.nll).toBeAllclose(ref.nll, { rtol: 1e-5 });
    expect(r.entropy).toBeAllclose(ref.ent, { rtol: 1e-5 });
    expect(r.ece).toBeAllclose(ref.ece, { rtol: 1e-5 });
    m.dispose();
  });

  it('Bayesian model with vanishing posterior scale agrees with the plain model and has MI ~ 0', async () => {
    const ref = reference();
    const m = bayesModel(-30);
    const before = tf.memory().numTensors;
    const r = await evaluate(m, batcher, { kind: 'bayesian', mcSamples: 4, setMode });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.accuracy).toBeCloseTo(ref.acc, 6);
    expect(r.accuracyMean).toBeCloseTo(ref.acc, 6);
    expect(r.accuracyMc).toBeCloseTo(ref.acc, 6);
    expect(r.mcSamples).toBe(4);
    expect(r.nll).toBeAllclose(ref.nll, { rtol: 1e-4 });
    expect(r.ece).toBeAllclose(ref.ece, { rtol: 1e-4 });
    expect(r.mutualInformation).toBeLessThan(1e-6);
    m.dispose();
  });

  it('MC predictive averages softmax probabilities over weight samples', async () => {
    // with a wide posterior, the MC entropy exceeds the expected entropy by the MI, and the
    // MC NLL equals -log of the averaged probability (checked against a manual MC with the same seeds)
    const m = bayesModel(0.5);
    setSeed(123);
    const r = await evaluate(m, new Batcher(pairs(X, Y), { batchSize: 5, shuffle: false }), {
      kind: 'bayesian',
      mcSamples: 3,
      setMode,
    });
    setSeed(123);
    const x = tf.tensor4d(
      Float32Array.from(X.flat(), (v) => v / 255),
      [5, 1, 1, 2],
    );
    setMode(m, 'sample');
    const probs = [0, 1, 2].map(() => tf.softmax(m.apply(x, { training: false }) as tf.Tensor));
    const mean = tf.div(tf.addN(probs), 3);
    const p = mean.arraySync() as number[][];
    const nll = -Y.reduce((a, y, i) => a + Math.log(p[i]![y]!), 0) / 5;
    expect(r.nll).toBeAllclose(nll, { rtol: 1e-5 });
    expect(r.mutualInformation).toBeGreaterThan(1e-3);
    expect(r.entropy).toBeAllclose((r.expectedEntropy ?? 0) + (r.mutualInformation ?? 0), {
      rtol: 1e-5,
    });
    tf.dispose([x, mean, ...probs]);
    m.dispose();
  });

  it('evidential models report the mean Dirichlet uncertainty K / sum(softplus(o) + 1)', async () => {
    const m = plainModel();
    const r = await evaluate(m, batcher, { kind: 'evidential' });
    let u = 0;
    X.forEach((x) => {
      const v = x.map((q) => q / 255);
      const l = [0, 1].map(
        (j) => (v[0] as number) * W[0]![j]! + (v[1] as number) * W[1]![j]! + B[j]!,
      );
      u += 2 / l.reduce((a, o) => a + Math.log1p(Math.exp(o)) + 1, 0);
    });
    expect(r.evidentialUncertainty).toBeAllclose(u / 5, { rtol: 1e-5 });
    m.dispose();
  });
});
