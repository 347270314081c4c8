/**
 * The base of every distribution (template-method pattern, after TFP and Distrax).
 *
 * Public methods (`sample`, `logProb`, `cdf`, ...) convert and check their inputs, run under
 * `tf.tidy` and return exactly one new tensor. Subclasses implement only the math, in protected
 * `_`-prefixed hooks: `_sample`, `_logProb`, and where defined `_rsample`, `_cdf`, `_icdf`, `_mean`,
 * `_mode`, `_variance`, `_entropy`. Derived quantities (`prob`, `stddev`, `survival`, `logCdf`,
 * `crossEntropy`) come from the base.
 *
 * Memory: parameters given as numbers or arrays are converted to tensors owned by the distribution
 * and freed by {@link Distribution.dispose}; tensors given by the caller stay the caller's.
 */
import * as tf from '@tensorflow/tfjs';
import { valueShapeProblem } from './value_shape.js';
import { ArgumentError, NotDefinedError } from '../utils/errors.js';
import { nextSeed } from '../utils/seed.js';
import { optionsObject } from '../utils/options.js';
import { withTapeOff } from '../utils/tape.js';
import {
  broadcastShapes,
  broadcastTo,
  checkShape,
  allWithin,
  checkValues,
  peekValues,
  stopGradient,
  type TensorInput,
  toFloat,
} from '../utils/tensor.js';
import { klDivergence } from './kl.js';
import { lt, whereB } from './special.js';
import { log1p } from '../utils/log1p.js';
import { LIMITS, withInfiniteLimits, type InfiniteLimits } from './infinite_values.js';
import {
  IndependentConstraint,
  independent,
  real,
  type Constraint,
} from '../constraints/constraints.js';
export type { TensorInput } from '../utils/tensor.js';

/** Nested JS arrays of booleans (a mask given as data). */
export type NestedBooleans = readonly (boolean | NestedBooleans)[];

/**
 * A mask for {@link Distribution.mask}: `true`, `false`, a `bool` tensor or nested arrays of
 * booleans (numbers are refused, as Pyro's masks are boolean).
 */
export type MaskInput = boolean | tf.Tensor | NestedBooleans;

/**
 * Builders of the generic wrappers (set by `expanded.ts`, `independent.ts` and `masked.ts` when
 * they load, which avoids an import cycle with the subclasses).
 */
const wrappers: {
  expand?: (d: Distribution, batchShape: number[]) => Distribution;
  toEvent?: (d: Distribution, n: number) => Distribution;
  mask?: (d: Distribution, mask: MaskInput) => Distribution;
} = {};

/** @internal Registers the `expand` implementation (called by `expanded.ts`). */
export function registerExpand(f: (d: Distribution, batchShape: number[]) => Distribution): void {
  wrappers.expand = f;
}
/** @internal Registers the `toEvent` implementation (called by `independent.ts`). */
export function registerToEvent(f: (d: Distribution, n: number) => Distribution): void {
  wrappers.toEvent = f;
}

/** @internal Registers the `mask` implementation (called by `masked.ts`). */
export function registerMask(f: (d: Distribution, mask: MaskInput) => Distribution): void {
  wrappers.mask = f;
}

/** The largest finite double: `v <= MAX_FINITE` is false for +Infinity and NaN. */
const MAX_FINITE = Number.MAX_VALUE;

/** Options shared by all distributions. */
export interface DistributionOptions {
  /** Check parameter values (positivity, ranges, shapes) at construction. Default true. */
  validateArgs?: boolean;
  /** A name used in error messages and summaries. */
  name?: string;
}

/** Abstract base class of all distributions. */
export abstract class Distribution {
  /** Name used in messages. */
  readonly name: string;
  /** Whether parameters were validated at construction. */
  readonly validateArgs: boolean;
  /** Tensors created by this distribution from non-tensor parameters; freed by `dispose`. */
  private readonly ownedTensors: tf.Tensor[] = [];

  /**
   * The option keys a family's constructor passes to this base (Pyro's `validate_args` as
   * `validateArgs`, `name`); a family with more options (`Delta`'s `logDensity`, `Stable`'s
   * `coords`, ...) lists them in its own static `optionKeys`. Any other key is an
   * `ArgumentError` naming it and the known ones: $\text{keys}(o) \subseteq \text{optionKeys}$.
   */
  static readonly optionKeys: readonly string[] = ['validateArgs', 'name'];

  /**
   * @param options `validateArgs` and `name` (and the keys of the family's `optionKeys`).
   * @throws ArgumentError naming `options` when it is not an object, or an unknown option key.
   */
  constructor(options: DistributionOptions = {}) {
    const family = new.target as unknown as { optionKeys: readonly string[]; name: string };
    optionsObject(options, family.optionKeys, family.name);
    this.name = options.name ?? this.constructor.name;
    this.validateArgs = options.validateArgs ?? true;
  }

  /** Shape of a batch of independent distributions (broadcast of the parameters' shapes). */
  abstract get batchShape(): number[];
  /** Shape of one draw of one distribution (`[]` for scalar families). */
  abstract get eventShape(): number[];
  /**
   * The set of values with positive density (Pyro's `support`), e.g. `positive` for Gamma,
   * `simplex` for Dirichlet. Default: reals with the event rank as event dims. Map it to an
   * unconstrained space with `bijectTo(dist.support)`.
   */
  get support(): Constraint {
    return independent(real, this.eventShape.length);
  }
  /**
   * True when `rsample` gives reparameterized samples that carry gradients to parameters: by
   * default, when the family implements the `_rsample` hook.
   */
  get hasRsample(): boolean {
    return this._rsample !== Distribution.prototype._rsample;
  }

  /**
   * Declare this instance reparameterizable or not (Pyro's `has_rsample_`): with `false`, the
   * ELBOs treat its draws as non-reparameterized (score-function terms in `TraceELBO` /
   * `TraceGraphELBO`, Pyro's `dist.Gamma(a, b).has_rsample_(False)`), `sample()` is a constant
   * to every gradient and `rsample()` throws. `true` is refused for a family without `rsample`.
   *
   * $$\nabla_\theta\,\mathbb E_{q_\theta}[f(z)] = \mathbb E_{q_\theta}[f(z)\,\nabla_\theta \log q_\theta(z)]\quad(\text{hasRsample} = \text{false})$$
   *
   * @param value whether draws are reparameterized.
   * @returns this distribution (for chaining).
   * @example
   * ```ts
   * sample('z', new Gamma(a, b).setHasRsample(false)); // scored by the score function
   * ```
   */
  setHasRsample(value: boolean): this {
    if (typeof value !== 'boolean') {
      throw this.argError('value', `setHasRsample: expected true or false, got ${String(value)}`);
    }
    if (value && this._rsample === Distribution.prototype._rsample) {
      throw this.argError('value', `setHasRsample: ${this.name} has no rsample`);
    }
    Object.defineProperty(this, 'hasRsample', { value, configurable: true });
    return this;
  }

  // ---- hooks for subclasses -------------------------------------------------------------

  /**
   * Draw samples of shape `[...shape, ...batchShape, ...eventShape]`. Families with a
   * reparameterization implement only `_rsample` (`sample` then stops its gradient); the others
   * (discrete families) override this hook.
   */
  protected _sample(shape: number[], seed: number): tf.Tensor {
    return this._rsample(shape, seed);
  }
  /** Log-density (or log-mass) of `value`, shape `broadcast(value, batch)` minus event dims. */
  protected abstract _logProb(value: tf.Tensor): tf.Tensor;
  protected _rsample(shape: number[], seed: number): tf.Tensor {
    void shape;
    void seed;
    throw new NotDefinedError(`${this.name}: rsample (reparameterized sampling) is not available`);
  }
  protected _cdf(value: tf.Tensor): tf.Tensor {
    void value;
    throw this.undefinedError('cdf');
  }
  /**
   * `log F(x)`, from whichever of `F` and `S = 1 - F` is the smaller: `log F` where `S >= 1/2`,
   * `log1p(-S)` where `S < 1/2`, so that a CDF near 1 keeps the digits its survival function
   * has (`Gamma(0.001, 0.001).logCdf(1)` was 1e-4 off in relative terms, `Geometric(0.999)
   * .logCdf(3)` 0 for -1e-12, `StudentT(2.5).logCdf(40)` 1.5e-4 off). `S` is clipped to 1/2 in
   * the branch not taken, so no infinite derivative reaches the gradient through `where`.
   */
  protected _logCdf(value: tf.Tensor): tf.Tensor {
    return logOfComplementary(this._cdf(value), this._survival(value));
  }
  protected _survival(value: tf.Tensor): tf.Tensor {
    return tf.sub(1, this._cdf(value));
  }
  /** `log S(x)`: `log S` where `F >= 1/2`, `log1p(-F)` where `F < 1/2` (as {@link _logCdf}). */
  protected _logSurvival(value: tf.Tensor): tf.Tensor {
    return logOfComplementary(this._survival(value), this._cdf(value));
  }
  protected _icdf(p: tf.Tensor): tf.Tensor {
    void p;
    throw this.undefinedError('icdf');
  }
  protected _mean(): tf.Tensor {
    throw this.undefinedError('mean');
  }
  protected _mode(): tf.Tensor {
    throw this.undefinedError('mode');
  }
  protected _variance(): tf.Tensor {
    throw this.undefinedError('variance');
  }
  protected _stddev(): tf.Tensor {
    return tf.sqrt(this._variance());
  }
  protected _entropy(): tf.Tensor {
    throw this.undefinedError('entropy');
  }

  // ---- public API ---------------------------------------------------------------------

  /**
   * Draw samples with no gradient to the parameters.
   * @param shape sample shape prepended to `batchShape + eventShape`. Default `[]`.
   * @param seed per-call seed; otherwise the global stream of `setSeed`.
   */
  sample(shape: number[] = [], seed?: number): tf.Tensor {
    const s = checkShape(shape, 'shape');
    const sd = nextSeed(seed);
    return tf.tidy(
      () =>
        this.emptyDraws(s) ??
        (this.hasRsample
          ? stopGradient(this._rsample(s, sd))
          : withTapeOff(() => this._sample(s, sd))),
    );
  }

  /**
   * Draw reparameterized samples, differentiable with respect to the parameters
   * (e.g. `loc + scale * eps`, `eps ~ N(0, 1)` for a Normal).
   */
  rsample(shape: number[] = [], seed?: number): tf.Tensor {
    if (!this.hasRsample) {
      throw new NotDefinedError(
        `${this.name}: rsample (reparameterized sampling) is not available`,
      );
    }
    const s = checkShape(shape, 'shape');
    const sd = nextSeed(seed);
    return tf.tidy(() => this.emptyDraws(s) ?? this._rsample(s, sd));
  }

  /**
   * Zeros of shape `sample + batch + event` when it has no element, else undefined: empty draws
   * run none of the family's kernels (several wasm kernels fault on empty operands, e.g.
   * `BatchMatMul` with an empty batch traps with `remainder by zero`).
   */
  private emptyDraws(shape: number[]): tf.Tensor | undefined {
    const full = [...shape, ...this.batchShape, ...this.eventShape];
    return full.includes(0) ? tf.zeros(full) : undefined;
  }

  /**
   * Log-probability (density or mass) of `value`. Scalar families return `-Infinity` outside
   * their support; with `validateArgs`, families whose support has event dims other than the
   * reals (simplex, count vectors, correlation factors...) throw an `ArgumentError` naming the
   * distribution and its support for values outside it (as Pyro's `validate_args`).
   */
  logProb(value: TensorInput): tf.Tensor {
    return tf.tidy(() => {
      const v = this.checkValue(value);
      const empty = this.emptyResult(v);
      if (empty !== undefined) return empty;
      if (this.validateArgs) this.checkSupport(v);
      return this.atInfinity(v, LIMITS.logProb, (x) => this._logProb(x));
    });
  }

  /**
   * Zeros of the result shape `broadcast(value.shape[:-eventRank], batchShape)` when that shape
   * has no element (an empty value, e.g. `logProb(sample([0]))`), else undefined. The value
   * methods return it without running the family's kernels: tfjs's `broadcastTo` leaves a
   * size-1 dim at 1 instead of 0, so a family's `tf.where` over a parameter-shaped condition ran
   * the wasm `Select` kernel over the condition's elements into an empty output, corrupting the
   * wasm heap (`memory access out of bounds` or `Aborted()` on a later call).
   */
  private emptyResult(v: tf.Tensor): tf.Tensor | undefined {
    if (v.size !== 0) return undefined;
    const eventRank = this.eventShapeFor(v.shape).length;
    const shape = broadcastShapes({
      value: v.shape.slice(0, v.rank - eventRank),
      batchShape: this.batchShape,
    });
    return tf.zeros(shape);
  }

  /** `f(v)`, or the empty result of {@link Distribution.emptyResult} for an empty `v`. */
  private orEmpty(v: tf.Tensor, f: (v: tf.Tensor) => tf.Tensor): tf.Tensor {
    return this.emptyResult(v) ?? f(v);
  }

  /**
   * `f(v)` with the infinite entries of a scalar-event value sent to the method's limits
   * (`log p(±inf) = -inf`, `F(-inf) = 0`, `F(+inf) = 1`, ...; see `infinite_values.ts`): the
   * family's hook sees a point of the support there instead, so neither the value nor the
   * gradients are `NaN`. Event families run `f(v)` unchanged.
   */
  private atInfinity(
    v: tf.Tensor,
    limits: InfiniteLimits,
    f: (v: tf.Tensor) => tf.Tensor,
  ): tf.Tensor {
    if (this.eventShape.length !== 0 || !this.limitsAtNonFinite) return f(v);
    return withInfiniteLimits(v, this.support, limits, f);
  }

  /**
   * Whether the value methods send `±Infinity` to their limits and `NaN` to `NaN` before the
   * hooks run (see {@link Distribution.atInfinity}). True for the families; a wrapper whose own
   * hook decides the value there says false (`MaskedDistribution`: a masked-out entry scores 0
   * whatever its value; a point mass `Delta` at an infinite point; the value-free `Unit`).
   */
  protected get limitsAtNonFinite(): boolean {
    return true;
  }

  /**
   * `_logProb` under the public `logProb`'s rule at non-finite values (`-Infinity` at
   * `±Infinity`, `NaN` at `NaN`), for a wrapper that scores through its base's hooks.
   * @internal
   */
  protected _logProbAtNonFinite(x: tf.Tensor): tf.Tensor {
    return this.atInfinity(x, LIMITS.logProb, (y) => this._logProb(y));
  }
  /**
   * `_logCdf` under the public `logCdf`'s rule at non-finite values (`-Infinity` at `-Infinity`,
   * `0` at `+Infinity`, `NaN` at `NaN`), for a wrapper that scores through its base's hooks.
   * @internal
   */
  protected _logCdfAtNonFinite(x: tf.Tensor): tf.Tensor {
    return this.atInfinity(x, LIMITS.logCdf, (y) => this._logCdf(y));
  }

  /** Throw when an event-level support (not the reals) does not contain `v`. */
  private checkSupport(v: tf.Tensor): void {
    const s = this.support;
    if (s.eventDim === 0 || isRealSupport(s) || v.rank < s.eventDim) return;
    if (!s.checkAll(v)) {
      throw new ArgumentError(
        'value',
        `${this.name}: a value lies outside the support ${s.name} (shape [${v.shape.join(',')}])`,
      );
    }
  }
  /** Probability (density or mass) of `value`: `exp(logProb(value))`. */
  prob(value: TensorInput): tf.Tensor {
    return tf.tidy(() => {
      const v = this.checkValue(value);
      const empty = this.emptyResult(v);
      if (empty !== undefined) return tf.onesLike(empty);
      return this.atInfinity(v, LIMITS.prob, (x) => tf.exp(this._logProb(x)));
    });
  }
  /** Cumulative distribution function `P(X <= value)`. */
  cdf(value: TensorInput): tf.Tensor {
    return tf.tidy(() =>
      this.orEmpty(this.checkValue(value), (v) =>
        this.atInfinity(v, LIMITS.cdf, (x) => this._cdf(x)),
      ),
    );
  }
  /**
   * Inverse cumulative distribution function (quantile): the `x` with `P(X <= x) = p`, shape
   * `broadcast(p, batchShape)`; `icdf(0)` and `icdf(1)` are the ends of the support. Defined for
   * the continuous scalar families with a closed-form or standard inverse (Normal, LogNormal,
   * HalfNormal, Uniform, Exponential, Cauchy, HalfCauchy, Laplace, Logistic, Gumbel, Weibull, ...),
   * for `expand`ed and `mask`ed ones (the base's quantile), for `toEvent` ones coordinate by
   * coordinate (shape `batchShape + eventShape`), and for a `TransformedDistribution` of one by a
   * monotone elementwise bijector (`1 - p` through a decreasing one).
   * @param p probabilities in `[0, 1]` (with `validateArgs`, others throw; without, they give NaN).
   * @throws NotDefinedError for the other families; ArgumentError naming `value` for a bad shape
   *   or, with `validateArgs`, a probability outside `[0, 1]`.
   */
  icdf(p: TensorInput): tf.Tensor {
    if (this._icdf === Distribution.prototype._icdf) throw this.undefinedError('icdf');
    return tf.tidy(() => {
      const v = this.checkValue(p);
      if (v.size === 0) {
        return tf.zeros(broadcastShapes({ value: v.shape, batchShape: this.icdfShape() }));
      }
      if (this.validateArgs && !allWithin(peekValues(v), 0, 1)) {
        checkValues(v, 'value', (x) => x >= 0 && x <= 1, 'a probability in [0, 1]');
      }
      return this._icdf(v);
    });
  }
  /** The shape `icdf` broadcasts a probability against: `batchShape + eventShape`. */
  private icdfShape(): number[] {
    return [...this.batchShape, ...this.eventShape];
  }
  /** `log P(X <= value)`. */
  logCdf(value: TensorInput): tf.Tensor {
    return tf.tidy(() =>
      this.orEmpty(this.checkValue(value), (v) =>
        this.atInfinity(v, LIMITS.logCdf, (x) => this._logCdf(x)),
      ),
    );
  }
  /** Survival function `P(X > value) = 1 - cdf(value)`. */
  survival(value: TensorInput): tf.Tensor {
    return tf.tidy(() =>
      this.orEmpty(this.checkValue(value), (v) =>
        this.atInfinity(v, LIMITS.survival, (x) => this._survival(x)),
      ),
    );
  }
  /** `log P(X > value)`. */
  logSurvival(value: TensorInput): tf.Tensor {
    return tf.tidy(() =>
      this.orEmpty(this.checkValue(value), (v) =>
        this.atInfinity(v, LIMITS.logSurvival, (x) => this._logSurvival(x)),
      ),
    );
  }
  /**
   * Mean, shape `batchShape + eventShape`. A moment that does not exist for some parameters is a
   * number per batch entry, as in torch.distributions: `Infinity` where its integral diverges to
   * `+infinity` (HalfCauchy, Pareto and InverseGamma with `alpha <= 1`), `NaN` where it has no
   * value (Cauchy, StudentT with `df <= 1`, a Categorical label). The same rule holds for
   * `variance`/`stddev` (Cauchy `Infinity`; StudentT `Infinity` for `1 < df <= 2`, `NaN` for
   * `df <= 1`) and `mode` (`NaN` where every point is a mode: Uniform, a flat Beta/Dirichlet).
   * @throws NotDefinedError only where the family does not implement it (no closed form, e.g.
   *   a `TransformedDistribution` through a non-affine bijector).
   */
  mean(): tf.Tensor {
    return tf.tidy(() => this._mean());
  }
  /** Mode, shape `batchShape + eventShape` (see {@link Distribution.mean} for the rule). */
  mode(): tf.Tensor {
    return tf.tidy(() => this._mode());
  }
  /** Variance, shape `batchShape + eventShape` (see {@link Distribution.mean} for the rule). */
  variance(): tf.Tensor {
    return tf.tidy(() => this._variance());
  }
  /** Standard deviation: `sqrt(variance)`. */
  stddev(): tf.Tensor {
    return tf.tidy(() => this._stddev());
  }
  /**
   * Every value of a finite discrete support (Pyro's `enumerate_support`): the `K` values
   * `v_0 < ... < v_{K-1}` of a `boolean` support (`{0, 1}`) or of an integer interval
   * `{lower, ..., upper}` with the same bounds over the batch, as float32 like the draws, along a
   * new leading dim: shape `[K, ...batchShape]` (`expand`, default) or `[K, 1, ..., 1]`.
   * @param expand broadcast the values over the batch shape (default true).
   * @throws NotDefinedError for a continuous support, an event shape, or bounds that vary over
   *   the batch.
   */
  enumerateSupport(expand = true): tf.Tensor {
    if (typeof expand !== 'boolean') {
      throw new ArgumentError('expand', `expected true or false, got ${String(expand)}`);
    }
    const values = this.eventShape.length === 0 ? finiteSupportValues(this.support) : undefined;
    if (values === undefined) {
      throw new NotDefinedError(
        `${this.name}: enumerateSupport needs a boolean or finite integer-interval support with ` +
          `the same bounds over the batch and no event shape, got ${this.support.name}`,
      );
    }
    const batch = this.batchShape;
    return tf.tidy(() => {
      const v = tf.tensor(values, [values.length, ...batch.map(() => 1)], 'float32');
      return expand ? tf.broadcastTo(v, [values.length, ...batch]) : v;
    });
  }
  /** Differential (or Shannon) entropy `H[p] = -E_p[log p(X)]`, shape `batchShape`. */
  entropy(): tf.Tensor {
    return tf.tidy(() => this._entropy());
  }
  /** Cross entropy `H[p, q] = -E_p[log q(X)] = H[p] + KL(p || q)`. */
  crossEntropy(other: Distribution): tf.Tensor {
    return tf.tidy(() => tf.add(this._entropy(), klDivergence(this, other)));
  }
  /** `KL(this || other)` from the KL registry (analytic). */
  klDivergence(other: Distribution): tf.Tensor {
    return klDivergence(this, other);
  }

  /**
   * The same family broadcast to a larger batch shape (Pyro's `expand`): draws are independent
   * across the new batch entries, `logProb` broadcasts. `batchShape` must be a broadcast of the
   * current batch shape (same or more leading dims; size-1 dims may grow).
   *
   * $$\text{batchShape}' = \text{batchShape} \text{ broadcast to } b$$
   *
   * The result wraps this distribution (which stays the caller's).
   * @param batchShape the new batch shape.
   */
  expand(batchShape: number[]): Distribution {
    if (wrappers.expand === undefined) {
      throw new NotDefinedError('expand: import the distributions index to enable it');
    }
    return wrappers.expand(this, batchShape);
  }

  /**
   * Reinterpret the last `n` batch dims as event dims (Pyro's `to_event`, = `Independent`):
   *
   * $$\log p(x) = \sum_{\text{last } n \text{ batch dims}} \log p_i(x_i).$$
   *
   * With `n` omitted, all batch dims. The result wraps this distribution.
   * @param n how many batch dims to move to the event.
   */
  toEvent(n?: number): Distribution {
    if (wrappers.toEvent === undefined) {
      throw new NotDefinedError('toEvent: import the distributions index to enable it');
    }
    return wrappers.toEvent(this, n ?? this.batchShape.length);
  }

  /**
   * Mask the log-density by a boolean or a boolean tensor (Pyro's `mask`, a
   * `MaskedDistribution`): with batch shape `B' = broadcast(batchShape, mask.shape)`,
   *
   * $$\log p_{\text{masked}}(x)_b = \begin{cases} \log p(x)_b & m_b \\ 0 & \text{otherwise}
   *   \end{cases}\qquad b \in B',$$
   *
   * so masked-out entries add nothing to a log-joint (their gradients are zero). Draws, support,
   * event shape, `mean` and `variance` are this distribution's, broadcast to `B'`. The mask
   * applies to batch dims only; it is `true`, `false`, a `bool` tensor (stays the caller's) or
   * nested arrays of booleans. The result wraps this distribution (which stays the caller's).
   * @param mask the entries to keep; must broadcast with the batch shape.
   * @throws ArgumentError naming `mask` for a non-boolean mask or one that does not broadcast.
   */
  mask(mask: MaskInput): Distribution {
    if (wrappers.mask === undefined) {
      throw new NotDefinedError('mask: import the distributions index to enable it');
    }
    return wrappers.mask(this, mask);
  }

  /** Free tensors this distribution created from non-tensor parameters. */
  dispose(): void {
    for (const t of this.ownedTensors) if (!t.isDisposed) t.dispose();
    this.ownedTensors.length = 0;
  }

  // ---- helpers for subclasses -----------------------------------------------------------

  /**
   * Convert a parameter to float32. Tensors created here are owned (freed by `dispose`) and kept
   * out of any enclosing `tf.tidy`... unless the distribution itself is made inside the tidy.
   */
  protected param(value: TensorInput, name: string): tf.Tensor {
    let t: tf.Tensor;
    try {
      t = toFloat(value, name);
    } catch (e) {
      this.dispose();
      throw e;
    }
    if (t !== value) this.ownedTensors.push(t);
    return t;
  }

  /** Take ownership of a tensor derived at construction (freed by `dispose`). */
  protected own<T extends tf.Tensor>(t: T): T {
    this.ownedTensors.push(t);
    return t;
  }

  /*
   * The checks below are meant for constructors: when one fails, the tensors the distribution
   * already owns are freed before the error propagates (the half-built object is unreachable).
   */

  /** Run a constructor-time check; on failure free owned tensors and rethrow. */
  private guarded(check: () => void): void {
    try {
      check();
    } catch (e) {
      this.dispose();
      throw e;
    }
  }
  /** Throw unless every element of `t` is finite and > 0 (fast screen, exact scan on failure). */
  protected checkPositive(t: tf.Tensor, name: string): void {
    if (this.validateArgs && !allWithin(peekValues(t), 0, MAX_FINITE, true)) {
      this.guarded(() =>
        checkValues(t, name, (v) => v > 0 && Number.isFinite(v), 'a finite value > 0'),
      );
    }
  }
  /**
   * Throw unless `t` is a batch of vectors, shape `[...batch, K]` with `K >= 1` (the
   * concentration of `Dirichlet` and `DirichletMultinomial`).
   */
  protected checkVectorParam(t: tf.Tensor, name: string): void {
    if (t.rank < 1 || (t.shape.at(-1) ?? 0) < 1) {
      throw this.constructionError(
        name,
        `expected shape [...batch, K] with K >= 1, got [${t.shape.join(',')}]`,
      );
    }
  }
  /** Throw unless every element of `t` is finite (fast screen, exact scan on failure). */
  protected checkFinite(t: tf.Tensor, name: string): void {
    if (this.validateArgs && !allWithin(peekValues(t), -MAX_FINITE, MAX_FINITE)) {
      this.guarded(() => checkValues(t, name, (v) => Number.isFinite(v), 'a finite value'));
    }
  }
  /** Throw unless every element of `t` lies in `[lo, hi]` (fast screen, exact scan on failure). */
  protected checkInRange(t: tf.Tensor, name: string, lo: number, hi: number): void {
    if (this.validateArgs && !allWithin(peekValues(t), lo, hi)) {
      this.guarded(() =>
        checkValues(t, name, (v) => v >= lo && v <= hi, `a value in [${lo}, ${hi}]`),
      );
    }
  }
  /** Broadcast parameter shapes to the batch shape; throws naming the parameters on mismatch. */
  protected broadcastParams(shapes: Record<string, readonly number[]>): number[] {
    let out: number[] = [];
    this.guarded(() => {
      out = broadcastShapes(shapes);
    });
    return out;
  }
  /** Broadcast `t` to `batchShape + eventShape`. */
  protected expandToBatch(t: tf.Tensor): tf.Tensor {
    const shape = [...this.batchShape, ...this.eventShape];
    return arraysEqual(t.shape, shape) ? t.clone() : broadcastTo(t, shape);
  }
  /**
   * The event shape a value of shape `valueShape` is scored with: `eventShape`, except for the
   * families whose event length is read from the value (a hidden Markov model of unknown
   * duration scores sequences of any length, as Pyro's).
   * @internal
   */
  eventShapeFor(valueShape: readonly number[]): number[] {
    void valueShape;
    return this.eventShape;
  }
  /** Convert a value argument; `logProb` & co. call this before the hook. */
  protected checkValue(value: TensorInput): tf.Tensor {
    const v = toFloat(value, 'value');
    const problem = valueShapeProblem(v.shape, this.batchShape, this.eventShapeFor(v.shape));
    if (problem !== null) {
      if (v !== value) v.dispose();
      throw new ArgumentError('value', `${this.name}: ${problem}`);
    }
    return v;
  }
  protected undefinedError(method: string): NotDefinedError {
    return new NotDefinedError(`${this.name}: ${method} is not defined for this distribution`);
  }
  protected argError(name: string, message: string): ArgumentError {
    return new ArgumentError(name, message);
  }
  /** An `ArgumentError` for a constructor: frees the tensors owned so far, then returns it. */
  protected constructionError(name: string, message: string): ArgumentError {
    this.dispose();
    return new ArgumentError(name, message);
  }
}

/**
 * The values of a finite discrete support: `[0, 1]` for `boolean`, `lower..upper` for an integer
 * interval whose bounds are numbers or one-element tensors; undefined otherwise.
 */
export function finiteSupportValues(c: Constraint): number[] | undefined {
  const o = c as Constraint & { lower?: unknown; upper?: unknown };
  const num = (b: unknown): number | undefined =>
    typeof b === 'number'
      ? b
      : b instanceof tf.Tensor && b.size === 1
        ? (b.dataSync()[0] as number)
        : undefined;
  if (c.kind === 'boolean') return [0, 1];
  if (c.kind !== 'integerInterval') return undefined;
  const lo = num(o.lower);
  const hi = num(o.upper);
  if (lo === undefined || hi === undefined || !(hi >= lo)) return undefined;
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

/** True for `real` and `independent(real, n)`, whose membership test is only "not NaN". */
function isRealSupport(c: Constraint): boolean {
  let x: Constraint = c;
  while (x instanceof IndependentConstraint) x = x.base;
  return x.kind === 'real';
}

function arraysEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * `log a` for a probability `a` whose complement `b = 1 - a` is computed separately (a CDF and
 * its survival function): `log a` where `b >= 1/2`, else `log1p(-b)`, which keeps the accuracy of
 * `b` when `a` is near 1 (where `log a` of a float32 `a` has only absolute accuracy ~6e-8).
 *
 * $$\log a = \begin{cases}\log a & b \ge 1/2\\ \mathrm{log1p}(-b) & b < 1/2\end{cases}$$
 */
function logOfComplementary(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const near1 = lt(b, 0.5);
  return whereB(near1, log1p(tf.neg(tf.minimum(b, 0.5))), tf.log(a));
}
