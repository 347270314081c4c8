/**
 * `L -> L L^T` from Cholesky factors of correlation matrices onto correlation matrices (Pyro's
 * `CorrMatrixCholeskyTransform().inv`; the last step of `biject_to(corr_matrix)`).
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardResult } from './bijector.js';
import { CholeskyOuter } from './cholesky_outer.js';
import { corrCholesky, corrMatrix, type Constraint } from '../constraints/constraints.js';
import { matrixDiag } from '../utils/linalg.js';

/**
 * Correlation outer-product bijector: {@link CholeskyOuter}'s map and inverse on the
 * correlation sets, with the Jacobian between their free coordinates. Both sides have
 * `D(D-1)/2` of them, the strictly lower entries (the diagonal of `L` is fixed by its unit rows,
 * that of `C` is 1):
 *
 * $$C = L L^\top,\qquad L = \operatorname{chol}(C),\qquad
 *   \log|\det J| = \sum_{j=1}^{D} (D - j)\log L_{jj}.$$
 *
 * Row `i` of `C` below the diagonal is linear in row `i` of `L` with the triangular matrix
 * `L_{<i,<i}`, so the Jacobian is block triangular with determinant `prod_{j<i} L_jj` per row.
 * Event dims 2.
 *
 * @example
 * ```ts
 * new CorrCholeskyOuter().forward([[1, 0], [0.6, 0.8]]); // [[1, 0.6], [0.6, 1]]
 * ```
 */
export class CorrCholeskyOuter extends CholeskyOuter {
  override get domain(): Constraint {
    return corrCholesky;
  }
  override get codomain(): Constraint {
    return corrMatrix;
  }
  protected override _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    const { y } = super._forwardAndLogDet(x); // checks the shape
    const n = x.shape[x.rank - 1] as number;
    const weights = tf.tensor1d(Array.from({ length: n }, (_, j) => n - 1 - j));
    return { y, logDet: tf.sum(tf.mul(tf.log(matrixDiag(x)), weights), -1) };
  }
}
