/**
 * The common base of the scalar location-scale families (Normal, Cauchy, Gumbel, Laplace,
 * Logistic, and LogNormal on the log scale).
 *
 * $$X = \mu + \sigma\,\varepsilon,\qquad \varepsilon \sim p_0,\qquad
 *   p(x;\mu,\sigma) = \frac1\sigma\,p_0\!\Big(\frac{x-\mu}{\sigma}\Big)$$
 *
 * It holds `loc` (`mu`, any finite real) and `scale` (`sigma`, finite and > 0), checks them,
 * broadcasts them to the batch shape and draws reparameterized samples `loc + scale * eps` from
 * the family's standard noise (hook {@link LocationScaleDistribution._standardSample}). Each
 * family file keeps only its math (density, CDF, moments, entropy, KL pairs). No KL pair is
 * registered for this base: the KL registry keeps dispatching on the concrete family classes.
 */
import * as tf from '@tensorflow/tfjs';
import { ScalarDistribution } from './scalar.js';
import type { DistributionOptions, TensorInput } from './distribution.js';

/**
 * Abstract scalar location-scale distribution with parameters `loc` and `scale > 0`; batch shape
 * `broadcast(loc.shape, scale.shape)`, event shape `[]`, reparameterized sampling.
 *
 * @example
 * ```ts
 * class MyFamily extends LocationScaleDistribution {
 *   protected _standardSample(shape: number[], seed: number) {
 *     return tf.randomNormal(shape, 0, 1, 'float32', seed); // eps ~ p0
 *   }
 *   protected _logProb(x: tf.Tensor) { ... this.standardize(x) ... }
 * }
 * ```
 */
export abstract class LocationScaleDistribution extends ScalarDistribution {
  /** Location `mu` (any finite real). */
  readonly loc: tf.Tensor;
  /** Scale `sigma` (finite, > 0). */
  readonly scale: tf.Tensor;

  /**
   * @param loc location, any finite real.
   * @param scale scale, finite and > 0.
   * @param options validation flag and name.
   */
  constructor(loc: TensorInput, scale: TensorInput, options: DistributionOptions = {}) {
    super(options);
    this.loc = this.param(loc, 'loc');
    this.scale = this.param(scale, 'scale');
    this.checkFinite(this.loc, 'loc');
    this.checkPositive(this.scale, 'scale');
    this.setBatchShape({ loc: this.loc, scale: this.scale });
  }

  /**
   * Draw standard noise `eps ~ p0` (the family with `loc = 0`, `scale = 1`) of exactly `shape`.
   * @param shape the full shape `[...sampleShape, ...batchShape]`.
   * @param seed the seed of this draw.
   */
  protected abstract _standardSample(shape: number[], seed: number): tf.Tensor;

  /** `loc + scale * eps`, differentiable in `loc` and `scale`. */
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const eps = this._standardSample([...shape, ...this._batchShape], seed);
    return tf.add(this.loc, tf.mul(this.scale, eps));
  }
  /** The standardised value `z = (x - loc) / scale`. */
  protected standardize(x: tf.Tensor): tf.Tensor {
    return tf.div(tf.sub(x, this.loc), this.scale);
  }
}
