/**
 * The Wishart distribution over symmetric positive-definite `p x p` matrices, as
 * `torch.distributions.Wishart(df, covariance_matrix | precision_matrix | scale_tril)` (NumPyro's
 * `Wishart`): with `Sigma = L L^T`,
 *
 * $$\log p(X) = \tfrac{\nu - p - 1}2\log\det X - \tfrac12\operatorname{tr}(\Sigma^{-1}X)
 *   - \tfrac{\nu p}2\log 2 - \tfrac\nu2\log\det\Sigma - \log\Gamma_p\big(\tfrac\nu2\big),
 *   \qquad \nu > p - 1,$$
 *
 * a density with respect to the `p(p+1)/2` lower-triangular entries of `X`. Mean `nu Sigma`,
 * variance `nu (Sigma_ij^2 + Sigma_ii Sigma_jj)`, mode `(nu - p - 1) Sigma` (`NaN` for
 * `nu <= p + 1`, as torch), entropy
 * `(p+1)/2 log det Sigma + p(p+1)/2 log 2 + log Gamma_p(nu/2) - (nu-p-1)/2 psi_p(nu/2) + nu p/2`.
 *
 * Sampling by the Bartlett decomposition `X = L A A^T L^T`, `A` lower triangular with
 * `A_ii = sqrt(chi2(nu - i + 1))` and `A_ij ~ N(0, 1)` below the diagonal; `rsample` is
 * differentiable in `Sigma` and, through the Gamma's implicit reparameterization, in `nu`.
 * Support `positiveDefinite` (`bijectTo`: `LowerCholeskyTransform` then `L L^T`).
 */
import * as tf from '@tensorflow/tfjs';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { DfScaleDistribution } from './df_scale.js';
import { Gamma } from './gamma.js';
import { registerKL } from './kl.js';
import { mvdigamma, mvlgamma } from './special.js';
import { ArgumentError } from '../utils/errors.js';
import { deriveSeeds } from '../utils/seed.js';
import { broadcastShapes } from '../utils/tensor.js';
import {
  cholesky,
  matrixDiag,
  triangularSolve,
  trilGram,
  trilInverseGram,
  vecToTril,
} from '../utils/linalg.js';
import './expanded.js';
import './independent.js';

const LN2 = Math.LN2;

/** The scale parameterization of {@link Wishart} (exactly one key), as torch's. */
export type WishartScale =
  | { covarianceMatrix: TensorInput; precisionMatrix?: never; scaleTril?: never }
  | { precisionMatrix: TensorInput; covarianceMatrix?: never; scaleTril?: never }
  | { scaleTril: TensorInput; covarianceMatrix?: never; precisionMatrix?: never };

type ScaleKey = 'covarianceMatrix' | 'precisionMatrix' | 'scaleTril';

/**
 * @internal The one key of a `{covarianceMatrix | precisionMatrix | scaleTril}` object, or an
 * `ArgumentError` naming `argName` and the keys given.
 */
export function readScaleKey(scale: unknown, argName: string, keys: readonly ScaleKey[]): ScaleKey {
  const given =
    scale !== null &&
    typeof scale === 'object' &&
    !Array.isArray(scale) &&
    !(scale instanceof tf.Tensor)
      ? keys.filter((k) => (scale as Record<string, unknown>)[k] !== undefined)
      : [];
  if (given.length !== 1) {
    throw new ArgumentError(
      argName,
      `give exactly one of ${keys.join(', ')} (got ${given.length === 0 ? 'none' : given.join(', ')})`,
    );
  }
  return given[0] as ScaleKey;
}

/** @internal The lower Cholesky factor of the covariance from one parameterization. */
export function scaleTrilOf(key: ScaleKey, m: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    if (key === 'scaleTril') return m.clone();
    if (key === 'covarianceMatrix') return cholesky(m);
    const n = m.shape[m.rank - 1] as number;
    const c = cholesky(m); // P = C C^T, Sigma = C^{-T} C^{-1}
    const cInv = triangularSolve(c, tf.broadcastTo(tf.eye(n), c.shape));
    return cholesky(tf.matMul(cInv, cInv, true, false));
  });
}

/**
 * @internal The Bartlett factor `A`, shape `[...shape, ...batch, p, p]`: lower triangular with
 * `A_ii = sqrt(chi2(nu - i))` (0-based `i`) and standard normals below the diagonal, so that
 * `A A^T ~ Wishart(nu, I)`. Differentiable in `nu` (implicit reparameterization of the Gamma).
 */
export function bartlettFactor(
  df: tf.Tensor,
  p: number,
  shape: number[],
  batch: number[],
  seed: number,
): tf.Tensor {
  const [sg, sn] = deriveSeeds(seed, 2) as [number, number];
  const offsets = tf.tensor1d(Array.from({ length: p }, (_, i) => 0.5 * i));
  const conc = tf.sub(tf.expandDims(tf.mul(0.5, tf.broadcastTo(df, batch)), -1), offsets);
  const gamma = new Gamma(conc, 0.5, { validateArgs: false });
  let chi2: tf.Tensor;
  try {
    chi2 = gamma.rsample(shape, sg); // [...shape, ...batch, p]
  } finally {
    gamma.dispose();
  }
  const diag = tf.mul(tf.expandDims(tf.sqrt(chi2), -1), tf.eye(p));
  if (p === 1) return diag;
  const m = (p * (p - 1)) / 2;
  const normals = tf.randomNormal([...shape, ...batch, m], 0, 1, 'float32', sn);
  return tf.add(diag, vecToTril(normals, p, -1));
}

/** `a` and `b` broadcast to their common leading (batch) dims, last two dims kept. */
export function broadcastMatrices(a: tf.Tensor, b: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const lead = broadcastShapes({ a: a.shape.slice(0, -2), b: b.shape.slice(0, -2) });
  return [
    tf.broadcastTo(a, [...lead, ...a.shape.slice(-2)]),
    tf.broadcastTo(b, [...lead, ...b.shape.slice(-2)]),
  ];
}

/** `sum_i log L_ii` of lower-triangular factors: half the log-determinant of `L L^T`. */
export function halfLogDet(l: tf.Tensor): tf.Tensor {
  return tf.sum(tf.log(matrixDiag(l)), -1);
}

/**
 * Wishart distribution `W(nu, Sigma)` with event shape `[p, p]`.
 *
 * @example
 * ```ts
 * const d = new Wishart(5, { covarianceMatrix: [[2, 0.5], [0.5, 1]] });
 * d.mean();          // 5 * Sigma
 * d.rsample([100]);  // [100, 2, 2] positive-definite draws
 * ```
 */
export class Wishart extends DfScaleDistribution {
  /**
   * @param df degrees of freedom, `nu > p - 1`.
   * @param scale exactly one of `covarianceMatrix` (the scale `Sigma`, symmetric positive
   *   definite), `precisionMatrix` (its inverse) or `scaleTril` (lower triangular, positive
   *   diagonal), shape `[..., p, p]`.
   * @param options validation flag and name.
   */
  constructor(df: TensorInput, scale: WishartScale, options: DistributionOptions = {}) {
    super(
      df,
      () => {
        const key = readScaleKey(scale, 'scale', [
          'covarianceMatrix',
          'precisionMatrix',
          'scaleTril',
        ]);
        return {
          raw: (scale as unknown as Record<ScaleKey, TensorInput>)[key],
          key,
          tril: key === 'scaleTril',
          toTril: (m: tf.Tensor) => scaleTrilOf(key, m),
        };
      },
      options,
    );
  }

  /** The scale `Sigma = L L^T` (a new tensor). */
  covarianceMatrix(): tf.Tensor {
    return trilGram(this.scaleTril);
  }
  /** The precision `Sigma^{-1}` (a new tensor). */
  precisionMatrix(): tf.Tensor {
    return trilInverseGram(this.scaleTril);
  }

  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const full = [...shape, ...this.batchShape, ...this.eventShape];
    if (full.includes(0)) return tf.zeros(full); // tfjs's wasm transpose fails on empty tensors
    const a = bartlettFactor(this.df, this.dim, shape, this.batch, seed);
    const l = tf.broadcastTo(this.scaleTril, a.shape);
    const la = tf.matMul(l, a);
    return tf.matMul(la, la, false, true);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const p = this.dim;
    const nu = this.df;
    const [lx, l] = broadcastMatrices(cholesky(x), this.scaleTril);
    const trace = tf.sum(tf.square(triangularSolve(l, lx)), [-2, -1]); // tr(Sigma^{-1} X)
    const logDetX = tf.mul(2, halfLogDet(lx));
    return tf.sub(
      tf.add(
        tf.mul(tf.neg(nu), tf.add((p * LN2) / 2, halfLogDet(this.scaleTril))),
        tf.mul(tf.div(tf.sub(nu, p + 1), 2), logDetX),
      ),
      tf.add(mvlgamma(tf.div(nu, 2), p), tf.div(trace, 2)),
    );
  }
  protected override _mean(): tf.Tensor {
    return tf.mul(this.dfMatrix(), this.covarianceMatrix());
  }
  /** `(nu - p - 1) Sigma`, `NaN` where `nu <= p + 1` (torch's convention). */
  protected override _mode(): tf.Tensor {
    const f = tf.sub(this.dfMatrix(), this.dim + 1);
    const mode = tf.mul(f, this.covarianceMatrix());
    return tf.where(tf.greater(tf.broadcastTo(f, mode.shape), 0), mode, tf.fill(mode.shape, NaN));
  }
  /** `Var(X_ij) = nu (Sigma_ij^2 + Sigma_ii Sigma_jj)`. */
  protected override _variance(): tf.Tensor {
    const s = this.covarianceMatrix();
    const d = matrixDiag(s);
    const outer = tf.mul(tf.expandDims(d, -1), tf.expandDims(d, -2));
    return tf.mul(this.dfMatrix(), tf.add(tf.square(s), outer));
  }
  protected override _entropy(): tf.Tensor {
    const p = this.dim;
    const half = tf.div(this.df, 2);
    const h = tf.add(
      tf.add(tf.mul(p + 1, tf.add((p * LN2) / 2, halfLogDet(this.scaleTril))), mvlgamma(half, p)),
      tf.sub(tf.mul(this.df, p / 2), tf.mul(tf.div(tf.sub(this.df, p + 1), 2), mvdigamma(half, p))),
    );
    return tf.broadcastTo(h, this.batch);
  }
}

/**
 * The Wishart KL from its parts, `KL(W(nu0, Sigma0) || W(nu1, Sigma1))` with
 * `t = tr(Sigma1^{-1} Sigma0)` and `r = log det Sigma0 - log det Sigma1`:
 *
 * $$\mathrm{KL} = -\tfrac{\nu_1}2 r + \tfrac{\nu_0}2 (t - p) + \log\Gamma_p(\tfrac{\nu_1}2)
 *   - \log\Gamma_p(\tfrac{\nu_0}2) + \tfrac{\nu_0 - \nu_1}2\psi_p(\tfrac{\nu_0}2).$$
 *
 * @internal shared with the inverse Wishart (a bijection keeps the KL).
 */
export function wishartKL(
  nu0: tf.Tensor,
  nu1: tf.Tensor,
  t: tf.Tensor,
  r: tf.Tensor,
  p: number,
): tf.Tensor {
  return tf.tidy(() => {
    const h0 = tf.div(nu0, 2);
    const h1 = tf.div(nu1, 2);
    return tf.add(
      tf.add(tf.mul(tf.neg(h1), r), tf.mul(h0, tf.sub(t, p))),
      tf.add(tf.sub(mvlgamma(h1, p), mvlgamma(h0, p)), tf.mul(tf.sub(h0, h1), mvdigamma(h0, p))),
    );
  });
}

/**
 * `KL(W(nu0, Sigma0) || W(nu1, Sigma1))` in closed form (see {@link wishartKL}), with
 * `tr(Sigma1^{-1} Sigma0) = ||L1^{-1} L0||_F^2`.
 *
 * @param p the first distribution. @param q the second distribution.
 */
export function klWishartWishart(p: Wishart, q: Wishart): tf.Tensor {
  const d = p.eventShape[0] as number;
  if (q.eventShape[0] !== d) {
    throw new ArgumentError(
      'q',
      `KL between Wisharts needs the same size, got ${d} and ${q.eventShape[0]}`,
    );
  }
  return tf.tidy(() => {
    const batch = broadcastShapes({ p: p.batchShape, q: q.batchShape });
    const [l1, l0] = broadcastMatrices(q.scaleTril, p.scaleTril);
    const t = tf.sum(tf.square(triangularSolve(l1, l0)), [-2, -1]);
    const r = tf.mul(2, tf.sub(halfLogDet(p.scaleTril), halfLogDet(q.scaleTril)));
    return tf.broadcastTo(wishartKL(p.df, q.df, t, r, d), batch);
  });
}

registerKL(Wishart, Wishart, klWishartWishart);
