/**
 * The Beta distribution parameterized by its mean and a concentration (NumPyro's
 * `BetaProportion`, the beta-regression parameterization of Ferrari & Cribari-Neto):
 *
 * $$X \sim \mathrm{Beta}(\mu\phi,\ (1-\mu)\phi),\qquad \mathbb E[X] = \mu,\qquad
 *   \operatorname{Var}[X] = \frac{\mu(1-\mu)}{1+\phi},$$
 *
 * with `0 < mu < 1` and `phi > 0`. Every Beta method applies (density, CDF, moments, entropy,
 * implicit reparameterization, the Beta KL).
 */
import * as tf from '@tensorflow/tfjs';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { Beta } from './beta.js';
import { broadcastShapes, checkValues, toFloat } from '../utils/tensor.js';

/**
 * Beta distribution with mean `mean` in `(0, 1)` and `concentration` > 0.
 *
 * @example
 * ```ts
 * const d = new BetaProportion(0.3, 10); // Beta(3, 7)
 * d.mean();     // 0.3
 * d.variance(); // 0.3 * 0.7 / 11
 * ```
 */
export class BetaProportion extends Beta {
  /** The mean `mu`, in `(0, 1)`. */
  readonly meanParam: tf.Tensor;
  /** The concentration `phi` (`a + b`). */
  readonly concentration: tf.Tensor;

  /**
   * @param mean the mean `mu`, strictly between 0 and 1.
   * @param concentration `phi`, finite and > 0.
   * @param options validation flag and name.
   * @throws ArgumentError naming `mean` or `concentration` (out of range, shapes that do not
   *   broadcast).
   */
  constructor(mean: TensorInput, concentration: TensorInput, options: DistributionOptions = {}) {
    const made: tf.Tensor[] = [];
    const conv = (v: TensorInput, name: string): tf.Tensor => {
      const t = toFloat(v, name);
      if (t !== v) made.push(t);
      return t;
    };
    let mu: tf.Tensor;
    let phi: tf.Tensor;
    try {
      mu = conv(mean, 'mean');
      phi = conv(concentration, 'concentration');
      broadcastShapes({ mean: mu.shape, concentration: phi.shape });
      if (options.validateArgs ?? true) {
        checkValues(mu, 'mean', (v) => v > 0 && v < 1, 'a value in (0, 1)');
        checkValues(phi, 'concentration', (v) => v > 0 && Number.isFinite(v), 'a finite value > 0');
      }
    } catch (e) {
      tf.dispose(made);
      throw e;
    }
    const a = tf.mul(mu, phi);
    const b = tf.tidy(() => tf.mul(tf.sub(1, mu), phi));
    super(a, b, options);
    this.own(a);
    this.own(b);
    made.forEach((t) => this.own(t));
    this.meanParam = mu;
    this.concentration = phi;
  }
}
