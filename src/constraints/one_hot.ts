/**
 * The one-hot vectors (Pyro's `one_hot`, event dim 1): `x in {0, 1}^K` with exactly one 1,
 *
 * $$\{x \in \{0, 1\}^K : \textstyle\sum_k x_k = 1\},$$
 *
 * the support of `OneHotCategorical`. Discrete: no bijection from the reals exists.
 */
import * as tf from '@tensorflow/tfjs';
import { Constraint, type ConstraintKind } from './constraint.js';

/** One-hot vectors along the last dim. */
export class OneHotConstraint extends Constraint {
  readonly kind: ConstraintKind = 'oneHot';
  readonly eventDim: number = 1;
  override readonly isDiscrete: boolean = true;
  protected _check(x: tf.Tensor): tf.Tensor {
    const bits = tf.all(tf.logicalOr(tf.equal(x, 0), tf.equal(x, 1)), -1);
    return tf.logicalAnd(bits, tf.equal(tf.sum(x, -1), 1));
  }
}

/** One-hot vectors (event dim 1). */
export const oneHot: Constraint = new OneHotConstraint();
