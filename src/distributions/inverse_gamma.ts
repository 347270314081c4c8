/**
 * The inverse-gamma distribution: `1/X` for `X ~ Gamma(alpha, beta)` (here `beta` is the scale of
 * the inverse gamma, the rate of the gamma).
 *
 * $$p(x;\alpha,\beta) = \frac{\beta^\alpha}{\Gamma(\alpha)}x^{-\alpha-1}e^{-\beta/x},\quad x > 0,
 *   \qquad F(x) = Q(\alpha, \beta/x).$$
 *
 * Mean `beta/(alpha-1)` (alpha > 1, else inf), variance `beta^2/((alpha-1)^2(alpha-2))`
 * (alpha > 2), mode `beta/(alpha+1)`, entropy `alpha + log(beta Gamma(alpha)) - (1+alpha) psi(alpha)`.
 * `rsample` is `beta / g`, `g ~ Gamma(alpha, 1)` reparameterized (implicit gradients in alpha).
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeRateDistribution } from './shape_rate.js';
import { registerKL } from './kl.js';
import { gammaQuantile } from './quantile_ops.js';
import {
  digamma,
  digammaMinusLog,
  gammaincPQ,
  gammaLogDensity,
  gt,
  lgamma,
  maskLogProb,
  safe,
  stirlingError,
  whereB,
} from './special.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Inverse-gamma distribution with `concentration` alpha > 0 and `rate` (scale) beta > 0.
 *
 * @example
 * ```ts
 * const d = new InverseGamma(3, 2);
 * d.mean(); // 1
 * ```
 */
export class InverseGamma extends ShapeRateDistribution {
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    return tf.div(this.rate, this.standardGamma(shape, seed));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const pos = gt(x, 0);
    const xs = safe(pos, x, 1);
    const a = this.concentration;
    // the Gamma density of 1/x in Loader's form: log b - 2 log x + g(a, b / x)
    const logY = tf.sub(tf.log(this.rate), tf.log(xs));
    const lp = tf.add(
      tf.sub(tf.log(this.rate), tf.mul(2, tf.log(xs))),
      gammaLogDensity(a, tf.div(this.rate, xs), logY),
    );
    return maskLogProb(pos, lp);
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    const pos = gt(x, 0);
    const q = gammaincPQ(this.concentration, tf.div(this.rate, safe(pos, x, 1)))[1];
    return whereB(pos, q, tf.zerosLike(q));
  }
  /**
   * `beta / Q^{-1}(alpha, p)`: `P(Y <= y) = Q(alpha, beta/y)`, the upper regularized incomplete
   * gamma inverted directly (no `1 - p`), differentiable in `p` and both parameters.
   */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    return tf.div(this.rate, gammaQuantile(this.concentration, p, true));
  }
  protected override _mean(): tf.Tensor {
    const a = this.expandToBatch(this.concentration);
    const m = tf.div(this.rate, tf.sub(a, 1));
    return tf.where(gt(a, 1), m, tf.fill(a.shape, Infinity));
  }
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(tf.div(this.rate, tf.add(this.concentration, 1)));
  }
  protected override _variance(): tf.Tensor {
    const a = this.expandToBatch(this.concentration);
    const v = tf.div(tf.square(this.rate), tf.mul(tf.square(tf.sub(a, 1)), tf.sub(a, 2)));
    return tf.where(gt(a, 2), v, tf.fill(a.shape, Infinity));
  }
  protected override _entropy(): tf.Tensor {
    // a + log b + lgamma(a) - (1 + a) psi(a) = log b + delta(a) + log(2 pi)/2 - (3/2) log a
    // - (1 + a) r(a), with r(a) = psi(a) - log a (no cancellation of a log a terms)
    const a = this.concentration;
    return this.expandToBatch(
      tf.add(
        tf.add(tf.log(this.rate), tf.add(stirlingError(a), HALF_LOG_2PI)),
        tf.sub(tf.mul(-1.5, tf.log(a)), tf.mul(tf.add(1, a), digammaMinusLog(a))),
      ),
    );
  }
}

/**
 * `KL(IG(a1, b1) || IG(a2, b2))`, equal to the KL of the gammas of `1/X` (KL is invariant under
 * the bijection `x -> 1/x`):
 *
 * $$(a_1 - a_2)\psi(a_1) - \log\Gamma(a_1) + \log\Gamma(a_2) + a_2(\log b_1 - \log b_2)
 *   + a_1\frac{b_2 - b_1}{b_1}.$$
 *
 * @param p the first distribution. @param q the second distribution.
 */
export function klInverseGammaInverseGamma(p: InverseGamma, q: InverseGamma): tf.Tensor {
  return tf.tidy(() => {
    const a1 = p.concentration;
    const b1 = p.rate;
    const a2 = q.concentration;
    const b2 = q.rate;
    return tf.add(
      tf.add(
        tf.sub(tf.mul(tf.sub(a1, a2), digamma(a1)), lgamma(a1)),
        tf.add(lgamma(a2), tf.mul(a2, tf.sub(tf.log(b1), tf.log(b2)))),
      ),
      tf.mul(a1, tf.div(tf.sub(b2, b1), b1)),
    );
  });
}

registerKL(InverseGamma, InverseGamma, klInverseGammaInverseGamma);
