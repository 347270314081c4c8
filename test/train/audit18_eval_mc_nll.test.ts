/**
 * Audit 18 (training round 2): `evaluate`'s NLL of the MC predictive of a Bayesian model,
 * `-log((1/S) sum_s softmax(f_s(x))_y)`, against a float64 recomputation, also where a sample is
 * confidently wrong. It was `-log(mean_s p_s(y) + 1e-12)` on float32 probabilities: a
 * probability that underflows to 0 capped the image's NLL at 27.6 nats (100 nats in the
 * test below read as 14), below the plain kind's NLL of the same network.
 * Also: an evidential model's prediction is the argmax of its Dirichlet mean alpha / S (ties to
 * the first class), not of its raw outputs.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Batcher, type ImageSet } from '../../src/data/index.js';
import { evaluate } from '../../src/train/evaluate.js';
import { expectNoLeakAsync } from '../helpers.js';

/** 1x1x2 images with values in 0..255 and given labels (x / 255 is the input the model sees). */
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

/** Adds `offsets[c mod len]` to its input at its `c`-th call: a "posterior" of known draws. */
class CycleShift extends tf.layers.Layer {
  static className = 'CycleShiftAudit18';
  calls = 0;
  constructor(readonly offsets: number[][]) {
    super({});
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
    const o = this.offsets[this.calls++ % this.offsets.length] as number[];
    return tf.tidy(() => tf.add(x, tf.tensor1d(o)));
  }
}

const X = [
  [255, 0],
  [0, 255],
  [200, 100],
  [40, 220],
];
const Y = [1, 0, 1, 0];
const W = [
  [60, -60],
  [-40, 45],
];

/** `S` sample offsets then the posterior-mean call's (zero) offset, per batch. */
const SAMPLES = [
  [0, 0],
  [150, -150],
  [-3, 3],
];

function model(offsets: number[][]): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [1, 1, 2] }),
      tf.layers.dense({ units: 2, weights: [tf.tensor2d(W), tf.tensor1d([0, 0])] }),
      new CycleShift(offsets),
    ],
  });
}

/** float64 `-mean_i log((1/S) sum_s softmax(l_i + o_s)_{y_i})` by log-sum-exp. */
function referenceNll(offsets: number[][]): number {
  let total = 0;
  X.forEach((x, i) => {
    const u = x.map((v) => v / 255);
    const l = [0, 1].map((j) => (u[0] as number) * W[0]![j]! + (u[1] as number) * W[1]![j]!);
    const logPy = offsets.map((o) => {
      const z = l.map((v, j) => v + o[j]!);
      const m = Math.max(...z);
      const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
      return z[Y[i]!]! - lse;
    });
    const m = Math.max(...logPy);
    const lme = m + Math.log(logPy.reduce((a, v) => a + Math.exp(v - m), 0) / logPy.length);
    total -= lme;
  });
  return total / X.length;
}

describe('evaluate: the MC predictive NLL of a Bayesian model', () => {
  it('equals a float64 log-mean-exp recomputation, also for confidently wrong samples', async () => {
    const net = model([...SAMPLES, [0, 0]]);
    const set = pairs(X, Y);
    const r = await expectNoLeakAsync(() =>
      evaluate(net, new Batcher(set, { batchSize: X.length, shuffle: false }), {
        kind: 'bayesian',
        mcSamples: SAMPLES.length,
        setMode: () => undefined,
      }),
    );
    const ref = referenceNll(SAMPLES);
    // the confident samples make some images' NLL far beyond the old 27.6-nat cap
    expect(ref).toBeGreaterThan(30);
    expect(r.nll).toBeCloseTo(ref, 3);
    net.dispose();
  });

  it('of identical samples equals the plain kind NLL (one network, one predictive)', async () => {
    const net = model([[0, 0]]);
    const set = pairs(X, Y);
    const b = new Batcher(set, { batchSize: 3, shuffle: false });
    const plain = await evaluate(net, b);
    const bayes = await evaluate(net, b, {
      kind: 'bayesian',
      mcSamples: 4,
      setMode: () => undefined,
    });
    expect(plain.nll).toBeCloseTo(referenceNll([[0, 0]]), 3);
    expect(bayes.nll).toBeCloseTo(plain.nll, 4);
    net.dispose();
  });
});

describe('evaluate: the prediction of an evidential model is that of its Dirichlet mean', () => {
  it('relu evidence tied at 0 predicts the first class (as argmax of alpha / S), not the largest output', async () => {
    // outputs [-3, -1] and [-1, -3]: alpha = [1, 1] for both, p = [0.5, 0.5], predicted class 0
    const net = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [1, 1, 2] }),
        tf.layers.dense({
          units: 2,
          weights: [
            tf.tensor2d([
              [0, 0],
              [0, 0],
            ]),
            tf.tensor1d([-3, -1]),
          ],
        }),
      ],
    });
    const set = pairs(
      [
        [0, 0],
        [255, 255],
      ],
      [0, 1],
    );
    const r = await expectNoLeakAsync(() =>
      evaluate(net, new Batcher(set, { batchSize: 2, shuffle: false }), {
        kind: 'evidential',
        evidence: 'relu',
        perExample: true,
      }),
    );
    // float64 reference from the probabilities [0.5, 0.5]: class 0 for both images
    expect(r.accuracy).toBeCloseTo(0.5, 12);
    expect(Array.from(r.perExample?.correct ?? [])).toEqual([1, 0]);
    // one confidence bin (0.5): |hits - confidence| / n = |1 - 2 * 0.5| / 2 = 0
    expect(r.ece).toBeCloseTo(0, 6);
    expect(r.nll).toBeCloseTo(Math.log(2), 5);
    net.dispose();
  });
});
