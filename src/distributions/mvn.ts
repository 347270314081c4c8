/**
 * The multivariate normal distribution with a full covariance, parameterized (as in Pyro/TFP) by
 * exactly one of `covarianceMatrix`, `precisionMatrix` or `scaleTril` (the lower Cholesky factor
 * `L` of the covariance):
 *
 * $$\log p(x) = -\tfrac12\,\lVert L^{-1}(x-\mu)\rVert^2 - \sum_i \log L_{ii} - \tfrac D2\log 2\pi,
 *   \qquad \Sigma = LL^\top.$$
 *
 * `rsample` is `mu + L eps` (reparameterized); `logProb` uses a triangular solve; entropy
 * `D/2 (1 + log 2 pi) + sum log L_ii`. The factor `L` is computed once at construction
 * (a Cholesky factorization for `covarianceMatrix`, `chol(P^{-1})` for `precisionMatrix`), so
 * build the distribution inside the function you differentiate, as Pyro models do.
 */
import * as tf from '@tensorflow/tfjs';
import { Distribution, type DistributionOptions, type TensorInput } from './distribution.js';
import { lowerCholesky, positiveDefinite } from '../constraints/constraints.js';
import { registerKL } from './kl.js';
import { broadcastShapes } from '../utils/tensor.js';
import {
  cholesky,
  matrixDiag,
  squareSize,
  triangularSolve,
  trilGram,
  trilInverseGram,
} from '../utils/linalg.js';
import './expanded.js';
import './independent.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** The covariance parameterization of {@link MultivariateNormal} (exactly one key). */
export type MvnCovariance =
  | { covarianceMatrix: TensorInput; precisionMatrix?: never; scaleTril?: never }
  | { precisionMatrix: TensorInput; covarianceMatrix?: never; scaleTril?: never }
  | { scaleTril: TensorInput; covarianceMatrix?: never; precisionMatrix?: never };

/**
 * Multivariate normal `N(mu, Sigma)` with event shape `[D]`.
 *
 * @example
 * ```ts
 * const d = new MultivariateNormal([0, 0], { covarianceMatrix: [[2, 1], [1, 2]] });
 * d.logProb([1, -1]);
 * d.rsample([100]);   // [100, 2], differentiable in loc and the covariance
 * ```
 */
export class MultivariateNormal extends Distribution {
  /** The mean `mu`, shape `[..., D]`. */
  readonly loc: tf.Tensor;
  /** The lower Cholesky factor `L` of the covariance, shape `[..., D, D]`. */
  readonly scaleTril: tf.Tensor;
  private readonly batch: number[];
  private readonly dim: number;

  /**
   * @param loc the mean `[..., D]`.
   * @param cov exactly one of `covarianceMatrix` (symmetric positive definite),
   *   `precisionMatrix` (its inverse) or `scaleTril` (lower triangular, positive diagonal).
   * @param options validation flag and name.
   */
  constructor(loc: TensorInput, cov: MvnCovariance, options: DistributionOptions = {}) {
    super(options);
    this.loc = this.param(loc, 'loc');
    if (this.loc.rank < 1) throw this.constructionError('loc', 'expected a vector [..., D]');
    this.checkFinite(this.loc, 'loc');
    const keys = ['covarianceMatrix', 'precisionMatrix', 'scaleTril'].filter(
      (k) => (cov as Record<string, unknown> | undefined)?.[k] !== undefined,
    );
    if (keys.length !== 1) {
      throw this.constructionError(
        'covarianceMatrix',
        `give exactly one of covarianceMatrix, precisionMatrix, scaleTril (got ${keys.length})`,
      );
    }
    const key = keys[0] as 'covarianceMatrix' | 'precisionMatrix' | 'scaleTril';
    const m = this.param((cov as unknown as Record<string, TensorInput>)[key] as TensorInput, key);
    let n: number;
    try {
      n = squareSize(m, key);
    } catch (e) {
      this.dispose();
      throw e;
    }
    const d = this.loc.shape[this.loc.rank - 1] as number;
    if (n !== d) {
      throw this.constructionError(
        key,
        `expected [..., ${d}, ${d}] to match loc, got [${m.shape.join(',')}]`,
      );
    }
    this.dim = d;
    this.batch = this.broadcastParams({
      loc: this.loc.shape.slice(0, -1),
      [key]: m.shape.slice(0, -2),
    });
    if (this.validateArgs) {
      const c = key === 'scaleTril' ? lowerCholesky : positiveDefinite;
      const bad = !c.checkAll(m);
      if (bad) {
        throw this.constructionError(
          key,
          key === 'scaleTril'
            ? 'expected lower-triangular matrices with a positive diagonal'
            : 'expected symmetric positive-definite matrices',
        );
      }
    }
    if (key === 'scaleTril') {
      this.scaleTril = m;
    } else if (key === 'covarianceMatrix') {
      this.scaleTril = this.own(cholesky(m));
    } else {
      this.scaleTril = this.own(
        tf.tidy(() => {
          const c = cholesky(m); // P = C C^T, Sigma = C^{-T} C^{-1}
          const cInv = triangularSolve(c, tf.broadcastTo(tf.eye(n), c.shape));
          return cholesky(tf.matMul(cInv, cInv, true, false));
        }),
      );
    }
  }

  get batchShape(): number[] {
    return [...this.batch];
  }
  get eventShape(): number[] {
    return [this.dim];
  }

  /** The covariance `L L^T` (a new tensor). */
  covarianceMatrix(): tf.Tensor {
    return trilGram(this.scaleTril);
  }
  /** The precision `Sigma^{-1} = L^{-T} L^{-1}` (a new tensor). */
  precisionMatrix(): tf.Tensor {
    return trilInverseGram(this.scaleTril);
  }

  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const eps = tf.randomNormal([...shape, ...this.batch, this.dim], 0, 1, 'float32', seed);
    // (L eps)_i = sum_j L_ij eps_j, broadcasting batch dims
    const le = tf.sum(tf.mul(this.scaleTril, tf.expandDims(eps, -2)), -1);
    return tf.add(this.loc, le);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const diff = tf.sub(x, this.loc);
    const z = triangularSolve(this.scaleTril, tf.expandDims(diff, -1));
    const maha = tf.sum(tf.square(z), [-2, -1]);
    const halfLogDet = tf.sum(tf.log(matrixDiag(this.scaleTril)), -1);
    return tf.sub(tf.mul(-0.5, tf.add(maha, this.dim * LOG_2PI)), halfLogDet);
  }
  protected override _mean(): tf.Tensor {
    return tf.broadcastTo(this.loc, [...this.batch, this.dim]);
  }
  protected override _mode(): tf.Tensor {
    return this._mean();
  }
  protected override _variance(): tf.Tensor {
    return tf.broadcastTo(tf.sum(tf.square(this.scaleTril), -1), [...this.batch, this.dim]);
  }
  protected override _entropy(): tf.Tensor {
    const halfLogDet = tf.sum(tf.log(matrixDiag(this.scaleTril)), -1);
    return tf.broadcastTo(tf.add(halfLogDet, 0.5 * this.dim * (1 + LOG_2PI)), this.batch);
  }
}

/**
 * `KL(N(mu_p, S_p) || N(mu_q, S_q))` in closed form, with `M = L_q^{-1} L_p`,
 * `z = L_q^{-1}(mu_q - mu_p)`:
 *
 * $$\mathrm{KL} = \tfrac12\Big(\lVert M\rVert_F^2 + \lVert z\rVert^2 - D\Big)
 *   + \sum_i \log (L_q)_{ii} - \sum_i \log (L_p)_{ii}.$$
 *
 * @param p the first distribution. @param q the second distribution.
 */
export function klMvnMvn(p: MultivariateNormal, q: MultivariateNormal): tf.Tensor {
  return tf.tidy(() => {
    const batch = broadcastShapes({ p: p.batchShape, q: q.batchShape });
    return klFromCholesky(p.loc, p.scaleTril, q.loc, q.scaleTril, batch);
  });
}

/**
 * The Gaussian KL of the formula above from the means and Cholesky factors (`[..., D]`,
 * `[..., D, D]`, broadcasting to `batch`); shared by the full-rank and low-rank families.
 * @param locP mean of p. @param lp Cholesky factor of p. @param locQ mean of q.
 * @param lq Cholesky factor of q. @param batch the broadcast batch shape.
 */
export function klFromCholesky(
  locP: tf.Tensor,
  lp: tf.Tensor,
  locQ: tf.Tensor,
  lq: tf.Tensor,
  batch: number[],
): tf.Tensor {
  return tf.tidy(() => {
    const d = lp.shape[lp.rank - 1] as number;
    const m = triangularSolve(lq, tf.broadcastTo(lp, [...batch, d, d]));
    const z = triangularSolve(lq, tf.expandDims(tf.sub(locQ, locP), -1));
    const tr = tf.sum(tf.square(m), [-2, -1]);
    const maha = tf.sum(tf.square(z), [-2, -1]);
    const ld = tf.sub(tf.sum(tf.log(matrixDiag(lq)), -1), tf.sum(tf.log(matrixDiag(lp)), -1));
    return tf.broadcastTo(tf.add(tf.mul(0.5, tf.sub(tf.add(tr, maha), d)), ld), batch);
  });
}

registerKL(MultivariateNormal, MultivariateNormal, klMvnMvn);
