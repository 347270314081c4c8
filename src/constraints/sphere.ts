/**
 * The unit sphere (Pyro's `constraints.sphere`): vectors of Euclidean norm 1 along the last dim,
 *
 * $$S^{d-1} = \{x \in \mathbb R^d : \lVert x\rVert_2 = 1\},$$
 *
 * event dim 1, checked to a float32 tolerance `|‖x‖ - 1| ≤ 1e-5 (1 + √d)`. No bijection from an
 * unconstrained real space is registered (none exists onto the whole sphere): a latent on the
 * sphere (a `ProjectedNormal`) is sampled through `ppl.ProjectedNormalReparam`, as in Pyro.
 */
import * as tf from '@tensorflow/tfjs';
import { Constraint, type ConstraintKind } from './constraint.js';

/** `{x : ‖x‖₂ = 1}` over the last dimension. */
export class Sphere extends Constraint {
  readonly kind: ConstraintKind = 'sphere';
  readonly eventDim: number = 1;
  protected _check(x: tf.Tensor): tf.Tensor {
    const d = x.shape[x.rank - 1] ?? 1;
    const norm = tf.sqrt(tf.sum(tf.square(x), -1));
    return tf.lessEqual(tf.abs(tf.sub(norm, 1)), 1e-5 * (1 + Math.sqrt(d)));
  }
}

/** The unit sphere along the last dimension (the support of `ProjectedNormal`). */
export const sphere: Constraint = new Sphere();
