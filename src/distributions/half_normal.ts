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
 * `erf(y) / (2y / sqrt(pi))` for `y < 1/2` from `y2 = y^2`: the Maclaurin series
 * `1 - y^2/3 + y^4/10 - y^6/42 + y^8/216 - y^10/1320` (relative error < 1e-8 there).
 */
function erfSeries(y2: tf.Tensor): tf.Tensor {
  let series: tf.Tensor = tf.scalar(-1 / 1320);
  for (const c of [1 / 216, -1 / 42, 1 / 10, -1 / 3, 1]) series = tf.add(tf.mul(series, y2), c);
  return series;
}

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
  /**
   * `scale sqrt(2) erfinv(p)`: the Maclaurin series of `erfinv` below `p = 0.1` (five terms,
   * 1e-11 relative there), `Phi^{-1}((1 + p)/2)` up to 1/2 and `-Phi^{-1}((1 - p)/2)` above (`1 - p`
   * exact in float32). `Phi^{-1}((1 + p)/2)` alone rounded `(1 + p)/2` to 1 above `p = 1 - 6e-8`
   * (`Infinity` for 10.84 at scale 2) and to 1/2 below `p ~ 6e-8` (0 for `2.5e-20` at `p = 1e-20`).
   *
   * $$F^{-1}(p) = \sigma\sqrt2\,\operatorname{erfinv}(p),\qquad
   *   \operatorname{erfinv}(p) = w + \frac{w^3}{3} + \frac{7w^5}{30} + \frac{127w^7}{630}
   *   + \frac{4369w^9}{22680} + \dots,\quad w = \frac{\sqrt\pi}{2}p$$
   */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    const small = lt(p, 0.1);
    const high = ge(p, 0.5);
    const w = tf.mul(0.5 * Math.sqrt(Math.PI), whereB(small, p, tf.scalar(0.05)));
    const w2 = tf.square(w);
    const c = [1, 1 / 3, 7 / 30, 127 / 630, 4369 / 22680];
    let poly: tf.Tensor = tf.scalar(c[4] as number);
    for (let k = 3; k >= 0; k--) poly = tf.add(tf.mul(poly, w2), c[k] as number);
    const series = tf.mul(Math.SQRT2, tf.mul(w, poly));
    const mid = ndtri(tf.mul(0.5, tf.add(1, whereB(small, tf.scalar(0.3), p))));
    const upper = tf.neg(ndtri(tf.mul(0.5, tf.sub(1, whereB(high, p, tf.scalar(0.7))))));
    return tf.mul(this.scale, whereB(small, series, whereB(high, upper, mid)));
  }
  /**
   * `erf(y)`, `y = x/(sqrt 2 s)`: `1 - erfc(y)`, and below `y = 1/2` the Maclaurin series
   * `(2y/sqrt(pi)) (1 - y^2/3 + y^4/10 - y^6/42 + y^8/216 - y^10/1320)`, which keeps the relative
   * precision of small probabilities (`1 - erfc(y)` is 0 below `x ~ 1e-7 s` in float32).
   */
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    const y = tf.div(tf.relu(x), tf.mul(Math.SQRT2, this.scale));
    const small = lt(y, 0.5);
    const ys = safe(small, y, 0.25);
    const near = tf.mul(tf.mul(2 / Math.sqrt(Math.PI), ys), erfSeries(tf.square(ys)));
    return whereB(small, near, tf.sub(1, erfc(y)));
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
    const near = tf.add(
      tf.log(tf.mul(2 / Math.sqrt(Math.PI), ys)),
      tf.log(erfSeries(tf.square(ys))),
    );
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
