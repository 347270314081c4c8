/**
 * The Gumbel (type-I extreme value) distribution.
 *
 * $$p(x;\mu,\beta) = \frac1\beta\exp\!\big(-(z + e^{-z})\big),\qquad z = \frac{x-\mu}{\beta}$$
 *
 * CDF `exp(-exp(-z))`, mean `mu + beta gamma_E`, variance `pi^2 beta^2 / 6`, mode `mu`, entropy
 * `log beta + gamma_E + 1`. Reparameterized: `x = mu - beta log(-log u)`, `u ~ U(0, 1)`.
 */
import * as tf from '@tensorflow/tfjs';
import { LocationScaleDistribution } from './location_scale.js';
import { registerKL } from './kl.js';
import { lgamma, log1mExpNeg, openUniform } from './special.js';

/** The Euler–Mascheroni constant. */
export const EULER_GAMMA = 0.5772156649015329;

/**
 * Gumbel distribution with location `loc` (mode) and scale `scale > 0`. Constructor
 * `new Gumbel(loc, scale, options?)`.
 *
 * @example
 * ```ts
 * const d = new Gumbel(0, 2);
 * d.mean(); // 2 * 0.5772...
 * ```
 */
export class Gumbel extends LocationScaleDistribution {
  protected _standardSample(shape: number[], seed: number): tf.Tensor {
    return tf.neg(tf.log(tf.neg(tf.log(openUniform(shape, seed)))));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const z = this.standardize(x);
    return tf.sub(tf.neg(tf.add(z, tf.exp(tf.neg(z)))), tf.log(this.scale));
  }
  /** `loc - scale log(-log p)`. */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    return tf.sub(this.loc, tf.mul(this.scale, tf.log(tf.neg(tf.log(p)))));
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return tf.exp(tf.neg(tf.exp(tf.neg(this.standardize(x)))));
  }
  protected override _logCdf(x: tf.Tensor): tf.Tensor {
    return tf.neg(tf.exp(tf.neg(this.standardize(x))));
  }
  protected override _survival(x: tf.Tensor): tf.Tensor {
    return tf.neg(tf.expm1(tf.neg(tf.exp(tf.neg(this.standardize(x))))));
  }
  /** `log(1 - exp(-e^{-z}))` from `log t = -z` ({@link log1mExpNeg}): `~ -z` far right. */
  protected override _logSurvival(x: tf.Tensor): tf.Tensor {
    const negZ = tf.neg(this.standardize(x));
    return log1mExpNeg(tf.exp(negZ), negZ);
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(tf.add(this.loc, tf.mul(EULER_GAMMA, this.scale)));
  }
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(this.loc);
  }
  protected override _variance(): tf.Tensor {
    return this.expandToBatch(tf.mul((Math.PI * Math.PI) / 6, tf.square(this.scale)));
  }
  protected override _entropy(): tf.Tensor {
    return this.expandToBatch(tf.add(tf.log(this.scale), EULER_GAMMA + 1));
  }
}

/**
 * `KL(G(m1, b1) || G(m2, b2)) = log(b2/b1) + gamma_E (b1/b2 - 1)
 *   + exp((m2 - m1)/b2) Gamma(b1/b2 + 1) - 1 + (m1 - m2)/b2`.
 *
 * @param p the first distribution.
 * @param q the second distribution.
 * @example
 * ```ts
 * klGumbelGumbel(new Gumbel(0, 1), new Gumbel(1, 2)); // same as klDivergence(p, q)
 * ```
 */
export function klGumbelGumbel(p: Gumbel, q: Gumbel): tf.Tensor {
  return tf.tidy(() => {
    const r = tf.div(p.scale, q.scale);
    const d = tf.div(tf.sub(p.loc, q.loc), q.scale);
    return tf.add(
      tf.add(tf.neg(tf.log(r)), tf.mul(EULER_GAMMA, tf.sub(r, 1))),
      tf.add(tf.expm1(tf.add(tf.neg(d), lgamma(tf.add(r, 1)))), d),
    );
  });
}

registerKL(Gumbel, Gumbel, klGumbelGumbel);
