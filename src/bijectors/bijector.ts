/**
 * The base of every bijector (after Distrax: one abstract pair, everything else derived).
 *
 * A bijector is a smooth invertible map `y = f(x)` with a tractable log-determinant of its
 * Jacobian. Subclasses implement only the math, in two protected hooks:
 * `_forwardAndLogDet(x) -> {y, logDet}` and `_inverse(y)`, and declare their `eventRank` (0 for
 * the elementwise bijectors of this folder). The base derives
 *
 * $$\log\left|\det J_{f^{-1}}(y)\right| = -\log\left|\det J_f\big(f^{-1}(y)\big)\right|$$
 *
 * and wraps every public method in `tf.tidy`, so each call returns only new tensors and leaks
 * nothing. A subclass may override `_inverseAndLogDet` when a direct formula is more stable.
 *
 * Memory: parameters given as numbers or arrays become tensors owned by the bijector and freed by
 * {@link Bijector.dispose}; tensors given by the caller stay the caller's.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { broadcastShapes, checkValues, toFloat, type TensorInput } from '../utils/tensor.js';
import { independent, real, type Constraint } from '../constraints/constraints.js';

export type { TensorInput } from '../utils/tensor.js';

/** Whether shapes `a` and `b` broadcast together (numpy rules, aligned on the right). */
function broadcastable(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 1; i <= Math.min(a.length, b.length); i++) {
    const p = a[a.length - i] as number;
    const q = b[b.length - i] as number;
    if (p !== q && p !== 1 && q !== 1) return false;
  }
  return true;
}

/** Result of {@link Bijector.forwardAndLogDet}: `y = f(x)` and `log|det J_f(x)|`. */
export type ForwardResult = {
  /** `f(x)`, shape `forwardShape(x.shape)` (broadcast with the parameters). */
  y: tf.Tensor;
  /** `log|det df/dx|`, shape of `x` minus the `domainEventDim` trailing dimensions. */
  logDet: tf.Tensor;
};

/** Result of {@link Bijector.inverseAndLogDet}: `x = f^{-1}(y)` and `log|det J_{f^{-1}}(y)|`. */
export type InverseResult = {
  /** `f^{-1}(y)`. */
  x: tf.Tensor;
  /** `log|det d f^{-1}/dy|`, shape of `x` minus the `domainEventDim` trailing dimensions. */
  logDet: tf.Tensor;
};

/** Options shared by all bijectors. */
export interface BijectorOptions {
  /** Check parameter values (nonzero scale, positivity...) at construction. Default true. */
  validateArgs?: boolean;
  /** A name used in error messages. Default: the class name. */
  name?: string;
}

/**
 * Abstract base class of all bijectors.
 *
 * @example
 * ```ts
 * const b = new Exp();
 * const { y, logDet } = b.forwardAndLogDet([0, 1]); // y = e^x, logDet = x
 * const x = b.inverse(y);                             // [0, 1]
 * ```
 */
export abstract class Bijector {
  /** Name used in messages. */
  readonly name: string;
  /** Whether parameters were validated at construction. */
  readonly validateArgs: boolean;
  /** Tensors created by this bijector from non-tensor parameters; freed by `dispose`. */
  private readonly ownedTensors: tf.Tensor[] = [];
  /** Bijectors this one owns (adopted parts of a composite); disposed with it. */
  private readonly ownedParts: Bijector[] = [];

  constructor(options: BijectorOptions = {}) {
    this.name = options.name ?? this.constructor.name;
    this.validateArgs = options.validateArgs ?? true;
  }

  /**
   * Number of trailing dimensions that form one event: 0 for elementwise (scalar) bijectors,
   * whose log-det has the shape of the input. Equal to {@link Bijector.domainEventDim}; kept for
   * the bijectors that do not change the event rank.
   */
  get eventRank(): number {
    return 0;
  }

  /**
   * Event dims of the input `x` (Pyro's `domain.event_dim`): the log-det has the shape of `x`
   * minus these trailing dims. Defaults to `eventRank`.
   */
  get domainEventDim(): number {
    return this.eventRank;
  }
  /** Event dims of the output `y` (Pyro's `codomain.event_dim`). Defaults to `eventRank`. */
  get codomainEventDim(): number {
    return this.eventRank;
  }
  /** The set the forward map accepts (default: reals with `domainEventDim` event dims). */
  get domain(): Constraint {
    return independent(real, this.domainEventDim);
  }
  /** The set the forward map lands in (default: reals with `codomainEventDim` event dims). */
  get codomain(): Constraint {
    return independent(real, this.codomainEventDim);
  }

  /**
   * Shape of `f(x)` for an `x` of shape `shape` (identity unless the bijector changes the event
   * size, e.g. StickBreaking `[..., K-1] -> [..., K]`).
   * @param shape the input shape.
   */
  forwardShape(shape: readonly number[]): number[] {
    return [...shape];
  }
  /**
   * Shape of `f^{-1}(y)` for a `y` of shape `shape`.
   * @param shape the output-space shape.
   */
  inverseShape(shape: readonly number[]): number[] {
    return [...shape];
  }

  /**
   * `true` when `f` is strictly increasing in every coordinate, `false` when strictly decreasing,
   * `undefined` when neither holds for all parameters (e.g. an affine map with scales of mixed
   * signs) or when the subclass does not declare it. Only meaningful for scalar bijectors; used
   * by `TransformedDistribution`'s `cdf`/`icdf`/`survival`, which throw `NotDefinedError` on
   * `undefined`. Undefined by default, as torch's `Transform.sign` and TFP's `_is_increasing`
   * (a decreasing user bijector taken as increasing gave a wrong CDF and quantile without an
   * error): a monotone subclass declares it.
   */
  get isIncreasing(): boolean | undefined {
    return undefined;
  }

  /** Broadcast shape of the parameters (`[]` for parameter-free or scalar-parameter bijectors). */
  get paramShape(): number[] {
    return [];
  }

  // ---- hooks for subclasses -------------------------------------------------------------

  /** `y = f(x)` and `log|det J_f(x)|`. Runs inside a `tf.tidy`. */
  protected abstract _forwardAndLogDet(x: tf.Tensor): ForwardResult;
  /** `x = f^{-1}(y)`. Runs inside a `tf.tidy`. */
  protected abstract _inverse(y: tf.Tensor): tf.Tensor;
  /** `x = f^{-1}(y)` and `-log|det J_f(x)|`; override when a direct formula is more stable. */
  protected _inverseAndLogDet(y: tf.Tensor): InverseResult {
    const x = this._inverse(y);
    return { x, logDet: tf.neg(this._forwardAndLogDet(x).logDet) };
  }

  // ---- public API ---------------------------------------------------------------------

  /**
   * `y = f(x)` together with the forward log-determinant `log|det J_f(x)|`, in one pass.
   * @param x a point of the domain.
   */
  forwardAndLogDet(x: TensorInput): ForwardResult {
    return tf.tidy(() => this.forwardOf(this.point(x, 'x', this.domainEventDim)));
  }

  /**
   * `x = f^{-1}(y)` together with the inverse log-determinant
   * `log|det J_{f^{-1}}(y)| = -log|det J_f(f^{-1}(y))|`.
   * @param y a point of the range.
   */
  inverseAndLogDet(y: TensorInput): InverseResult {
    return tf.tidy(() => this.inverseOf(this.point(y, 'y', this.codomainEventDim)));
  }

  /**
   * The forward map `y = f(x)`.
   * @param x a point of the domain.
   */
  forward(x: TensorInput): tf.Tensor {
    return tf.tidy(() => this.forwardOf(this.point(x, 'x', this.domainEventDim)).y);
  }

  /**
   * The inverse map `x = f^{-1}(y)`.
   * @param y a point of the range.
   */
  inverse(y: TensorInput): tf.Tensor {
    return tf.tidy(() => {
      const v = this.point(y, 'y', this.codomainEventDim);
      return v.size === 0 ? this.inverseOf(v).x : this._inverse(v);
    });
  }

  /**
   * `log|det J_f(x)|`, the log-determinant of the forward Jacobian at `x`.
   * @param x a point of the domain.
   */
  forwardLogDetJacobian(x: TensorInput): tf.Tensor {
    return tf.tidy(() => this.forwardOf(this.point(x, 'x', this.domainEventDim)).logDet);
  }

  /**
   * `log|det J_{f^{-1}}(y)| = -log|det J_f(f^{-1}(y))|`, the log-determinant of the inverse
   * Jacobian at `y`.
   * @param y a point of the range.
   */
  inverseLogDetJacobian(y: TensorInput): tf.Tensor {
    return tf.tidy(() => this.inverseOf(this.point(y, 'y', this.codomainEventDim)).logDet);
  }

  /**
   * `_forwardAndLogDet(x)`, or for an empty `x` zeros of `y`'s shape (`forwardShape(x.shape)`
   * broadcast with `paramShape`) and of the log-det's (`y`'s without the codomain's event dims):
   * several wasm kernels fault on empty operands (tfjs's `concat` refused the empty pieces of a
   * `[0, 6]` LowerCholeskyTransform input, a transpose trapped with `divide by zero`).
   */
  private forwardOf(x: tf.Tensor): ForwardResult {
    if (x.size !== 0) return this._forwardAndLogDet(x);
    const y = broadcastShapes({ x: this.forwardShape(x.shape), params: this.paramShape });
    return { y: tf.zeros(y), logDet: tf.zeros(y.slice(0, y.length - this.codomainEventDim)) };
  }
  /** `_inverseAndLogDet(y)`, or zeros of the shapes it would have for an empty `y`. */
  private inverseOf(y: tf.Tensor): InverseResult {
    if (y.size !== 0) return this._inverseAndLogDet(y);
    const x = broadcastShapes({ y: this.inverseShape(y.shape), params: this.paramShape });
    return { x: tf.zeros(x), logDet: tf.zeros(x.slice(0, x.length - this.domainEventDim)) };
  }

  /** Free tensors this bijector created from non-tensor parameters. */
  dispose(): void {
    for (const t of this.ownedTensors) if (!t.isDisposed) t.dispose();
    this.ownedTensors.length = 0;
    for (const b of this.ownedParts) b.dispose();
    this.ownedParts.length = 0;
  }

  // ---- helpers for subclasses -----------------------------------------------------------

  /**
   * A point given to a public method as a float tensor, with at least the `eventDim` dimensions
   * of one event (a vector bijector given a scalar, an `IndependentTransform` over 2 dims given a
   * vector is named here, not by a tfjs reduction error).
   * @throws ArgumentError naming `name`.
   */
  protected point(v: TensorInput, name: string, eventDim: number): tf.Tensor {
    const t = toFloat(v, name);
    if (t.rank < eventDim) {
      throw new ArgumentError(
        name,
        `expected at least ${eventDim} event dimension(s) for ${this.name}, got shape [${t.shape.join(', ')}]`,
      );
    }
    const params = this.paramShape;
    if (this.pointBroadcastsWithParams && !broadcastable(t.shape, params)) {
      throw new ArgumentError(
        name,
        `shape [${t.shape.join(', ')}] does not broadcast with the parameter shape ` +
          `[${params.join(', ')}] of ${this.name}`,
      );
    }
    return t;
  }

  /**
   * Whether a point given to a public method broadcasts elementwise with {@link paramShape}
   * (checked by {@link point}, naming the point, before any work: `Shift([1, 2, 3]).forward([1,
   * 2])` was a raw tfjs broadcast error). True for the parameterized maps of this folder; a
   * composite whose parts act on other shapes (`Chain`) leaves the check to its parts.
   * @internal
   */
  get pointBroadcastsWithParams(): boolean {
    return true;
  }

  /**
   * Throw `ArgumentError(name)` unless the last dimension of `t` is `size` (a flow of `R^size`
   * given a point of another dimension: a raw tfjs reshape error before).
   */
  protected checkEventSize(t: tf.Tensor, name: string, size: number): void {
    if (t.rank < 1 || t.shape[t.rank - 1] !== size) {
      throw new ArgumentError(
        name,
        `expected a last dimension of ${size} for ${this.name}, got shape [${t.shape.join(', ')}]`,
      );
    }
  }

  /**
   * Take ownership of a tensor or of a part bijector (freed by {@link Bijector.dispose}); used by
   * factories such as `bijectTo` that derive parameters (e.g. `upper - lower`) or build composite
   * bijectors whose parts nobody else holds.
   * @param t the tensor or bijector to own.
   */
  adopt<T extends tf.Tensor | Bijector>(t: T): T {
    if (t instanceof Bijector) this.ownedParts.push(t);
    else this.ownedTensors.push(t);
    return t;
  }

  /** Convert a parameter to float32; tensors created here are owned (freed by `dispose`). */
  protected param(value: TensorInput, name: string): tf.Tensor {
    const t = this.guard(() => toFloat(value, name));
    if (t !== value) this.ownedTensors.push(t);
    return t;
  }

  /**
   * Run a constructor-time step (a check, a shape broadcast); when it throws, free the tensors
   * and parts this bijector already owns, then rethrow (the half-built object is unreachable).
   */
  protected guard<T>(step: () => T): T {
    try {
      return step();
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** Throw `ArgumentError(name)` unless every element of `t` is finite and > 0. */
  protected checkPositive(t: tf.Tensor, name: string): void {
    if (this.validateArgs)
      this.guard(() =>
        checkValues(t, name, (v) => v > 0 && Number.isFinite(v), 'a finite value > 0'),
      );
  }
  /** Throw `ArgumentError(name)` unless every element of `t` is finite and >= 0. */
  protected checkNonNegative(t: tf.Tensor, name: string): void {
    if (this.validateArgs)
      this.guard(() =>
        checkValues(t, name, (v) => v >= 0 && Number.isFinite(v), 'a finite value >= 0'),
      );
  }
  /** Throw `ArgumentError(name)` unless every element of `t` is finite and nonzero. */
  protected checkNonZero(t: tf.Tensor, name: string): void {
    if (this.validateArgs)
      this.guard(() =>
        checkValues(t, name, (v) => v !== 0 && Number.isFinite(v), 'a finite nonzero value'),
      );
  }
  /** Throw `ArgumentError(name)` unless every element of `t` is finite. */
  protected checkFinite(t: tf.Tensor, name: string): void {
    if (this.validateArgs)
      this.guard(() => checkValues(t, name, (v) => Number.isFinite(v), 'a finite value'));
  }
  protected argError(name: string, message: string): ArgumentError {
    return new ArgumentError(name, message);
  }
}
