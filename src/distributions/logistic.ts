/**
 * The logistic distribution.
 *
 * $$p(x;\mu,s) = \frac{e^{-z}}{s\,(1+e^{-z})^2},\qquad z = \frac{x-\mu}{s}$$
 *
 * CDF `sigmoid(z)`, mean and mode `mu`, variance `s^2 pi^2 / 3`, entropy `log s + 2`.
 * Reparameterized: `x = mu + s (log u - log(1 - u))`, `u ~ U(0, 1)`.
 */
import * as tf from '@tensorflow/tfjs';
import { Distribution, type DistributionOptions, type TensorInput } from './distribution.js';
import { openUniform } from './special.js';

/**
 * Logistic distribution with location `loc` and scale `scale > 0`.
 *
 * @example
 * ```ts
 * const d = new Logistic(0, 1);
 * d.cdf(0); // 0.5
 * ```
 */
export class Logistic extends Distribution {
  /** Location (mean, median and mode). */
  readonly loc: tf.Tensor;
  /** Scale. */
  readonly scale: tf.Tensor;
  private readonly _batchShape: number[];

  /**
   * @param loc location, any real.
   * @param scale scale, > 0.
   */
  constructor(loc: TensorInput, scale: TensorInput, options: DistributionOptions = {}) {
    super(options);
    this.loc = this.param(loc, 'loc');
    this.scale = this.param(scale, 'scale');
    this.checkFinite(this.loc, 'loc');
    this.checkPositive(this.scale, 'scale');
    this._batchShape = this.broadcastParams({ loc: this.loc.shape, scale: this.scale.shape });
  }

  get batchShape(): number[] {
    return [...this._batchShape];
  }
  get eventShape(): number[] {
    return [];
  }
  override get hasRsample(): boolean {
    return true;
  }

  protected _sample(shape: number[], seed: number): tf.Tensor {
    return this._rsample(shape, seed);
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const u = openUniform([...shape, ...this._batchShape], seed);
    return tf.add(this.loc, tf.mul(this.scale, tf.sub(tf.log(u), tf.log1p(tf.neg(u)))));
  }
  private z(x: tf.Tensor): tf.Tensor {
    return tf.div(tf.sub(x, this.loc), this.scale);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const z = this.z(x);
    return tf.sub(tf.sub(tf.neg(z), tf.mul(2, tf.softplus(tf.neg(z)))), tf.log(this.scale));
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return tf.sigmoid(this.z(x));
  }
  protected override _logCdf(x: tf.Tensor): tf.Tensor {
    return tf.neg(tf.softplus(tf.neg(this.z(x))));
  }
  protected override _survival(x: tf.Tensor): tf.Tensor {
    return tf.sigmoid(tf.neg(this.z(x)));
  }
  protected override _logSurvival(x: tf.Tensor): tf.Tensor {
    return tf.neg(tf.softplus(this.z(x)));
  }
  protected override _mean(): tf.Tensor {
    return this.expand(this.loc);
  }
  protected override _mode(): tf.Tensor {
    return this.expand(this.loc);
  }
  protected override _variance(): tf.Tensor {
    return this.expand(tf.mul((Math.PI * Math.PI) / 3, tf.square(this.scale)));
  }
  protected override _entropy(): tf.Tensor {
    return this.expand(tf.add(tf.log(this.scale), 2));
  }
}
