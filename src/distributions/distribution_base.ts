/**
 * The subclass-facing half of the distribution base (`Distribution` extends it with the public
 * API): the options shared by all families, parameter ownership (`param`, `own`, `dispose`), the
 * constructor-time checks that free what the half-built distribution owns before throwing, the
 * `support` and `hasRsample` defaults and the `_`-prefixed hooks a family implements (`_logProb`,
 * `_rsample`, `_cdf`, ...; `log F` and `log S` from whichever of `F`, `S = 1 - F` is smaller).
 */
import * as tf from '@tensorflow/tfjs';
import { valueShapeProblem } from './value_shape.js';
import { ArgumentError, NotDefinedError } from '../utils/errors.js';
import { optionsObject } from '../utils/options.js';
import {
  broadcastShapes,
  broadcastTo,
  allWithin,
  checkValues,
  peekValues,
  type TensorInput,
  toFloat,
} from '../utils/tensor.js';
import { lt, whereB } from './special.js';
import { log1p } from '../utils/log1p.js';
import { independent, real, type Constraint } from '../constraints/constraints.js';

/** The largest finite double: `v <= MAX_FINITE` is false for +Infinity and NaN. */
const MAX_FINITE = Number.MAX_VALUE;

/** Options shared by all distributions. */
export interface DistributionOptions {
  /** Check parameter values (positivity, ranges, shapes) at construction. Default true. */
  validateArgs?: boolean;
  /** A name used in error messages and summaries. */
  name?: string;
}

/**
 * The state, construction helpers and hooks of every distribution; see `Distribution` (the public
 * methods). Not used directly: every family extends `Distribution`.
 */
export abstract class DistributionBase {
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
    return this._rsample !== DistributionBase.prototype._rsample;
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
    if (value && this._rsample === DistributionBase.prototype._rsample) {
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
  /** Throw unless every element of `t` is finite and >= 0 (fast screen, exact scan on failure). */
  protected checkNonnegative(t: tf.Tensor, name: string): void {
    if (this.validateArgs && !allWithin(peekValues(t), 0, MAX_FINITE)) {
      this.guarded(() =>
        checkValues(t, name, (v) => v >= 0 && Number.isFinite(v), 'a finite value >= 0'),
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
