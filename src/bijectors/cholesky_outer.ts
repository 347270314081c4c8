/**
 * `L -> L L^T`: lower-Cholesky factors onto symmetric positive-definite matrices (Pyro's
 * `CholeskyTransform().inv`, the last step of `biject_to(positive_definite)`).
 */
import * as tf from '@tensorflow/tfjs';
import { Bijector, type ForwardResult } from './bijector.js';
import { ArgumentError } from '../utils/errors.js';
import { lowerCholesky, positiveDefinite, type Constraint } from '../constraints/constraints.js';
import { cholesky, matrixDiag, matrixTranspose } from '../utils/linalg.js';

/** Ones on and below the diagonal of an `n x n` matrix. */
function lowerMask(n: number): tf.Tensor {
  const v = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) v[i * n + j] = 1;
  return tf.tensor2d(v, [n, n]);
}

/**
 * Cholesky-outer-product bijector:
 *
 * $$\Sigma = L L^\top,\qquad L = \operatorname{chol}(\Sigma),\qquad
 *   \log|\det J| = D\log 2 + \sum_{i=1}^{D} (D - i + 1)\log L_{ii}$$
 *
 * (the Jacobian between the lower-triangular entries of `L` and of `Sigma`). Event dims 2.
 *
 * @example
 * ```ts
 * new CholeskyOuter().forward([[2, 0], [1, 1]]); // [[4, 2], [2, 2]]
 * ```
 */
export class CholeskyOuter extends Bijector {
  override get eventRank(): number {
    return 2;
  }
  override get domain(): Constraint {
    return lowerCholesky;
  }
  override get codomain(): Constraint {
    return positiveDefinite;
  }
  private weights(n: number): tf.Tensor {
    return tf.tensor1d(Array.from({ length: n }, (_, i) => n - i));
  }
  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    if (x.rank < 2 || x.shape[x.rank - 1] !== x.shape[x.rank - 2]) {
      throw new ArgumentError(
        'x',
        `expected square matrices [..., D, D], got [${x.shape.join(', ')}]`,
      );
    }
    const n = x.shape[x.rank - 1] as number;
    // lower triangle by a constant mask (tf.linalg.bandPart's unstack/stack breaks gradients)
    const l = tf.mul(x, lowerMask(n));
    const y = tf.matMul(l, matrixTranspose(l));
    const logDet = tf.add(n * Math.LN2, tf.sum(tf.mul(tf.log(matrixDiag(l)), this.weights(n)), -1));
    return { y, logDet };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    if (y.rank < 2 || y.shape[y.rank - 1] !== y.shape[y.rank - 2]) {
      throw new ArgumentError(
        'y',
        `expected square matrices [..., D, D], got [${y.shape.join(', ')}]`,
      );
    }
    return cholesky(y);
  }
}
