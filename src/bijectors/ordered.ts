/**
 * The ordered-vector bijector (Pyro's `OrderedTransform`, `biject_to(ordered)`).
 */
import * as tf from '@tensorflow/tfjs';
import { Bijector, type ForwardResult } from './bijector.js';
import { ArgumentError } from '../utils/errors.js';
import { cumsumLast } from '../utils/linalg.js';
import { ordered, type Constraint } from '../constraints/constraints.js';

/**
 * Maps `R^K` onto strictly increasing vectors:
 *
 * $$y_1 = x_1,\quad y_k = y_{k-1} + e^{x_k}\ (k \ge 2),\qquad
 *   x_k = \log(y_k - y_{k-1}),\qquad \log|\det J| = \sum_{k\ge 2} x_k.$$
 *
 * @example
 * ```ts
 * new OrderedTransform().forward([0, 0, 0]); // [0, 1, 2]
 * ```
 */
export class OrderedTransform extends Bijector {
  override get eventRank(): number {
    return 1;
  }
  override get codomain(): Constraint {
    return ordered;
  }
  /** `[x_1, x_2, ...] -> [x_1, e^{x_2}, ...]` pieces, split at the first element. */
  private split(t: tf.Tensor): [tf.Tensor, tf.Tensor] {
    if (t.rank < 1 || (t.shape[t.rank - 1] as number) < 1) {
      throw new ArgumentError('x', 'OrderedTransform expects vectors [..., K] with K >= 1');
    }
    const k = t.shape[t.rank - 1] as number;
    const head = tf.slice(t, Array(t.rank).fill(0), [...t.shape.slice(0, -1), 1]);
    const tail = tf.slice(t, [...Array(t.rank - 1).fill(0), 1], [...t.shape.slice(0, -1), k - 1]);
    return [head, tail];
  }
  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    const [head, tail] = this.split(x);
    const y = cumsumLast(tf.concat([head, tf.exp(tail)], -1));
    return { y, logDet: tf.sum(tail, -1) };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    const [head, tail] = this.split(y);
    const k = y.shape[y.rank - 1] as number;
    const prev = tf.slice(y, Array(y.rank).fill(0), [...y.shape.slice(0, -1), k - 1]);
    return tf.concat([head, tf.log(tf.sub(tail, prev))], -1);
  }
}
