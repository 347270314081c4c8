/**
 * The zero-sum bijector (NumPyro's `ZeroSumTransform`): from `R^{n_1 - 1} x ... x R^{n_k - 1}`
 * onto the arrays of shape `[n_1, ..., n_k]` whose sums along each of the `k` axes vanish
 * (`biject_to(zero_sum(k))`). Along one axis of output length `n`, with `s = sum_i x_i`:
 *
 * $$y_i = x_i - \frac{s}{\sqrt n + n}\ (i < n),\qquad y_n = -\frac{s}{\sqrt n},\qquad
 *   x_i = y_i - \frac{y_n \sqrt n}{\sqrt n + n},$$
 *
 * an isometry of `R^{n-1}` onto the zero-sum hyperplane (a Householder reflection of
 * `(x, 0)`), so `log|det J| = 0` with respect to the hyperplane's own measure (as NumPyro).
 */
import * as tf from '@tensorflow/tfjs';
import { Bijector, type BijectorOptions, type ForwardResult } from './bijector.js';
import { ArgumentError } from '../utils/errors.js';
import { zeroSum, type Constraint } from '../constraints/constraints.js';

/** Append the `n`-th coordinate along `axis` and shift onto the zero-sum hyperplane. */
function extendAxis(x: tf.Tensor, axis: number): tf.Tensor {
  const n = (x.shape[axis] as number) + 1;
  const s = tf.sum(x, axis, true);
  const norm = tf.div(s, Math.sqrt(n) + n);
  const fill = tf.sub(norm, tf.div(s, Math.sqrt(n)));
  return tf.sub(tf.concat([x, fill], axis), norm);
}

/** Drop the last coordinate along `axis` and undo the shift. */
function extendAxisRev(y: tf.Tensor, axis: number): tf.Tensor {
  const n = y.shape[axis] as number;
  const begin = y.shape.map(() => 0);
  const size = [...y.shape];
  begin[axis] = n - 1;
  size[axis] = 1;
  const last = tf.slice(y, begin, size);
  const norm = tf.div(tf.mul(last, -Math.sqrt(n)), Math.sqrt(n) + n);
  const head = [...y.shape];
  head[axis] = n - 1;
  return tf.add(
    tf.slice(
      y,
      y.shape.map(() => 0),
      head,
    ),
    norm,
  );
}

/**
 * Zero-sum bijector over the last `eventDims` axes (default 1).
 *
 * @example
 * ```ts
 * new ZeroSumTransform().forward([1, 2]); // 3 values summing to 0
 * ```
 */
export class ZeroSumTransform extends Bijector {
  /** How many trailing axes sum to zero. */
  readonly eventDims: number;

  /**
   * @param eventDims the number of trailing zero-sum axes, an integer >= 1.
   * @param options name and validation flag.
   */
  constructor(eventDims = 1, options: BijectorOptions = {}) {
    super(options);
    if (!Number.isInteger(eventDims) || eventDims < 1) {
      throw new ArgumentError('eventDims', `expected an integer >= 1, got ${String(eventDims)}`);
    }
    this.eventDims = eventDims;
  }
  override get eventRank(): number {
    return this.eventDims;
  }
  override get codomain(): Constraint {
    return zeroSum(this.eventDims);
  }
  override forwardShape(shape: readonly number[]): number[] {
    this.checkRank(shape, 'shape');
    const k = this.eventDims;
    return shape.map((d, i) => (i >= shape.length - k ? d + 1 : d));
  }
  override inverseShape(shape: readonly number[]): number[] {
    this.checkRank(shape, 'shape');
    const k = this.eventDims;
    if (shape.slice(shape.length - k).some((d) => d < 1)) {
      throw new ArgumentError('shape', `${this.name} needs zero-sum axes of length >= 1`);
    }
    return shape.map((d, i) => (i >= shape.length - k ? d - 1 : d));
  }
  private checkRank(shape: readonly number[], name: string): void {
    if (shape.length < this.eventDims) {
      throw new ArgumentError(
        name,
        `${this.name} needs rank >= ${this.eventDims}, got [${shape.join(',')}]`,
      );
    }
  }

  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    this.checkRank(x.shape, 'x');
    let y = x;
    for (let a = x.rank - this.eventDims; a < x.rank; a++) y = extendAxis(y, a);
    return { y, logDet: tf.zeros(x.shape.slice(0, x.rank - this.eventDims)) };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    this.checkRank(y.shape, 'y');
    let x = y;
    for (let a = y.rank - this.eventDims; a < y.rank; a++) x = extendAxisRev(x, a);
    return x;
  }
}
