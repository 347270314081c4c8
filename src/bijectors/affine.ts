/**
 * The affine bijector `y = loc + scale * x` with tensor parameters and an optional event rank
 * (Pyro's `AffineTransform(loc, scale, event_dim)`).
 */
import * as tf from '@tensorflow/tfjs';
import {
  Bijector,
  type BijectorOptions,
  type ForwardResult,
  type InverseResult,
} from './bijector.js';
import { ArgumentError } from '../utils/errors.js';
import { broadcastShapes, valuesOf, type TensorInput } from '../utils/tensor.js';

/** Options of {@link Affine}. */
export interface AffineOptions extends BijectorOptions {
  /** Trailing dims summed in the log-det (Pyro's `event_dim`). Default 0. */
  eventDim?: number;
}

/**
 * Elementwise affine bijector.
 *
 * $$y = \mu + s \odot x,\qquad x = (y - \mu) / s,\qquad
 *   \log\left|\det\frac{\partial y}{\partial x}\right| = \sum_{\text{event}} \log|s|.$$
 *
 * With `eventDim = k` the log-det is summed over the last `k` dimensions.
 *
 * @example
 * ```ts
 * const b = new Affine([0, 1], [2, 3]);  // y = [2 x0, 1 + 3 x1]
 * b.forwardLogDetJacobian([0, 0]);       // [log 2, log 3]
 * ```
 */
export class Affine extends Bijector {
  /** The location `mu`. */
  readonly loc: tf.Tensor;
  /** The scale `s` (nonzero). */
  readonly scale: tf.Tensor;
  private readonly _eventDim: number;
  private readonly _paramShape: number[];
  private readonly _isIncreasing: boolean | undefined;

  /**
   * @param loc the offset `mu`, finite.
   * @param scale the slope `s`, finite and nonzero.
   * @param options name, validation flag and `eventDim`.
   */
  constructor(loc: TensorInput, scale: TensorInput, options: AffineOptions = {}) {
    super(options);
    const eventDim = options.eventDim ?? 0;
    if (!Number.isInteger(eventDim) || eventDim < 0) {
      throw new ArgumentError('eventDim', `expected a non-negative integer, got ${eventDim}`);
    }
    this._eventDim = eventDim;
    this.loc = this.param(loc, 'loc');
    this.scale = this.param(scale, 'scale');
    try {
      this.checkFinite(this.loc, 'loc');
      this.checkNonZero(this.scale, 'scale');
      this._paramShape = this.guard(() =>
        broadcastShapes({ loc: this.loc.shape, scale: this.scale.shape }),
      );
    } catch (e) {
      this.dispose();
      throw e;
    }
    const s = this.validateArgs ? Array.from(valuesOf(this.scale)) : [];
    this._isIncreasing = !this.validateArgs
      ? undefined
      : s.every((v) => v > 0)
        ? true
        : s.every((v) => v < 0)
          ? false
          : undefined;
  }

  override get eventRank(): number {
    return this._eventDim;
  }
  override get paramShape(): number[] {
    return [...this._paramShape];
  }
  override get isIncreasing(): boolean | undefined {
    return this._isIncreasing;
  }

  private sumEvent(t: tf.Tensor): tf.Tensor {
    const k = this._eventDim;
    if (k === 0) return t;
    return tf.sum(
      t,
      Array.from({ length: k }, (_, i) => t.rank - k + i),
    );
  }
  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    const y = tf.add(this.loc, tf.mul(this.scale, x));
    return { y, logDet: this.sumEvent(tf.add(tf.zerosLike(y), tf.log(tf.abs(this.scale)))) };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    return tf.div(tf.sub(y, this.loc), this.scale);
  }
  protected override _inverseAndLogDet(y: tf.Tensor): InverseResult {
    const x = this._inverse(y);
    return { x, logDet: this.sumEvent(tf.sub(tf.zerosLike(x), tf.log(tf.abs(this.scale)))) };
  }
}
