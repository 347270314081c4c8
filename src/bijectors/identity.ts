/**
 * The identity bijector `y = x` (what `bijectTo(real)` returns).
 */
import * as tf from '@tensorflow/tfjs';
import { Bijector, type ForwardResult } from './bijector.js';

/**
 * Identity bijector.
 *
 * $$y = x,\qquad \log\left|\frac{dy}{dx}\right| = 0.$$
 *
 * @example
 * ```ts
 * new Identity().forwardAndLogDet([1, 2]); // y = [1, 2], logDet = [0, 0]
 * ```
 */
export class Identity extends Bijector {
  /** Strictly increasing (torch's `sign = +1`). */
  override get isIncreasing(): boolean {
    return true;
  }
  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    return { y: x.clone(), logDet: tf.zerosLike(x) };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    return y.clone();
  }
}
