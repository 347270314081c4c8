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
import { Distribution, type DistributionOptions, type TensorInput } from './distribution.js';
import { registerKL } from './kl.js';
import { logNdtr, maskLogProb, ndtr, safe } from './special.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Log-normal distribution; `loc` and `scale` are the mean and standard deviation of `log X`.
 *
 * @example
 * ```ts
 * const d = new LogNormal(0, 0.5);
 * d.mean(); // exp(0.125)
 * ```
 */
export class LogNormal extends Distribution {
  /** Mean of `log X`. */
  readonly loc: tf.Tensor;
  /** Standard deviation of `log X`. */
  readonly scale: tf.Tensor;
  private readonly _batchShape: number[];

  /**
   * @param loc mean of the log, any real.
   * @param scale standard deviation of the log, > 0.
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
    return tf.exp(tf.add(this.loc, tf.mul(this.scale, eps)));
  }
  private z(x: tf.Tensor): tf.Tensor {
    const pos = tf.greater(x, 0);
    return tf.div(tf.sub(tf.log(safe(pos, x, 1)), this.loc), this.scale);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const pos = tf.greater(x, 0);
    const logx = tf.log(safe(pos, x, 1));
    const z = tf.div(tf.sub(logx, this.loc), this.scale);
    const lp = tf.neg(
      tf.add(tf.add(tf.mul(0.5, tf.square(z)), tf.add(HALF_LOG_2PI, tf.log(this.scale))), logx),
    );
    return maskLogProb(pos, lp);
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return tf.where(tf.greater(x, 0), ndtr(this.z(x)), tf.zerosLike(this.z(x)));
  }
  protected override _logCdf(x: tf.Tensor): tf.Tensor {
    return maskLogProb(tf.greater(x, 0), logNdtr(this.z(x)));
  }
  protected override _survival(x: tf.Tensor): tf.Tensor {
    return tf.where(tf.greater(x, 0), ndtr(tf.neg(this.z(x))), tf.onesLike(this.z(x)));
  }
  protected override _mean(): tf.Tensor {
    return this.expand(tf.exp(tf.add(this.loc, tf.mul(0.5, tf.square(this.scale)))));
  }
  protected override _mode(): tf.Tensor {
    return this.expand(tf.exp(tf.sub(this.loc, tf.square(this.scale))));
  }
  protected override _variance(): tf.Tensor {
    const s2 = tf.square(this.scale);
    return this.expand(tf.mul(tf.expm1(s2), tf.exp(tf.add(tf.mul(2, this.loc), s2))));
  }
  protected override _entropy(): tf.Tensor {
    return this.expand(tf.add(tf.add(this.loc, tf.log(this.scale)), 0.5 + HALF_LOG_2PI));
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
  return tf.tidy(() => {
    const ratio = tf.div(p.scale, q.scale);
    const diff = tf.div(tf.sub(p.loc, q.loc), q.scale);
    return tf.mul(
      0.5,
      tf.sub(tf.add(tf.square(ratio), tf.square(diff)), tf.add(1, tf.mul(2, tf.log(ratio)))),
    );
  });
}

registerKL(LogNormal, LogNormal, klLogNormalLogNormal);
