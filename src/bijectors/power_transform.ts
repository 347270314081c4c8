/**
 * The power transform `y = (1 + c x)^(1/c)` (the inverse Box-Cox transform), `exp` at `c = 0`.
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import {
  Bijector,
  type BijectorOptions,
  type ForwardResult,
  type InverseResult,
} from './bijector.js';
import { broadcastShapes, broadcastTo, type TensorInput } from '../utils/tensor.js';
import { positive, type Constraint } from '../constraints/constraints.js';

/**
 * Power-transform bijector (MindSpore `PowerTransform`), mapping `{x : 1 + c x > 0}` onto
 * `(0, inf)`; with `c = 0` it is the {@link Exp} bijector.
 *
 * $$y = (1 + c x)^{1/c} = \exp\!\Big(\frac{\operatorname{log1p}(c x)}{c}\Big),\qquad
 *   x = \frac{y^c - 1}{c} = \frac{\operatorname{expm1}(c \log y)}{c},$$
 * $$\log\frac{dy}{dx} = \Big(\frac1c - 1\Big)\operatorname{log1p}(c x),\qquad
 *   \log\frac{dx}{dy} = (c - 1)\log y,$$
 *
 * and for `c = 0`: `y = e^x`, `log dy/dx = x`, `log dx/dy = -log y`. Points with `1 + c x <= 0`
 * lie outside the domain and give NaN.
 *
 * @example
 * ```ts
 * const b = new PowerTransform(0.5);    // y = (1 + x/2)^2
 * b.forward([2]);                       // [4]
 * b.forwardLogDetJacobian([2]);         // [log 2]
 * b.inverse([4]);                       // [2]
 * ```
 */
export class PowerTransform extends Bijector {
  /** Strictly increasing (torch's `sign = +1`). */
  override get isIncreasing(): boolean {
    return true;
  }
  /** The power `c >= 0`. */
  readonly power: tf.Tensor;
  private readonly _paramShape: number[];

  /**
   * @param power the power `c`, finite and >= 0 (scalar or broadcastable tensor). Default 0.
   * @param options name and validation flag.
   */
  constructor(power: TensorInput = 0, options: BijectorOptions = {}) {
    super(options);
    this.power = this.param(power, 'power');
    this.checkNonNegative(this.power, 'power');
    this._paramShape = this.guard(() => broadcastShapes({ power: this.power.shape }));
  }

  /** `(0, inf)`: `log p` of a `TransformedDistribution` is `-inf` at `y <= 0`, not NaN. */
  override get codomain(): Constraint {
    return positive;
  }

  override get paramShape(): number[] {
    return [...this._paramShape];
  }

  /** `c == 0` mask and a power safe to divide by (1 where `c == 0`), so no NaN reaches a gradient. */
  private safePower(): { isZero: tf.Tensor; c: tf.Tensor } {
    const isZero = tf.equal(this.power, 0);
    return { isZero, c: tf.where(isZero, tf.onesLike(this.power), this.power) };
  }

  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    const { isZero, c } = this.safePower();
    const log1pCx = log1p(tf.mul(c, x));
    const logY = tf.div(log1pCx, c);
    const logDetPow = tf.mul(tf.sub(tf.div(1, c), 1), log1pCx);
    const shape = logY.shape;
    const zero = broadcastTo(isZero, shape);
    const xb = broadcastTo(x, shape);
    const logYAll = tf.where(zero, xb, logY);
    return { y: tf.exp(logYAll), logDet: tf.where(zero, xb, logDetPow) };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    return this._inverseAndLogDet(y).x;
  }
  protected override _inverseAndLogDet(y: tf.Tensor): InverseResult {
    const { isZero, c } = this.safePower();
    const logY = tf.log(y);
    const xPow = tf.div(tf.expm1(tf.mul(c, logY)), c);
    const shape = xPow.shape;
    const zero = broadcastTo(isZero, shape);
    const logYb = broadcastTo(logY, shape);
    const powB = broadcastTo(this.power, shape);
    // (c - 1) log y is also -log y at c = 0, so one formula covers both branches.
    return { x: tf.where(zero, logYb, xPow), logDet: tf.mul(tf.sub(powB, 1), logYb) };
  }
}
