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
import { ArgumentError, NotDefinedError } from '../utils/errors.js';
import { nextSeed } from '../utils/seed.js';
import { withTapeOff } from '../utils/tape.js';
import {
  broadcastShapes,
  checkShape,
  allWithin,
  checkValues,
  peekValues,
  stopGradient,
  type TensorInput,
} from '../utils/tensor.js';
import { klDivergence } from './kl.js';
import { LIMITS, withInfiniteLimits, type InfiniteLimits } from './infinite_values.js';
import { DistributionBase } from './distribution_base.js';
import { finiteSupportValues, isRealSupport } from './finite_support.js';
import { wrappers, type MaskInput } from './wrapper_registry.js';
export type { TensorInput } from '../utils/tensor.js';
export type { DistributionOptions } from './distribution_base.js';
export { finiteSupportValues } from './finite_support.js';
export {
  registerExpand,
  registerMask,
  registerToEvent,
  type MaskInput,
  type NestedBooleans,
} from './wrapper_registry.js';

/** Abstract base class of all distributions. */
export abstract class Distribution extends DistributionBase {
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
   * HalfNormal, Uniform, Exponential, Cauchy, HalfCauchy, Laplace, Logistic, Gumbel, Weibull,
   * Kumaraswamy, Pareto, AsymmetricLaplace, ...; Gamma, Chi2, InverseGamma, Beta, StudentT and
   * FisherSnedecor by float64 inverses of the regularized incomplete gamma / beta functions,
   * differentiable in `p` and the parameters),
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
}
