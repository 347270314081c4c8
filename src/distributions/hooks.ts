/**
 * The protected hooks of a distribution, as the wrappers (`Expanded`, `Independent`, `Masked`)
 * call them on their base.
 */
import type * as tf from '@tensorflow/tfjs';

/** @internal The hooks of a distribution the wrappers forward to. */
export type DistributionHooks = {
  _sample(shape: number[], seed: number): tf.Tensor;
  _rsample(shape: number[], seed: number): tf.Tensor;
  _logProb(x: tf.Tensor): tf.Tensor;
  /** `_logProb` with `log p(±inf) = -inf` and `NaN` at `NaN` (the public `logProb`'s rule). */
  _logProbAtNonFinite(x: tf.Tensor): tf.Tensor;
  /** `_logCdf` with `log F(-inf) = -inf`, `log F(+inf) = 0` and `NaN` at `NaN`. */
  _logCdfAtNonFinite(x: tf.Tensor): tf.Tensor;
  _cdf(x: tf.Tensor): tf.Tensor;
  _logCdf(x: tf.Tensor): tf.Tensor;
  _icdf(p: tf.Tensor): tf.Tensor;
  _mean(): tf.Tensor;
  _mode(): tf.Tensor;
  _variance(): tf.Tensor;
  _stddev(): tf.Tensor;
  _entropy(): tf.Tensor;
};
