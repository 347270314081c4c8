/**
 * The discrete uniform distribution on the integers `{low, ..., high}` (NumPyro's
 * `DiscreteUniform(low, high)`).
 *
 * $$P(X = k) = \frac{1}{n},\quad k \in \{a, a + 1, \dots, b\},\quad n = b - a + 1$$
 *
 * CDF `clip((floor(x) - a + 1) / n, 0, 1)`, mean `(a + b) / 2`, variance `(n^2 - 1) / 12`, entropy
 * `log n`; every value of the support is a mode, so `mode` is `NaN` (as for `Uniform`). Draws:
 * `a + floor(n u)`, `u ~ U[0, 1)`; no `rsample` (the support is discrete). The support is an
 * integer interval, so a site of this family can be enumerated (`enumerateSupport`, parallel
 * enumeration) when its bounds are the same over the batch.
 */
import * as tf from '@tensorflow/tfjs';
import { ScalarDistribution } from './scalar.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { andB, eq, ge, le, maskLogProb } from './special.js';
import { integerInterval, type Constraint } from '../constraints/constraints.js';
import { valuesOf } from '../utils/tensor.js';

/**
 * Discrete uniform distribution on `{low, ..., high}`, `low <= high` integers (broadcast to the
 * batch shape).
 *
 * @example
 * ```ts
 * const d = new DiscreteUniform(0, 2);
 * d.logProb([0, 1, 2, 3]); // [-log 3, -log 3, -log 3, -inf]
 * d.enumerateSupport();    // [0, 1, 2]
 * ```
 */
export class DiscreteUniform extends ScalarDistribution {
  /** Lower bound `a` (an integer). */
  readonly low: tf.Tensor;
  /** Upper bound `b` (an integer, `>= a`). */
  readonly high: tf.Tensor;

  /**
   * @param low lower bound, integers (default 0, as NumPyro).
   * @param high upper bound, integers `>= low` (default 1, as NumPyro).
   * @param options validation flag and name.
   */
  constructor(low: TensorInput = 0, high: TensorInput = 1, options: DistributionOptions = {}) {
    super(options);
    this.low = this.param(low, 'low');
    this.high = this.param(high, 'high');
    this.checkFinite(this.low, 'low');
    this.checkFinite(this.high, 'high');
    this.setBatchShape({ low: this.low, high: this.high });
    if (this.validateArgs) {
      for (const [name, t] of [
        ['low', this.low],
        ['high', this.high],
      ] as const) {
        const v = valuesOf(t);
        for (let i = 0; i < v.length; i++) {
          if (!Number.isInteger(v[i])) {
            throw this.constructionError(name, `expected integers, got ${v[i]} at index ${i}`);
          }
        }
      }
      const ok = tf.tidy(() => tf.all(tf.greaterEqual(this.high, this.low)).dataSync()[0]);
      if (ok !== 1) throw this.constructionError('high', 'expected high >= low for every element');
    }
  }

  /** Support: the integers `{low, ..., high}`. */
  override get support(): Constraint {
    return integerInterval(this.low, this.high);
  }

  /** The number of values `n = high - low + 1`. */
  private count(): tf.Tensor {
    return tf.add(tf.sub(this.high, this.low), 1);
  }
  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const u = tf.randomUniform([...shape, ...this._batchShape], 0, 1, 'float32', seed);
    // min(high, .): float32 rounding of low + n u must not reach high + 1
    return tf.minimum(tf.add(this.low, tf.floor(tf.mul(this.count(), u))), this.high);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const inside = andB(andB(ge(x, this.low), le(x, this.high)), eq(x, tf.floor(x)));
    return maskLogProb(inside, tf.neg(tf.log(this.count())));
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    const k = tf.sub(tf.floor(x), this.low);
    return tf.clipByValue(tf.div(tf.add(k, 1), this.count()), 0, 1);
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(tf.mul(0.5, tf.add(this.low, this.high)));
  }
  protected override _variance(): tf.Tensor {
    return this.expandToBatch(tf.div(tf.sub(tf.square(this.count()), 1), 12));
  }
  /** `NaN`: every value of the support is a mode, none is the mode (as `Uniform`). */
  protected override _mode(): tf.Tensor {
    return tf.fill(this._batchShape, NaN);
  }
  protected override _entropy(): tf.Tensor {
    return this.expandToBatch(tf.log(this.count()));
  }
}
