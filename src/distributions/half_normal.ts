/**
 * The half-normal distribution: `|X|` for `X ~ N(0, sigma)`.
 *
 * $$p(x;\sigma) = \frac{\sqrt2}{\sigma\sqrt\pi}\exp\!\Big(-\frac{x^2}{2\sigma^2}\Big),\quad x \ge 0$$
 *
 * CDF `erf(x / (sigma sqrt 2))`, mean `sigma sqrt(2/pi)`, variance `sigma^2 (1 - 2/pi)`, mode 0,
 * entropy `1/2 log(pi sigma^2 / 2) + 1/2`. Reparameterized: `x = sigma |eps|`, `eps ~ N(0, 1)`.
 */
import * as tf from '@tensorflow/tfjs';
import { ScalarDistribution } from './scalar.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { registerKL } from './kl.js';
import { erfc, ge, logNdtr, lt, maskLogProb, ndtri, safe, whereB } from './special.js';
import { log1p } from '../utils/log1p.js';
import { nonnegative, type Constraint } from '../constraints/constraints.js';

/**
 * Half-normal distribution with scale `scale > 0` (support `x >= 0`).
 *
 * @example
 * ```ts
 * const d = new HalfNormal(2);
 * d.mean(); // 2 * sqrt(2 / pi)
 * ```
 */
export class HalfNormal extends ScalarDistribution {
  /** Scale (the standard deviation of the underlying normal). */
  readonly scale: tf.Tensor;

  /** @param scale scale, > 0. */
  constructor(scale: TensorInput, options: DistributionOptions = {}) {
    super(options);
    ({ scale: this.scale } = this.positiveParams({ scale }));
  }

  /** Support: `[0, inf)`. */
  override get support(): Constraint {
    return nonnegative;
  }

  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const eps = tf.randomNormal([...shape, ...this._batchShape], 0, 1, 'float32', seed);
    return tf.mul(this.scale, tf.abs(eps));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const lp = tf.sub(
      tf.sub(0.5 * Math.log(2 / Math.PI), tf.log(this.scale)),
      tf.mul(0.5, tf.square(tf.div(x, this.scale))),
    );
    return maskLogProb(ge(x, 0), lp);
  }
  /** `scale * Phi^{-1}((1 + p) / 2)`. */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    return tf.mul(this.scale, ndtri(tf.mul(0.5, tf.add(1, p))));
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return tf.sub(1, this._survival(x));
  }
  protected override _survival(x: tf.Tensor): tf.Tensor {
    return erfc(tf.div(tf.relu(x), tf.mul(Math.SQRT2, this.scale)));
  }
  /**
   * `log erf(y)`, `y = x/(sqrt 2 s)`: `log1p(-erfc(y))` with an accurate `log1p` (`log cdf` lost
   * the upper tail), and below `y = 1/2` the Maclaurin series
   * `log(2y/sqrt(pi)) + log(1 - y^2/3 + y^4/10 - y^6/42 + y^8/216 - y^10/1320)` (`erfc` rounds
   * to 1 there in float32, giving `-Infinity` at `x = 1e-30` for `-69.3`).
   */
  protected override _logCdf(x: tf.Tensor): tf.Tensor {
    const y = tf.div(tf.relu(x), tf.mul(Math.SQRT2, this.scale));
    const small = lt(y, 0.5);
    const ys = safe(small, y, 0.25);
    const y2 = tf.square(ys);
    let series: tf.Tensor = tf.scalar(-1 / 1320);
    for (const c of [1 / 216, -1 / 42, 1 / 10, -1 / 3, 1]) series = tf.add(tf.mul(series, y2), c);
    const near = tf.add(tf.log(tf.mul(2 / Math.sqrt(Math.PI), ys)), tf.log(series));
    return whereB(small, near, log1p(tf.neg(erfc(y))));
  }
  /** `log 2 + log Phi(-x/s)` in log space: finite far beyond where `erfc` underflows. */
  protected override _logSurvival(x: tf.Tensor): tf.Tensor {
    return tf.add(Math.LN2, logNdtr(tf.neg(tf.div(tf.relu(x), this.scale))));
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(tf.mul(Math.sqrt(2 / Math.PI), this.scale));
  }
  protected override _mode(): tf.Tensor {
    return tf.zeros(this._batchShape);
  }
  protected override _variance(): tf.Tensor {
    return this.expandToBatch(tf.mul(1 - 2 / Math.PI, tf.square(this.scale)));
  }
  protected override _entropy(): tf.Tensor {
    return this.expandToBatch(tf.add(tf.log(this.scale), 0.5 * Math.log(Math.PI / 2) + 0.5));
  }
}

/**
 * `KL(HN(s1) || HN(s2)) = log(s2/s1) + s1^2 / (2 s2^2) - 1/2`.
 *
 * @param p the first distribution.
 * @param q the second distribution.
 * @example
 * ```ts
 * klHalfNormalHalfNormal(new HalfNormal(1), new HalfNormal(2)); // same as klDivergence(p, q)
 * ```
 */
export function klHalfNormalHalfNormal(p: HalfNormal, q: HalfNormal): tf.Tensor {
  return tf.tidy(() => {
    const r = tf.div(p.scale, q.scale);
    return tf.sub(tf.mul(0.5, tf.square(r)), tf.add(tf.log(r), 0.5));
  });
}

registerKL(HalfNormal, HalfNormal, klHalfNormalHalfNormal);
