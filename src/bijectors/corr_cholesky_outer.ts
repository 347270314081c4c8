/**
 * `L -> L L^T` from Cholesky factors of correlation matrices onto correlation matrices (Pyro's
 * `CorrMatrixCholeskyTransform().inv`; the last step of `biject_to(corr_matrix)`).
 */
import * as tf from '@tensorflow/tfjs';
import { Bijector, type ForwardResult } from './bijector.js';
import { ArgumentError } from '../utils/errors.js';
import { corrCholesky, corrMatrix, type Constraint } from '../constraints/constraints.js';
import { cholesky, matrixDiag, matrixTranspose } from '../utils/linalg.js';

/** Ones on and below the diagonal of an `n x n` matrix. */
function lowerMask(n: number): tf.Tensor {
  const v = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) v[i * n + j] = 1;
  return tf.tensor2d(v, [n, n]);
}

/**
 * Correlation outer-product bijector. Both sides have `D(D-1)/2` free coordinates, the strictly
 * lower entries (the diagonal of `L` is fixed by its unit rows, that of `C` is 1):
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
export class CorrCholeskyOuter extends Bijector {
  override get eventRank(): number {
    return 2;
  }
  override get domain(): Constraint {
    return corrCholesky;
  }
  override get codomain(): Constraint {
    return corrMatrix;
  }
  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    const n = squareSide(x, 'x');
    const l = tf.mul(x, lowerMask(n));
    const y = tf.matMul(l, matrixTranspose(l));
    const weights = tf.tensor1d(Array.from({ length: n }, (_, j) => n - 1 - j));
    return { y, logDet: tf.sum(tf.mul(tf.log(matrixDiag(l)), weights), -1) };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    squareSide(y, 'y');
    return cholesky(y);
  }
}

function squareSide(x: tf.Tensor, name: string): number {
  if (x.rank < 2 || x.shape[x.rank - 1] !== x.shape[x.rank - 2]) {
    throw new ArgumentError(
      name,
      `expected square matrices [..., D, D], got [${x.shape.join(', ')}]`,
    );
  }
  return x.shape[x.rank - 1] as number;
}
