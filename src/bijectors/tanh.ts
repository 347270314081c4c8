/**
 * The hyperbolic-tangent bijector `y = tanh(x)`, mapping the real line onto `(-1, 1)`.
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { Bijector, type ForwardResult, type InverseResult } from './bijector.js';
import { interval, type Constraint } from '../constraints/constraints.js';

/** `log(1 - tanh(x)^2) = 2 (log 2 - x - softplus(-2x))`, stable for large `|x|`. */
export function logOneMinusTanhSq(x: tf.Tensor): tf.Tensor {
  return tf.mul(2, tf.sub(tf.sub(Math.LN2, x), tf.softplus(tf.mul(-2, x))));
}

/**
 * Tanh bijector (Pyro's `TanhTransform`).
 *
 * $$y = \tanh x,\qquad x = \operatorname{atanh} y = \tfrac12\big(\log(1+y) - \log(1-y)\big),$$
 * $$\log\frac{dy}{dx} = \log(1 - \tanh^2 x) = 2\big(\log 2 - x - \operatorname{softplus}(-2x)\big).$$
 *
 * @example
 * ```ts
 * new Tanh().forwardLogDetJacobian([0]); // [0]
 * ```
 */
export class Tanh extends Bijector {
  /** Strictly increasing (torch's `sign = +1`). */
  override get isIncreasing(): boolean {
    return true;
  }
  /** The image `(-1, 1)` (closed in the check, as Pyro's interval). */
  override get codomain(): Constraint {
    return interval(-1, 1);
  }
  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    return { y: tf.tanh(x), logDet: logOneMinusTanhSq(x) };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    return tf.mul(0.5, tf.sub(log1p(y), log1p(tf.neg(y))));
  }
  protected override _inverseAndLogDet(y: tf.Tensor): InverseResult {
    const x = this._inverse(y);
    return { x, logDet: tf.neg(log1p(tf.neg(tf.square(y)))) };
  }
}
