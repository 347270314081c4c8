/**
 * The inverse Wishart distribution over symmetric positive-definite `p x p` matrices (the
 * conjugate prior of a Gaussian covariance; scipy's `invwishart(df, scale)`): `X ~ IW(nu, Psi)`
 * exactly when `X^{-1} ~ Wishart(nu, Psi^{-1})`,
 *
 * $$\log p(X) = \tfrac\nu2\log\det\Psi - \tfrac{\nu+p+1}2\log\det X
 *   - \tfrac12\operatorname{tr}(\Psi X^{-1}) - \tfrac{\nu p}2\log 2
 *   - \log\Gamma_p\big(\tfrac\nu2\big),\qquad \nu > p - 1,$$
 *
 * a density with respect to the lower-triangular entries of `X`. Mean `Psi/(nu - p - 1)` for
 * `nu > p + 1`; mode `Psi/(nu + p + 1)`; variance
 * `((nu-p+1) Psi_ij^2 + (nu-p-1) Psi_ii Psi_jj) / ((nu-p)(nu-p-1)^2(nu-p-3))` for `nu > p + 3`
 * (`Infinity` for `p + 1 < nu <= p + 3`; below, where the mean does not exist, `Infinity` on the
 * diagonal and `NaN` off it); entropy
 * `(p+1)/2 log det Psi - p(p+1)/2 log 2 + log Gamma_p(nu/2) - (nu+p+1)/2 psi_p(nu/2) + nu p/2`.
 *
 * Sampling: with `Psi = U U^T` and the Bartlett factor `A` of `Wishart(nu, I)`,
 * `X = U A^{-T} A^{-1} U^T` (reparameterized, as the Wishart's). Support `positiveDefinite`.
 */
import * as tf from '@tensorflow/tfjs';
import { type DistributionOptions, type TensorInput } from './distribution.js';
import { registerKL } from './kl.js';
import { mvdigamma, mvlgamma } from './special.js';
import { ArgumentError } from '../utils/errors.js';
import { broadcastShapes } from '../utils/tensor.js';
import { cholesky, matrixDiag, triangularSolve, trilGram } from '../utils/linalg.js';
import { bartlettFactor, broadcastMatrices, halfLogDet, wishartKL } from './wishart.js';
import { DfScaleDistribution } from './df_scale.js';
import './expanded.js';
import './independent.js';

const LN2 = Math.LN2;

/** The scale of {@link InverseWishart}: the matrix `Psi`, or `{scaleTril}` its lower Cholesky factor. */
export type InverseWishartScale = TensorInput | { scaleTril: TensorInput };

/**
 * Inverse Wishart distribution `IW(nu, Psi)` with event shape `[p, p]`.
 *
 * @example
 * ```ts
 * const d = new InverseWishart(6, [[2, 0.5], [0.5, 1]]);
 * d.mean();          // Psi / (6 - 2 - 1)
 * d.sample([100]);   // [100, 2, 2]
 * ```
 */
export class InverseWishart extends DfScaleDistribution {
  /**
   * @param df degrees of freedom, `nu > p - 1`.
   * @param scale the scale matrix `Psi` (symmetric positive definite, `[..., p, p]`) or
   *   `{scaleTril}` (its lower Cholesky factor).
   * @param options validation flag and name.
   */
  constructor(df: TensorInput, scale: InverseWishartScale, options: DistributionOptions = {}) {
    super(
      df,
      () => {
        const isTril =
          scale !== null &&
          typeof scale === 'object' &&
          !Array.isArray(scale) &&
          !(scale instanceof tf.Tensor) &&
          !ArrayBuffer.isView(scale);
        const raw = isTril
          ? (scale as { scaleTril?: TensorInput }).scaleTril
          : (scale as TensorInput);
        if (raw === undefined) {
          throw new ArgumentError('scale', 'expected a matrix [..., p, p] or {scaleTril}');
        }
        return {
          raw,
          key: isTril ? 'scaleTril' : 'scale',
          tril: isTril,
          toTril: (m: tf.Tensor) => cholesky(m),
        };
      },
      options,
    );
  }

  /** The scale `Psi = U U^T` (a new tensor). */
  scaleMatrix(): tf.Tensor {
    return trilGram(this.scaleTril);
  }

  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const full = [...shape, ...this.batchShape, ...this.eventShape];
    if (full.includes(0)) return tf.zeros(full); // tfjs's wasm transpose fails on empty tensors
    const p = this.dim;
    const a = bartlettFactor(this.df, p, shape, this.batch, seed);
    const aInv = triangularSolve(a, tf.broadcastTo(tf.eye(p), a.shape)); // A^{-1}
    const m = tf.matMul(tf.broadcastTo(this.scaleTril, a.shape), aInv, false, true); // U A^{-T}
    return tf.matMul(m, m, false, true);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const p = this.dim;
    const nu = this.df;
    const [lx, u] = broadcastMatrices(cholesky(x), this.scaleTril);
    const trace = tf.sum(tf.square(triangularSolve(lx, u)), [-2, -1]); // tr(Psi X^{-1})
    const logDetX = tf.mul(2, halfLogDet(lx));
    return tf.sub(
      tf.sub(tf.mul(nu, halfLogDet(this.scaleTril)), tf.mul(tf.div(tf.add(nu, p + 1), 2), logDetX)),
      tf.add(tf.add(tf.mul(nu, (p * LN2) / 2), mvlgamma(tf.div(nu, 2), p)), tf.div(trace, 2)),
    );
  }
  /** `Psi/(nu - p - 1)`; where `nu <= p + 1`, `Infinity` on the diagonal and `NaN` off it. */
  protected override _mean(): tf.Tensor {
    const f = tf.sub(this.dfMatrix(), this.dim + 1);
    const psi = this.scaleMatrix();
    return this.whereDefined(tf.greater(f, 0), tf.div(psi, f));
  }
  protected override _mode(): tf.Tensor {
    return tf.div(this.scaleMatrix(), tf.add(this.dfMatrix(), this.dim + 1));
  }
  protected override _variance(): tf.Tensor {
    const p = this.dim;
    const nu = this.dfMatrix();
    const psi = this.scaleMatrix();
    const d = matrixDiag(psi);
    const outer = tf.mul(tf.expandDims(d, -1), tf.expandDims(d, -2));
    const num = tf.add(tf.mul(tf.sub(nu, p - 1), tf.square(psi)), tf.mul(tf.sub(nu, p + 1), outer));
    const den = tf.mul(tf.mul(tf.sub(nu, p), tf.square(tf.sub(nu, p + 1))), tf.sub(nu, p + 3));
    const finite = tf.where(
      tf.broadcastTo(tf.greater(nu, p + 3), num.shape),
      tf.div(num, den),
      tf.fill(num.shape, Infinity),
    );
    return this.whereDefined(tf.greater(nu, p + 1), finite);
  }
  protected override _entropy(): tf.Tensor {
    const p = this.dim;
    const half = tf.div(this.df, 2);
    const h = tf.add(
      tf.add(
        tf.mul(p + 1, halfLogDet(this.scaleTril)),
        tf.sub(mvlgamma(half, p), (p * (p + 1) * LN2) / 2),
      ),
      tf.sub(tf.mul(this.df, p / 2), tf.mul(tf.div(tf.add(this.df, p + 1), 2), mvdigamma(half, p))),
    );
    return tf.broadcastTo(h, this.batch);
  }
  /** `value` where `ok` (`[...batch, 1, 1]`), else `Infinity` on the diagonal and `NaN` off it. */
  private whereDefined(ok: tf.Tensor, value: tf.Tensor): tf.Tensor {
    const shape = value.shape;
    const diag = tf.broadcastTo(tf.cast(tf.eye(this.dim), 'bool'), shape);
    const fallback = tf.where(diag, tf.fill(shape, Infinity), tf.fill(shape, NaN));
    return tf.where(tf.broadcastTo(ok, shape), value, fallback);
  }
}

/**
 * `KL(IW(nu0, Psi0) || IW(nu1, Psi1))`: the KL of the Wisharts of the inverses (a bijection
 * keeps it), `tr(Sigma1^{-1} Sigma0) = tr(Psi1 Psi0^{-1}) = ||U0^{-1} U1||_F^2` and
 * `log det Sigma0 - log det Sigma1 = log det Psi1 - log det Psi0` in the Wishart formula.
 *
 * @param p the first distribution. @param q the second distribution.
 */
export function klInverseWishartInverseWishart(p: InverseWishart, q: InverseWishart): tf.Tensor {
  const d = p.eventShape[0] as number;
  if (q.eventShape[0] !== d) {
    throw new ArgumentError(
      'q',
      `KL between inverse Wisharts needs the same size, got ${d} and ${q.eventShape[0]}`,
    );
  }
  return tf.tidy(() => {
    const batch = broadcastShapes({ p: p.batchShape, q: q.batchShape });
    const [u0, u1] = broadcastMatrices(p.scaleTril, q.scaleTril);
    const t = tf.sum(tf.square(triangularSolve(u0, u1)), [-2, -1]);
    const r = tf.mul(2, tf.sub(halfLogDet(q.scaleTril), halfLogDet(p.scaleTril)));
    return tf.broadcastTo(wishartKL(p.df, q.df, t, r, d), batch);
  });
}

registerKL(InverseWishart, InverseWishart, klInverseWishartInverseWishart);
