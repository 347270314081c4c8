/**
 * The Kumaraswamy distribution on `(0, 1)` (Pyro's `Kumaraswamy(concentration1,
 * concentration0)`), a Beta look-alike with a closed-form CDF and inverse CDF.
 *
 * $$p(x; a, b) = a b\, x^{a-1}(1 - x^a)^{b-1},\qquad F(x) = 1 - (1 - x^a)^b,\quad 0 < x < 1$$
 *
 * Raw moments `E[X^n] = b B(1 + n/a, b)`, so mean `b B(1 + 1/a, b)` and variance
 * `b B(1 + 2/a, b) - (b B(1 + 1/a, b))^2`; entropy `(1 - 1/b) + (1 - 1/a) H_b - log(a b)` with
 * the harmonic number `H_b = psi(b + 1) + gamma`. Reparameterized by the inverse CDF:
 * `x = (1 - (1 - u)^{1/b})^{1/a}`.
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { expm1, log1mexp } from '../utils/expm1.js';
import { FLOAT32_TINY } from '../utils/float32.js';
import { UnitConcentrationsDistribution } from './unit_concentrations.js';
import {
  andB,
  digamma,
  eq,
  ge,
  gt,
  lbeta,
  le,
  lt,
  log1mExpNeg,
  maskLogProb,
  mulNoNan,
  notB,
  openUniform,
  safe,
  whereB,
} from './special.js';
import { EULER_GAMMA } from './gumbel.js';

/**
 * Kumaraswamy distribution with `concentration1` a > 0 and `concentration0` b > 0.
 *
 * @example
 * ```ts
 * const d = new Kumaraswamy(2, 3);
 * d.cdf(0.5);       // 1 - (1 - 0.25)^3
 * d.rsample([100]); // differentiable in a and b
 * ```
 */
export class Kumaraswamy extends UnitConcentrationsDistribution {
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const u = openUniform([...shape, ...this._batchShape], seed);
    // 1 - (1 - u)^{1/b} = -expm1(log1p(-u) / b); then the 1/a-th power through logs
    const inner = tf.neg(tf.expm1(tf.div(log1p(tf.neg(u)), this.concentration0)));
    // inside the open interval as NumPyro's [tiny, 1 - eps]: a draw of exactly 0 (x^a underflows
    // for a small a) has an infinite density where a < 1
    return tf.clipByValue(
      tf.exp(tf.div(tf.log(inner), this.concentration1)),
      FLOAT32_TINY,
      1 - 2 ** -24,
    );
  }
  /**
   * The closed-form quantile `(1 - (1 - p)^{1/b})^{1/a}`, taken as
   * `exp(log(-expm1(log1p(-p)/b))/a)` (relatively accurate for small `p`); `0` and `1` at the ends.
   *
   * $$F^{-1}(p) = \big(1 - (1 - p)^{1/b}\big)^{1/a}$$
   */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    const inner = tf.neg(expm1(tf.div(log1p(tf.neg(p)), this.concentration0)));
    return tf.exp(tf.div(tf.log(inner), this.concentration1));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const a = this.concentration1;
    const b = this.concentration0;
    // the closed interval: at the ends 0 log 0 = 0, so p(0) = b for a = 1 and p(1) = a for b = 1
    // (+inf below 1, 0 above), as torch's xlogy gives
    const inside = andB(ge(x, 0), le(x, 1));
    const logX = tf.log(safe(inside, x, 0.5));
    // log(1 - x^a) = log1mexp(a log x): finite at x = 1 - 2^-24, where x^a rounds to 1
    const log1mXa = log1mexp(tf.mul(a, logX));
    const lp = tf.add(
      tf.add(tf.log(tf.mul(a, b)), mulNoNan(tf.sub(a, 1), logX)),
      mulNoNan(tf.sub(b, 1), log1mXa),
    );
    return maskLogProb(inside, lp);
  }
  /** `exp` of the log-CDF (`1 - (1 - x^a)^b` rounded to 0 below `x ~ 1e-4` at `a = 2`). */
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return tf.exp(this._logCdf(x));
  }
  /**
   * `log(1 - e^{-t})` with `t = -b log1p(-x^a)` ({@link log1mExpNeg}), `log t` from
   * `log b + a log x + x^a/2` while `x^a < 1e-3` (so that it stays finite where `x^a`
   * underflows); `-Infinity` at `x <= 0`, 0 at `x >= 1`.
   */
  protected override _logCdf(x: tf.Tensor): tf.Tensor {
    const a = this.concentration1;
    const b = this.concentration0;
    const inside = andB(gt(x, 0), lt(x, 1));
    const xs = safe(inside, x, 0.5);
    const logXa = tf.mul(a, tf.log(xs));
    const s = tf.exp(logXa);
    const tiny = lt(s, 1e-3);
    const l1 = log1mexp(logXa);
    const logMinusL1 = whereB(
      tiny,
      tf.add(logXa, tf.mul(0.5, s)),
      tf.log(tf.neg(safe(notB(tiny), l1, -1))),
    );
    const logT = tf.add(tf.log(b), logMinusL1);
    const lc = log1mExpNeg(tf.neg(tf.mul(b, l1)), logT);
    return whereB(inside, lc, whereB(lt(x, 0.5), tf.scalar(-Infinity), tf.scalar(0)));
  }
  protected override _survival(x: tf.Tensor): tf.Tensor {
    const inside = andB(gt(x, 0), lt(x, 1));
    const xs = safe(inside, x, 0.5);
    const logXa = tf.mul(this.concentration1, tf.log(xs));
    const s = tf.exp(tf.mul(this.concentration0, log1mexp(logXa)));
    return whereB(inside, s, tf.cast(lt(x, 0.5), 'float32'));
  }
  /** `E[X^n] = b B(1 + n/a, b)`. */
  private rawMoment(n: number): tf.Tensor {
    const a = this.concentration1;
    const b = this.concentration0;
    return tf.mul(b, tf.exp(lbeta(tf.add(1, tf.div(n, a)), b)));
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(this.rawMoment(1));
  }
  protected override _variance(): tf.Tensor {
    return this.expandToBatch(tf.sub(this.rawMoment(2), tf.square(this.rawMoment(1))));
  }
  /**
   * `((a - 1)/(a b - 1))^(1/a)` for `a, b > 1`; otherwise, as `Beta`'s mode (the ends have the
   * same exponents `a - 1` at 0 and `b - 1` at 1), 1 when `a >= b`, 0 when `a < b`, NaN when flat.
   */
  protected override _mode(): tf.Tensor {
    const a = this.expandToBatch(this.concentration1);
    const b = this.expandToBatch(this.concentration0);
    const interior = andB(gt(a, 1), gt(b, 1));
    const as = safe(interior, a, 2);
    const bs = safe(interior, b, 2);
    const m = tf.pow(tf.div(tf.sub(as, 1), tf.sub(tf.mul(as, bs), 1)), tf.reciprocal(as));
    const end = tf.cast(ge(a, b), 'float32');
    const flat = andB(eq(a, 1), eq(b, 1));
    return tf.where(interior, m, tf.where(flat, tf.fill(a.shape, NaN), end));
  }
  protected override _entropy(): tf.Tensor {
    const a = this.concentration1;
    const b = this.concentration0;
    const harmonic = tf.add(digamma(tf.add(b, 1)), EULER_GAMMA);
    const h = tf.sub(
      tf.add(tf.sub(1, tf.reciprocal(b)), tf.mul(tf.sub(1, tf.reciprocal(a)), harmonic)),
      tf.log(tf.mul(a, b)),
    );
    return this.expandToBatch(h);
  }
}
