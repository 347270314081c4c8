/**
 * Truncation of any univariate continuous distribution with a CDF and a quantile (NumPyro's
 * `TruncatedDistribution`, which builds `LeftTruncatedDistribution`,
 * `RightTruncatedDistribution` or `TwoSidedTruncatedDistribution` by which bounds are given):
 *
 * $$p_T(x) = \frac{p(x)}{Z},\qquad Z = F(high) - F(low),\qquad low \le x \le high,$$
 *
 * with `F(low) = 0` for a missing lower bound and `F(high) = 1` for a missing upper one.
 *
 * Accuracy: `log Z` is formed in log space from the base's `logCdf` / `logSurvival`. Where the
 * interval lies in the upper tail (`F(low) > 1/2`), the survival form
 * `Z = S(low) - S(high)` (`S = 1 - F`) is used, so that e.g. a `Normal(0, 1)` truncated to
 * `[8, inf)` (`Z = 6.2e-16`, `1 - F(8) = 0` in float32) keeps its digits; for the symmetric
 * location-scale bases (Normal, Laplace, Cauchy, Logistic, SoftLaplace) `S(x) = F(2 loc - x)`
 * and the upper-tail quantile is `2 loc - F^{-1}(s)` (NumPyro's sign trick); for the other bases
 * it is `F^{-1}(1 - s)` refined by Newton steps on `log S(x) = log s`.
 *
 * Draws invert the CDF: `x = F^{-1}(F(low) + u Z)` (upper tail: `x = S^{-1}(S(low) - u Z)`),
 * `u ~ U(0, 1)`, reparameterized (differentiable in the base's parameters and the bounds) when the
 * base is. CDF `(F(x) - F(low)) / Z`, quantile the same map as the draws.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { log1mexp } from '../utils/expm1.js';
import { checkOptionKeys } from '../utils/options.js';
import { activeTape, holdsVariable } from '../utils/tape.js';
import { valuesOf, type TensorInput } from '../utils/tensor.js';
import { greaterThan, interval, lessThan, type Constraint } from '../constraints/constraints.js';
import { Distribution, type DistributionOptions } from './distribution.js';
import type { DistributionHooks } from './hooks.js';
import { Normal } from './normal.js';
import { Laplace } from './laplace.js';
import { Cauchy } from './cauchy.js';
import { Logistic } from './logistic.js';
import { SoftLaplace } from './soft_laplace.js';
import { andB, ge, gt, le, lt, maskLogProb, noGrad, safe, whereB } from './special.js';
import './expanded.js';
import './independent.js';

/** Uniforms are kept in `[U_EPS, 1 - U_EPS]` so that the quantile stays finite. */
const U_EPS = 1e-7;
/** Newton steps of the quantile (from the clamped bound for an interval far in a tail). */
const NEWTON_STEPS = 8;
/**
 * The gaps `log F(low) - log F(x)` and `log S(x) - log S(low)` are kept at least this far below
 * 0: `log1mexp(0) = -Infinity` has an infinite slope, which gave NaN gradients through the form
 * not taken (both logs round to 0 far in the other tail) and at `x = low`.
 */
const LOG_GAP_MIN = 1e-30;
/** Newton steps whose scale `F(x) / p(x)` exceeds `e^80` are not taken (not finite in float32). */
const MAX_LOG_STEP = 80;

/** `log(e^a + e^b)`, finite where one term is `-Infinity`. */
function logAddExp(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const m = tf.maximum(a, b);
  const mSafe = whereB(tf.isFinite(m), m, tf.zerosLike(m));
  return tf.add(mSafe, tf.log(tf.add(tf.exp(tf.sub(a, mSafe)), tf.exp(tf.sub(b, mSafe)))));
}

/** The bound terms every method needs (functions of the base and the bounds only). */
interface BoundTerms {
  /** `log Z = log(F(high) - F(low))`. */
  logZ: tf.Tensor;
  /** `log F(low)` (`-Infinity` without a lower bound). */
  logFLow: tf.Tensor;
  /** `log S(low)` (absent without a lower bound). */
  logSLow: tf.Tensor | undefined;
  /** `F(low)` (0 without a lower bound). */
  fLow: tf.Tensor;
  /** Where the upper-tail forms are used: `F(low) > 1/2`. */
  upper: tf.Tensor;
}

/** The bounds of a truncation; at least one. `-Infinity` / `Infinity` (numbers) mean none. */
export interface TruncationBounds {
  /** Lower bound `low` (finite where given). */
  low?: TensorInput;
  /** Upper bound `high` (finite where given, `> low`). */
  high?: TensorInput;
}

/** The symmetric location-scale families, whose survival is the mirrored CDF. */
function symmetricLoc(base: Distribution): tf.Tensor | undefined {
  const sym =
    base instanceof Normal ||
    base instanceof Laplace ||
    base instanceof Cauchy ||
    base instanceof Logistic ||
    base instanceof SoftLaplace;
  return sym ? base.loc : undefined;
}

/**
 * `base` restricted to `[low, high]` and renormalized. The base stays the caller's (`dispose`
 * frees only the bounds made here).
 *
 * @example
 * ```ts
 * const d = new TruncatedDistribution(new Laplace(0, 1), { low: -1, high: 2 });
 * d.logProb(0.5);   // log(0.5 e^{-0.5}) - log(F(2) - F(-1))
 * d.rsample([100]); // draws in [-1, 2], differentiable in loc, scale, low and high
 * new TruncatedDistribution(new Normal(0, 1), { low: 8 }).logProb(8.5); // finite, exact
 * ```
 */
export class TruncatedDistribution extends Distribution {
  /** The untruncated distribution (scalar event, with `cdf` and `icdf`). */
  readonly base: Distribution;
  /** Lower bound (`-Infinity` when left open). */
  readonly low: tf.Tensor;
  /** Upper bound (`Infinity` when left open). */
  readonly high: tf.Tensor;
  private readonly hasLow: boolean;
  private readonly hasHigh: boolean;
  private readonly batch: number[];
  private readonly mirror: tf.Tensor | undefined;
  /** The bound terms computed once at construction (owned). */
  private readonly cached: BoundTerms;
  /** The gradient tape the cache was computed on (`null`: none). */
  private readonly cacheTape: object | null;
  /** The base or the bounds hold a `tf.Variable` (the cache is then used only on its tape). */
  private readonly variableParams: boolean;

  /**
   * @param base a univariate continuous distribution with `cdf` and `icdf` (Normal, Laplace,
   *   Cauchy, Logistic, Exponential, Gumbel, Weibull, LogNormal, Uniform, SoftLaplace, ...).
   * @param bounds `{low}`, `{high}` or `{low, high}`; each broadcasts with the base's batch shape.
   * @param options validation flag and name.
   * @throws ArgumentError naming `base` (not a distribution, an event shape, a discrete support,
   *   no `cdf`/`icdf`), `bounds` (no bound, unknown keys, no mass of the base inside), `low` /
   *   `high` (not finite) or `high` (`high <= low`), before any work.
   */
  constructor(base: Distribution, bounds: TruncationBounds, options: DistributionOptions = {}) {
    super(options);
    if (!(base instanceof Distribution)) throw new ArgumentError('base', 'expected a Distribution');
    if (base.eventShape.length !== 0) {
      throw new ArgumentError(
        'base',
        `expected a univariate distribution (event shape []), got [${base.eventShape.join(',')}]`,
      );
    }
    if (base.support.isDiscrete) {
      throw new ArgumentError('base', `expected a continuous distribution, got ${base.name}`);
    }
    const hooks = base as unknown as DistributionHooks;
    const proto = Distribution.prototype as unknown as DistributionHooks;
    for (const m of ['_cdf', '_icdf'] as const) {
      if (hooks[m] === proto[m]) {
        throw new ArgumentError(
          'base',
          `${base.name} has no ${m.slice(1)}; truncation samples by the inverse CDF`,
        );
      }
    }
    if (bounds === null || typeof bounds !== 'object') {
      throw new ArgumentError('bounds', 'expected {low}, {high} or {low, high}');
    }
    checkOptionKeys(bounds, ['low', 'high'], 'TruncatedDistribution bounds');
    this.hasLow = bounds.low !== undefined && bounds.low !== -Infinity;
    this.hasHigh = bounds.high !== undefined && bounds.high !== Infinity;
    if (!this.hasLow && !this.hasHigh) {
      throw new ArgumentError('bounds', 'expected at least one finite bound (low or high)');
    }
    this.base = base;
    this.low = this.param(this.hasLow ? (bounds.low as TensorInput) : -Infinity, 'low');
    this.high = this.param(this.hasHigh ? (bounds.high as TensorInput) : Infinity, 'high');
    if (this.hasLow) this.checkFinite(this.low, 'low');
    if (this.hasHigh) this.checkFinite(this.high, 'high');
    this.batch = this.broadcastParams({
      base: base.batchShape,
      low: this.low.shape,
      high: this.high.shape,
    });
    if (this.validateArgs && this.hasLow && this.hasHigh) {
      const ok = tf.tidy(() => tf.all(tf.less(this.low, this.high)));
      const good = valuesOf(ok)[0] === 1;
      ok.dispose();
      if (!good) throw this.constructionError('high', 'expected high > low everywhere');
    }
    this.mirror = symmetricLoc(base);
    this.cacheTape = activeTape();
    this.variableParams =
      holdsVariable(base) || this.low instanceof tf.Variable || this.high instanceof tf.Variable;
    const terms = tf.tidy(() => {
      const t = this.computeTerms();
      return [t.logZ, t.logFLow, t.fLow, t.upper, ...(t.logSLow ? [t.logSLow] : [])];
    });
    terms.forEach((t) => this.own(t));
    const [logZ0, logFLow, fLow, upper, logSLow] = terms as [
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
      tf.Tensor | undefined,
    ];
    this.cached = { logZ: logZ0, logFLow, fLow, upper, logSLow };
    if (this.validateArgs) {
      const logZ = tf.tidy(() => tf.min(this.cached.logZ));
      const positive = (valuesOf(logZ)[0] as number) > -Infinity;
      logZ.dispose();
      if (!positive) {
        throw this.constructionError(
          'bounds',
          `${base.name} puts no probability in [low, high] (F(high) - F(low) = 0)`,
        );
      }
    }
  }

  get batchShape(): number[] {
    return [...this.batch];
  }
  get eventShape(): number[] {
    return [];
  }
  /** Support: `interval(low, high)`, `greaterThan(low)` or `lessThan(high)`. */
  override get support(): Constraint {
    if (this.hasLow && this.hasHigh) return interval(this.low, this.high);
    if (this.hasLow) return greaterThan(this.low);
    return lessThan(this.high);
  }
  /** Reparameterized when the base is (the inverse CDF carries the gradients). */
  override get hasRsample(): boolean {
    return this.base.hasRsample;
  }

  /** `log F(x)` of the base. */
  private logF(x: tf.Tensor): tf.Tensor {
    return this.base.logCdf(x);
  }
  /** `log S(x) = log(1 - F(x))` of the base (the mirrored CDF for a symmetric base). */
  private logS(x: tf.Tensor): tf.Tensor {
    if (this.mirror === undefined) return this.base.logSurvival(x);
    return this.base.logCdf(tf.sub(tf.mul(2, this.mirror), x));
  }
  /** `log(F(x) - F(low))` (`log F(x)` without a lower bound). */
  private logFromLow(x: tf.Tensor, logFLow: tf.Tensor): tf.Tensor {
    const lx = this.logF(x);
    if (!this.hasLow) return lx;
    return tf.add(lx, log1mexp(tf.minimum(tf.sub(logFLow, lx), -LOG_GAP_MIN)));
  }
  /** `log(S(low) - S(x))`. */
  private logToLowUpper(x: tf.Tensor, logSLow: tf.Tensor): tf.Tensor {
    return tf.add(logSLow, log1mexp(tf.minimum(tf.sub(this.logS(x), logSLow), -LOG_GAP_MIN)));
  }
  /**
   * The bound terms: `log Z = log(F(high) - F(low))` (in the survival form where the interval is
   * in the upper tail), `log F(low)`, `log S(low)`, `F(low)` and the upper-tail mask.
   */
  private computeTerms(): BoundTerms {
    const logFLow = this.hasLow ? this.logF(this.low) : tf.scalar(-Infinity);
    const fLow = this.hasLow ? this.base.cdf(this.low) : tf.scalar(0);
    // where the upper-tail (survival) forms are used: F(low) > 1/2, off the gradient tape
    const upper = this.hasLow ? gt(logFLow, Math.log(0.5)) : tf.scalar(false, 'bool');
    const lower = this.hasHigh ? this.logFromLow(this.high, logFLow) : this.logS(this.low);
    if (!this.hasLow) return { logZ: lower, logFLow, fLow, upper, logSLow: undefined };
    const logSLow = this.logS(this.low);
    const upperForm = this.hasHigh ? this.logToLowUpper(this.high, logSLow) : logSLow;
    return { logZ: whereB(upper, upperForm, lower), logFLow, fLow, upper, logSLow };
  }
  /**
   * The bound terms: the ones computed at construction when this call records on the same
   * gradient tape (or on none, with no `tf.Variable` among the parameters), else recomputed, so
   * that gradients reach the base's parameters from any `tf.grad` and a variable's new value is
   * read. Distributions are immutable, so the cache never needs invalidating otherwise.
   */
  private terms(): BoundTerms {
    const tape = activeTape();
    if (tape === this.cacheTape && (tape !== null || !this.variableParams)) return this.cached;
    return this.computeTerms();
  }
  /** `log Z = log(F(high) - F(low))`. */
  private logNormalizer(): tf.Tensor {
    return this.terms().logZ;
  }
  /** `x` clamped into `[low, high]`. */
  private clamp(x: tf.Tensor): tf.Tensor {
    const lo = this.hasLow ? whereB(lt(x, this.low), this.low, x) : x;
    return this.hasHigh ? whereB(gt(lo, this.high), this.high, lo) : lo;
  }

  /**
   * The quantile `F_T^{-1}(u)` of the truncated distribution, `u` in `(0, 1)`: the base's
   * quantile of `p = (1 - u) F(low) + u F(high)` (upper tail: of the survival
   * `s = (1 - u) S(low) + u S(high)`), refined by Newton steps on `log F(x) = log p` (`log S(x) =
   * log s`), both targets formed in log space (`logaddexp`). Where `p` or `s` underflows float32
   * (an interval far in a tail: `Normal(0, 1)` on `[40, 41]`) the start is the clamped bound and
   * the steps alone find the draw.
   */
  private quantile(u: tf.Tensor): tf.Tensor {
    const terms = this.terms();
    const logU = tf.log(u);
    const log1mU = tf.log1p(tf.neg(u));
    const logFHigh = this.hasHigh ? this.logF(this.high) : tf.scalar(0);
    const logP = logAddExp(tf.add(terms.logFLow, log1mU), tf.add(logFHigh, logU));
    // the branch not taken gets a harmless probability (its gradient is masked by the where)
    const p = tf.clipByValue(tf.exp(logP), 1e-30, 1 - U_EPS / 2);
    const xLower = this.newton(this.clamp(this.base.icdf(p)), logP, false);
    if (!this.hasLow) return this.clamp(xLower);
    const logSHigh = this.hasHigh ? this.logS(this.high) : tf.scalar(-Infinity);
    const logSLow = terms.logSLow as tf.Tensor;
    const logS = logAddExp(tf.add(logSLow, log1mU), tf.add(logSHigh, logU));
    const s = tf.clipByValue(tf.exp(logS), 1e-30, 1 - U_EPS / 2);
    const start =
      this.mirror === undefined
        ? this.base.icdf(tf.sub(1, s))
        : tf.sub(tf.mul(2, this.mirror), this.base.icdf(s));
    const xUpper = this.newton(this.clamp(start), logS, true);
    return this.clamp(whereB(terms.upper, xUpper, xLower));
  }
  /**
   * Newton steps on `g(x) = target` from `x`, `g = log F` (or `log S` for the upper tail, where
   * `F^{-1}(1 - s)` has lost the digits of a small `s` to the rounding of `1 - s`):
   * `x <- x -+ (g(x) - target) e^{g(x)} / p(x)`, each step clamped into `[low, high]` (`log F`
   * and `log S` are concave for log-concave bases, so the steps approach the root from one side
   * after at most one overshoot). At the root the autodiff gradient of a step is the implicit
   * one, `-(dg/dtheta - dtarget/dtheta) / (dg/dx)`.
   */
  private newton(x0: tf.Tensor, target: tf.Tensor, upperTail: boolean): tf.Tensor {
    let x = x0;
    for (let k = 0; k < NEWTON_STEPS; k++) {
      const g = upperTail ? this.logS(x) : this.logF(x);
      const resid = tf.sub(g, target);
      const logScale = tf.sub(g, this.base.logProb(x));
      // a step is taken where it is finite; elsewhere (and in the branch of the quantile not
      // taken) its inputs are replaced before the exp, so that no Infinity reaches the gradient
      const ok = noGrad(
        (r, e) =>
          tf.logicalAnd(
            tf.logicalAnd(tf.isFinite(r as tf.Tensor), tf.isFinite(e as tf.Tensor)),
            tf.less(e as tf.Tensor, MAX_LOG_STEP),
          ),
        resid,
        logScale,
      );
      const step = tf.mul(safe(ok, resid, 0), tf.exp(safe(ok, logScale, 0)));
      x = this.clamp(tf.add(x, upperTail ? step : tf.neg(step)));
    }
    return x;
  }

  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const full = [...shape, ...this.batch];
    // no draws: no kernels (wasm binary kernels broadcasting into an empty output corrupt memory)
    if (full.some((n) => n === 0)) return tf.zeros(full);
    return this.quantile(tf.randomUniform(full, U_EPS, 1 - U_EPS, 'float32', seed));
  }
  protected override _sample(shape: number[], seed: number): tf.Tensor {
    return this._rsample(shape, seed);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const inside = andB(ge(x, this.low), le(x, this.high));
    // a point of [low, high] where x is outside (its log-density is discarded)
    const xs = this.clamp(x);
    return maskLogProb(inside, tf.sub(this.base.logProb(xs), this.logNormalizer()));
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    const xc = this.clamp(x);
    const { logZ, logFLow, logSLow, upper: up } = this.terms();
    // the log-CDF capped at 0 before the exp: the form not taken may overflow (exp(735) far in
    // the other tail), and an Infinity there gave NaN gradients through the where
    const lower = tf.exp(tf.minimum(tf.sub(this.logFromLow(xc, logFLow), logZ), 0));
    if (!this.hasLow) return lower;
    const upper = tf.exp(tf.minimum(tf.sub(this.logToLowUpper(xc, logSLow as tf.Tensor), logZ), 0));
    return whereB(up, upper, lower);
  }
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    return this.quantile(p);
  }
}
