/**
 * Checks shared by the Bayesian recurrent layer tests (GRU, SimpleRNN, LSTM): gradients of
 * `sum(c ⊙ layer(x)) + KL` against central finite differences, no leaked tensors in either mode,
 * and which estimators share one kernel sample across the batch.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import type { RecurrentVariational } from '../../src/layers/index.js';
import { setSeed } from '../../src/utils/seed.js';
import { expectNoLeak, variableFiniteDiff } from '../helpers.js';

/** The three gradient estimators of the Bayesian recurrent layers. */
export const RECURRENT_ESTIMATORS = ['reparam', 'local', 'flipout'] as const;
/** One of {@link RECURRENT_ESTIMATORS}. */
export type RecurrentEstimator = (typeof RECURRENT_ESTIMATORS)[number];

/** `max |a - b|` over all elements. */
export function maxAbs(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
}

/**
 * On a built layer with 2 input channels, 2 units and `returnSequences`, posterior sigmas 0.4
 * (kernel) and 0.3 (bias): the gradient of `f = Σ c ⊙ layer(x) + KL` (noise fixed by seed 77) in
 * every trainable weight is finite, not vanishing (`max |g| > 1e-4`), and matches central
 * differences with step `1e-2` within `rtol 3e-2`, `atol 3e-3`. Disposes what it makes.
 */
export function expectRecurrentGradsMatchFd(layer: RecurrentVariational, label: string): void {
  tf.tidy(() => layer.setPosterior({ kernelSigma: 0.4, biasSigma: 0.3 }));
  const x = tf.tensor([
    [
      [0.5, -1],
      [1.2, 0.3],
      [-0.7, 0.9],
    ],
    [
      [0.1, 0.4],
      [-1, -0.2],
      [0.6, 1.1],
    ],
  ]);
  const cw = tf.randomNormal([2, 3, 2], 0, 1, 'float32', 12);
  const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  const objective = (): tf.Scalar => {
    setSeed(77);
    return tf.add(tf.sum(tf.mul(layer.apply(x) as tf.Tensor, cw)), layer.kl()) as tf.Scalar;
  };
  const { value, grads } = tf.variableGrads(objective, weights);
  for (const w of weights) {
    const g = grads[w.name]!;
    expect(
      tf.tidy(() => tf.all(tf.isFinite(g)).dataSync()[0]),
      w.name,
    ).toBe(1);
    expect(
      tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]),
      w.name,
    ).toBeGreaterThan(1e-4);
    const fd = variableFiniteDiff(w, objective, 1e-2);
    expect(g, `${label} ${w.name}`).toBeAllclose(fd, { rtol: 3e-2, atol: 3e-3 });
  }
  tf.dispose([value, x, cw, ...Object.values(grads)]);
}

/**
 * For each estimator, a layer from `make(e)` (2 input channels, 2 units, `returnSequences`):
 * calling it in sample mode, in mean mode, and its KL leave no tensor behind.
 */
export function expectRecurrentNoLeak(make: (e: RecurrentEstimator) => RecurrentVariational): void {
  const x = tf.randomNormal([2, 3, 2], 0, 1, 'float32', 2);
  for (const e of RECURRENT_ESTIMATORS) {
    const layer = make(e);
    expectNoLeak(() => layer.apply(x) as tf.Tensor);
    layer.mode = 'mean';
    expectNoLeak(() => layer.apply(x) as tf.Tensor);
    expectNoLeak(() => layer.kl());
    layer.dispose();
  }
  x.dispose();
}

/**
 * For each estimator, a layer from `make(e)` (2 input channels, 3 units) on a batch of 4 copies
 * of one sequence: reparam draws one kernel for the batch (the outputs agree, spread < 1e-6);
 * flipout and local reparameterization decorrelate the examples (spread > 1e-3).
 */
export function expectRecurrentBatchSharing(
  make: (e: RecurrentEstimator) => RecurrentVariational,
): void {
  const x = tf.tidy(() => tf.tile(tf.randomNormal([1, 3, 2], 0, 1, 'float32', 9), [4, 1, 1]));
  for (const e of RECURRENT_ESTIMATORS) {
    const layer = make(e);
    const y = layer.apply(x) as tf.Tensor;
    const spread = tf.tidy(() => tf.max(tf.sub(tf.max(y, 0), tf.min(y, 0))).dataSync()[0]!);
    if (e === 'reparam') expect(spread, e).toBeLessThan(1e-6);
    else expect(spread, e).toBeGreaterThan(1e-3);
    y.dispose();
    layer.dispose();
  }
  x.dispose();
}

/**
 * A tfjs recurrent layer `dnn` and its Bayesian twin `bnn` (3 units, built in mean mode, not yet
 * applied), each behind `tf.layers.masking` on sequences of 5 steps of 3 channels: with the
 * twin's means set to the DNN's random weights (`[W; U]`, bias), the masked outputs agree
 * (< 1e-5) on 3 examples with steps 1 and 3, the last two, or none masked, and differ
 * (> 1e-3) from the twin called without the mask. Disposes both models.
 */
export function expectMaskingAsTfjs(dnn: tf.layers.Layer, bnn: RecurrentVariational): void {
  const [t, inC] = [5, 3];
  const wrap = (l: tf.layers.Layer): tf.Sequential =>
    tf.sequential({ layers: [tf.layers.masking({ maskValue: 0, inputShape: [t, inC] }), l] });
  const [m1, m2] = [wrap(dnn), wrap(bnn)];
  tf.tidy(() => {
    dnn.setWeights(dnn.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.6, 'float32', i)));
    const [k, r, b] = dnn.getWeights() as [tf.Tensor, tf.Tensor, tf.Tensor];
    bnn.setPosterior({ kernelMu: tf.concat([k, r], 0), biasMu: b });
    // example 0: steps 1 and 3 masked; example 1: the last two; example 2: none
    const keep = [
      [1, 0, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [1, 1, 1, 1, 1],
    ];
    const x = tf.mul(
      tf.randomNormal([3, t, inC], 0, 1, 'float32', 6),
      tf.tensor(keep).expandDims(2),
    );
    const want = m1.predict(x) as tf.Tensor;
    const got = m2.predict(x) as tf.Tensor;
    expect(maxAbs(got, want)).toBeLessThan(1e-5);
    // and the mask matters: without it the outputs differ
    const plain = bnn.apply(x) as tf.Tensor;
    expect(maxAbs(plain, want)).toBeGreaterThan(1e-3);
  });
  m1.dispose();
  m2.dispose();
}
