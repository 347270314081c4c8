/**
 * The LKJ distribution over correlation matrices (Lewandowski, Kurowicka & Joe, 2009), as Pyro's
 * / NumPyro's `LKJ(dim, concentration)`:
 *
 * $$p(C) = \frac{\det(C)^{\eta - 1}}{Z},\qquad
 *   \log Z = \tfrac{D-1}2\log\pi + \log\Gamma_{D-1}\big(\eta + \tfrac{D-2}2\big)
 *   - (D-1)\log\Gamma\big(\eta + \tfrac{D-1}2\big),$$
 *
 * a density with respect to the `D(D-1)/2` strictly-lower entries of `C` (the normalizer of
 * {@link LKJCholesky}: `C = L L^T` maps one density onto the other with the Jacobian
 * `prod_j L_jj^{D-j}` of `CorrCholeskyOuter`). Each off-diagonal entry has the marginal
 * `(C_ij + 1)/2 ~ Beta(eta - 1 + D/2, eta - 1 + D/2)`, hence mean `I` and variance
 * `1/(2 eta + D - 1)` off the diagonal (0 on it). Support `corrMatrix`; `bijectTo` is
 * `CorrCholeskyTransform` followed by `L L^T`. Sampling: LKJCholesky's onion method, then
 * `L L^T`; seeded, not reparameterized.
 */
import * as tf from '@tensorflow/tfjs';
import { LKJBase } from './lkj_base.js';
import { corrMatrix, type Constraint } from '../constraints/constraints.js';
import { LKJCholesky, lkjLogNormalizer } from './lkj_cholesky.js';
import { cholesky, matrixDiag, matrixTranspose } from '../utils/linalg.js';
import './expanded.js';
import './independent.js';

/**
 * LKJ distribution on `D x D` correlation matrices.
 *
 * @example
 * ```ts
 * const d = new LKJ(3, 2);
 * const C = d.sample();   // [3, 3], symmetric, unit diagonal, positive definite
 * d.logProb(C);           // (eta - 1) log det C - log Z
 * ```
 */
export class LKJ extends LKJBase {
  /** Support: correlation matrices. */
  override get support(): Constraint {
    return corrMatrix;
  }

  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const full = [...shape, ...this.batchShape, ...this.eventShape];
    if (full.includes(0)) return tf.zeros(full); // tfjs's wasm transpose fails on empty tensors
    const chol = new LKJCholesky(this.dim, this.concentration, { validateArgs: false });
    try {
      const l = chol.sample(shape, seed);
      return tf.matMul(l, matrixTranspose(l));
    } finally {
      chol.dispose();
    }
  }
  protected _logProb(c: tf.Tensor): tf.Tensor {
    const logDet = tf.mul(2, tf.sum(tf.log(matrixDiag(cholesky(c))), -1));
    const eta = this.concentration;
    return tf.sub(tf.mul(tf.sub(eta, 1), logDet), lkjLogNormalizer(eta, this.dim));
  }
  /** The identity (each off-diagonal marginal is symmetric about 0). */
  protected override _mean(): tf.Tensor {
    return tf.broadcastTo(tf.eye(this.dim), [...this.batchShape, this.dim, this.dim]);
  }
  /** `1/(2 eta + D - 1)` off the diagonal, 0 on it. */
  protected override _variance(): tf.Tensor {
    const d = this.dim;
    const v = tf.div(1, tf.add(tf.mul(2, this.concentration), d - 1));
    const off = tf.sub(1, tf.eye(d));
    return tf.mul(tf.reshape(v, [...this.batchShape, 1, 1]), off);
  }
}
