/**
 * The multivariate normal distribution with a diagonal covariance.
 *
 * $$p(x;\mu,\sigma) = \prod_{j=1}^K \frac{1}{\sigma_j\sqrt{2\pi}}
 *   \exp\!\Big(-\frac{(x_j-\mu_j)^2}{2\sigma_j^2}\Big)$$
 *
 * Event shape `[K]`. Mean and mode `mu`, variance `sigma^2` (the covariance diagonal), entropy
 * `K/2 (1 + log 2 pi) + sum_j log sigma_j`. Reparameterized: `x = mu + sigma * eps`.
 */
import * as tf from '@tensorflow/tfjs';
import { Distribution, type DistributionOptions, type TensorInput } from './distribution.js';
import { registerKL } from './kl.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Multivariate normal with mean `loc` and diagonal standard deviations `scaleDiag`, both of shape
 * `[...batch, K]` (broadcastable).
 *
 * @example
 * ```ts
 * const d = new MultivariateNormalDiag([0, 0], [1, 2]);
 * d.logProb([0.5, -1]); // scalar
 * d.rsample([5]);       // shape [5, 2]
 * ```
 */
export class MultivariateNormalDiag extends Distribution {
  /** Mean, shape `[...batch, K]`. */
  readonly loc: tf.Tensor;
  /** Standard deviations, shape `[...batch, K]`. */
  readonly scaleDiag: tf.Tensor;
  private readonly full: number[];

  /**
   * @param loc mean, rank >= 1.
   * @param scaleDiag standard deviations, > 0, rank >= 1.
   */
  constructor(loc: TensorInput, scaleDiag: TensorInput, options: DistributionOptions = {}) {
    super(options);
    this.loc = this.param(loc, 'loc');
    this.scaleDiag = this.param(scaleDiag, 'scaleDiag');
    for (const [n, t] of [
      ['loc', this.loc],
      ['scaleDiag', this.scaleDiag],
    ] as const) {
      if (t.rank < 1) throw this.constructionError(n, 'expected rank >= 1 (shape [...batch, K])');
    }
    this.checkFinite(this.loc, 'loc');
    this.checkPositive(this.scaleDiag, 'scaleDiag');
    this.full = this.broadcastParams({ loc: this.loc.shape, scaleDiag: this.scaleDiag.shape });
  }

  get batchShape(): number[] {
    return this.full.slice(0, -1);
  }
  get eventShape(): number[] {
    return this.full.slice(-1);
  }

  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const eps = tf.randomNormal([...shape, ...this.full], 0, 1, 'float32', seed);
    return tf.add(this.loc, tf.mul(this.scaleDiag, eps));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const z = tf.div(tf.sub(x, this.loc), this.scaleDiag);
    const lp = tf.sub(tf.mul(-0.5, tf.square(z)), tf.add(HALF_LOG_2PI, tf.log(this.scaleDiag)));
    return tf.sum(lp, -1);
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(this.loc);
  }
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(this.loc);
  }
  protected override _variance(): tf.Tensor {
    return this.expandToBatch(tf.square(this.scaleDiag));
  }
  protected override _stddev(): tf.Tensor {
    return this.expandToBatch(this.scaleDiag);
  }
  protected override _entropy(): tf.Tensor {
    const h = this.expandToBatch(tf.add(tf.log(this.scaleDiag), 0.5 + HALF_LOG_2PI));
    return tf.sum(h, -1);
  }
}

/**
 * `KL(N(m1, diag s1^2) || N(m2, diag s2^2)) = sum_j [log(s2_j/s1_j)
 *   + (s1_j^2 + (m1_j - m2_j)^2)/(2 s2_j^2) - 1/2]`.
 *
 * @param p the first distribution.
 * @param q the second distribution.
 * @example
 * ```ts
 * klMvnDiagMvnDiag(new MultivariateNormalDiag([0, 0], [1, 1]), new MultivariateNormalDiag([1, 0], [2, 1])); // same as klDivergence(p, q)
 * ```
 */
export function klMvnDiagMvnDiag(p: MultivariateNormalDiag, q: MultivariateNormalDiag): tf.Tensor {
  return tf.tidy(() => {
    const ratio = tf.div(p.scaleDiag, q.scaleDiag);
    const diff = tf.div(tf.sub(p.loc, q.loc), q.scaleDiag);
    const kl = tf.mul(
      0.5,
      tf.sub(tf.add(tf.square(ratio), tf.square(diff)), tf.add(1, tf.mul(2, tf.log(ratio)))),
    );
    return tf.sum(kl, -1);
  });
}

registerKL(MultivariateNormalDiag, MultivariateNormalDiag, klMvnDiagMvnDiag);
