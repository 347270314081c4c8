/**
 * The exponential bijector: `y = exp(x)`, mapping the real line onto `(0, inf)`.
 */
import * as tf from '@tensorflow/tfjs';
import { Bijector, type ForwardResult, type InverseResult } from './bijector.js';
import { positive, type Constraint } from '../constraints/constraints.js';

/**
 * Exponential bijector (MindSpore `Exp`).
 *
 * $$y = e^x,\qquad x = \log y,\qquad \log\left|\frac{dy}{dx}\right| = x,\qquad
 *   \log\left|\frac{dx}{dy}\right| = -\log y.$$
 *
 * @example
 * ```ts
 * const b = new Exp();
 * b.forward([0, 1]);               // [1, 2.718...]
 * b.inverseLogDetJacobian([2]);    // [-log 2]
 * // log-normal: new TransformedDistribution(new Normal(0, 1), new Exp())
 * ```
 */
export class Exp extends Bijector {
  /** Strictly increasing (torch's `sign = +1`). */
  override get isIncreasing(): boolean {
    return true;
  }
  /** The image of the real line: `positive`. */
  override get codomain(): Constraint {
    return positive;
  }

  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    return { y: tf.exp(x), logDet: x.clone() };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    return tf.log(y);
  }
  protected override _inverseAndLogDet(y: tf.Tensor): InverseResult {
    const x = tf.log(y);
    return { x, logDet: tf.neg(x) };
  }
}
