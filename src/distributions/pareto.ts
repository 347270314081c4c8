/**
 * The Pareto (type I) distribution (Pyro's `Pareto(scale, alpha)`).
 *
 * $$p(x; s, \alpha) = \frac{\alpha s^\alpha}{x^{\alpha + 1}},\quad x \ge s,\qquad
 *   F(x) = 1 - (s / x)^\alpha$$
 *
 * Mean `alpha s / (alpha - 1)` for `alpha > 1` (`Infinity` otherwise), variance
 * `s^2 alpha / ((alpha - 1)^2 (alpha - 2))` for `alpha > 2` (`Infinity` otherwise), mode `s`,
 * entropy `log(s / alpha) + 1 / alpha + 1`. Reparameterized: `x = s exp(E / alpha)`,
 * `E ~ Exponential(1)`.
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { ScalarDistribution } from './scalar.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { ge, gt, maskLogProb, safe, whereB } from './special.js';
import { greaterThanEq, type Constraint } from '../constraints/constraints.js';

/**
 * Pareto distribution with `scale` s > 0 (the minimum) and shape `alpha` > 0.
 *
 * @example
 * ```ts
 * const d = new Pareto(1, 3);
 * d.mean(); // 1.5
 * d.cdf(2); // 1 - 1/8
 * ```
 */
export class Pareto extends ScalarDistribution {
  /** Scale s (the minimum value). */
  readonly scale: tf.Tensor;
  /** Shape (tail index) alpha. */
  readonly alpha: tf.Tensor;

  /**
   * @param scale s, finite and > 0.
   * @param alpha shape, finite and > 0.
   * @param options validation flag and name.
   */
  constructor(scale: TensorInput, alpha: TensorInput, options: DistributionOptions = {}) {
    super(options);
    ({ scale: this.scale, alpha: this.alpha } = this.positiveParams({ scale, alpha }));
  }

  /** Support: `[scale, inf)`. */
  override get support(): Constraint {
    return greaterThanEq(this.scale);
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const u = tf.randomUniform([...shape, ...this._batchShape], 0, 1, 'float32', seed);
    const e = tf.neg(log1p(tf.neg(u)));
    return tf.mul(this.scale, tf.exp(tf.div(e, this.alpha)));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const ok = ge(x, this.scale);
    const xs = safe(ok, x, 1);
    const a = this.alpha;
    const lp = tf.sub(
      tf.add(tf.log(a), tf.mul(a, tf.log(this.scale))),
      tf.mul(tf.add(a, 1), tf.log(xs)),
    );
    return maskLogProb(ok, lp);
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return tf.sub(1, this._survival(x));
  }
  /**
   * The closed-form quantile `scale (1 - p)^{-1/alpha}`, taken as
   * `scale exp(-log1p(-p)/alpha)`; `scale` and `Infinity` at the ends.
   *
   * $$F^{-1}(p) = x_m (1 - p)^{-1/\alpha}$$
   */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    return tf.mul(this.scale, tf.exp(tf.div(tf.neg(log1p(tf.neg(p))), this.alpha)));
  }
  protected override _survival(x: tf.Tensor): tf.Tensor {
    const ok = ge(x, this.scale);
    const ratio = tf.div(this.scale, safe(ok, x, 1));
    return whereB(ok, tf.pow(ratio, this.alpha), tf.scalar(1));
  }
  protected override _mean(): tf.Tensor {
    const a = this.alpha;
    const m = tf.div(tf.mul(a, this.scale), tf.sub(a, 1));
    return this.expandToBatch(whereB(gt(a, 1), m, tf.scalar(Infinity)));
  }
  protected override _variance(): tf.Tensor {
    const a = this.alpha;
    const v = tf.div(
      tf.mul(tf.square(this.scale), a),
      tf.mul(tf.square(tf.sub(a, 1)), tf.sub(a, 2)),
    );
    return this.expandToBatch(whereB(gt(a, 2), v, tf.scalar(Infinity)));
  }
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(this.scale);
  }
  protected override _entropy(): tf.Tensor {
    const a = this.alpha;
    return this.expandToBatch(tf.add(tf.log(tf.div(this.scale, a)), tf.add(tf.reciprocal(a), 1)));
  }
}
