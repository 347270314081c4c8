/**
 * Arrays whose sums along each of their last `eventDim` axes vanish (NumPyro's `zero_sum`): the
 * support of `ZeroSumNormal`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { FLOAT32_EPS } from '../utils/float32.js';
import { Constraint, type ConstraintKind } from './constraint.js';

/** Float32 machine epsilon. */
const EPS32 = FLOAT32_EPS;

/**
 * `{x : sum_{axis} x = 0 for each of the last eventDim axes}` (event dim `eventDim`). The sums are
 * tested with the tolerance `10 eps n (1 + max|x|)` per axis of length `n` (NumPyro's
 * `10 eps n`, scaled by the values' size for float32 sums).
 */
export class ZeroSum extends Constraint {
  readonly kind: ConstraintKind = 'zeroSum';
  readonly eventDim: number;
  /**
   * @param eventDim how many trailing axes sum to zero (>= 1).
   */
  constructor(eventDim: number) {
    super();
    if (!Number.isInteger(eventDim) || eventDim < 1) {
      throw new ArgumentError('eventDim', `expected an integer >= 1, got ${String(eventDim)}`);
    }
    this.eventDim = eventDim;
  }
  override get name(): string {
    return `zeroSum(${this.eventDim})`;
  }
  protected _check(x: tf.Tensor): tf.Tensor {
    const axes = Array.from({ length: this.eventDim }, (_, i) => x.rank - this.eventDim + i);
    const size = tf.max(tf.abs(x), axes, true);
    let ok = tf.logicalNot(tf.isNaN(tf.squeeze(size, axes)));
    for (const axis of axes) {
      const n = x.shape[axis] as number;
      const s = tf.abs(tf.sum(x, axis, true));
      const tol = tf.mul(10 * EPS32 * n, tf.add(1, size));
      const good = tf.all(tf.lessEqual(s, tol), axes);
      ok = tf.logicalAnd(ok, good);
    }
    return ok;
  }
}

/**
 * The zero-sum constraint over the last `eventDim` axes.
 * @param eventDim how many trailing axes sum to zero (default 1).
 * @example
 * ```ts
 * zeroSum(1).check(tf.tensor1d([1, -0.5, -0.5])); // true
 * ```
 */
export function zeroSum(eventDim = 1): Constraint {
  return new ZeroSum(eventDim);
}
