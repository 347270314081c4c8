/**
 * The chi-squared distribution with `df` degrees of freedom (Pyro's `Chi2`): a Gamma with shape
 * `df / 2` and rate `1 / 2`, so every Gamma method (CDF, moments, entropy, implicit
 * reparameterization in `df`, the Gamma KL) applies.
 *
 * $$p(x;k) = \frac{x^{k/2 - 1}e^{-x/2}}{2^{k/2}\,\Gamma(k/2)},\quad x > 0$$
 *
 * Mean `k`, variance `2k`, mode `max(k - 2, 0)`, CDF `P(k/2, x/2)`.
 */
import * as tf from '@tensorflow/tfjs';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { Gamma } from './gamma.js';
import { checkValues, toFloat } from '../utils/tensor.js';

/**
 * Chi-squared distribution with `df` k > 0 (any real).
 *
 * @example
 * ```ts
 * const d = new Chi2([1, 4]);
 * d.mean(); // [1, 4]
 * d.rsample([10]); // differentiable in df (implicit reparameterization)
 * ```
 */
export class Chi2 extends Gamma {
  /** Degrees of freedom k. */
  readonly df: tf.Tensor;

  /**
   * @param df degrees of freedom, finite and > 0.
   * @param options validation flag and name.
   */
  constructor(df: TensorInput, options: DistributionOptions = {}) {
    const k = toFloat(df, 'df');
    const made = k !== df;
    if (options.validateArgs ?? true) {
      try {
        checkValues(k, 'df', (v) => v > 0 && Number.isFinite(v), 'a finite value > 0');
      } catch (e) {
        if (made) k.dispose();
        throw e;
      }
    }
    const half = tf.mul(k, 0.5);
    super(half, 0.5, options);
    this.own(half);
    if (made) this.own(k);
    this.df = k;
  }
}
