/**
 * Unconstrained vectors to lower-triangular matrices with a positive diagonal (NumPyro's
 * `LowerCholeskyTransform`, `biject_to(lowerCholesky)`).
 */
import * as tf from '@tensorflow/tfjs';
import type { BijectorOptions, ForwardResult } from './bijector.js';
import { VectorToTrilBijector } from './vector_to_tril.js';
import { ArgumentError } from '../utils/errors.js';
import { lowerCholesky, type Constraint } from '../constraints/constraints.js';
import { diagMatrix, matrixDiag, trilToVec, vecToTril } from '../utils/linalg.js';

/**
 * Lower-Cholesky bijector: `x` of length `D(D+1)/2` holds the `D(D-1)/2` strictly-lower entries
 * (row-major) followed by the `D` log-diagonal entries:
 *
 * $$L = \operatorname{tril}_{-1}(x_{1:D(D-1)/2}) + \operatorname{diag}(e^{x_{D(D-1)/2+1:}}),\qquad
 *   \log|\det J| = \sum_{i=1}^{D} x_{D(D-1)/2+i}$$
 *
 * (the Jacobian with respect to the lower-triangular entries of `L`). Domain event dim 1,
 * codomain event dim 2.
 *
 * @example
 * ```ts
 * new LowerCholeskyTransform().forward([0.5, 0, 0]); // [[1, 0], [0.5, 1]]
 * ```
 */
export class LowerCholeskyTransform extends VectorToTrilBijector {
  /** @param options name and validation flag. */
  constructor(options: BijectorOptions = {}) {
    super(options, false);
  }
  override get codomain(): Constraint {
    return lowerCholesky;
  }
  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    const n = this.sideOf(x);
    const off = (n * (n - 1)) / 2;
    const lead = x.shape.slice(0, -1);
    const strict = tf.slice(x, Array(x.rank).fill(0), [...lead, off]);
    const logDiag = tf.slice(x, [...Array(x.rank - 1).fill(0), off], [...lead, n]);
    const y = tf.add(vecToTril(strict, n, -1), diagMatrix(tf.exp(logDiag)));
    return { y, logDet: tf.sum(logDiag, -1) };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    if (y.rank < 2) throw new ArgumentError('y', 'expected matrices [..., D, D]');
    return tf.concat([trilToVec(y, -1), tf.log(matrixDiag(y))], -1);
  }
}
