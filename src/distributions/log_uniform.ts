/**
 * The log-uniform (reciprocal) distribution (NumPyro's `LogUniform`, TFP's `LogUniform`): `log X`
 * is uniform on `[log low, log high]`.
 *
 * $$p(x) = \frac{1}{x\,(\log high - \log low)},\qquad low \le x \le high$$
 *
 * CDF `(log x - log low) / (log high - log low)`, quantile `low (high / low)^p`, mean
 * `(high - low) / log(high / low)`, variance `(high^2 - low^2) / (2 log(high / low)) - mean^2`,
 * mode `low`, entropy `log(log(high / low)) + (log low + log high) / 2`. Draws invert the CDF
 * (reparameterized in both bounds).
 */
import * as tf from '@tensorflow/tfjs';
import { valuesOf } from '../utils/tensor.js';
import { interval, type Constraint } from '../constraints/constraints.js';
import { ScalarDistribution } from './scalar.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { andB, ge, gt, le, lt, maskLogProb, safe, whereB } from './special.js';

/**
 * Log-uniform on `[low, high]`, `0 < low < high`.
 *
 * @example
 * ```ts
 * const d = new LogUniform(1e-3, 1e3);
 * d.cdf(1); // 0.5
 * ```
 */
export class LogUniform extends ScalarDistribution {
  /** Lower end, > 0. */
  readonly low: tf.Tensor;
  /** Upper end, > low. */
  readonly high: tf.Tensor;

  /**
   * @param low lower end, finite and > 0.
   * @param high upper end, finite and > low.
   * @param options validation flag and name.
   */
  constructor(low: TensorInput, high: TensorInput, options: DistributionOptions = {}) {
    super(options);
    ({ low: this.low, high: this.high } = this.positiveParams({ low, high }));
    if (this.validateArgs && this.low.size > 0 && this.high.size > 0) {
      const ok = tf.tidy(() => tf.all(tf.less(this.low, this.high)));
      const good = valuesOf(ok)[0] === 1;
      ok.dispose();
      if (!good) throw this.constructionError('high', 'expected high > low everywhere');
    }
  }

  /** Support: `interval(low, high)`. */
  override get support(): Constraint {
    return interval(this.low, this.high);
  }
  /** `log(high / low)`. */
  private width(): tf.Tensor {
    return tf.sub(tf.log(this.high), tf.log(this.low));
  }

  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const full = [...shape, ...this._batchShape];
    // no draws: no kernels (wasm binary kernels broadcasting into an empty output corrupt memory)
    if (full.some((n) => n === 0)) return tf.zeros(full);
    return this._icdf(tf.randomUniform(full, 0, 1, 'float32', seed));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const inside = andB(ge(x, this.low), le(x, this.high));
    const xs = safe(inside, x, 1);
    return maskLogProb(inside, tf.neg(tf.add(tf.log(xs), tf.log(this.width()))));
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    const xc = this.clamp(x);
    return tf.clipByValue(tf.div(tf.sub(tf.log(xc), tf.log(this.low)), this.width()), 0, 1);
  }
  /** `exp(log low + p log(high / low))`, clamped into `[low, high]` against rounding. */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    const x = tf.exp(tf.add(tf.log(this.low), tf.mul(p, this.width())));
    return this.clamp(x);
  }
  /** `x` clamped into `[low, high]` (by `where`, whose gradient broadcasts correctly). */
  private clamp(x: tf.Tensor): tf.Tensor {
    const lo = whereB(lt(x, this.low), this.low, x);
    return whereB(gt(lo, this.high), this.high, lo);
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(tf.div(tf.sub(this.high, this.low), this.width()));
  }
  protected override _variance(): tf.Tensor {
    const w = this.width();
    const m = tf.div(tf.sub(this.high, this.low), w);
    const second = tf.div(tf.sub(tf.square(this.high), tf.square(this.low)), tf.mul(2, w));
    return this.expandToBatch(tf.sub(second, tf.square(m)));
  }
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(this.low);
  }
  protected override _entropy(): tf.Tensor {
    const h = tf.add(
      tf.log(this.width()),
      tf.mul(0.5, tf.add(tf.log(this.low), tf.log(this.high))),
    );
    return this.expandToBatch(h);
  }
}
