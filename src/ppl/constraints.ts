/**
 * Constraints of the probabilistic language: every support constraint of the distributions
 * (`real`, `positive`, `interval(a, b)`, `simplex`, `lowerCholesky`, ... re-exported from
 * `distributions/constraints`) plus `positiveExp`, and the map the parameter store uses from a
 * parameter's constraint to the bijection `T` from the unconstrained variable `u` it optimizes:
 *
 * - `real`: `x = u`;
 * - `positive`: `x = softplus(u) = log(1 + e^u)` (bounded gradients for large `u`; the store's
 *   historical choice), `positiveExp`: `x = e^u` (Pyro's `biject_to(positive)`);
 * - `lowerCholesky`: `L = tril(u, -1) + diag(softplus(diag(u)))` on square `u` (Pyro's
 *   `softplus_lower_cholesky`);
 * - every other constraint `c`: `bijectTo(c)` (e.g. `unitInterval`: sigmoid, `simplex`:
 *   stick-breaking).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { softplusInverse } from '../utils/tensor.js';
import { keepCreated, lastTensorId } from './keep.js';
import type { Bijector } from '../bijectors/bijector.js';
import { Positive, type Constraint, type ConstraintKind } from '../constraints/constraints.js';
import { bijectTo } from '../distributions/transform_to.js';

export * from '../constraints/constraints.js';

/** `x > 0`, mapped from the reals by `exp` in the parameter store (Pyro's choice). */
class PositiveExp extends Positive {
  override readonly kind: ConstraintKind = 'positiveExp';
}

/** `x > 0` through `exp` in the parameter store (the support is the same as `positive`'s). */
export const positiveExp: Constraint = new PositiveExp();

/** The unconstrained <-> constrained maps of one parameter. */
export interface ParamTransform {
  /** `x = T(u)` (differentiable in `u`). */
  forward(u: tf.Tensor): tf.Tensor;
  /** `u = T^{-1}(x)`. */
  inverse(x: tf.Tensor): tf.Tensor;
  /** Shape of `u` for a value of shape `shape`. */
  inverseShape(shape: readonly number[]): number[];
  /** Free the transform's tensors. */
  dispose(): void;
}

const softplusTransform: ParamTransform = {
  forward: (u) => tf.softplus(u),
  inverse: (x) => softplusInverse(x),
  inverseShape: (s) => [...s],
  dispose: () => undefined,
};
const expTransform: ParamTransform = {
  forward: (u) => tf.exp(u),
  inverse: (x) => tf.log(x),
  inverseShape: (s) => [...s],
  dispose: () => undefined,
};

/**
 * Lower-triangular matrices with a positive diagonal from square real matrices of the same shape
 * (Pyro's `softplus_lower_cholesky`): `L = tril(u, -1) + diag(softplus(diag(u)))`.
 */
/** `tril(x)` by a constant mask (tfjs's `bandPart` has no usable gradient: it unstacks). */
export function trilMask(n: number, strict = false): tf.Tensor {
  const v = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < (strict ? i : i + 1); j++) v[i * n + j] = 1;
  return tf.tensor2d(v, [n, n]);
}

const lowerCholeskyTransform: ParamTransform = {
  forward: (u) =>
    tf.tidy(() => {
      const n = u.shape[u.rank - 1] as number;
      const eye = tf.eye(n);
      const strict = tf.mul(u, trilMask(n, true));
      return tf.add(strict, tf.mul(tf.softplus(u), eye));
    }),
  inverse: (x) =>
    tf.tidy(() => {
      const n = x.shape[x.rank - 1] as number;
      const eye = tf.eye(n);
      const strict = tf.mul(x, trilMask(n, true));
      const diag = tf.sum(tf.mul(x, eye), -1, true);
      return tf.add(strict, tf.mul(softplusInverse(diag), eye));
    }),
  inverseShape: (s) => [...s],
  dispose: () => undefined,
};

/**
 * The bijection from the unconstrained reals onto a parameter's constraint, as the parameter
 * store uses it (dispose it when the parameter goes). `lowerCholesky` parameters keep their
 * square shape (strict lower part as is, softplus on the diagonal).
 * @param c the parameter's constraint.
 */
export function paramTransform(c: Constraint): ParamTransform {
  if (c.kind === 'positive') return softplusTransform;
  if (c.kind === 'positiveExp') return expTransform;
  if (c.kind === 'lowerCholesky') return lowerCholeskyTransform;
  const start = lastTensorId();
  const b: Bijector = bijectTo(c);
  keepCreated(b, start); // parameters are often created inside an ELBO's tf.tidy
  return {
    forward: (u) => b.forward(u),
    inverse: (x) => b.inverse(x),
    inverseShape: (s) => b.inverseShape(s),
    dispose: () => b.dispose(),
  };
}
