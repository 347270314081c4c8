/**
 * The base of the wrappers whose draws and moments are their base's (`Independent`,
 * `MaskedDistribution`): with `b` the wrapped distribution,
 *
 * $$x \sim \text{base},\quad \mathbb E[x] = \mathbb E_{\text{base}}[x],\quad
 *   \mathrm{Var}[x] = \mathrm{Var}_{\text{base}}[x],\quad F^{-1}(p) = F^{-1}_{\text{base}}(p)$$
 *
 * (the mode and standard deviation likewise, `hasRsample` the base's); each wrapper changes only
 * its shapes and its log-density (`Independent` sums the base's over the reinterpreted dims,
 * `Masked` zeroes it where the mask is false). `Expanded` broadcasts its moments and draws, so it
 * is not one of them.
 */
import type * as tf from '@tensorflow/tfjs';
import { Distribution } from './distribution.js';
import type { DistributionHooks } from './hooks.js';

/**
 * A wrapper forwarding draws, `icdf` and moments to its `base`.
 * @internal
 */
export abstract class ForwardingDistribution extends Distribution {
  /** The wrapped distribution. */
  abstract readonly base: Distribution;

  /** The base's protected hooks. */
  protected get b(): DistributionHooks {
    return this.base as unknown as DistributionHooks;
  }
  override get hasRsample(): boolean {
    return this.base.hasRsample;
  }
  protected override _sample(shape: number[], seed: number): tf.Tensor {
    return this.b._sample(shape, seed);
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    return this.b._rsample(shape, seed);
  }
  /**
   * The base's quantile: the draws are the base's (for `Independent`, coordinate by coordinate:
   * `p` has shape `batchShape + eventShape` and entry `i` is the quantile of coordinate `i`, the
   * joint CDF, a product, having no inverse; for `Masked`, the mask changes only the log-density).
   */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    return this.b._icdf(p);
  }
  protected override _mean(): tf.Tensor {
    return this.b._mean();
  }
  protected override _mode(): tf.Tensor {
    return this.b._mode();
  }
  protected override _variance(): tf.Tensor {
    return this.b._variance();
  }
  protected override _stddev(): tf.Tensor {
    return this.b._stddev();
  }
}
