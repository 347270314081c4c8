/**
 * The Normal (Gaussian) distribution.
 *
 * $$p(x;\mu,\sigma) = \frac{1}{\sigma\sqrt{2\pi}}\exp\!\Big(-\frac{(x-\mu)^2}{2\sigma^2}\Big)$$
 *
 * Mean and mode `mu`, variance `sigma^2`, entropy `1/2 log(2 pi e sigma^2)`,
 * CDF `Phi((x-mu)/sigma) = 1/2 erfc(-(x-mu)/(sigma sqrt 2))` (accurate in both tails; `logCdf`
 * is computed in log space). Reparameterized: `x = mu + sigma * eps`.
 */
import * as tf from '@tensorflow/tfjs';
import { Distribution, type DistributionOptions, type TensorInput } from './distribution.js';
import { registerKL } from './kl.js';
import { logNdtr, ndtr } from './special.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Normal distribution with location `loc` (mean) and scale `scale` (standard deviation > 0).
 *
 * @example
 * ```ts
 * const d = new Normal(0, [1, 2]);      // batch of two
 * d.logProb([0.5, 0.5]);                // shape [2]
 * d.rsample([100]);                     // shape [100, 2], differentiable in loc and scale
 * ```
 */
export class Normal extends Distribution {
  /** Location (mean). */
  readonly loc: tf.Tensor;
  /** Scale (standard deviation). */
  readonly scale: tf.Tensor;
  private readonly _batchShape: number[];

  /**
   * @param loc mean, any real.
   * @param scale standard deviation, > 0.
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
    const eps = tf.randomNormal([...shape, ...this._batchShape], 0, 1, 'float32', seed);
    return tf.add(this.loc, tf.mul(this.scale, eps));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const z = tf.div(tf.sub(x, this.loc), this.scale);
    return tf.sub(tf.mul(-0.5, tf.square(z)), tf.add(HALF_LOG_2PI, tf.log(this.scale)));
  }
  private z(x: tf.Tensor): tf.Tensor {
    return tf.div(tf.sub(x, this.loc), this.scale);
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return ndtr(this.z(x));
  }
  protected override _logCdf(x: tf.Tensor): tf.Tensor {
    return logNdtr(this.z(x));
  }
  protected override _survival(x: tf.Tensor): tf.Tensor {
    return ndtr(tf.neg(this.z(x)));
  }
  protected override _logSurvival(x: tf.Tensor): tf.Tensor {
    return logNdtr(tf.neg(this.z(x)));
  }
  protected override _mean(): tf.Tensor {
    return this.expand(this.loc);
  }
  protected override _mode(): tf.Tensor {
    return this.expand(this.loc);
  }
  protected override _variance(): tf.Tensor {
    return this.expand(tf.square(this.scale));
  }
  protected override _stddev(): tf.Tensor {
    return this.expand(this.scale);
  }
  protected override _entropy(): tf.Tensor {
    return this.expand(tf.add(0.5 + HALF_LOG_2PI, tf.log(this.scale)));
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
  return tf.tidy(() => {
    const ratio = tf.div(p.scale, q.scale);
    const diff = tf.div(tf.sub(p.loc, q.loc), q.scale);
    return tf.mul(
      0.5,
      tf.sub(tf.add(tf.square(ratio), tf.square(diff)), tf.add(1, tf.mul(2, tf.log(ratio)))),
    );
  });
}

registerKL(Normal, Normal, klNormalNormal);
