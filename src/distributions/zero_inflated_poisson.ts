/**
 * The zero-inflated Poisson distribution (Pyro's `ZeroInflatedPoisson`).
 *
 * $$P(X = 0) = g + (1 - g)e^{-\lambda},\qquad
 *   P(X = k) = (1 - g)\frac{\lambda^k e^{-\lambda}}{k!}\quad (k \ge 1)$$
 *
 * Mean `(1 - g) lambda`, variance `(1 - g) lambda (1 + g lambda)`.
 */
import type * as tf from '@tensorflow/tfjs';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { Poisson } from './poisson.js';
import { ZeroInflatedDistribution, type GateParams } from './zero_inflated.js';

/**
 * Zero-inflated Poisson with `rate` lambda >= 0 (0: all mass at 0) and `{gate}` or `{gateLogits}`.
 *
 * @example
 * ```ts
 * const d = new ZeroInflatedPoisson(3, { gate: 0.2 });
 * d.logProb([0, 2]); // [log(0.2 + 0.8 e^-3), log(0.8 * 4.5 e^-3)]
 * ```
 */
export class ZeroInflatedPoisson extends ZeroInflatedDistribution {
  /** Rate lambda of the Poisson part. */
  readonly rate: tf.Tensor;

  /**
   * @param rate lambda, finite and >= 0.
   * @param gateParams `{gate}` in [0, 1] or `{gateLogits}`.
   * @param options validation flag and name.
   */
  constructor(rate: TensorInput, gateParams: GateParams, options: DistributionOptions = {}) {
    const base = new Poisson(rate, { validateArgs: options.validateArgs });
    super(base, gateParams, options, true);
    this.rate = base.rate;
  }
}
