/**
 * The truncated normal distribution (NumPyro's `TruncatedNormal(loc, scale, low, high)`): a
 * `Normal(mu, sigma)` restricted to `[low, high]` (either bound may be left out: one-sided).
 *
 * $$p(x) = \frac{\varphi(\xi)}{\sigma Z},\quad \xi = \frac{x - \mu}{\sigma},\quad
 *   Z = \Phi(\beta) - \Phi(\alpha),\quad \alpha = \frac{low - \mu}{\sigma},\
 *   \beta = \frac{high - \mu}{\sigma},\qquad x \in [low, high]$$
 *
 * CDF `(Phi(xi) - Phi(alpha)) / Z` (in log space where `Z` underflows), mean
 * `mu + sigma (phi(alpha) - phi(beta)) / Z`, variance
 * `sigma^2 [1 + (alpha phi(alpha) - beta phi(beta)) / Z - ((phi(alpha) - phi(beta)) / Z)^2]`,
 * mode `clip(mu, low, high)`, entropy `log(sqrt(2 pi e) sigma Z) + (alpha phi(alpha) - beta
 * phi(beta)) / (2 Z)`; for an interval in one tail from 3 standard deviations out, the moments
 * and entropy are taken relative to the near bound from the Mills-ratio continued fraction
 * (finite and accurate where `Z` underflows and the closed forms cancel).
 *
 * `rsample` inverts the CDF, `x = mu + sigma Phi^{-1}(Phi(alpha) + u Z)`, differentiable in all
 * four parameters, through the log-space `icdf` below (the mirror image
 * `x = mu - sigma Phi^{-1}(Phi(-alpha) - u Z)` where `alpha > 0`), so that draws from intervals
 * far in either tail stay inside `[low, high]`; `Z` is computed the same way
 * (`Phi(-alpha) - Phi(-beta)`).
 *
 * `icdf` (scipy's `truncnorm.ppf`, TFP's `TruncatedNormal.quantile`) is the same inverse in log
 * space, finite and accurate for truncations far in either tail (bounds at 8 to 30+ standard
 * deviations, where `Phi(alpha)` underflows float32).
 */
import * as tf from '@tensorflow/tfjs';
import { ScalarDistribution } from './scalar.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { ndtriLog } from './normal_cdf.js';
import {
  andB,
  eq,
  ge,
  gt,
  le,
  logNdtr,
  lt,
  maskLogProb,
  mulNoNan,
  ndtr,
  notB,
  safe,
  whereB,
} from './special.js';
import { log1mexp } from '../utils/expm1.js';
import { log1p } from '../utils/log1p.js';
import {
  greaterThan,
  interval,
  lessThan,
  real,
  type Constraint,
} from '../constraints/constraints.js';
import { valuesOf } from '../utils/tensor.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
/** Uniforms are kept in `[U_EPS, 1 - U_EPS]` so that the quantile stays finite. */
const U_EPS = 1e-7;
/** A missing bound, in standard deviations: `Phi(-FAR) = phi(FAR) = 0` in float32. */
const FAR = 1e4;

/** Standard normal density. */
function phi(z: tf.Tensor): tf.Tensor {
  return tf.exp(tf.sub(tf.mul(-0.5, tf.square(z)), HALF_LOG_2PI));
}

/** Below this normalizer the CDF is formed in log space. */
const TINY_Z = 1e-20;
/** The log-space CDF's `log F(x) - log F(low)` is kept at least this far from 0. */
const LOG_GAP_MIN = 1e-30;
/** From this many standard deviations out, one-tail moments come from {@link tailMoments}. */
const TAIL_FROM = 3;
/** Depth of the Mills-ratio continued fraction (relative error < 1e-8 from 3 sd out). */
const CF_DEPTH = 20;

/**
 * Laplace's continued fraction of the Mills ratio `R(x) = (1 - Phi(x)) / phi(x)`, for `x >= 3`:
 * `K_k = k / (x + K_{k+1})` (from `K_{21} = 0`), `R = 1 / (x + K_1)`. For `xi ~ N(0, 1)` given
 * `xi > x`, with `t = xi - x`: `E[t] = K_1`, `E[t^2] = K_1 K_2`, both without cancellation.
 */
function mills(x: tf.Tensor): { k1: tf.Tensor; k2: tf.Tensor; r: tf.Tensor } {
  let k: tf.Tensor = tf.zerosLike(x);
  for (let j = CF_DEPTH; j >= 2; j--) k = tf.div(j, tf.add(x, k));
  const k1 = tf.div(1, tf.add(x, k));
  return { k1, k2: k, r: tf.div(1, tf.add(x, k1)) };
}

/**
 * Moments of `xi ~ N(0, 1)` restricted to `[a, b]` with `3 <= a < b` (`b` may be huge: one
 * side), relative to the near bound, `t = xi - a`, `d = b - a`, `e = phi(b) / phi(a)`:
 *
 * $$N_0 = R(a) - e R(b),\quad N_1 = R(a) K_1(a) - e R(b) (K_1(b) + d),$$
 * $$N_2 = R(a) K_1(a) K_2(a) - e R(b) (K_1(b) K_2(b) + 2 d K_1(b) + d^2),$$
 *
 * (`Z = phi(a) N_0`), `E[t] = N_1 / N_0`, `Var = N_2 / N_0 - E[t]^2`, and the entropy
 * `1/2 + log N_0 + [a K_1(a) R(a) - e R(b) (b K_1(b) + 2 b d - d^2)] / (2 N_0)`.
 */
function tailMoments(
  a: tf.Tensor,
  b: tf.Tensor,
): { mean: tf.Tensor; variance: tf.Tensor; entropy: tf.Tensor } {
  const ma = mills(a);
  const mb = mills(b);
  const d = tf.sub(b, a);
  const e = tf.exp(tf.mul(-0.5, tf.mul(d, tf.add(a, b))));
  const er = tf.mul(e, mb.r);
  const n0 = tf.sub(ma.r, er);
  const n1 = tf.sub(tf.mul(ma.r, ma.k1), tf.mul(er, tf.add(mb.k1, d)));
  const n2b = tf.add(tf.add(tf.mul(mb.k1, mb.k2), tf.mul(tf.mul(2, d), mb.k1)), tf.square(d));
  const n2 = tf.sub(tf.mul(tf.mul(ma.r, ma.k1), ma.k2), tf.mul(er, n2b));
  const mean = tf.div(n1, n0);
  const variance = tf.sub(tf.div(n2, n0), tf.square(mean));
  const hb = tf.sub(tf.add(tf.mul(b, mb.k1), tf.mul(tf.mul(2, b), d)), tf.square(d));
  const hNum = tf.sub(tf.mul(tf.mul(a, ma.k1), ma.r), tf.mul(er, hb));
  const entropy = tf.add(tf.add(0.5, tf.log(n0)), tf.div(hNum, tf.mul(2, n0)));
  return { mean, variance, entropy };
}

/**
 * The closed-form pieces `[(phi(a) - phi(b)) / Z, (a phi(a) - b phi(b)) / Z, Z]`, `Z` mirrored
 * (`Phi(-a) - Phi(-b)`) where `a > 0`.
 */
function directMoments(a: tf.Tensor, b: tf.Tensor): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const pa = phi(a);
  const pb = phi(b);
  const z = whereB(gt(a, 0), tf.sub(ndtr(tf.neg(a)), ndtr(tf.neg(b))), tf.sub(ndtr(b), ndtr(a)));
  const m1 = tf.div(tf.sub(pa, pb), z);
  const m2 = tf.div(tf.sub(mulNoNan(pa, a), mulNoNan(pb, b)), z);
  return [m1, m2, z];
}

/**
 * Truncated normal with `loc` mu, `scale` sigma > 0 and bounds `low < high` (finite numbers or
 * tensors; leave one out, or give `-Infinity` / `Infinity` as a number, for a one-sided
 * truncation).
 *
 * @example
 * ```ts
 * const d = new TruncatedNormal(0, 1, -1, 2);
 * d.mean();            // (phi(-1) - phi(2)) / (Phi(2) - Phi(-1))
 * d.rsample([100]);    // draws in [-1, 2], differentiable in loc, scale, low and high
 * new TruncatedNormal(0, 1, 0); // half-normal: low = 0, no upper bound
 * ```
 */
export class TruncatedNormal extends ScalarDistribution {
  /** Location mu of the untruncated normal. */
  readonly loc: tf.Tensor;
  /** Scale sigma of the untruncated normal. */
  readonly scale: tf.Tensor;
  /** Lower bound (`-Infinity` when one-sided). */
  readonly low: tf.Tensor;
  /** Upper bound (`Infinity` when one-sided). */
  readonly high: tf.Tensor;
  private readonly hasLow: boolean;
  private readonly hasHigh: boolean;

  /**
   * @param loc mu, finite.
   * @param scale sigma, finite and > 0.
   * @param low lower bound (finite), or undefined / `-Infinity` for none.
   * @param high upper bound (finite, > low), or undefined / `Infinity` for none.
   * @param options validation flag and name.
   */
  constructor(
    loc: TensorInput = 0,
    scale: TensorInput = 1,
    low?: TensorInput,
    high?: TensorInput,
    options: DistributionOptions = {},
  ) {
    super(options);
    this.loc = this.param(loc, 'loc');
    this.scale = this.param(scale, 'scale');
    this.checkFinite(this.loc, 'loc');
    this.checkPositive(this.scale, 'scale');
    this.hasLow = low !== undefined && low !== -Infinity;
    this.hasHigh = high !== undefined && high !== Infinity;
    this.low = this.hasLow ? this.param(low as TensorInput, 'low') : this.param(-Infinity, 'low');
    this.high = this.hasHigh
      ? this.param(high as TensorInput, 'high')
      : this.param(Infinity, 'high');
    if (this.hasLow) this.checkFinite(this.low, 'low');
    if (this.hasHigh) this.checkFinite(this.high, 'high');
    this.setBatchShape({ loc: this.loc, scale: this.scale, low: this.low, high: this.high });
    if (this.validateArgs && this.hasLow && this.hasHigh) {
      const ok = tf.tidy(() => tf.all(tf.less(this.low, this.high)));
      const good = valuesOf(ok)[0] === 1;
      ok.dispose();
      if (!good) throw this.constructionError('high', 'expected high > low everywhere');
    }
  }

  /** Support: `interval(low, high)`, `greaterThan(low)`, `lessThan(high)` or the reals. */
  override get support(): Constraint {
    if (this.hasLow && this.hasHigh) return interval(this.low, this.high);
    if (this.hasLow) return greaterThan(this.low);
    if (this.hasHigh) return lessThan(this.high);
    return real;
  }

  /**
   * The standardized lower bound; a missing bound stands at `-FAR` standard deviations, where
   * `Phi`, `phi` and their autodiff gradients are exactly 0 (an infinite bound would give NaN
   * gradients through `Phi`).
   */
  private alpha(): tf.Tensor {
    return this.hasLow ? tf.div(tf.sub(this.low, this.loc), this.scale) : tf.scalar(-FAR);
  }
  /** The standardized upper bound (`FAR` when missing). */
  private beta(): tf.Tensor {
    return this.hasHigh ? tf.div(tf.sub(this.high, this.loc), this.scale) : tf.scalar(FAR);
  }
  /** `x` clamped into `[low, high]` (by `where`, whose gradient broadcasts correctly). */
  private clamp(x: tf.Tensor): tf.Tensor {
    const lo = this.hasLow ? whereB(lt(x, this.low), this.low, x) : x;
    return this.hasHigh ? whereB(gt(lo, this.high), this.high, lo) : lo;
  }
  /** Whether to work in the mirror image (`alpha > 0`: the interval lies in the upper tail). */
  private flip(): tf.Tensor {
    return gt(this.alpha(), 0);
  }
  /** The normalizer `Z = Phi(beta) - Phi(alpha)`, mirrored where `alpha > 0`. */
  private normalizer(): tf.Tensor {
    const a = this.alpha();
    const b = this.beta();
    const direct = tf.sub(ndtr(b), ndtr(a));
    const mirror = tf.sub(ndtr(tf.neg(a)), ndtr(tf.neg(b)));
    return whereB(this.flip(), mirror, direct);
  }

  /**
   * `log Z` in log space, finite where `Z` underflows float32 (bounds beyond ~13 standard
   * deviations): with `(lo, hi) = (alpha, beta)`, or `(-beta, -alpha)` where `alpha > 0`,
   *
   * $$\log Z = \log\Phi(hi) + \operatorname{log1mexp}\big(\log\Phi(lo) - \log\Phi(hi)\big).$$
   */
  private logNormalizer(): tf.Tensor {
    const a = this.alpha();
    const b = this.beta();
    const flip = this.flip();
    const logHi = logNdtr(whereB(flip, tf.neg(a), b));
    const logLo = logNdtr(whereB(flip, tf.neg(b), a));
    return tf.add(logHi, log1mexp(tf.minimum(tf.sub(logLo, logHi), 0)));
  }
  /**
   * Inverse-CDF draws, `x = icdf(u)` with `u ~ U(0, 1)`: the log-space quantile below, so that
   * intervals far in either tail (e.g. `[40, 41]` or `[-50, -49]` standard deviations, where
   * `Phi(alpha)` underflows float32) keep draws inside `[low, high]` with the right conditional
   * law; pathwise gradients in the four parameters (`dx/dtheta = -(dF/dtheta) / p(x)` at fixed
   * `u`, by autodiff through the quantile).
   */
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const full = [...shape, ...this._batchShape];
    const u = tf.randomUniform(full, U_EPS, 1 - U_EPS, 'float32', seed);
    return this._icdf(u);
  }
  /**
   * The quantile (scipy's `truncnorm.ppf`): with `alpha`, `beta` the standardized bounds,
   *
   * $$x = \mu + \sigma\,\Phi^{-1}\big(\Phi(\alpha) + q\,(\Phi(\beta) - \Phi(\alpha))\big)
   *   = \mu - \sigma\,\Phi^{-1}\big(\Phi(-\alpha) - q\,(\Phi(-\alpha) - \Phi(-\beta))\big),$$
   *
   * the second (survival) form where `alpha > 0` (an upper-tail interval). Both read as a convex
   * combination, `p = (1 - q) Phi(u) + q Phi(v)` with `(u, v) = (alpha, beta)` or
   * `(-alpha, -beta)`, which has no cancellation; it is formed in log space,
   *
   * $$\log p = \operatorname{logaddexp}\big(\log\Phi(u) + \log(1 - q),\ \log\Phi(v) + \log q\big),$$
   *
   * and inverted by {@link ndtriLog}, so that a truncation at 8 to 30+ standard deviations (where
   * `Phi(u)` underflows float32) still gives finite, accurate quantiles. `icdf(0) = low`,
   * `icdf(1) = high` (`-Infinity` / `Infinity` for a missing bound), NaN outside `[0, 1]`;
   * differentiable in `q` and the four parameters (`dx/dq = sigma Z / phi(xi)`).
   */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    const inside = andB(gt(p, 0), lt(p, 1));
    const q = safe(inside, p, 0.5);
    const flip = this.flip();
    const a = this.alpha();
    const b = this.beta();
    const u = whereB(flip, tf.neg(a), a);
    const v = whereB(flip, tf.neg(b), b);
    const t1 = tf.add(logNdtr(u), log1p(tf.neg(q)));
    const t2 = tf.add(logNdtr(v), tf.log(q));
    // logaddexp of two finite terms (log Phi never underflows, q is inside (0, 1)), with an
    // accurate log1p: log p near 0 (p near 1) must keep the digits of 1 - p
    const lp = tf.add(tf.maximum(t1, t2), log1p(tf.exp(tf.neg(tf.abs(tf.sub(t1, t2))))));
    const z = ndtriLog(tf.minimum(lp, 0));
    const x = this.clamp(tf.add(this.loc, tf.mul(this.scale, whereB(flip, tf.neg(z), z))));
    const nan = tf.fill(x.shape, NaN);
    return whereB(inside, x, whereB(eq(p, 0), this.low, whereB(eq(p, 1), this.high, nan)));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const inside = andB(ge(x, this.low), le(x, this.high));
    const xi = tf.div(tf.sub(safe(inside, x, 0), this.loc), this.scale);
    const lp = tf.sub(
      tf.mul(-0.5, tf.square(xi)),
      tf.add(tf.add(HALF_LOG_2PI, tf.log(this.scale)), this.logNormalizer()),
    );
    return maskLogProb(inside, lp);
  }
  /**
   * `(num / Z)` with `num = Phi(xi) - Phi(alpha)` (`Phi(-alpha) - Phi(-xi)` where `alpha > 0`);
   * where `Z` is below {@link TINY_Z} (bounds beyond ~9 standard deviations) the ratio is taken in
   * log space, `exp(log num - log Z)`, with `log num` formed like {@link logNormalizer}.
   */
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    const xc = this.clamp(x);
    const xi = tf.div(tf.sub(xc, this.loc), this.scale);
    const a = this.alpha();
    const flip = this.flip();
    const direct = tf.sub(ndtr(xi), ndtr(a));
    const mirror = tf.sub(ndtr(tf.neg(a)), ndtr(tf.neg(xi)));
    const num = whereB(flip, mirror, direct);
    const z = this.normalizer();
    const tiny = lt(z, TINY_Z);
    // each branch sees a harmless input where it is not taken (0/0 there gave NaN gradients)
    const plain = tf.clipByValue(tf.div(num, whereB(tiny, tf.scalar(1), z)), 0, 1);
    const logHi = logNdtr(whereB(flip, tf.neg(a), xi));
    const logLo = logNdtr(whereB(flip, tf.neg(xi), a));
    // the gap kept below 0: log1mexp(0) = -Infinity has an infinite slope at x = low
    const gap = tf.minimum(tf.sub(logLo, logHi), -LOG_GAP_MIN);
    const logNum = tf.add(logHi, log1mexp(gap));
    const viaLog = tf.clipByValue(tf.exp(tf.sub(logNum, this.logNormalizer())), 0, 1);
    return whereB(tiny, viaLog, plain);
  }
  /**
   * The standardized moments `E[xi]`, `Var[xi]` and `H - log sigma` (`xi = (x - mu) / sigma`).
   * Where the interval lies in one tail at `a >= 3` standard deviations (`a = alpha`, or `-beta`
   * for a lower-tail interval, mirrored), they are taken relative to the near bound from the
   * Mills-ratio continued fractions ({@link tailMoments}), free of the cancellation (and the
   * underflow of `Z`) of the closed forms; elsewhere the closed forms
   * `E = (phi(alpha) - phi(beta)) / Z`, `Var = 1 + (alpha phi(alpha) - beta phi(beta)) / Z - E^2`,
   * `H - log sigma = 1/2 + log(sqrt(2 pi) Z) + (alpha phi(alpha) - beta phi(beta)) / (2 Z)`.
   */
  private standardMoments(): { mean: tf.Tensor; variance: tf.Tensor; entropy: tf.Tensor } {
    const alpha = this.alpha();
    const beta = this.beta();
    const upper = gt(alpha, 0);
    const lower = lt(beta, 0);
    const a = whereB(upper, alpha, whereB(lower, tf.neg(beta), tf.scalar(0)));
    const b = whereB(upper, beta, whereB(lower, tf.neg(alpha), tf.scalar(1)));
    const tail = ge(a, TAIL_FROM);
    const t = tailMoments(safe(tail, a, TAIL_FROM), safe(tail, b, TAIL_FROM + 1));
    const sign = whereB(upper, tf.scalar(1), tf.scalar(-1));
    const tailMean = tf.mul(sign, tf.add(safe(tail, a, TAIL_FROM), t.mean));
    const plain = notB(tail);
    const [m1, m2, z] = directMoments(safe(plain, alpha, -1), safe(plain, beta, 1));
    const plainVar = tf.sub(tf.add(1, m2), tf.square(m1));
    const plainEnt = tf.add(tf.add(0.5 + HALF_LOG_2PI, tf.log(z)), tf.mul(0.5, m2));
    return {
      mean: whereB(tail, tailMean, m1),
      variance: whereB(tail, t.variance, plainVar),
      entropy: whereB(tail, t.entropy, plainEnt),
    };
  }
  protected override _mean(): tf.Tensor {
    const { mean } = this.standardMoments();
    return this.expandToBatch(tf.add(this.loc, tf.mul(this.scale, mean)));
  }
  protected override _variance(): tf.Tensor {
    const { variance } = this.standardMoments();
    return this.expandToBatch(tf.mul(tf.square(this.scale), variance));
  }
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(this.clamp(this.loc));
  }
  protected override _entropy(): tf.Tensor {
    const { entropy } = this.standardMoments();
    return this.expandToBatch(tf.add(tf.log(this.scale), entropy));
  }
}
