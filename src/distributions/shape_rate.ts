/**
 * The base of the Gamma and inverse-Gamma families: a shape `alpha = concentration > 0`, a rate
 * `beta = rate > 0` (the scale of the inverse Gamma), support `(0, inf)`, and the standard
 * Gamma draw both reparameterize from, `G ~ Gamma(alpha, 1)`, with `X = G / beta` (Gamma) or
 * `X = beta / G` (inverse Gamma).
 */
import type * as tf from '@tensorflow/tfjs';
import { positive, type Constraint } from '../constraints/constraints.js';
import { broadcastTo } from '../utils/tensor.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { standardGammaRsample } from './host_sampling.js';
import { ScalarDistribution } from './scalar.js';

/**
 * The parameter preamble of the families with a `concentration` alpha > 0 and a `rate`
 * beta > 0 (default 1), both checked and broadcast by `positiveParams` (the Gamma family, the
 * Gamma-Poisson, the Gompertz); the support and the formulas are the family's.
 * @internal
 */
export abstract class ConcentrationRateDistribution extends ScalarDistribution {
  /** Shape alpha. */
  readonly concentration: tf.Tensor;
  /** Rate beta (the scale of the inverse Gamma). */
  readonly rate: tf.Tensor;

  /**
   * @param concentration shape alpha, > 0.
   * @param rate beta (the rate of the Gamma, the scale of the inverse Gamma), > 0. Default 1.
   * @param options validation flag and name.
   */
  constructor(
    concentration: TensorInput,
    rate: TensorInput = 1,
    options: DistributionOptions = {},
  ) {
    super(options);
    ({ concentration: this.concentration, rate: this.rate } = this.positiveParams({
      concentration,
      rate,
    }));
  }
}

/** A positive family with `concentration` alpha > 0 and `rate` beta > 0. */
export abstract class ShapeRateDistribution extends ConcentrationRateDistribution {
  /** Support: `(0, inf)`. */
  override get support(): Constraint {
    return positive;
  }
  /** `G ~ Gamma(alpha, 1)` of shape `[...shape, ...batch]`, differentiable in alpha. */
  protected standardGamma(shape: number[], seed: number): tf.Tensor {
    const alpha = broadcastTo(this.concentration, this._batchShape);
    return standardGammaRsample(alpha, shape, seed);
  }
}
