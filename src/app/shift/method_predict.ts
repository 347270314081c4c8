/**
 * The predict functions of the shift runner's methods over a classifier's logits `z = f(x)`: one
 * deterministic softmax `softmax(t(z))` as `[1, N, K]`, or `S` stochastic passes
 * `softmax(z_s / T)` stacked `[S, N, K]`.
 */
import * as tf from '@tensorflow/tfjs';
import { modelLogits } from '../../toolbox/class_outputs.js';
import { applyWithMcDropout } from '../../toolbox/predictors.js';
import type { ShiftMethod } from '../../toolbox/shift/benchmark_types.js';

/** One deterministic pass: `softmax(transform(z))` as `[1, N, K]` (`transform` default identity). */
export function deterministic(
  model: tf.LayersModel,
  transform?: (logits: tf.Tensor) => tf.Tensor,
): ShiftMethod['predict'] {
  const logitsOf = modelLogits(model);
  return (x) =>
    tf.tidy(() => {
      const z = logitsOf(x, false);
      return tf.expandDims(
        tf.softmax(transform !== undefined ? transform(z) : z),
        0,
      ) as tf.Tensor3D;
    });
}

/**
 * `s` stochastic passes: the Bayesian layers' weight samples, or with `mcDropout` the dropout
 * layers as in training and every other layer at inference (`applyWithMcDropout`: BatchNorm keeps
 * its moving statistics and is not updated).
 */
export function sampled(
  model: tf.LayersModel,
  s: number,
  mcDropout: boolean,
  temperature = 1,
): ShiftMethod['predict'] {
  const logitsOf = mcDropout
    ? modelLogits(model, (x) => applyWithMcDropout(model, x) as tf.Tensor)
    : modelLogits(model);
  return (x) =>
    tf.tidy(() => {
      const out: tf.Tensor[] = [];
      for (let i = 0; i < s; i++) {
        const z = logitsOf(x, false);
        out.push(tf.softmax(temperature === 1 ? z : tf.div(z, temperature)));
      }
      return tf.stack(out) as tf.Tensor3D;
    });
}
