/**
 * The stick-breaking bijector from `R^{K-1}` onto the probability simplex in `R^K` (Pyro's
 * `StickBreakingTransform`, `biject_to(simplex)`).
 */
import * as tf from '@tensorflow/tfjs';
import { Bijector, type ForwardResult, type InverseResult } from './bijector.js';
import { ArgumentError } from '../utils/errors.js';
import { cumsumLast } from '../utils/linalg.js';
import { simplex, type Constraint } from '../constraints/constraints.js';

/** `log(K-1), log(K-2), ..., log 1` as a `[K-1]` tensor (centres `x = 0` at the uniform point). */
function logOffsets(km1: number): tf.Tensor {
  return tf.tensor1d(Array.from({ length: km1 }, (_, i) => Math.log(km1 - i)));
}

/**
 * Stick-breaking bijector. With `z_k = sigmoid(x_k - log(K - k))` (k = 1..K-1) and the remaining
 * stick `r_k = prod_{j<k} (1 - z_j)`:
 *
 * $$y_k = z_k r_k\ (k < K),\qquad y_K = r_K,\qquad
 *   \log|\det J| = \sum_{k=1}^{K-1}\big[\log z_k + \log(1 - z_k) + \log r_k\big].$$
 *
 * Everything is computed in log space (`log z = -softplus(-x')`), so extreme inputs do not underflow
 * to `log 0`. The inverse: `x_k = log y_k - log(sum_{j>k} y_j) + log(K - k)`, the remaining stick
 * summed from the tail (on the simplex it equals `1 - sum_{j<=k} y_j`, which cancels in float32).
 * Event dims 1 on both sides; the last dim grows by one (`forwardShape`).
 *
 * @example
 * ```ts
 * new StickBreaking().forward([0, 0]); // [1/3, 1/3, 1/3]
 * ```
 */
export class StickBreaking extends Bijector {
  override get eventRank(): number {
    return 1;
  }
  override get codomain(): Constraint {
    return simplex;
  }
  override forwardShape(shape: readonly number[]): number[] {
    if (shape.length < 1) throw new ArgumentError('shape', 'StickBreaking needs rank >= 1');
    return [...shape.slice(0, -1), (shape[shape.length - 1] as number) + 1];
  }
  override inverseShape(shape: readonly number[]): number[] {
    if (shape.length < 1 || (shape[shape.length - 1] as number) < 1) {
      throw new ArgumentError('shape', 'StickBreaking needs a last dim >= 1 in the simplex');
    }
    return [...shape.slice(0, -1), (shape[shape.length - 1] as number) - 1];
  }

  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    if (x.rank < 1) throw new ArgumentError('x', 'StickBreaking expects vectors [..., K-1]');
    const km1 = x.shape[x.rank - 1] as number;
    const xs = tf.sub(x, logOffsets(km1));
    // log sigmoid(t) = -softplus(-t) (tf.logSigmoid's gradient fails on tidy intermediates)
    const logZ = tf.neg(tf.softplus(tf.neg(xs)));
    const log1mZ = tf.neg(tf.softplus(xs));
    const logR = cumsumLast(log1mZ, true); // exclusive: log r_k
    const logLast = tf.sum(log1mZ, -1, true);
    const y = tf.exp(tf.concat([tf.add(logZ, logR), logLast], -1));
    const logDet = tf.sum(tf.add(tf.add(logZ, log1mZ), logR), -1);
    return { y, logDet };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    if (y.rank < 1) throw new ArgumentError('y', 'StickBreaking expects vectors [..., K]');
    const k = y.shape[y.rank - 1] as number;
    const crop = tf.slice(y, Array(y.rank).fill(0), [...y.shape.slice(0, -1), k - 1]);
    // The stick left after piece k, sum_{j>k} y_j, summed from the tail: 1 - cumsum(y) loses it
    // to cancellation once y_0 rounds to 1 (forward([20, -20, 0]) came back as [88.6, 48.6, 67.9]).
    const tail = tf.reverse(cumsumLast(tf.reverse(y, -1), true), -1);
    const sf = tf.maximum(tf.slice(tail, Array(y.rank).fill(0), crop.shape), 1e-38);
    return tf.add(tf.sub(tf.log(crop), tf.log(sf)), logOffsets(k - 1));
  }
  protected override _inverseAndLogDet(y: tf.Tensor): InverseResult {
    const x = this._inverse(y);
    return { x, logDet: tf.neg(this._forwardAndLogDet(x).logDet) };
  }
}
