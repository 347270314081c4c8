/**
 * The Normal (Gaussian) distribution.
 *
 * $$p(x;\mu,\sigma) = \frac{1}{\sigma\sqrt{2\pi}}\exp\!\Big(-\frac{(x-\mu)^2}{2\sigma^2}\Big)$$
 *
 * Mean and mode `mu`, variance `sigma^2`, entropy `1/2 log(2 pi e sigma^2)`,
 * CDF `Phi((x-mu)/sigma) = 1/2 erfc(-(x-mu)/(sigma sqrt 2))` (accurate in both tails; `logCdf`
 * is computed in log space). Reparameterized: `x = mu + sigma * eps`.
 *
 * Sampling and the log-density run deepprob's fused Normal kernels on wasm/cpu (one kernel forward,
 * one per needed gradient backward; `backend/normal_fused.ts`) and composed tfjs ops elsewhere;
 * the noise is deepprob's seeded `randomNormal` on every path.
 */
import * as tf from '@tensorflow/tfjs';
import { normalLogProb, normalLogProbSum, normalRsample } from '../backend/normal_fused.js';
import { randomNormal } from '../backend/random.js';
import type { TensorInput } from './distribution.js';
import { LocationScaleDistribution } from './location_scale.js';
import { registerKL } from './kl.js';
import { logNdtr, ndtr, ndtri } from './special.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Normal distribution with location `loc` (mean) and scale `scale` (standard deviation > 0).
 * Constructor `new Normal(loc, scale, options?)`.
 *
 * @example
 * ```ts
 * const d = new Normal(0, [1, 2]);      // batch of two
 * d.logProb([0.5, 0.5]);                // shape [2]
 * d.rsample([100]);                     // shape [100, 2], differentiable in loc and scale
 * ```
 */
export class Normal extends LocationScaleDistribution {
  protected _standardSample(shape: number[], seed: number): tf.Tensor {
    return randomNormal(shape, 0, 1, seed);
  }
  /** `loc + scale * eps`, `eps ~ N(0, I)` from `randomNormal`, one fused kernel where available. */
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    return normalRsample(this.loc, this.scale, [...shape, ...this.batchShape], seed);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    return normalLogProb(x, this.loc, this.scale);
  }
  /**
   * `sum_i log p(x_i) = sum_i [-z_i^2/2 - log(scale_i)] - n log(2 pi)/2`, `z = (x - loc)/scale`,
   * over every element of `broadcast(value, batchShape)`: equal to `tf.sum(logProb(value))`, in
   * one kernel forward (float64 sum) and one per needed gradient backward on wasm/cpu (what the
   * ELBO estimators sum per site).
   *
   * @param value the values (broadcast against the batch shape).
   * @returns a new scalar.
   * @example
   * ```ts
   * new Normal(tf.zeros([784, 1024]), 1).logProbSum(w); // log N(w; 0, I)
   * ```
   */
  logProbSum(value: TensorInput): tf.Scalar {
    return tf.tidy(() => normalLogProbSum(this.checkValue(value), this.loc, this.scale));
  }
  /** `loc + scale * Phi^{-1}(p)`. */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    return tf.add(this.loc, tf.mul(this.scale, ndtri(p)));
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return ndtr(this.standardize(x));
  }
  protected override _logCdf(x: tf.Tensor): tf.Tensor {
    return logNdtr(this.standardize(x));
  }
  protected override _survival(x: tf.Tensor): tf.Tensor {
    return ndtr(tf.neg(this.standardize(x)));
  }
  protected override _logSurvival(x: tf.Tensor): tf.Tensor {
    return logNdtr(tf.neg(this.standardize(x)));
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(this.loc);
  }
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(this.loc);
  }
  protected override _variance(): tf.Tensor {
    return this.expandToBatch(tf.square(this.scale));
  }
  protected override _stddev(): tf.Tensor {
    return this.expandToBatch(this.scale);
  }
  protected override _entropy(): tf.Tensor {
    return this.expandToBatch(tf.add(0.5 + HALF_LOG_2PI, tf.log(this.scale)));
  }
}

/**
 * `KL(N(mu1, s1) || N(mu2, s2)) = log(s2/s1) + (s1^2 + (mu1-mu2)^2) / (2 s2^2) - 1/2`
 *
 * @param p the first distribution.
 * @param q the second distribution.
 * @example
 * ```ts
 * klNormalNormal(new Normal(0, 1), new Normal(1, 2)); // same as klDivergence(p, q)
 * ```
 */
export function klNormalNormal(p: Normal, q: Normal): tf.Tensor {
  return tf.tidy(() => gaussianKL(p, q));
}

/**
 * The Gaussian KL from the parameters alone, shared by Normal and LogNormal (a bijection of both
 * preserves the KL): `KL = 1/2 (r^2 + d^2 - 1 - 2 log r)`, `r = s1/s2`, `d = (mu1 - mu2)/s2`.
 * Intermediates are not freed: call it inside `tf.tidy`.
 *
 * @param p `loc` (mu1) and `scale` (s1) of the first distribution.
 * @param q `loc` (mu2) and `scale` (s2) of the second distribution.
 * @example
 * ```ts
 * tf.tidy(() => gaussianKL(new Normal(0, 1), new Normal(1, 2)));
 * ```
 */
export function gaussianKL(p: GaussianParams, q: GaussianParams): tf.Tensor {
  const ratio = tf.div(p.scale, q.scale);
  const diff = tf.div(tf.sub(p.loc, q.loc), q.scale);
  return tf.mul(
    0.5,
    tf.sub(tf.add(tf.square(ratio), tf.square(diff)), tf.add(1, tf.mul(2, tf.log(ratio)))),
  );
}

/** The parameters {@link gaussianKL} reads: mean `loc` and standard deviation `scale`. */
export interface GaussianParams {
  readonly loc: tf.Tensor;
  readonly scale: tf.Tensor;
}

registerKL(Normal, Normal, klNormalNormal);
