/**
 * The soft Laplace distribution (NumPyro's `SoftLaplace`): a smooth, log-concave density with
 * Laplace-like (exponential) tails, a differentiable alternative to the Laplace in HMC.
 *
 * $$p(x) = \frac{2}{\pi\sigma}\,\frac{1}{e^{z} + e^{-z}},\qquad z = \frac{x - \mu}{\sigma}$$
 *
 * (`log p = log(2/pi) - log sigma - logaddexp(z, -z)`). CDF `(2/pi) atan(e^z)`, survival
 * `(2/pi) atan(e^{-z})`, quantile `mu + sigma log tan(pi p / 2)`, mean and mode `mu`, variance
 * `(pi sigma / 2)^2`. Draws invert the CDF (reparameterized).
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { LocationScaleDistribution } from './location_scale.js';
import { gt, lt, whereB } from './special.js';

const LOG_2_OVER_PI = Math.log(2 / Math.PI);

/**
 * Soft Laplace with `loc` mu and `scale` sigma > 0.
 *
 * @example
 * ```ts
 * const d = new SoftLaplace(0, 1);
 * d.logProb(0); // log(1 / pi)
 * d.variance(); // pi^2 / 4
 * ```
 */
export class SoftLaplace extends LocationScaleDistribution {
  /** `log tan(pi u / 2)`, `u ~ U(0, 1)`: the standard quantile of a uniform. */
  /** Draws `loc + scale * log tan(pi u / 2)` (none for an empty sample shape). */
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const full = [...shape, ...this._batchShape];
    // no draws: no kernels (wasm binary kernels broadcasting into an empty output corrupt memory)
    if (full.some((n) => n === 0)) return tf.zeros(full);
    return super._rsample(shape, seed);
  }
  protected _standardSample(shape: number[], seed: number): tf.Tensor {
    const u = tf.randomUniform(shape, 1e-7, 1 - 1e-7, 'float32', seed);
    return tf.log(tf.tan(tf.mul(Math.PI / 2, u)));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const a = tf.abs(this.standardize(x));
    // logaddexp(z, -z) = |z| + log1p(e^{-2|z|})
    const lse = tf.add(a, log1p(tf.exp(tf.mul(-2, a))));
    return tf.sub(tf.sub(LOG_2_OVER_PI, tf.log(this.scale)), lse);
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return tf.mul(2 / Math.PI, tf.atan(tf.exp(this.standardize(x))));
  }
  protected override _survival(x: tf.Tensor): tf.Tensor {
    return tf.mul(2 / Math.PI, tf.atan(tf.exp(tf.neg(this.standardize(x)))));
  }
  /** `log((2/pi) atan(e^z))`; below `z = -5` from `atan t = t (1 - t^2/3 + ...)` (no underflow). */
  protected override _logCdf(x: tf.Tensor): tf.Tensor {
    return logTwoOverPiAtanExp(this.standardize(x));
  }
  protected override _logSurvival(x: tf.Tensor): tf.Tensor {
    return logTwoOverPiAtanExp(tf.neg(this.standardize(x)));
  }
  /**
   * `mu + sigma log tan(pi p / 2)`, taken as `-log tan(pi (1 - p)/2)` above `p = 1/2` (`1 - p`
   * exact in float32): `tan(pi p / 2)` near `p = 1` lost the digits of its pole's distance
   * (`icdf(1 - 6e-8)` was 0.3% off).
   *
   * $$F^{-1}(p) = \mu + \sigma\log\tan\frac{\pi p}{2} = \mu - \sigma\log\tan\frac{\pi(1 - p)}{2}$$
   */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    const high = gt(p, 0.5);
    const t = tf.log(tf.tan(tf.mul(Math.PI / 2, whereB(high, tf.sub(1, p), p))));
    return tf.add(this.loc, tf.mul(this.scale, whereB(high, tf.neg(t), t)));
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(this.loc);
  }
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(this.loc);
  }
  protected override _variance(): tf.Tensor {
    return this.expandToBatch(tf.square(tf.mul(Math.PI / 2, this.scale)));
  }
}

/** `log((2/pi) atan(e^z))`, accurate for very negative `z`. */
function logTwoOverPiAtanExp(z: tf.Tensor): tf.Tensor {
  const far = lt(z, -5);
  const zNear = whereB(far, tf.zerosLike(z), z);
  const zFar = whereB(far, z, tf.fill(z.shape, -5));
  const near = tf.log(tf.atan(tf.exp(zNear)));
  const tail = tf.add(zFar, log1p(tf.div(tf.exp(tf.mul(2, zFar)), -3)));
  return tf.add(LOG_2_OVER_PI, whereB(far, tail, near));
}
