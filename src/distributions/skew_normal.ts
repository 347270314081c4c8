/**
 * The skew-normal distribution of Azzalini (1985) (scipy's `skewnorm(a, loc, scale)`): a normal
 * tilted by its own CDF.
 *
 * $$p(x; \mu, \sigma, \alpha) = \frac{2}{\sigma}\,\varphi(z)\,\Phi(\alpha z),\qquad
 *   z = \frac{x - \mu}{\sigma}$$
 *
 * With `delta = alpha / sqrt(1 + alpha^2)`: mean `mu + sigma delta sqrt(2/pi)`, variance
 * `sigma^2 (1 - 2 delta^2 / pi)`. `skewness = 0` is the Normal. Reparameterized:
 * `x = mu + sigma (delta |u_0| + sqrt(1 - delta^2) u_1)`, `u_i ~ N(0, 1)`. The CDF (Owen's T
 * function), mode and entropy have no closed form.
 */
import * as tf from '@tensorflow/tfjs';
import { ScalarDistribution } from './scalar.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { logNdtr } from './special.js';

const LOG_2 = Math.log(2);
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Skew-normal with `loc` mu, `scale` sigma > 0 and `skewness` alpha (any finite real; > 0 skews
 * right).
 *
 * @example
 * ```ts
 * const d = new SkewNormal(0, 1, 4);
 * d.mean(); // (4 / sqrt(17)) * sqrt(2 / pi)
 * ```
 */
export class SkewNormal extends ScalarDistribution {
  /** Location mu. */
  readonly loc: tf.Tensor;
  /** Scale sigma. */
  readonly scale: tf.Tensor;
  /** Shape alpha. */
  readonly skewness: tf.Tensor;

  /**
   * @param loc mu, finite.
   * @param scale sigma, finite and > 0.
   * @param skewness alpha, finite.
   * @param options validation flag and name.
   */
  constructor(
    loc: TensorInput,
    scale: TensorInput,
    skewness: TensorInput,
    options: DistributionOptions = {},
  ) {
    super(options);
    this.loc = this.param(loc, 'loc');
    this.scale = this.param(scale, 'scale');
    this.skewness = this.param(skewness, 'skewness');
    this.checkFinite(this.loc, 'loc');
    this.checkPositive(this.scale, 'scale');
    this.checkFinite(this.skewness, 'skewness');
    this.setBatchShape({ loc: this.loc, scale: this.scale, skewness: this.skewness });
  }

  /** `delta = alpha / sqrt(1 + alpha^2)`. */
  private delta(): tf.Tensor {
    return tf.div(this.skewness, tf.sqrt(tf.add(1, tf.square(this.skewness))));
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const u = tf.randomNormal([2, ...shape, ...this._batchShape], 0, 1, 'float32', seed);
    const [u0, u1] = tf.unstack(u) as [tf.Tensor, tf.Tensor];
    const dl = this.delta();
    const z = tf.add(tf.mul(dl, tf.abs(u0)), tf.mul(tf.sqrt(tf.sub(1, tf.square(dl))), u1));
    return tf.add(this.loc, tf.mul(this.scale, z));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const z = tf.div(tf.sub(x, this.loc), this.scale);
    const normal = tf.sub(tf.mul(-0.5, tf.square(z)), tf.add(HALF_LOG_2PI, tf.log(this.scale)));
    return tf.add(tf.add(LOG_2, normal), logNdtr(tf.mul(this.skewness, z)));
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(
      tf.add(this.loc, tf.mul(this.scale, tf.mul(this.delta(), Math.sqrt(2 / Math.PI)))),
    );
  }
  protected override _variance(): tf.Tensor {
    const d2 = tf.square(this.delta());
    return this.expandToBatch(tf.mul(tf.square(this.scale), tf.sub(1, tf.mul(2 / Math.PI, d2))));
  }
}
