/**
 * The half-Cauchy distribution: `|X|` for `X ~ Cauchy(0, scale)` (Pyro's `HalfCauchy`, the usual
 * weakly-informative prior on a scale).
 *
 * $$p(x;s) = \frac{2}{\pi s\,(1 + x^2/s^2)},\quad x \ge 0,\qquad F(x) = \tfrac2\pi\arctan(x/s).$$
 *
 * Mean and variance are infinite; mode 0; entropy `log(2 pi s)`. Reparameterized:
 * `x = s tan(pi u / 2)`, `u ~ U(0, 1)`.
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { ScalarDistribution } from './scalar.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { registerKL } from './kl.js';
import { cauchyTail } from './cauchy.js';
import { ge, gt, maskLogProb, openUniform } from './special.js';
import { nonnegative, type Constraint } from '../constraints/constraints.js';

/**
 * Half-Cauchy distribution with `scale > 0`.
 *
 * @example
 * ```ts
 * const tau = new HalfCauchy(5);
 * tau.logProb(1);   // log(2 / (5 pi (1 + 1/25)))
 * ```
 */
export class HalfCauchy extends ScalarDistribution {
  /** The scale `s`. */
  readonly scale: tf.Tensor;

  /** @param scale scale, > 0. Default 1. @param options validation flag and name. */
  constructor(scale: TensorInput = 1, options: DistributionOptions = {}) {
    super(options);
    ({ scale: this.scale } = this.positiveParams({ scale }));
  }
  /** Support: `[0, inf)`. */
  override get support(): Constraint {
    return nonnegative;
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const u = openUniform([...shape, ...this._batchShape], seed);
    return tf.mul(this.scale, tf.tan(tf.mul(Math.PI / 2, u)));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const lp = tf.neg(
      tf.add(
        tf.add(Math.log(Math.PI / 2), tf.log(this.scale)),
        log1p(tf.square(tf.div(x, this.scale))),
      ),
    );
    return maskLogProb(ge(x, 0), lp);
  }
  /** `scale tan(pi p / 2)`, as `1/tan(pi (1 - p) / 2)` above 1/2 (float32 keeps the tail). */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    const high = gt(p, 0.5);
    const t = tf.tan(tf.mul(Math.PI / 2, tf.where(high, tf.sub(1, p), p)));
    return tf.mul(this.scale, tf.where(high, tf.reciprocal(t), t));
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return tf.mul(2 / Math.PI, tf.atan(tf.div(tf.relu(x), this.scale)));
  }
  /** `2 S(x/s)` of the Cauchy (`(2/pi) atan(s/x)` far out; `1 - F` rounded to 0 from `x ~ 1e7 s`). */
  protected override _survival(x: tf.Tensor): tf.Tensor {
    return tf.mul(2, cauchyTail(tf.div(tf.relu(x), this.scale)));
  }
  protected override _mean(): tf.Tensor {
    return tf.fill(this._batchShape, Infinity);
  }
  protected override _mode(): tf.Tensor {
    return tf.zeros(this._batchShape);
  }
  protected override _variance(): tf.Tensor {
    return tf.fill(this._batchShape, Infinity);
  }
  protected override _entropy(): tf.Tensor {
    return this.expandToBatch(tf.add(tf.log(this.scale), Math.log(2 * Math.PI)));
  }
}

/**
 * `KL(HC(s1) || HC(s2)) = log((s1 + s2)^2 / (4 s1 s2))` (the Cauchy pair with zero locations;
 * folding both at 0 leaves the ratio of densities unchanged).
 * @param p the first distribution. @param q the second distribution.
 */
export function klHalfCauchyHalfCauchy(p: HalfCauchy, q: HalfCauchy): tf.Tensor {
  return tf.tidy(() =>
    tf.sub(
      tf.mul(2, tf.log(tf.add(p.scale, q.scale))),
      tf.add(Math.log(4), tf.log(tf.mul(p.scale, q.scale))),
    ),
  );
}

registerKL(HalfCauchy, HalfCauchy, klHalfCauchyHalfCauchy);
