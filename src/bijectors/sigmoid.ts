/**
 * The logistic-sigmoid bijector: `y = 1 / (1 + exp(-x))`, mapping the real line onto `(0, 1)`.
 */
import * as tf from '@tensorflow/tfjs';
import { FLOAT32_EPS } from '../utils/float32.js';
import { log1p } from '../utils/log1p.js';
import { Bijector, type ForwardResult, type InverseResult } from './bijector.js';
import { unitInterval, type Constraint } from '../constraints/constraints.js';

/** float32's smallest normal number and machine epsilon: the clamp of {@link Sigmoid}'s output. */
const TINY = 1.1754943508222875e-38;
const EPS = FLOAT32_EPS;

/**
 * Sigmoid bijector (TFP `Sigmoid`).
 *
 * $$y = \sigma(x) = \frac{1}{1+e^{-x}},\qquad x = \log y - \log(1-y),$$
 * $$\log\frac{dy}{dx} = \log\sigma(x) + \log\sigma(-x) = -\operatorname{softplus}(-x)
 *   - \operatorname{softplus}(x),\qquad \log\frac{dx}{dy} = -\log y - \log(1-y).$$
 *
 * The softplus form stays finite for large `|x|`, where `log(y (1 - y))` underflows. As Pyro's
 * `SigmoidTransform`, `y` is clamped to `[tiny, 1 - eps]` (float32's smallest normal number and
 * machine epsilon): in float32 `σ(x)` rounds to exactly 1 from `x ≈ 16.6` (and to 0 far left),
 * where the inverse is infinite and a density on `(0, 1)` such as a Beta is `-∞` or `NaN`.
 *
 * @example
 * ```ts
 * const b = new Sigmoid();
 * b.forward([0]);                 // [0.5]
 * b.forwardLogDetJacobian([0]);   // [log 0.25]
 * b.inverse([0.5]);               // [0]
 * ```
 */
export class Sigmoid extends Bijector {
  /** Strictly increasing (torch's `sign = +1`). */
  override get isIncreasing(): boolean {
    return true;
  }
  /** The image of the real line: `unitInterval`. */
  override get codomain(): Constraint {
    return unitInterval;
  }

  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    return {
      y: tf.clipByValue(tf.sigmoid(x), TINY, 1 - EPS),
      logDet: tf.neg(tf.add(tf.softplus(tf.neg(x)), tf.softplus(x))),
    };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    return tf.sub(tf.log(y), log1p(tf.neg(y)));
  }
  protected override _inverseAndLogDet(y: tf.Tensor): InverseResult {
    const logY = tf.log(y);
    const log1mY = log1p(tf.neg(y));
    return { x: tf.sub(logY, log1mY), logDet: tf.neg(tf.add(logY, log1mY)) };
  }
}
