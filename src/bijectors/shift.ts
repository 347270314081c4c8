/**
 * The translation bijector `y = x + shift` with a tensor (broadcast) shift.
 */
import * as tf from '@tensorflow/tfjs';
import { Bijector, type BijectorOptions, type ForwardResult } from './bijector.js';
import type { TensorInput } from '../utils/tensor.js';

/**
 * Shift bijector (TFP `Shift`).
 *
 * $$y = x + b,\qquad x = y - b,\qquad \log\left|\frac{dy}{dx}\right| = 0.$$
 *
 * @example
 * ```ts
 * new Shift([1, 2]).forward([0, 0]); // [1, 2]
 * ```
 */
export class Shift extends Bijector {
  /** Strictly increasing (torch's `sign = +1`). */
  override get isIncreasing(): boolean {
    return true;
  }
  /** The shift `b`. */
  readonly shift: tf.Tensor;
  /**
   * @param shift the offset `b`, finite; broadcast with the input.
   * @param options name and validation flag.
   */
  constructor(shift: TensorInput, options: BijectorOptions = {}) {
    super(options);
    this.shift = this.param(shift, 'shift');
    this.checkFinite(this.shift, 'shift');
  }
  override get paramShape(): number[] {
    return [...this.shift.shape];
  }
  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    const y = tf.add(x, this.shift);
    return { y, logDet: tf.zerosLike(y) };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    return tf.sub(y, this.shift);
  }
}
