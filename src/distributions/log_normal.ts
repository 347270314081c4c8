/**
 * The log-normal distribution: `exp(X)` for `X ~ N(mu, sigma)`.
 *
 * $$p(x;\mu,\sigma) = \frac{1}{x\sigma\sqrt{2\pi}}\exp\!\Big(-\frac{(\log x-\mu)^2}{2\sigma^2}\Big),
 *   \quad x > 0$$
 *
 * Mean `exp(mu + sigma^2/2)`, variance `(exp(sigma^2) - 1) exp(2 mu + sigma^2)`, mode
 * `exp(mu - sigma^2)`, entropy `mu + 1/2 + log(sigma sqrt(2 pi))`, CDF `Phi((log x - mu)/sigma)`.
 * Reparameterized: `x = exp(mu + sigma eps)`.
 */
import * as tf from '@tensorflow/tfjs';
import { LocationScaleDistribution } from './location_scale.js';
import { registerKL } from './kl.js';
import { gaussianKL } from './normal.js';
import { gt, logNdtr, maskLogProb, ndtr, ndtri, safe } from './special.js';
import { positive, type Constraint } from '../constraints/constraints.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Log-normal distribution; `loc` and `scale > 0` are the mean and standard deviation of `log X`.
 * Constructor `new LogNormal(loc, scale, options?)`; samples are `exp(loc + scale * eps)`.
 *
 * @example
 * ```ts
 * const d = new LogNormal(0, 0.5);
 * d.mean(); // exp(0.125)
 * ```
 */
export class LogNormal extends LocationScaleDistribution {
  /** Support: `(0, inf)`. */
  override get support(): Constraint {
    return positive;
  }
  protected _standardSample(shape: number[], seed: number): tf.Tensor {
    return tf.randomNormal(shape, 0, 1, 'float32', seed);
  }
  /** `exp(loc + scale * eps)`. */
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    return tf.exp(super._rsample(shape, seed));
  }
  /** `log x` with non-positive `x` replaced by 1 (masked by the callers), and its mask. */
  private safeLog(x: tf.Tensor): { pos: tf.Tensor; logx: tf.Tensor } {
    const pos = gt(x, 0);
    return { pos, logx: tf.log(safe(pos, x, 1)) };
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const { pos, logx } = this.safeLog(x);
    const z = this.standardize(logx);
    const lp = tf.neg(
      tf.add(tf.add(tf.mul(0.5, tf.square(z)), tf.add(HALF_LOG_2PI, tf.log(this.scale))), logx),
    );
    return maskLogProb(pos, lp);
  }
  /** `exp(loc + scale * Phi^{-1}(p))`. */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    return tf.exp(tf.add(this.loc, tf.mul(this.scale, ndtri(p))));
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    const { pos, logx } = this.safeLog(x);
    const z = this.standardize(logx);
    return tf.where(pos, ndtr(z), tf.zerosLike(z));
  }
  protected override _logCdf(x: tf.Tensor): tf.Tensor {
    const { pos, logx } = this.safeLog(x);
    return maskLogProb(pos, logNdtr(this.standardize(logx)));
  }
  protected override _survival(x: tf.Tensor): tf.Tensor {
    const { pos, logx } = this.safeLog(x);
    const z = this.standardize(logx);
    return tf.where(pos, ndtr(tf.neg(z)), tf.onesLike(z));
  }
  /** `log Phi(-z)` in log space (the log of the underflowed survival was `-Infinity`). */
  protected override _logSurvival(x: tf.Tensor): tf.Tensor {
    const { pos, logx } = this.safeLog(x);
    const z = this.standardize(logx);
    return tf.where(pos, logNdtr(tf.neg(z)), tf.zerosLike(z));
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(tf.exp(tf.add(this.loc, tf.mul(0.5, tf.square(this.scale)))));
  }
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(tf.exp(tf.sub(this.loc, tf.square(this.scale))));
  }
  protected override _variance(): tf.Tensor {
    const s2 = tf.square(this.scale);
    return this.expandToBatch(tf.mul(tf.expm1(s2), tf.exp(tf.add(tf.mul(2, this.loc), s2))));
  }
  protected override _entropy(): tf.Tensor {
    return this.expandToBatch(tf.add(tf.add(this.loc, tf.log(this.scale)), 0.5 + HALF_LOG_2PI));
  }
}

/**
 * `KL(LogNormal(m1, s1) || LogNormal(m2, s2)) = KL(N(m1, s1) || N(m2, s2))` (KL is invariant).
 *
 * @param p the first distribution.
 * @param q the second distribution.
 * @example
 * ```ts
 * klLogNormalLogNormal(new LogNormal(0, 1), new LogNormal(1, 2)); // same as klDivergence(p, q)
 * ```
 */
export function klLogNormalLogNormal(p: LogNormal, q: LogNormal): tf.Tensor {
  return tf.tidy(() => gaussianKL(p, q));
}

registerKL(LogNormal, LogNormal, klLogNormalLogNormal);
