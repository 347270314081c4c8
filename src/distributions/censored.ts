/**
 * Censored observations of a univariate distribution (NumPyro's `LeftCensoredDistribution`,
 * `RightCensoredDistribution` and `IntervalCensoredDistribution`): a wrapper whose log-likelihood
 * of an observation depends on a censoring indicator given at construction.
 *
 * With base density `f`, CDF `F` and survival `S = 1 - F`:
 *
 * - left-censored (`censored = 1`: only `Y <= y` is known): `log F(y)`; else `log f(y)`;
 * - right-censored (`censored = 1`: only `Y > y` is known): `log S(y)`; else `log f(y)`;
 * - interval-censored, the value a pair `(l, u)` (event shape `[2]`) and two indicators:
 *
 * $$\log p(l, u) = \begin{cases}
 *   \log F(u) & \text{left-censored only}\\
 *   \log S(l) & \text{right-censored only}\\
 *   \log\big(F(u) - F(l)\big) & \text{neither (interval)},\ \log f(l) \text{ when } l \approx u\\
 *   \log\big(1 - F(u) + F(l)\big) & \text{both (known to lie outside } (l, u])
 * \end{cases}$$
 *
 * Accuracy: every term is formed in log space from the base's `logCdf` / `logSurvival` (the
 * families' tail-stable forms: Normal, LogNormal, Exponential, Weibull, Gumbel, Laplace,
 * Logistic, ...); an interval in the upper tail (`F(l) > 1/2`) uses
 * `log(S(l) - S(u)) = log S(l) + log(1 - e^{log S(u) - log S(l)})`, the lower tail
 * `log F(u) + log(1 - e^{log F(l) - log F(u)})`, and the doubly-censored case
 * `logaddexp(log F(l), log S(u))`. The branch an entry does not take is evaluated at the base's
 * median (where the base has a quantile) so that its gradient stays finite (an observation at a
 * detection limit of 0 under a LogNormal, say).
 *
 * Draws are the base's (uncensored) draws broadcast to the batch shape, as NumPyro's (for the
 * interval form, the point pair `(x, x)`, whose log-density is the base's); `mean` and `variance`
 * of the left/right forms are the base's, since those are the moments of the draws.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { log1mexp } from '../utils/expm1.js';
import {
  checkValues,
  rectangularShape,
  stopGradient,
  toFloat,
  type TensorInput,
} from '../utils/tensor.js';
import { independent, real, type Constraint } from '../constraints/constraints.js';
import { Distribution, type DistributionOptions } from './distribution.js';
import type { DistributionHooks } from './hooks.js';
import { hostMedian, type HostValues } from './host_median.js';
import { andB, gt, le, notB, whereB } from './special.js';
import './expanded.js';
import './independent.js';

/** A censoring indicator: booleans, a `bool` tensor, or 0/1 numbers (arrays or tensors). */
export type CensoringIndicator = boolean | TensorInput;

const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * The base checks of every censored form: a distribution with a scalar event and a CDF.
 * @throws ArgumentError naming `base`.
 */
function checkBase(base: unknown): asserts base is Distribution {
  if (!(base instanceof Distribution)) throw new ArgumentError('base', 'expected a Distribution');
  if (base.eventShape.length !== 0) {
    throw new ArgumentError(
      'base',
      `expected a univariate distribution (event shape []), got [${base.eventShape.join(',')}]`,
    );
  }
  const hooks = base as unknown as DistributionHooks;
  const proto = Distribution.prototype as unknown as DistributionHooks;
  if (hooks._cdf === proto._cdf) {
    throw new ArgumentError('base', `${base.name} has no cdf; censoring scores by the CDF`);
  }
}

/**
 * A censoring indicator as a `bool` tensor. Numbers must be 0 or 1 (NumPyro's arrays of
 * `{0, 1}`); a tensor made here is passed to `own`, one given as a `bool` tensor stays the
 * caller's.
 */
function toIndicator(
  value: CensoringIndicator,
  name: string,
  own: (t: tf.Tensor) => tf.Tensor,
): tf.Tensor {
  if (typeof value === 'boolean') return own(tf.scalar(value, 'bool'));
  if (value instanceof tf.Tensor) {
    if (value.isDisposed)
      throw new ArgumentError(name, 'expected a live tensor, got a disposed one');
    if (value.dtype === 'bool') return value;
  }
  if (Array.isArray(value)) {
    const flat = (value as unknown[]).flat(Infinity);
    if (flat.length > 0 && flat.every((v) => typeof v === 'boolean')) {
      const shape = rectangularShape(value);
      if (shape === undefined) throw new ArgumentError(name, 'expected a rectangular array');
      return own(tf.tensor(flat as boolean[], shape, 'bool'));
    }
  }
  const t = toFloat(value as TensorInput, name);
  try {
    checkValues(t, name, (v) => v === 0 || v === 1, '0 or 1 (or a boolean)');
  } catch (e) {
    if (t !== value) t.dispose();
    throw e;
  }
  const b = own(tf.cast(t, 'bool'));
  if (t !== value) t.dispose();
  return b;
}

/** The common part of the three censored forms: the base, its broadcast and a safe point. */
abstract class CensoredBase extends Distribution {
  /** The uncensored distribution (the caller's). */
  readonly base: Distribution;
  protected readonly batch: number[];
  /** The indicators as `bool` tensors, in the order given. */
  protected readonly indicators: tf.Tensor[];
  /** The base broadcast to the batch shape (draws independent over the new entries). */
  protected readonly expandedBase: Distribution;

  protected constructor(
    base: Distribution,
    indicators: Record<string, CensoringIndicator>,
    options: DistributionOptions,
  ) {
    super(options);
    checkBase(base);
    const ts: tf.Tensor[] = [];
    for (const [name, v] of Object.entries(indicators)) {
      try {
        ts.push(toIndicator(v, name, (t) => this.own(t)));
      } catch (e) {
        this.dispose();
        throw e;
      }
    }
    this.indicators = ts;
    const shapes: Record<string, readonly number[]> = { base: base.batchShape };
    Object.keys(indicators).forEach((name, i) => {
      shapes[name] = (ts[i] as tf.Tensor).shape;
    });
    this.batch = this.broadcastParams(shapes);
    this.base = base;
    this.expandedBase = sameShape(base.batchShape, this.batch) ? base : base.expand(this.batch);
  }

  get batchShape(): number[] {
    return [...this.batch];
  }
  /** The base's support. */
  override get support(): Constraint {
    return this.base.support;
  }
  /** Reparameterized when the base is (the draws are the base's). */
  override get hasRsample(): boolean {
    return this.base.hasRsample;
  }

  /** The base's median (`null`: no quantile), read once: the parameters are immutable. */
  private medianCache: HostValues | null | undefined;

  /** The cached median as a fresh tensor (a copy: a backend may keep the array it is given). */
  private median(): tf.Tensor | undefined {
    if (this.medianCache === undefined) this.medianCache = hostMedian(this.base);
    if (this.medianCache === null) return undefined;
    return tf.tensor(this.medianCache.values.slice(), this.medianCache.shape, 'float32');
  }

  /**
   * `x` where `use`, else a point where the base's log-density, CDF and survival are finite (its
   * median, off the gradient tape, computed once per instance; `x` itself when the base has no
   * quantile): the input of a branch that `where` discards, so that its gradient stays finite.
   */
  protected safeInput(use: tf.Tensor, x: tf.Tensor): tf.Tensor {
    const med = this.median();
    return med === undefined ? x : whereB(use, x, med);
  }
}

/**
 * One-sided censoring: `log p(y) = tail(y)` where `censored`, `log f(y)` elsewhere; the kinds
 * differ only in the tail (`log F` for left, `log S` for right censoring). Draws and moments are
 * the base's.
 */
abstract class OneSidedCensored extends CensoredBase {
  /** The censoring indicator (`bool`), broadcasting to the batch shape. */
  readonly censored: tf.Tensor;

  /**
   * @param base a univariate distribution with a `cdf` (and, for tail accuracy, `logCdf` /
   *   `logSurvival`).
   * @param censored true / 1 where the observation is censored; broadcasts with the base's batch
   *   shape. Default false (no censoring).
   * @param options validation flag and name.
   * @throws ArgumentError naming `base` (not univariate, no CDF) or `censored` (not boolean or
   *   0/1, shape not broadcasting).
   */
  constructor(
    base: Distribution,
    censored: CensoringIndicator = false,
    options: DistributionOptions = {},
  ) {
    super(base, { censored }, options);
    this.censored = this.indicators[0] as tf.Tensor;
  }
  get eventShape(): number[] {
    return [];
  }
  /** The log-probability of a censored observation at `x`. */
  protected abstract tail(x: tf.Tensor): tf.Tensor;
  protected override _sample(shape: number[], seed: number): tf.Tensor {
    return this.expandedBase.sample(shape, seed);
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    return this.expandedBase.rsample(shape, seed);
  }
  /** `where(censored, tail(y), log f(y))`. */
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const c = this.censored;
    const lf = this.base.logProb(this.safeInput(notB(c), x));
    return whereB(c, this.tail(this.safeInput(c, x)), lf);
  }
  protected override _mean(): tf.Tensor {
    return this.expandedBase.mean();
  }
  protected override _variance(): tf.Tensor {
    return this.expandedBase.variance();
  }
}

/**
 * A base distribution with left-censored observations (NumPyro's `LeftCensoredDistribution`):
 * `log p(y) = log F(y)` where `censored` (the value is an upper bound, e.g. a detection limit),
 * `log f(y)` elsewhere.
 *
 * @example
 * ```ts
 * // concentrations below the detection limit 0.1 are reported as 0.1, flagged censored
 * const d = new LeftCensoredDistribution(new LogNormal(0, 1), [true, false, false]);
 * d.logProb(tf.tensor1d([0.1, 0.7, 2.3])); // [log F(0.1), log f(0.7), log f(2.3)]
 * ```
 */
export class LeftCensoredDistribution extends OneSidedCensored {
  /** `log F(y)`. */
  protected tail(x: tf.Tensor): tf.Tensor {
    return this.base.logCdf(x);
  }
}

/**
 * A base distribution with right-censored observations (NumPyro's `RightCensoredDistribution`,
 * survival analysis): `log p(y) = log S(y) = log P(Y > y)` where `censored` (the follow-up ended
 * at `y` before the event), `log f(y)` elsewhere.
 *
 * @example
 * ```ts
 * const times = tf.tensor1d([2.1, 5, 0.7]);
 * const d = new RightCensoredDistribution(new Exponential(0.3), [false, true, false]);
 * d.logProb(times); // [log f(2.1), -0.3 * 5, log f(0.7)]
 * // in a model: sample('t', new RightCensoredDistribution(new Exponential(rate), c), { obs: times })
 * ```
 */
export class RightCensoredDistribution extends OneSidedCensored {
  /** `log S(y)`. */
  protected tail(x: tf.Tensor): tf.Tensor {
    return this.base.logSurvival(x);
  }
}

/** Relative and absolute tolerances of a point interval `l ~ u` (numpy's `isclose`). */
const POINT_RTOL = 1e-5;
const POINT_ATOL = 1e-8;

/**
 * A base distribution observed through intervals (NumPyro's `IntervalCensoredDistribution`; R's
 * `Surv(l, u, type = 'interval2')`): each value is a pair `(l, u)` (event shape `[2]`), read with
 * the indicators `leftCensored` and `rightCensored`:
 *
 * - left-censored only: `Y <= u`, `log F(u)` (`l` is ignored: write `-Infinity`);
 * - right-censored only: `Y > l`, `log S(l)` (`u` is ignored: write `Infinity`);
 * - neither: `l < Y <= u`, `log(F(u) - F(l))`, or the density `log f(l)` when `l ~ u` (an exact
 *   observation, `|l - u| <= 1e-8 + 1e-5 |u|`);
 * - both: `Y` outside `(l, u]`, `log(1 - F(u) + F(l))`.
 *
 * `logProb` also reads a `NaN` bound as missing (NumPyro's older convention), but a PPL site
 * refuses `NaN` in an observed value: write the missing bounds as `-Infinity` / `Infinity`.
 *
 * @example
 * ```ts
 * const d = new IntervalCensoredDistribution(new Weibull(3, 2), [false, false, false], [false, true, false]);
 * d.logProb([[2, 5], [4, Infinity], [6, 6]]); // [log(F(5) - F(2)), log S(4), log f(6)]
 * ```
 */
export class IntervalCensoredDistribution extends CensoredBase {
  /** Left-censoring indicator (`bool`). */
  readonly leftCensored: tf.Tensor;
  /** Right-censoring indicator (`bool`). */
  readonly rightCensored: tf.Tensor;

  /**
   * @param base a univariate distribution with a `cdf`.
   * @param leftCensored true / 1 where the observation is left-censored (at its upper bound).
   * @param rightCensored true / 1 where the observation is right-censored (at its lower bound).
   * @param options validation flag and name.
   * @throws ArgumentError naming `base`, `leftCensored` or `rightCensored`.
   */
  constructor(
    base: Distribution,
    leftCensored: CensoringIndicator = false,
    rightCensored: CensoringIndicator = false,
    options: DistributionOptions = {},
  ) {
    super(base, { leftCensored, rightCensored }, options);
    this.leftCensored = this.indicators[0] as tf.Tensor;
    this.rightCensored = this.indicators[1] as tf.Tensor;
  }
  get eventShape(): number[] {
    return [2];
  }
  /** The reals over the pair (a missing bound is `-Infinity` / `Infinity`). */
  override get support(): Constraint {
    return independent(real, 1);
  }
  /** The point pair `(x, x)` of a base draw `x`. */
  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const x = this.expandedBase.sample(shape, seed);
    return tf.stack([x, x], -1);
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const x = this.expandedBase.rsample(shape, seed);
    return tf.stack([x, x], -1);
  }
  /**
   * The mean of the draws `(X, X)`, `X` the base: `(E X, E X)` (shape `batchShape + [2]`; NaN or
   * Infinity where the base's mean is). These are the moments of what `sample` returns, the
   * exact observation of which an interval is a coarsening; the moments of the observed bounds
   * themselves depend on the censoring mechanism (not a property of the distribution) and are
   * not defined. Same rule as the one-sided censored families, whose moments are the base's.
   *
   * $$\mathbb E[(X, X)] = (\mathbb E X,\ \mathbb E X)$$
   */
  protected override _mean(): tf.Tensor {
    const m = this.expandedBase.mean();
    return tf.stack([m, m], -1);
  }
  /**
   * The coordinatewise variance of the draws `(X, X)`: `(Var X, Var X)` (their covariance is
   * `Var X` too: the pair lies on the diagonal).
   *
   * $$\operatorname{Var}[(X, X)] = (\operatorname{Var} X,\ \operatorname{Var} X)$$
   */
  protected override _variance(): tf.Tensor {
    const v = this.expandedBase.variance();
    return tf.stack([v, v], -1);
  }
  protected _logProb(v: tf.Tensor): tf.Tensor {
    const [x1, x2] = tf.unstack(v, -1) as [tf.Tensor, tf.Tensor];
    const L = this.leftCensored;
    const R = this.rightCensored;
    const onlyLeft = andB(L, notB(R));
    const onlyRight = andB(R, notB(L));
    const neither = andB(notB(L), notB(R));
    const close = le(tf.abs(tf.sub(x1, x2)), tf.add(POINT_ATOL, tf.mul(POINT_RTOL, tf.abs(x2))));
    const point = andB(neither, close);
    // safe inputs: l is unused where only left-censored, u where only right-censored
    const l = this.safeInput(notB(onlyLeft), x1);
    const u = this.safeInput(notB(onlyRight), x2);
    const logFu = this.base.logCdf(u);
    const logSl = this.base.logSurvival(l);
    const logFl = this.base.logCdf(l);
    const logSu = this.base.logSurvival(u);
    // interval mass F(u) - F(l), in the tail where it keeps its digits; the log-ratio is -1 at
    // the entries that are not proper intervals (log1mexp(0) = -Infinity has no finite gradient)
    const proper = andB(neither, notB(close));
    const ratio = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
      whereB(proper, tf.minimum(tf.sub(a, b), 0), tf.scalar(-1));
    const lower = tf.add(logFu, log1mexp(ratio(logFl, logFu)));
    const upper = tf.add(logSl, log1mexp(ratio(logSu, logSl)));
    const interval = whereB(gt(logFl, Math.log(0.5)), upper, lower);
    const dens = this.base.logProb(this.safeInput(point, x1));
    const outside = logAddExp(logFl, logSu);
    const both = andB(L, R);
    return whereB(
      onlyLeft,
      logFu,
      whereB(onlyRight, logSl, whereB(both, outside, whereB(point, dens, interval))),
    );
  }
}

/** `log(e^a + e^b)`, `-Infinity` (not NaN) when both are `-Infinity`. */
function logAddExp(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const m = stopGradient(tf.maximum(a, b));
  const mf = tf.where(tf.isFinite(m), m, tf.zerosLike(m));
  return tf.add(mf, tf.log(tf.add(tf.exp(tf.sub(a, mf)), tf.exp(tf.sub(b, mf)))));
}
