/**
 * Student's t distribution (location–scale form).
 *
 * $$p(x;\nu,\mu,\sigma) = \frac{\Gamma(\frac{\nu+1}{2})}{\Gamma(\frac\nu2)\sqrt{\nu\pi}\,\sigma}
 *   \Big(1 + \frac{z^2}{\nu}\Big)^{-\frac{\nu+1}{2}},\qquad z = \frac{x-\mu}{\sigma}$$
 *
 * Mean `mu` for `nu > 1` (NaN otherwise), variance `sigma^2 nu/(nu - 2)` for `nu > 2` (Infinity
 * for `1 < nu <= 2`, NaN otherwise), mode `mu`, entropy
 * `(nu+1)/2 (psi((nu+1)/2) - psi(nu/2)) + log(sqrt(nu) B(nu/2, 1/2)) + log sigma`,
 * CDF through the regularized incomplete beta `I_{nu/(nu+z^2)}(nu/2, 1/2)`, quantile through its
 * inverse.
 *
 * Sampling: `x = mu + sigma eps sqrt(nu / (2 G))`, `eps ~ N(0, 1)`, `G ~ Gamma(nu/2)`;
 * `rsample` is differentiable in all three parameters (implicit reparameterization of `G`).
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { broadcastTo } from '../utils/tensor.js';
import { deriveSeeds } from '../utils/seed.js';
import { ScalarDistribution } from './scalar.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { standardGammaRsample } from './host_sampling.js';
import { studentTQuantile } from './quantile_ops.js';
import { betainc, digammaShift, gt, lgammaShift, ndtr, notB, safe, whereB } from './special.js';

/** Degrees of freedom above which the CDF is the corrected normal limit. */
const STUDENT_T_NORMAL_FROM = 1e4;
const HALF_LOG_PI = 0.5 * Math.log(Math.PI);

/**
 * Student's t distribution with degrees of freedom `df > 0`, location `loc` and scale `scale > 0`.
 *
 * @example
 * ```ts
 * const d = new StudentT(3, 0, 1);
 * d.variance(); // 3
 * ```
 */
export class StudentT extends ScalarDistribution {
  /** Degrees of freedom nu. */
  readonly df: tf.Tensor;
  /** Location mu. */
  readonly loc: tf.Tensor;
  /** Scale sigma. */
  readonly scale: tf.Tensor;

  /**
   * @param df degrees of freedom, > 0.
   * @param loc location, any real. Default 0.
   * @param scale scale, > 0. Default 1.
   */
  constructor(
    df: TensorInput,
    loc: TensorInput = 0,
    scale: TensorInput = 1,
    options: DistributionOptions = {},
  ) {
    super(options);
    this.df = this.param(df, 'df');
    this.loc = this.param(loc, 'loc');
    this.scale = this.param(scale, 'scale');
    this.checkPositive(this.df, 'df');
    this.checkFinite(this.loc, 'loc');
    this.checkPositive(this.scale, 'scale');
    this.setBatchShape({ df: this.df, loc: this.loc, scale: this.scale });
  }

  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const [sn, sg] = deriveSeeds(seed, 2) as [number, number];
    const full = [...shape, ...this._batchShape];
    const eps = tf.randomNormal(full, 0, 1, 'float32', sn);
    const halfDf = broadcastTo(tf.mul(0.5, this.df), this._batchShape);
    const g = standardGammaRsample(halfDf, shape, sg);
    const t = tf.mul(eps, tf.sqrt(tf.div(this.df, tf.mul(2, g))));
    return tf.add(this.loc, tf.mul(this.scale, t));
  }
  private z(x: tf.Tensor): tf.Tensor {
    return tf.div(tf.sub(x, this.loc), this.scale);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const nu = this.df;
    const half1 = tf.mul(0.5, tf.add(nu, 1));
    // lgamma((nu + 1)/2) - lgamma(nu/2) without cancellation (it lost all digits at nu = 1e8)
    const logNorm = tf.add(
      lgammaShift(tf.mul(0.5, nu), 0.5),
      tf.neg(tf.add(tf.mul(0.5, tf.log(tf.mul(Math.PI, nu))), tf.log(this.scale))),
    );
    return tf.sub(logNorm, tf.mul(half1, log1p(tf.div(tf.square(this.z(x)), nu))));
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return this.standardCdf(this.z(x));
  }
  /**
   * `F(-z)` by symmetry: the upper tail keeps its relative accuracy (`1 - cdf` was 0 beyond
   * `z ~ 1e3` at `df = 3`, so `logSurvival` was `-Infinity` where it is -20.6).
   */
  protected override _survival(x: tf.Tensor): tf.Tensor {
    return this.standardCdf(tf.neg(this.z(x)));
  }
  /** The CDF of the standardized variable `z = (x - loc)/scale`. */
  private standardCdf(z: tf.Tensor): tf.Tensor {
    // P(|T| > |z|) = I_{nu/(nu+z^2)}(nu/2, 1/2); the complement z^2/(nu+z^2) is given exactly.
    // Above df = 1e4, the normal limit with Fisher's correction
    // Phi(z (1 - 1/(4 nu)) / sqrt(1 + z^2/(2 nu))) (error O(nu^-2), below 1e-8 absolute there;
    // the incomplete beta at such parameters costs thousands of terms and lost 1e-2 at 1e5).
    const large = gt(this.df, STUDENT_T_NORMAL_FROM);
    const nuB = safe(notB(large), this.df, 1);
    const nuL = safe(large, this.df, STUDENT_T_NORMAL_FROM);
    const z2 = tf.square(z);
    const denom = tf.add(nuB, z2);
    const tail = tf.mul(
      0.5,
      betainc(tf.mul(0.5, nuB), tf.scalar(0.5), tf.div(nuB, denom), tf.div(z2, denom)),
    );
    const small = tf.where(gt(z, 0), tf.sub(1, tail), tail);
    const zl = tf.div(
      tf.mul(z, tf.sub(1, tf.div(0.25, nuL))),
      tf.sqrt(tf.add(1, tf.div(z2, tf.mul(2, nuL)))),
    );
    return whereB(large, ndtr(zl), small);
  }
  /**
   * `mu + sigma T_nu^{-1}(p)`, the standard quantile from the inverse regularized incomplete
   * beta (`I_u(nu/2, 1/2) = 2 min(p, 1 - p)`, `T^2 = nu (1 - u)/u`; Cornish–Fisher above
   * `nu = 1e7`), differentiable in `p`, `nu` (implicit function theorem), `mu` and `sigma`.
   */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    return tf.add(this.loc, tf.mul(this.scale, studentTQuantile(this.df, p)));
  }
  protected override _mean(): tf.Tensor {
    const loc = this.expandToBatch(this.loc);
    return tf.where(gt(this.expandToBatch(this.df), 1), loc, tf.fill(loc.shape, NaN));
  }
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(this.loc);
  }
  protected override _variance(): tf.Tensor {
    const nu = this.expandToBatch(this.df);
    const v = tf.div(tf.mul(tf.square(this.scale), nu), tf.sub(nu, 2));
    return tf.where(
      gt(nu, 2),
      v,
      tf.where(gt(nu, 1), tf.fill(nu.shape, Infinity), tf.fill(nu.shape, NaN)),
    );
  }
  protected override _entropy(): tf.Tensor {
    // (nu+1)/2 [psi((nu+1)/2) - psi(nu/2)] + log(sqrt(nu) B(nu/2, 1/2)) + log sigma, with
    // log B(nu/2, 1/2) = log Gamma(1/2) - [log Gamma(nu/2 + 1/2) - log Gamma(nu/2)] and both
    // differences taken without cancellation (they are ~1/nu and ~log(nu)/2 at large nu)
    const nu = this.df;
    const half = tf.mul(0.5, nu);
    const half1 = tf.add(half, 0.5);
    return this.expandToBatch(
      tf.add(
        tf.mul(half1, digammaShift(half, 0.5)),
        tf.add(
          tf.sub(tf.add(tf.mul(0.5, tf.log(nu)), HALF_LOG_PI), lgammaShift(half, 0.5)),
          tf.log(this.scale),
        ),
      ),
    );
  }
}
