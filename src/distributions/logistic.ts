/**
 * The logistic distribution.
 *
 * $$p(x;\mu,s) = \frac{e^{-z}}{s\,(1+e^{-z})^2},\qquad z = \frac{x-\mu}{s}$$
 *
 * CDF `sigmoid(z) = exp(-softplus(-z))` (log-CDF `-softplus(-z)`), mean and mode `mu`, variance `s^2 pi^2 / 3`, entropy `log s + 2`.
 * Reparameterized: `x = mu + s (log u - log(1 - u))`, `u ~ U(0, 1)`.
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { LocationScaleDistribution } from './location_scale.js';
import { openUniform } from './special.js';

/**
 * Logistic distribution with location `loc` (mean, median and mode) and scale `scale > 0`.
 * Constructor `new Logistic(loc, scale, options?)`.
 *
 * @example
 * ```ts
 * const d = new Logistic(0, 1);
 * d.cdf(0); // 0.5
 * ```
 */
export class Logistic extends LocationScaleDistribution {
  protected _standardSample(shape: number[], seed: number): tf.Tensor {
    const u = openUniform(shape, seed);
    return tf.sub(tf.log(u), log1p(tf.neg(u)));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const z = this.standardize(x);
    return tf.sub(tf.sub(tf.neg(z), tf.mul(2, tf.softplus(tf.neg(z)))), tf.log(this.scale));
  }
  /** `loc + scale log(p / (1 - p))`. */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    const z = tf.sub(tf.log(p), log1p(tf.neg(p)));
    return tf.add(this.loc, tf.mul(this.scale, z));
  }
  /** `exp(-softplus(-z))`: `e^{-100}` at `z = -100` (`tf.sigmoid` on wasm gave 1.2e-38). */
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return tf.exp(this._logCdf(x));
  }
  protected override _logCdf(x: tf.Tensor): tf.Tensor {
    return tf.neg(tf.softplus(tf.neg(this.standardize(x))));
  }
  protected override _survival(x: tf.Tensor): tf.Tensor {
    return tf.exp(this._logSurvival(x));
  }
  protected override _logSurvival(x: tf.Tensor): tf.Tensor {
    return tf.neg(tf.softplus(this.standardize(x)));
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(this.loc);
  }
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(this.loc);
  }
  protected override _variance(): tf.Tensor {
    return this.expandToBatch(tf.mul((Math.PI * Math.PI) / 3, tf.square(this.scale)));
  }
  protected override _entropy(): tf.Tensor {
    return this.expandToBatch(tf.add(tf.log(this.scale), 2));
  }
}
