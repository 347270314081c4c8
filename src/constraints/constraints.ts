/**
 * Support constraints (after Pyro's `torch.distributions.constraints` and NumPyro's
 * `numpyro.distributions.constraints`): a {@link Constraint} describes a set `S` of values, with
 * the number of trailing dimensions that form one element of `S` (`eventDim`), whether `S` is
 * discrete, and a membership test `check(x)` returning a boolean tensor of shape
 * `x.shape.slice(0, x.rank - eventDim)`.
 *
 * Every distribution exposes its support as `dist.support`; {@link bijectTo} (in
 * `transform_to.ts`) maps each continuous constraint to a bijector from unconstrained reals.
 *
 * Bounds (`interval(a, b)`, `greaterThan(a)`...) are numbers or tensors; tensors stay the
 * caller's (a constraint never owns or frees tensors), so a distribution's `support` getter can
 * hand out constraints that reference its own parameters at no cost.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';

/** A bound of an interval-type constraint: a number or a tensor broadcasting with the values. */
export type Bound = number | tf.Tensor;

/** The kinds of the built-in constraints (the keys of the `bijectTo` registry). */
export type ConstraintKind =
  | 'real'
  | 'positive'
  | 'nonnegative'
  | 'unitInterval'
  | 'interval'
  | 'greaterThan'
  | 'greaterThanEq'
  | 'lessThan'
  | 'simplex'
  | 'ordered'
  | 'lowerCholesky'
  | 'corrCholesky'
  | 'positiveDefinite'
  | 'integer'
  | 'nonnegativeInteger'
  | 'integerInterval'
  | 'boolean'
  | 'independent'
  | 'multinomial'
  | (string & { readonly __custom?: never });

/**
 * A set of admissible values (a distribution's support or a parameter's domain).
 *
 * `check(x)` is the elementwise-then-event-reduced membership test
 *
 * $$\text{check}(x)_b = \bigwedge_{e \in \text{event}} [x_{b,e} \in S]$$
 *
 * with the last `eventDim` dimensions of `x` forming one event; it never carries gradients.
 */
export abstract class Constraint {
  /** Registry key of the constraint family (e.g. `'interval'` for every `interval(a, b)`). */
  abstract readonly kind: ConstraintKind;
  /** Number of trailing dimensions that form one element of the set. */
  abstract readonly eventDim: number;
  /** True for sets of integers / booleans (no bijection from the reals exists). */
  readonly isDiscrete: boolean = false;

  /** A readable name, e.g. `interval(0, 1)`, used in error messages. */
  get name(): string {
    return this.kind;
  }
  toString(): string {
    return this.name;
  }

  /** The elementwise membership test (before reducing the event dims); runs inside a tidy. */
  protected abstract _check(x: tf.Tensor): tf.Tensor;

  /**
   * Membership test: a bool tensor of shape `x.shape` minus the last `eventDim` dims, true where
   * the whole event lies in the set.
   * @param x values, float or int; rank at least `eventDim`.
   */
  check(x: tf.Tensor): tf.Tensor {
    if (!(x instanceof tf.Tensor)) throw new ArgumentError('x', 'expected a tensor');
    if (x.rank < this.eventDim) {
      throw new ArgumentError(
        'x',
        `${this.name} has event dim ${this.eventDim}; got a value of shape [${x.shape.join(',')}]`,
      );
    }
    return tf.tidy(() => {
      const ok = this._check(x.toFloat());
      // reduce whatever event dims the elementwise test left
      const extra = ok.rank - (x.rank - this.eventDim);
      if (extra <= 0) return ok;
      return tf.all(
        ok,
        Array.from({ length: extra }, (_, i) => ok.rank - extra + i),
      );
    });
  }

  /** True when every element of `x` lies in the set (host-side read; for argument checks). */
  checkAll(x: tf.Tensor): boolean {
    const ok = this.check(x);
    try {
      const v = ok.dataSync();
      for (let i = 0; i < v.length; i++) if (!v[i]) return false;
      return true;
    } finally {
      ok.dispose();
    }
  }
}

function boundName(b: Bound): string {
  if (typeof b === 'number') return String(b);
  return b.size === 1 ? String(b.dataSync()[0]) : `tensor[${b.shape.join(',')}]`;
}
function checkBound(b: Bound, name: string): Bound {
  if (typeof b === 'number') {
    if (Number.isNaN(b)) throw new ArgumentError(name, 'expected a number, got NaN');
    return b;
  }
  if (!(b instanceof tf.Tensor) || b.isDisposed) {
    throw new ArgumentError(name, 'expected a number or a live tensor');
  }
  return b;
}
/** Bound as something tf ops accept, cast to float32 for tensors. */
function asOperand(b: Bound): tf.Tensor | number {
  return typeof b === 'number' ? b : b.dtype === 'float32' ? b : b.toFloat();
}

/** The real line (Pyro's `real`): every non-NaN value. */
export class RealConstraint extends Constraint {
  readonly kind: ConstraintKind = 'real';
  readonly eventDim: number = 0;
  protected _check(x: tf.Tensor): tf.Tensor {
    return tf.equal(x, x);
  }
}

/** `{x : x > lower}` (Pyro's `greater_than`). */
export class GreaterThan extends Constraint {
  readonly kind: ConstraintKind = 'greaterThan';
  readonly eventDim: number = 0;
  /** The exclusive lower bound. */
  readonly lower: Bound;
  constructor(lower: Bound) {
    super();
    this.lower = checkBound(lower, 'lower');
  }
  override get name(): string {
    return `greaterThan(${boundName(this.lower)})`;
  }
  protected _check(x: tf.Tensor): tf.Tensor {
    return tf.greater(x, asOperand(this.lower));
  }
}

/** `{x : x > 0}` (Pyro's `positive`); `bijectTo` maps onto it with `exp`. */
export class Positive extends GreaterThan {
  override readonly kind: ConstraintKind = 'positive';
  constructor() {
    super(0);
  }
  override get name(): string {
    return 'positive';
  }
}

/** `{x : x >= lower}` (Pyro's `greater_than_eq`). */
export class GreaterThanEq extends Constraint {
  readonly kind: ConstraintKind = 'greaterThanEq';
  readonly eventDim: number = 0;
  /** The inclusive lower bound. */
  readonly lower: Bound;
  constructor(lower: Bound) {
    super();
    this.lower = checkBound(lower, 'lower');
  }
  override get name(): string {
    return `greaterThanEq(${boundName(this.lower)})`;
  }
  protected _check(x: tf.Tensor): tf.Tensor {
    return tf.greaterEqual(x, asOperand(this.lower));
  }
}

/** `{x : x >= 0}` (Pyro's `nonnegative`). */
export class Nonnegative extends GreaterThanEq {
  override readonly kind: ConstraintKind = 'nonnegative';
  constructor() {
    super(0);
  }
  override get name(): string {
    return 'nonnegative';
  }
}

/** `{x : x < upper}` (Pyro's `less_than`). */
export class LessThan extends Constraint {
  readonly kind: ConstraintKind = 'lessThan';
  readonly eventDim: number = 0;
  /** The exclusive upper bound. */
  readonly upper: Bound;
  constructor(upper: Bound) {
    super();
    this.upper = checkBound(upper, 'upper');
  }
  override get name(): string {
    return `lessThan(${boundName(this.upper)})`;
  }
  protected _check(x: tf.Tensor): tf.Tensor {
    return tf.less(x, asOperand(this.upper));
  }
}

/** `{x : lower <= x <= upper}` (Pyro's `interval`, closed as in Pyro). */
export class Interval extends Constraint {
  readonly kind: ConstraintKind = 'interval';
  readonly eventDim: number = 0;
  /** Lower end. */
  readonly lower: Bound;
  /** Upper end. */
  readonly upper: Bound;
  constructor(lower: Bound, upper: Bound) {
    super();
    this.lower = checkBound(lower, 'lower');
    this.upper = checkBound(upper, 'upper');
    if (typeof lower === 'number' && typeof upper === 'number' && !(lower < upper)) {
      throw new ArgumentError('upper', `expected upper > lower, got [${lower}, ${upper}]`);
    }
  }
  override get name(): string {
    return `interval(${boundName(this.lower)}, ${boundName(this.upper)})`;
  }
  protected _check(x: tf.Tensor): tf.Tensor {
    return tf.logicalAnd(
      tf.greaterEqual(x, asOperand(this.lower)),
      tf.lessEqual(x, asOperand(this.upper)),
    );
  }
}

/** `[0, 1]` (Pyro's `unit_interval`); `bijectTo` maps onto it with the sigmoid. */
export class UnitInterval extends Interval {
  override readonly kind: ConstraintKind = 'unitInterval';
  constructor() {
    super(0, 1);
  }
  override get name(): string {
    return 'unitInterval';
  }
}

/**
 * The probability simplex `{x in R^K : x_k >= 0, |sum_k x_k - 1| <= tol}` (event dim 1), with the
 * tolerance `1e-5 K` for float32 sums.
 */
export class Simplex extends Constraint {
  readonly kind: ConstraintKind = 'simplex';
  readonly eventDim: number = 1;
  protected _check(x: tf.Tensor): tf.Tensor {
    const k = x.shape[x.rank - 1] ?? 1;
    const nonneg = tf.all(tf.greaterEqual(x, 0), -1);
    const sumOk = tf.lessEqual(tf.abs(tf.sub(tf.sum(x, -1), 1)), 1e-5 * Math.max(k, 1) + 1e-6);
    return tf.logicalAnd(nonneg, sumOk);
  }
}

/** Strictly increasing vectors `x_1 < x_2 < ... < x_K` (Pyro's `ordered_vector`, event dim 1). */
export class Ordered extends Constraint {
  readonly kind: ConstraintKind = 'ordered';
  readonly eventDim: number = 1;
  protected _check(x: tf.Tensor): tf.Tensor {
    const k = x.shape[x.rank - 1] as number;
    const finite = tf.all(tf.equal(x, x), -1);
    if (k < 2) return finite;
    const lo = tf.slice(x, Array(x.rank).fill(0), [...x.shape.slice(0, -1), k - 1]);
    const hi = tf.slice(x, [...Array(x.rank - 1).fill(0), 1], [...x.shape.slice(0, -1), k - 1]);
    return tf.logicalAnd(finite, tf.all(tf.greater(hi, lo), -1));
  }
}

/** Strictly-lower-triangular mask (ones below the diagonal) for `[n, n]`. */
function upperMask(n: number): tf.Tensor {
  // ones strictly above the diagonal
  return tf.sub(1, tf.linalg.bandPart(tf.ones([n, n]), -1, 0));
}
function diagPart(x: tf.Tensor): tf.Tensor {
  const n = x.shape[x.rank - 1] as number;
  return tf.sum(tf.mul(x, tf.eye(n)), -1);
}
function checkSquare(x: tf.Tensor, name: string): number {
  const n = x.shape[x.rank - 1] as number;
  if (x.rank < 2 || x.shape[x.rank - 2] !== n) {
    throw new ArgumentError('x', `${name} expects square matrices, got [${x.shape.join(',')}]`);
  }
  return n;
}

/** Lower-triangular matrices with a positive diagonal (Pyro's `lower_cholesky`, event dim 2). */
export class LowerCholesky extends Constraint {
  readonly kind: ConstraintKind = 'lowerCholesky';
  readonly eventDim: number = 2;
  protected _check(x: tf.Tensor): tf.Tensor {
    const n = checkSquare(x, this.name);
    const upperZero = tf.all(tf.equal(tf.mul(x, upperMask(n)), 0), [-2, -1]);
    const diagPos = tf.all(tf.greater(diagPart(x), 0), -1);
    return tf.logicalAnd(upperZero, diagPos);
  }
}

/**
 * Cholesky factors of correlation matrices (Pyro's `corr_cholesky`, event dim 2): lower
 * triangular, positive diagonal, rows of unit Euclidean norm (tolerance `1e-4`).
 */
export class CorrCholesky extends Constraint {
  readonly kind: ConstraintKind = 'corrCholesky';
  readonly eventDim: number = 2;
  protected _check(x: tf.Tensor): tf.Tensor {
    const n = checkSquare(x, this.name);
    const upperZero = tf.all(tf.equal(tf.mul(x, upperMask(n)), 0), [-2, -1]);
    const diagPos = tf.all(tf.greater(diagPart(x), 0), -1);
    const rowNorm = tf.sqrt(tf.sum(tf.square(x), -1));
    const unit = tf.all(tf.lessEqual(tf.abs(tf.sub(rowNorm, 1)), 1e-4), -1);
    return tf.logicalAnd(tf.logicalAnd(upperZero, diagPos), unit);
  }
}

/**
 * Symmetric positive-definite matrices (Pyro's `positive_definite`, event dim 2). The test is a
 * float64 Cholesky factorization on the host (symmetry to a relative `1e-5`).
 */
export class PositiveDefinite extends Constraint {
  readonly kind: ConstraintKind = 'positiveDefinite';
  readonly eventDim: number = 2;
  protected _check(x: tf.Tensor): tf.Tensor {
    const n = checkSquare(x, this.name);
    const v = x.dataSync();
    const m = n * n;
    const count = m === 0 ? 0 : v.length / m;
    const out = new Uint8Array(count);
    for (let b = 0; b < count; b++) out[b] = isSpd(v, b * m, n) ? 1 : 0;
    return tf.tensor(out, x.shape.slice(0, -2), 'bool');
  }
}

/** Float64 symmetric + Cholesky test of the `n x n` block of `v` at `off`. */
function isSpd(v: ArrayLike<number>, off: number, n: number): boolean {
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale = Math.max(scale, Math.abs(v[off + i] as number));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const a = v[off + i * n + j] as number;
      const b = v[off + j * n + i] as number;
      if (!(Math.abs(a - b) <= 1e-5 * scale)) return false;
    }
  }
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = v[off + j * n + j] as number;
    for (let k = 0; k < j; k++) d -= (l[j * n + k] as number) ** 2;
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = v[off + i * n + j] as number;
      for (let k = 0; k < j; k++) s -= (l[i * n + k] as number) * (l[j * n + k] as number);
      l[i * n + j] = s / ljj;
    }
  }
  return true;
}

/** The integers (Pyro's `integer`). */
export class IntegerConstraint extends Constraint {
  readonly kind: ConstraintKind = 'integer';
  readonly eventDim: number = 0;
  override readonly isDiscrete: boolean = true;
  protected _check(x: tf.Tensor): tf.Tensor {
    return tf.equal(x, tf.round(x));
  }
}

/** `{0, 1, 2, ...}` (Pyro's `nonnegative_integer`). */
export class NonnegativeInteger extends Constraint {
  readonly kind: ConstraintKind = 'nonnegativeInteger';
  readonly eventDim: number = 0;
  override readonly isDiscrete: boolean = true;
  protected _check(x: tf.Tensor): tf.Tensor {
    return tf.logicalAnd(tf.equal(x, tf.round(x)), tf.greaterEqual(x, 0));
  }
}

/** `{lower, lower + 1, ..., upper}` (Pyro's `integer_interval`). */
export class IntegerInterval extends Constraint {
  readonly kind: ConstraintKind = 'integerInterval';
  readonly eventDim: number = 0;
  override readonly isDiscrete: boolean = true;
  /** Lowest value. */
  readonly lower: Bound;
  /** Highest value. */
  readonly upper: Bound;
  constructor(lower: Bound, upper: Bound) {
    super();
    this.lower = checkBound(lower, 'lower');
    this.upper = checkBound(upper, 'upper');
  }
  override get name(): string {
    return `integerInterval(${boundName(this.lower)}, ${boundName(this.upper)})`;
  }
  protected _check(x: tf.Tensor): tf.Tensor {
    return tf.logicalAnd(
      tf.equal(x, tf.round(x)),
      tf.logicalAnd(
        tf.greaterEqual(x, asOperand(this.lower)),
        tf.lessEqual(x, asOperand(this.upper)),
      ),
    );
  }
}

/** `{0, 1}` (Pyro's `boolean`). */
export class BooleanConstraint extends Constraint {
  readonly kind: ConstraintKind = 'boolean';
  readonly eventDim: number = 0;
  override readonly isDiscrete: boolean = true;
  protected _check(x: tf.Tensor): tf.Tensor {
    return tf.logicalOr(tf.equal(x, 0), tf.equal(x, 1));
  }
}

/**
 * `base` with `reinterpretedBatchNdims` more trailing dimensions read as one event (Pyro's
 * `independent`): `check` is the base test reduced with a logical AND over those dimensions.
 */
export class IndependentConstraint extends Constraint {
  readonly kind: ConstraintKind = 'independent';
  readonly eventDim: number;
  override readonly isDiscrete: boolean;
  /** The elementwise (or lower event dim) constraint. */
  readonly base: Constraint;
  /** How many extra trailing dims form the event. */
  readonly reinterpretedBatchNdims: number;
  constructor(base: Constraint, reinterpretedBatchNdims: number) {
    super();
    if (!(base instanceof Constraint)) throw new ArgumentError('base', 'expected a Constraint');
    if (!Number.isInteger(reinterpretedBatchNdims) || reinterpretedBatchNdims < 0) {
      throw new ArgumentError(
        'reinterpretedBatchNdims',
        `expected a non-negative integer, got ${reinterpretedBatchNdims}`,
      );
    }
    this.base = base;
    this.reinterpretedBatchNdims = reinterpretedBatchNdims;
    this.eventDim = base.eventDim + reinterpretedBatchNdims;
    this.isDiscrete = base.isDiscrete;
  }
  override get name(): string {
    return `independent(${this.base.name}, ${this.reinterpretedBatchNdims})`;
  }
  protected _check(x: tf.Tensor): tf.Tensor {
    // the base reduces its own event dims; `check` then reduces the remaining ones
    return this.base.check(x);
  }
}

/**
 * Count vectors with a fixed total (Pyro's `multinomial(n)`, event dim 1): non-negative integers
 * summing to `totalCount`.
 */
export class MultinomialConstraint extends Constraint {
  readonly kind: ConstraintKind = 'multinomial';
  readonly eventDim: number = 1;
  override readonly isDiscrete: boolean = true;
  /** The fixed total. */
  readonly totalCount: number;
  constructor(totalCount: number) {
    super();
    if (!Number.isInteger(totalCount) || totalCount < 0) {
      throw new ArgumentError('totalCount', `expected a non-negative integer, got ${totalCount}`);
    }
    this.totalCount = totalCount;
  }
  override get name(): string {
    return `multinomial(${this.totalCount})`;
  }
  protected _check(x: tf.Tensor): tf.Tensor {
    const counts = tf.all(tf.logicalAnd(tf.equal(x, tf.round(x)), tf.greaterEqual(x, 0)), -1);
    return tf.logicalAnd(counts, tf.equal(tf.sum(x, -1), this.totalCount));
  }
}

// ---- instances and factories (Pyro's names in camelCase) -----------------------------------

/** The real line. */
export const real: Constraint = new RealConstraint();
/** `(0, inf)`. */
export const positive: Constraint = new Positive();
/** `[0, inf)`. */
export const nonnegative: Constraint = new Nonnegative();
/** `[0, 1]`. */
export const unitInterval: Constraint = new UnitInterval();
/** The probability simplex (event dim 1). */
export const simplex: Constraint = new Simplex();
/** Strictly increasing vectors (event dim 1). */
export const ordered: Constraint = new Ordered();
/** Lower-triangular matrices with positive diagonal (event dim 2). */
export const lowerCholesky: Constraint = new LowerCholesky();
/** Cholesky factors of correlation matrices (event dim 2). */
export const corrCholesky: Constraint = new CorrCholesky();
/** Symmetric positive-definite matrices (event dim 2). */
export const positiveDefinite: Constraint = new PositiveDefinite();
/** The integers. */
export const integer: Constraint = new IntegerConstraint();
/** `{0, 1, 2, ...}`. */
export const nonnegativeInteger: Constraint = new NonnegativeInteger();
/** `{0, 1}`. */
export const boolean: Constraint = new BooleanConstraint();
/** Real vectors: `independent(real, 1)`. */
export const realVector: Constraint = new IndependentConstraint(real, 1);

/** `[a, b]` (closed, as Pyro's `interval`). @param a lower end. @param b upper end. */
export function interval(a: Bound, b: Bound): Constraint {
  return new Interval(a, b);
}
/** `(a, inf)`. @param a the exclusive lower bound. */
export function greaterThan(a: Bound): Constraint {
  return new GreaterThan(a);
}
/** `[a, inf)`. @param a the inclusive lower bound. */
export function greaterThanEq(a: Bound): Constraint {
  return new GreaterThanEq(a);
}
/** `(-inf, a)`. @param a the exclusive upper bound. */
export function lessThan(a: Bound): Constraint {
  return new LessThan(a);
}
/** `{a, ..., b}`. @param a lowest value. @param b highest value. */
export function integerInterval(a: Bound, b: Bound): Constraint {
  return new IntegerInterval(a, b);
}
/** Count vectors summing to `n` (event dim 1). @param n the total count. */
export function multinomial(n: number): Constraint {
  return new MultinomialConstraint(n);
}
/**
 * Reinterpret `n` more trailing dims of `c` as one event (`n = 0` returns `c`).
 * @param c the base constraint. @param n extra event dims.
 */
export function independent(c: Constraint, n: number): Constraint {
  if (n === 0 && c instanceof Constraint) return c;
  return new IndependentConstraint(c, n);
}
