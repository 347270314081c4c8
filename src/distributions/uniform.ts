/**
 * The continuous uniform distribution.
 *
 * $$p(x;a,b) = \frac{1}{b-a},\quad a \le x \le b$$
 *
 * CDF `clip((x - a)/(b - a), 0, 1)`, mean `(a + b)/2`, variance `(b - a)^2 / 12`, entropy
 * `log(b - a)`; every point of `[a, b]` is a mode, so `mode` is `NaN` (as in torch). Reparameterized:
 * `x = a + (b - a) u`.
 */
import * as tf from '@tensorflow/tfjs';
import { ScalarDistribution } from './scalar.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { registerKL } from './kl.js';
import { andB, ge, le, maskLogProb } from './special.js';
import { interval, type Constraint } from '../constraints/constraints.js';

/**
 * Uniform distribution on `[low, high]`, `low < high`.
 *
 * @example
 * ```ts
 * const d = new Uniform(0, [1, 2]); // batch of two
 * d.entropy();                      // [0, log 2]
 * ```
 */
export class Uniform extends ScalarDistribution {
  /** Lower bound. */
  readonly low: tf.Tensor;
  /** Upper bound. */
  readonly high: tf.Tensor;

  /**
   * @param low lower bound, finite.
   * @param high upper bound, finite and > low.
   */
  constructor(low: TensorInput, high: TensorInput, options: DistributionOptions = {}) {
    super(options);
    this.low = this.param(low, 'low');
    this.high = this.param(high, 'high');
    this.checkFinite(this.low, 'low');
    this.checkFinite(this.high, 'high');
    this.setBatchShape({ low: this.low, high: this.high });
    if (this.validateArgs) {
      const width = tf.tidy(() => tf.sub(this.high, this.low));
      try {
        this.checkPositive(width, 'high');
      } catch {
        throw this.constructionError('high', 'expected high > low for every element');
      } finally {
        width.dispose();
      }
    }
  }

  /** Support: `[low, high]`. */
  override get support(): Constraint {
    return interval(this.low, this.high);
  }

  private width(): tf.Tensor {
    return tf.sub(this.high, this.low);
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const u = tf.randomUniform([...shape, ...this._batchShape], 0, 1, 'float32', seed);
    return tf.add(this.low, tf.mul(this.width(), u));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const inside = andB(ge(x, this.low), le(x, this.high));
    return maskLogProb(inside, tf.neg(tf.log(this.width())));
  }
  /** `low + p (high - low)`. */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    return tf.add(this.low, tf.mul(p, this.width()));
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return tf.clipByValue(tf.div(tf.sub(x, this.low), this.width()), 0, 1);
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(tf.mul(0.5, tf.add(this.low, this.high)));
  }
  protected override _variance(): tf.Tensor {
    return this.expandToBatch(tf.div(tf.square(this.width()), 12));
  }
  /** `NaN`: every point of `[low, high]` is a mode, none is the mode (torch's convention). */
  protected override _mode(): tf.Tensor {
    return tf.fill(this._batchShape, NaN);
  }
  protected override _entropy(): tf.Tensor {
    return this.expandToBatch(tf.log(this.width()));
  }
}

/**
 * `KL(U(a1, b1) || U(a2, b2)) = log((b2 - a2)/(b1 - a1))` when `[a1, b1]` lies inside `[a2, b2]`,
 * `+Infinity` otherwise.
 *
 * @param p the first distribution.
 * @param q the second distribution.
 * @example
 * ```ts
 * klUniformUniform(new Uniform(0, 1), new Uniform(-1, 2)); // same as klDivergence(p, q)
 * ```
 */
export function klUniformUniform(p: Uniform, q: Uniform): tf.Tensor {
  return tf.tidy(() => {
    const kl = tf.log(tf.div(tf.sub(q.high, q.low), tf.sub(p.high, p.low)));
    const inside = andB(le(q.low, p.low), ge(q.high, p.high));
    return tf.where(inside, kl, tf.fill(kl.shape, Infinity));
  });
}

registerKL(Uniform, Uniform, klUniformUniform);
