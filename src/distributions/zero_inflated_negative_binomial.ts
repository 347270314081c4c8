/**
 * The zero-inflated negative binomial distribution (Pyro's `ZeroInflatedNegativeBinomial`).
 *
 * $$P(X = 0) = g + (1 - g)(1-p)^r,\qquad
 *   P(X = k) = (1 - g)\frac{\Gamma(k + r)}{k!\,\Gamma(r)}p^k(1-p)^r\quad (k \ge 1)$$
 *
 * with the `NegativeBinomial(totalCount = r, {probs: p})` of Pyro's parameterization. Mean
 * `(1 - g) mu`, `mu = r p / (1 - p)`; variance `(1 - g)(sigma^2 + mu^2) - (1 - g)^2 mu^2`.
 */
import type * as tf from '@tensorflow/tfjs';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { NegativeBinomial } from './negative_binomial.js';
import type { ProbsOrLogits } from './probs.js';
import { ZeroInflatedDistribution, type GateParams } from './zero_inflated.js';

/**
 * Zero-inflated negative binomial with `totalCount` r > 0, `{probs}` / `{logits}` of success
 * and `{gate}` / `{gateLogits}`.
 *
 * @example
 * ```ts
 * const d = new ZeroInflatedNegativeBinomial(5, { probs: 0.4 }, { gateLogits: -1 });
 * d.mean(); // sigmoid(1) * 5 * 0.4 / 0.6
 * ```
 */
export class ZeroInflatedNegativeBinomial extends ZeroInflatedDistribution {
  /** Number of failures r. */
  readonly totalCount: tf.Tensor;
  /** Success probability p. */
  readonly probs: tf.Tensor;
  /** Log-odds of p. */
  readonly logits: tf.Tensor;

  /**
   * @param totalCount r > 0.
   * @param params `{probs}` in [0, 1) or `{logits}` of the negative binomial.
   * @param gateParams `{gate}` in [0, 1] or `{gateLogits}`.
   * @param options validation flag and name.
   */
  constructor(
    totalCount: TensorInput,
    params: TensorInput | ProbsOrLogits,
    gateParams: GateParams,
    options: DistributionOptions = {},
  ) {
    const base = new NegativeBinomial(totalCount, params, { validateArgs: options.validateArgs });
    super(base, gateParams, options, true);
    this.totalCount = base.totalCount;
    this.probs = base.probs;
    this.logits = base.logits;
  }
}
