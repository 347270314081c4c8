/**
 * The affine bijector `y = scale * x + shift` with elementwise (scalar or broadcast) parameters.
 */
import * as tf from '@tensorflow/tfjs';
import {
  Bijector,
  type BijectorOptions,
  type ForwardResult,
  type InverseResult,
} from './bijector.js';
import { broadcastShapes, valuesOf, type TensorInput } from '../utils/tensor.js';

/**
 * Scalar affine bijector (MindSpore `ScalarAffine`).
 *
 * $$y = a x + b,\qquad x = \frac{y - b}{a},\qquad \log\left|\frac{dy}{dx}\right| = \log|a|,
 *   \qquad \log\left|\frac{dx}{dy}\right| = -\log|a|,$$
 *
 * with scale `a != 0` and shift `b`. A negative scale gives a decreasing map.
 *
 * @example
 * ```ts
 * const b = new ScalarAffine(2, 1);   // y = 2x + 1
 * b.forward([0, 1]);                  // [1, 3]
 * b.forwardLogDetJacobian([0, 1]);    // [log 2, log 2]
 * b.inverse([3]);                     // [1]
 * ```
 */
export class ScalarAffine extends Bijector {
  /** The scale `a` (nonzero). */
  readonly scale: tf.Tensor;
  /** The shift `b`. */
  readonly shift: tf.Tensor;
  private readonly _paramShape: number[];
  private readonly _isIncreasing: boolean | undefined;

  /**
   * @param scale the slope `a`, finite and nonzero. Default 1.
   * @param shift the offset `b`, finite. Default 0.
   * @param options name and validation flag.
   */
  constructor(scale: TensorInput = 1, shift: TensorInput = 0, options: BijectorOptions = {}) {
    super(options);
    this.scale = this.param(scale, 'scale');
    this.shift = this.param(shift, 'shift');
    this.checkNonZero(this.scale, 'scale');
    this.checkFinite(this.shift, 'shift');
    this._paramShape = this.guard(() =>
      broadcastShapes({ scale: this.scale.shape, shift: this.shift.shape }),
    );
    const s = Array.from(valuesOf(this.scale));
    this._isIncreasing = s.every((v) => v > 0) ? true : s.every((v) => v < 0) ? false : undefined;
  }

  override get paramShape(): number[] {
    return [...this._paramShape];
  }
  override get isIncreasing(): boolean | undefined {
    return this._isIncreasing;
  }

  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    const y = tf.add(tf.mul(this.scale, x), this.shift);
    return { y, logDet: tf.add(tf.zerosLike(y), tf.log(tf.abs(this.scale))) };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    return tf.div(tf.sub(y, this.shift), this.scale);
  }
  protected override _inverseAndLogDet(y: tf.Tensor): InverseResult {
    const x = this._inverse(y);
    return { x, logDet: tf.sub(tf.zerosLike(x), tf.log(tf.abs(this.scale))) };
  }
}
