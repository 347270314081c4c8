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
import { checkValues, toFloat, type TensorInput } from '../utils/tensor.js';

export type { TensorInput } from '../utils/tensor.js';

/** Result of {@link Bijector.forwardAndLogDet}: `y = f(x)` and `log|det J_f(x)|`. */
export type ForwardResult = {
  /** `f(x)`, same shape as the input (broadcast with the parameters). */
  y: tf.Tensor;
  /** `log|det df/dx|`, shape of `y` minus the `eventRank` trailing dimensions. */
  logDet: tf.Tensor;
};

/** Result of {@link Bijector.inverseAndLogDet}: `x = f^{-1}(y)` and `log|det J_{f^{-1}}(y)|`. */
export type InverseResult = {
  /** `f^{-1}(y)`. */
  x: tf.Tensor;
  /** `log|det d f^{-1}/dy|`, shape of `x` minus the `eventRank` trailing dimensions. */
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

  constructor(options: BijectorOptions = {}) {
    this.name = options.name ?? this.constructor.name;
    this.validateArgs = options.validateArgs ?? true;
  }

  /**
   * Number of trailing dimensions that form one event: 0 for elementwise (scalar) bijectors,
   * whose log-det has the shape of the input.
   */
  get eventRank(): number {
    return 0;
  }

  /**
   * `true` when `f` is strictly increasing in every coordinate, `false` when strictly decreasing,
   * `undefined` when neither holds for all parameters (e.g. an affine map with scales of mixed
   * signs). Only meaningful for scalar bijectors; used by `TransformedDistribution.cdf`.
   */
  get isIncreasing(): boolean | undefined {
    return true;
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
    return tf.tidy(() => this._forwardAndLogDet(toFloat(x, 'x')));
  }

  /**
   * `x = f^{-1}(y)` together with the inverse log-determinant
   * `log|det J_{f^{-1}}(y)| = -log|det J_f(f^{-1}(y))|`.
   * @param y a point of the range.
   */
  inverseAndLogDet(y: TensorInput): InverseResult {
    return tf.tidy(() => this._inverseAndLogDet(toFloat(y, 'y')));
  }

  /**
   * The forward map `y = f(x)`.
   * @param x a point of the domain.
   */
  forward(x: TensorInput): tf.Tensor {
    return tf.tidy(() => this._forwardAndLogDet(toFloat(x, 'x')).y);
  }

  /**
   * The inverse map `x = f^{-1}(y)`.
   * @param y a point of the range.
   */
  inverse(y: TensorInput): tf.Tensor {
    return tf.tidy(() => this._inverse(toFloat(y, 'y')));
  }

  /**
   * `log|det J_f(x)|`, the log-determinant of the forward Jacobian at `x`.
   * @param x a point of the domain.
   */
  forwardLogDetJacobian(x: TensorInput): tf.Tensor {
    return tf.tidy(() => this._forwardAndLogDet(toFloat(x, 'x')).logDet);
  }

  /**
   * `log|det J_{f^{-1}}(y)| = -log|det J_f(f^{-1}(y))|`, the log-determinant of the inverse
   * Jacobian at `y`.
   * @param y a point of the range.
   */
  inverseLogDetJacobian(y: TensorInput): tf.Tensor {
    return tf.tidy(() => this._inverseAndLogDet(toFloat(y, 'y')).logDet);
  }

  /** Free tensors this bijector created from non-tensor parameters. */
  dispose(): void {
    for (const t of this.ownedTensors) if (!t.isDisposed) t.dispose();
    this.ownedTensors.length = 0;
  }

  // ---- helpers for subclasses -----------------------------------------------------------

  /** Convert a parameter to float32; tensors created here are owned (freed by `dispose`). */
  protected param(value: TensorInput, name: string): tf.Tensor {
    const t = toFloat(value, name);
    if (t !== value) this.ownedTensors.push(t);
    return t;
  }

  /** Throw `ArgumentError(name)` unless every element of `t` is finite and > 0. */
  protected checkPositive(t: tf.Tensor, name: string): void {
    if (this.validateArgs)
      checkValues(t, name, (v) => v > 0 && Number.isFinite(v), 'a finite value > 0');
  }
  /** Throw `ArgumentError(name)` unless every element of `t` is finite and >= 0. */
  protected checkNonNegative(t: tf.Tensor, name: string): void {
    if (this.validateArgs)
      checkValues(t, name, (v) => v >= 0 && Number.isFinite(v), 'a finite value >= 0');
  }
  /** Throw `ArgumentError(name)` unless every element of `t` is finite and nonzero. */
  protected checkNonZero(t: tf.Tensor, name: string): void {
    if (this.validateArgs)
      checkValues(t, name, (v) => v !== 0 && Number.isFinite(v), 'a finite nonzero value');
  }
  /** Throw `ArgumentError(name)` unless every element of `t` is finite. */
  protected checkFinite(t: tf.Tensor, name: string): void {
    if (this.validateArgs) checkValues(t, name, (v) => Number.isFinite(v), 'a finite value');
  }
  protected argError(name: string, message: string): ArgumentError {
    return new ArgumentError(name, message);
  }
}
