/**
 * Composition of bijectors, applied right to left as in TFP's `Chain`.
 */
import * as tf from '@tensorflow/tfjs';
import {
  Bijector,
  type BijectorOptions,
  type ForwardResult,
  type InverseResult,
} from './bijector.js';
import { ArgumentError } from '../utils/errors.js';
import { broadcastShapes } from '../utils/tensor.js';

/**
 * Chain bijector: `Chain([f1, f2, ..., fn])` is the composition `f1 ∘ f2 ∘ ... ∘ fn` (the last
 * bijector is applied first, as in TFP). With `x_n = x`, `x_{i-1} = f_i(x_i)`, `y = x_0`:
 *
 * $$y = f_1(f_2(\cdots f_n(x))),\qquad x = f_n^{-1}(\cdots f_1^{-1}(y)),\qquad
 *   \log|\det J(x)| = \sum_{i=1}^n \log|\det J_{f_i}(x_i)|.$$
 *
 * The chain's `eventRank` is the largest of its parts; the log-dets of parts with a smaller
 * event rank are summed over the extra trailing dimensions. An empty chain is the identity.
 * The parts stay the caller's: `dispose()` does not free them.
 *
 * @example
 * ```ts
 * // y = exp(2x + 1): the affine map is applied first
 * const b = new Chain([new Exp(), new ScalarAffine(2, 1)]);
 * b.forward([0]);                  // [e]
 * b.forwardLogDetJacobian([0]);    // [log 2 + 1]
 * ```
 */
export class Chain extends Bijector {
  /** The parts, in composition order (`bijectors[0]` is applied last). */
  readonly bijectors: readonly Bijector[];
  private readonly _eventRank: number;
  private readonly _paramShape: number[];

  /**
   * @param bijectors the parts `[f1, ..., fn]`; `fn` is applied first.
   * @param options name and validation flag; the name defaults to `Chain<f1.name...>`.
   */
  constructor(bijectors: readonly Bijector[], options: BijectorOptions = {}) {
    if (!Array.isArray(bijectors)) {
      throw new ArgumentError('bijectors', 'expected an array of Bijector instances');
    }
    bijectors.forEach((b, i) => {
      if (!(b instanceof Bijector)) {
        throw new ArgumentError(`bijectors[${i}]`, 'expected a Bijector instance');
      }
    });
    super({ name: `Chain${bijectors.map((b) => b.name).join('')}`, ...options });
    this.bijectors = [...bijectors];
    this._eventRank = Math.max(0, ...bijectors.map((b) => b.eventRank));
    const shapes: Record<string, number[]> = {};
    bijectors.forEach((b, i) => (shapes[`bijectors[${i}]`] = b.paramShape));
    // Fails here, naming the parts, when their parameters cannot broadcast together.
    this._paramShape = broadcastShapes(shapes);
  }

  override get eventRank(): number {
    return this._eventRank;
  }
  /** Increasing when an even number of parts is decreasing; undefined if any part is not monotone. */
  override get isIncreasing(): boolean | undefined {
    let increasing = true;
    for (const b of this.bijectors) {
      const inc = b.isIncreasing;
      if (inc === undefined) return undefined;
      if (!inc) increasing = !increasing;
    }
    return increasing;
  }
  override get paramShape(): number[] {
    return [...this._paramShape];
  }

  /** Sum a part's log-det over the event dimensions it treats as batch. */
  private reduceLogDet(logDet: tf.Tensor, part: Bijector): tf.Tensor {
    const extra = this._eventRank - part.eventRank;
    if (extra === 0) return logDet;
    const axes = Array.from({ length: extra }, (_, i) => logDet.rank - extra + i);
    return tf.sum(logDet, axes);
  }

  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    let y: tf.Tensor = x;
    let total: tf.Tensor | undefined;
    for (let i = this.bijectors.length - 1; i >= 0; i--) {
      const b = this.bijectors[i] as Bijector;
      const r = b.forwardAndLogDet(y);
      y = r.y;
      const ld = this.reduceLogDet(r.logDet, b);
      total = total === undefined ? ld : tf.add(total, ld);
    }
    return { y: y === x ? x.clone() : y, logDet: total ?? this.zeroLogDet(x) };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    let x: tf.Tensor = y;
    for (const b of this.bijectors) x = b.inverse(x);
    return x === y ? y.clone() : x;
  }
  protected override _inverseAndLogDet(y: tf.Tensor): InverseResult {
    let x: tf.Tensor = y;
    let total: tf.Tensor | undefined;
    for (const b of this.bijectors) {
      const r = b.inverseAndLogDet(x);
      x = r.x;
      const ld = this.reduceLogDet(r.logDet, b);
      total = total === undefined ? ld : tf.add(total, ld);
    }
    return { x: x === y ? y.clone() : x, logDet: total ?? this.zeroLogDet(y) };
  }

  /** Zero log-det of the identity (empty chain), shape of `t` minus the event dimensions. */
  private zeroLogDet(t: tf.Tensor): tf.Tensor {
    return tf.zeros(t.shape.slice(0, t.rank - this._eventRank));
  }
}
