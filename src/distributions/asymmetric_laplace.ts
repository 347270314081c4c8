/**
 * The asymmetric Laplace distribution (Pyro's `AsymmetricLaplace(loc, scale, asymmetry)`): two
 * exponential tails of different rates joined at the mode `loc`.
 *
 * $$p(x; \mu, s, \kappa) = \frac{1}{s(\kappa + 1/\kappa)}\begin{cases}
 *   e^{-\kappa (x - \mu)/s} & x \ge \mu \\ e^{(x - \mu)/(\kappa s)} & x < \mu \end{cases}$$
 *
 * CDF `kappa^2/(1 + kappa^2) e^{(x-mu)/(kappa s)}` below `mu` and
 * `1 - e^{-kappa (x-mu)/s}/(1 + kappa^2)` above; mean `mu + s (1/kappa - kappa)`, variance
 * `s^2 (1/kappa^2 + kappa^2)`, mode `mu`, entropy `1 + log(s (kappa + 1/kappa))`.
 * Reparameterized: `x = mu + s (E_1 / kappa - kappa E_2)`, `E_i ~ Exponential(1)`.
 * `asymmetry = 1` is the Laplace distribution.
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { ScalarDistribution } from './scalar.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { le, lt, whereB } from './special.js';

/**
 * Asymmetric Laplace with `loc` mu, `scale` s > 0 and `asymmetry` kappa > 0.
 *
 * @example
 * ```ts
 * const d = new AsymmetricLaplace(0, 1, 2);
 * d.mean(); // 1/2 - 2 = -1.5
 * ```
 */
export class AsymmetricLaplace extends ScalarDistribution {
  /** Mode mu. */
  readonly loc: tf.Tensor;
  /** Scale s. */
  readonly scale: tf.Tensor;
  /** Asymmetry kappa (> 1: heavier left tail). */
  readonly asymmetry: tf.Tensor;

  /**
   * @param loc mu, finite.
   * @param scale s, finite and > 0.
   * @param asymmetry kappa, finite and > 0.
   * @param options validation flag and name.
   */
  constructor(
    loc: TensorInput,
    scale: TensorInput,
    asymmetry: TensorInput,
    options: DistributionOptions = {},
  ) {
    super(options);
    this.loc = this.param(loc, 'loc');
    this.scale = this.param(scale, 'scale');
    this.asymmetry = this.param(asymmetry, 'asymmetry');
    this.checkFinite(this.loc, 'loc');
    this.checkPositive(this.scale, 'scale');
    this.checkPositive(this.asymmetry, 'asymmetry');
    this.setBatchShape({ loc: this.loc, scale: this.scale, asymmetry: this.asymmetry });
  }

  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const u = tf.randomUniform([2, ...shape, ...this._batchShape], 0, 1, 'float32', seed);
    const e = tf.neg(log1p(tf.neg(u)));
    const [e1, e2] = tf.unstack(e) as [tf.Tensor, tf.Tensor];
    const k = this.asymmetry;
    return tf.add(this.loc, tf.mul(this.scale, tf.sub(tf.div(e1, k), tf.mul(k, e2))));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const k = this.asymmetry;
    const z = tf.div(tf.sub(x, this.loc), this.scale);
    const expo = whereB(lt(z, 0), tf.div(z, k), tf.neg(tf.mul(k, z)));
    const norm = tf.log(tf.mul(this.scale, tf.add(k, tf.reciprocal(k))));
    return tf.sub(expo, norm);
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    const k = this.asymmetry;
    const k2 = tf.square(k);
    const z = tf.div(tf.sub(x, this.loc), this.scale);
    const neg = lt(z, 0);
    // exponents clamped at 0 on the branch not taken, so that it stays finite
    const below = tf.mul(tf.div(k2, tf.add(1, k2)), tf.exp(tf.div(tf.minimum(z, 0), k)));
    const above = tf.sub(1, tf.div(tf.exp(tf.neg(tf.mul(k, tf.relu(z)))), tf.add(1, k2)));
    return whereB(neg, below, above);
  }
  /**
   * The closed-form quantile: with `c = kappa^2/(1 + kappa^2)` (the mass below `mu`),
   * `mu + s kappa log(p / c)` for `p <= c`, `mu - s log((1 - p)(1 + kappa^2))/kappa` above
   * (`log1p(-p)`); `-Infinity` and `Infinity` at the ends.
   *
   * $$F^{-1}(p) = \mu + s\begin{cases}\kappa\log\frac{p(1+\kappa^2)}{\kappa^2} & p \le c\\
   *   -\frac{1}{\kappa}\big(\log(1-p) + \log(1+\kappa^2)\big) & p > c\end{cases}$$
   */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    const k = this.asymmetry;
    const k2 = tf.square(k);
    const logOnePlusK2 = log1p(k2);
    const c = tf.div(k2, tf.add(1, k2));
    const low = le(p, c);
    // each branch on a safe input where the other is taken (finite gradients)
    const pl = whereB(low, p, tf.mul(0.5, c));
    const ph = whereB(low, tf.add(c, tf.mul(0.5, tf.sub(1, c))), p);
    const below = tf.mul(k, tf.add(tf.log(pl), tf.sub(logOnePlusK2, tf.log(k2))));
    const above = tf.neg(tf.div(tf.add(log1p(tf.neg(ph)), logOnePlusK2), k));
    return tf.add(this.loc, tf.mul(this.scale, whereB(low, below, above)));
  }
  /**
   * In log space, finite where the CDF underflows: `log(kappa^2/(1 + kappa^2)) + z/kappa` below
   * `mu`, `log1p(-e^{-kappa z}/(1 + kappa^2))` above.
   */
  protected override _logCdf(x: tf.Tensor): tf.Tensor {
    const k = this.asymmetry;
    const k2 = tf.square(k);
    const z = tf.div(tf.sub(x, this.loc), this.scale);
    const below = tf.add(tf.log(tf.div(k2, tf.add(1, k2))), tf.div(tf.minimum(z, 0), k));
    const above = log1p(tf.neg(tf.div(tf.exp(tf.neg(tf.mul(k, tf.relu(z)))), tf.add(1, k2))));
    return whereB(lt(z, 0), below, above);
  }
  /** `exp` of {@link AsymmetricLaplace._logSurvival} (no `1 - cdf` cancellation above `mu`). */
  protected override _survival(x: tf.Tensor): tf.Tensor {
    return tf.exp(this._logSurvival(x));
  }
  /** `log1p(-kappa^2/(1 + kappa^2) e^{z/kappa})` below `mu`, `-kappa z - log(1 + kappa^2)` above. */
  protected override _logSurvival(x: tf.Tensor): tf.Tensor {
    const k = this.asymmetry;
    const k2 = tf.square(k);
    const z = tf.div(tf.sub(x, this.loc), this.scale);
    const below = log1p(
      tf.neg(tf.mul(tf.div(k2, tf.add(1, k2)), tf.exp(tf.div(tf.minimum(z, 0), k)))),
    );
    const above = tf.sub(tf.neg(tf.mul(k, tf.relu(z))), tf.log(tf.add(1, k2)));
    return whereB(lt(z, 0), below, above);
  }
  protected override _mean(): tf.Tensor {
    const k = this.asymmetry;
    return this.expandToBatch(tf.add(this.loc, tf.mul(this.scale, tf.sub(tf.reciprocal(k), k))));
  }
  protected override _variance(): tf.Tensor {
    const k2 = tf.square(this.asymmetry);
    return this.expandToBatch(tf.mul(tf.square(this.scale), tf.add(tf.reciprocal(k2), k2)));
  }
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(this.loc);
  }
  protected override _entropy(): tf.Tensor {
    const k = this.asymmetry;
    return this.expandToBatch(tf.add(1, tf.log(tf.mul(this.scale, tf.add(k, tf.reciprocal(k))))));
  }
}
