/**
 * The parameter preamble of the families on the unit interval with two exponents, `Beta` and
 * `Kumaraswamy` (torch's and TFP's naming): `concentration1 = a > 0`, the exponent of `x`, and
 * `concentration0 = b > 0`, the exponent of `1 - x` (Beta, `p(x) ∝ x^{a-1} (1-x)^{b-1}`) or of
 * `1 - x^a` (Kumaraswamy, `p(x) = a b x^{a-1} (1 - x^a)^{b-1}`); support `[0, 1]`.
 */
import type * as tf from '@tensorflow/tfjs';
import { unitInterval, type Constraint } from '../constraints/constraints.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { ScalarDistribution } from './scalar.js';

/**
 * A family on `[0, 1]` with `concentration1` a > 0 and `concentration0` b > 0, both checked
 * (finite, > 0) and broadcast by `positiveParams`; the formulas are the family's.
 * @internal
 */
export abstract class UnitConcentrationsDistribution extends ScalarDistribution {
  /** The exponent a of `x`. */
  readonly concentration1: tf.Tensor;
  /** The exponent b of `1 - x` (Beta) or of `1 - x^a` (Kumaraswamy). */
  readonly concentration0: tf.Tensor;

  /**
   * @param concentration1 a, finite and > 0.
   * @param concentration0 b, finite and > 0.
   * @param options validation flag and name.
   */
  constructor(
    concentration1: TensorInput,
    concentration0: TensorInput,
    options: DistributionOptions = {},
  ) {
    super(options);
    ({ concentration1: this.concentration1, concentration0: this.concentration0 } =
      this.positiveParams({ concentration1, concentration0 }));
  }

  /** Support: `[0, 1]`. */
  override get support(): Constraint {
    return unitInterval;
  }
}
