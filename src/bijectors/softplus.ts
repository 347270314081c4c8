/**
 * The softplus bijector with a sharpness factor: `y = log(1 + exp(k x)) / k`, mapping the real
 * line onto `(0, inf)`.
 */
import * as tf from '@tensorflow/tfjs';
import {
  Bijector,
  type BijectorOptions,
  type ForwardResult,
  type InverseResult,
} from './bijector.js';
import { positive, type Constraint } from '../constraints/constraints.js';
import { broadcastShapes, type TensorInput } from '../utils/tensor.js';

/**
 * Softplus bijector (MindSpore `Softplus`; TFP's `hinge_softness` is `1 / sharpness`).
 *
 * $$y = \frac{\log(1 + e^{kx})}{k},\qquad x = \frac{\log(e^{ky} - 1)}{k}
 *   = y + \frac{\log(-\operatorname{expm1}(-ky))}{k},$$
 * $$\log\frac{dy}{dx} = \log\sigma(kx) = -\operatorname{softplus}(-kx),\qquad
 *   \log\frac{dx}{dy} = -\log\big(1 - e^{-ky}\big) = -\log(-\operatorname{expm1}(-ky)).$$
 *
 * The forms with `softplus` and `expm1` stay accurate for large `|kx|` and for `y` near 0.
 *
 * @example
 * ```ts
 * const b = new Softplus(2);
 * b.forward([2]);                   // [2.009075]
 * b.forwardLogDetJacobian([2]);     // [-0.01815]
 * b.inverse([2]);                   // [1.990757]
 * ```
 */
export class Softplus extends Bijector {
  /** Strictly increasing (torch's `sign = +1`). */
  override get isIncreasing(): boolean {
    return true;
  }
  /** The sharpness factor `k > 0`. */
  readonly sharpness: tf.Tensor;
  private readonly _paramShape: number[];

  /**
   * @param sharpness the sharpness `k`, finite and > 0 (scalar or broadcastable tensor). Default 1.
   * @param options name and validation flag.
   */
  constructor(sharpness: TensorInput = 1, options: BijectorOptions = {}) {
    super(options);
    this.sharpness = this.param(sharpness, 'sharpness');
    this.checkPositive(this.sharpness, 'sharpness');
    this._paramShape = this.guard(() => broadcastShapes({ sharpness: this.sharpness.shape }));
  }

  override get paramShape(): number[] {
    return [...this._paramShape];
  }

  /** The image of the real line: `positive`. */
  override get codomain(): Constraint {
    return positive;
  }

  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    const kx = tf.mul(this.sharpness, x);
    return {
      y: tf.div(tf.softplus(kx), this.sharpness),
      logDet: tf.neg(tf.softplus(tf.neg(kx))),
    };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    return this._inverseAndLogDet(y).x;
  }
  protected override _inverseAndLogDet(y: tf.Tensor): InverseResult {
    // log(-expm1(-k y)) = log(1 - exp(-k y)) < 0 for y > 0
    const logOneMinusExp = tf.log(tf.neg(tf.expm1(tf.neg(tf.mul(this.sharpness, y)))));
    return {
      x: tf.add(y, tf.div(logOneMinusExp, this.sharpness)),
      logDet: tf.neg(logOneMinusExp),
    };
  }
}
