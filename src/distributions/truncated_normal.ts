/**
 * The truncated normal distribution (NumPyro's `TruncatedNormal(loc, scale, low, high)`): a
 * `Normal(mu, sigma)` restricted to `[low, high]` (either bound may be left out: one-sided).
 *
 * $$p(x) = \frac{\varphi(\xi)}{\sigma Z},\quad \xi = \frac{x - \mu}{\sigma},\quad
 *   Z = \Phi(\beta) - \Phi(\alpha),\quad \alpha = \frac{low - \mu}{\sigma},\
 *   \beta = \frac{high - \mu}{\sigma},\qquad x \in [low, high]$$
 *
 * CDF `(Phi(xi) - Phi(alpha)) / Z`, mean `mu + sigma (phi(alpha) - phi(beta)) / Z`, variance
 * `sigma^2 [1 + (alpha phi(alpha) - beta phi(beta)) / Z - ((phi(alpha) - phi(beta)) / Z)^2]`,
 * mode `clip(mu, low, high)`, entropy `log(sqrt(2 pi e) sigma Z) + (alpha phi(alpha) - beta
 * phi(beta)) / (2 Z)`.
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
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    const xc = this.clamp(x);
    const xi = tf.div(tf.sub(xc, this.loc), this.scale);
    const a = this.alpha();
    const direct = tf.sub(ndtr(xi), ndtr(a));
    const mirror = tf.sub(ndtr(tf.neg(a)), ndtr(tf.neg(xi)));
    const num = whereB(this.flip(), mirror, direct);
    return tf.clipByValue(tf.div(num, this.normalizer()), 0, 1);
  }
  /** `(phi(alpha) - phi(beta)) / Z` and `(alpha phi(alpha) - beta phi(beta)) / Z`. */
  private moments(): [tf.Tensor, tf.Tensor] {
    const a = this.alpha();
    const b = this.beta();
    const pa = phi(a);
    const pb = phi(b);
    const z = this.normalizer();
    const m1 = tf.div(tf.sub(pa, pb), z);
    const m2 = tf.div(tf.sub(mulNoNan(pa, a), mulNoNan(pb, b)), z);
    return [m1, m2];
  }
  protected override _mean(): tf.Tensor {
    const [m1] = this.moments();
    return this.expandToBatch(tf.add(this.loc, tf.mul(this.scale, m1)));
  }
  protected override _variance(): tf.Tensor {
    const [m1, m2] = this.moments();
    return this.expandToBatch(tf.mul(tf.square(this.scale), tf.sub(tf.add(1, m2), tf.square(m1))));
  }
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(this.clamp(this.loc));
  }
  protected override _entropy(): tf.Tensor {
    const [, m2] = this.moments();
    const h = tf.add(
      tf.add(0.5 + HALF_LOG_2PI, tf.log(tf.mul(this.scale, this.normalizer()))),
      tf.mul(0.5, m2),
    );
    return this.expandToBatch(h);
  }
}
