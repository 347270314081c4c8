/**
 * The Gamma distribution (shape–rate parameterization).
 *
 * $$p(x;\alpha,\beta) = \frac{\beta^\alpha}{\Gamma(\alpha)}x^{\alpha-1}e^{-\beta x},\quad x > 0$$
 *
 * At `x = 0` `logProb` is the density's limit (torch's `xlogy`): `log beta` for `alpha = 1`,
 * `+inf` for `alpha < 1`, `-inf` for `alpha > 1` (the support stays `(0, inf)`, as NumPyro's).
 *
 * CDF `P(alpha, beta x)` (regularized lower incomplete gamma), quantile `P^{-1}(alpha, p)/beta`
 * (differentiable in `p` and both parameters), mean `alpha/beta`, variance
 * `alpha/beta^2`, mode `(alpha - 1)/beta` for `alpha >= 1` (0 otherwise, where the density is
 * unbounded at 0), entropy `alpha - log beta + log Gamma(alpha) + (1 - alpha) psi(alpha)`.
 *
 * Sampling: Marsaglia–Tsang on the host (float64), seeded. `rsample` is differentiable in both
 * parameters: in `rate` through `x = g / beta`, in `concentration` by implicit reparameterization
 * `dx/dalpha = -(dF/dalpha)(x; alpha) / f(x; alpha)` (Figurnov et al., 2018).
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeRateDistribution } from './shape_rate.js';
import { registerKL } from './kl.js';
import { gammaQuantile } from './quantile_ops.js';
import {
  digamma,
  digammaMinusLog,
  eq,
  gammaincPQ,
  gammaLogDensity,
  ge,
  gt,
  lgamma,
  lt,
  maskLogProb,
  safe,
  stirlingError,
  whereB,
} from './special.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Gamma distribution with `concentration` (shape alpha > 0) and `rate` (beta > 0).
 *
 * @example
 * ```ts
 * const d = new Gamma(2, 3);
 * d.mean();          // 2/3
 * d.rsample([100]);  // differentiable in both parameters
 * ```
 */
export class Gamma extends ShapeRateDistribution {
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    return tf.div(this.standardGamma(shape, seed), this.rate);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const pos = gt(x, 0);
    const a = this.concentration;
    const xs = safe(pos, x, 1);
    const logRate = tf.log(this.rate);
    // Loader's form (float32-accurate at large concentrations): log b + g(a, b x)
    const lp = tf.add(
      logRate,
      gammaLogDensity(a, tf.mul(this.rate, xs), tf.add(logRate, tf.log(xs))),
    );
    // x = 0: the density's limit (torch's and NumPyro's xlogy(a - 1, x)): log b at a = 1
    // (the Exponential), +inf for a < 1, -inf for a > 1
    const atZero = whereB(
      eq(a, 1),
      logRate,
      whereB(lt(a, 1), tf.scalar(Infinity), tf.scalar(-Infinity)),
    );
    return maskLogProb(ge(x, 0), whereB(pos, lp, atZero));
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return gammaincPQ(this.concentration, tf.mul(this.rate, tf.relu(x)))[0];
  }
  protected override _survival(x: tf.Tensor): tf.Tensor {
    return gammaincPQ(this.concentration, tf.mul(this.rate, tf.relu(x)))[1];
  }
  /**
   * `P^{-1}(alpha, p) / beta` (float64 host inverse of the regularized incomplete gamma,
   * `quantile_ops.ts`): differentiable in `p` (`dx/dp = 1/f(x)`) and in both parameters
   * (`dx/dalpha = -(dP/dalpha)/f(x)` by the implicit function theorem, `dx/dbeta = -x/beta`).
   */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    return tf.div(gammaQuantile(this.concentration, p), this.rate);
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(tf.div(this.concentration, this.rate));
  }
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(tf.div(tf.relu(tf.sub(this.concentration, 1)), this.rate));
  }
  protected override _variance(): tf.Tensor {
    return this.expandToBatch(tf.div(this.concentration, tf.square(this.rate)));
  }
  protected override _entropy(): tf.Tensor {
    // a - log b + lgamma(a) + (1 - a) psi(a), with lgamma(a) = delta(a) + (a - 1/2) log a - a
    // + log(2 pi)/2 and psi(a) = log a + r(a): no term of order a log a is left to cancel
    const a = this.concentration;
    return this.expandToBatch(
      tf.add(
        tf.add(stirlingError(a), tf.add(tf.mul(0.5, tf.log(a)), HALF_LOG_2PI)),
        tf.sub(tf.mul(tf.sub(1, a), digammaMinusLog(a)), tf.log(this.rate)),
      ),
    );
  }
}

/**
 * `KL(Gamma(a1, b1) || Gamma(a2, b2)) = (a1 - a2) psi(a1) - log Gamma(a1) + log Gamma(a2)
 *   + a2 (log b1 - log b2) + a1 (b2 - b1) / b1`.
 *
 * @param p the first distribution.
 * @param q the second distribution.
 * @example
 * ```ts
 * klGammaGamma(new Gamma(2, 1), new Gamma(3, 2)); // same as klDivergence(p, q)
 * ```
 */
export function klGammaGamma(p: Gamma, q: Gamma): tf.Tensor {
  return tf.tidy(() => {
    const a1 = p.concentration;
    const a2 = q.concentration;
    return tf.add(
      tf.add(tf.mul(tf.sub(a1, a2), digamma(a1)), tf.sub(lgamma(a2), lgamma(a1))),
      tf.add(
        tf.mul(a2, tf.sub(tf.log(p.rate), tf.log(q.rate))),
        tf.mul(a1, tf.div(tf.sub(q.rate, p.rate), p.rate)),
      ),
    );
  });
}

registerKL(Gamma, Gamma, klGammaGamma);
