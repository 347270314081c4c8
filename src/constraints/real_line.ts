/**
 * Constraints on the real line (Pyro's `real`, `greater_than`, `greater_than_eq`, `less_than`,
 * `interval` and their named instances `positive`, `nonnegative`, `unit_interval`).
 *
 * The three half lines share one class: a bound `c` and a comparison,
 * `S = {x : x ⋄ c}` with `⋄ ∈ {>, >=, <}`. A named instance (`positive` = `greaterThan(0)`)
 * is the same class under its own kind and name.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { asOperand, between, boundName, checkBound } from './bound.js';
import { Constraint, type Bound, type ConstraintKind } from './constraint.js';

/** The real line (Pyro's `real`): every non-NaN value. */
export class RealConstraint extends Constraint {
  readonly kind: ConstraintKind = 'real';
  readonly eventDim: number = 0;
  protected _check(x: tf.Tensor): tf.Tensor {
    return tf.equal(x, x);
  }
}

/**
 * Angles (NumPyro's `circular`): every non-NaN real is admissible, as for `real` (a periodic
 * density such as the von Mises gives `x` and `x + 2 pi k` the same value, so observed angles may
 * lie in any period), but {@link bijectTo} maps the real line onto one period `(-pi, pi)` by an
 * affine sigmoid: a latent angle sampled or fitted over all reals would have an improper density
 * (HMC/NUTS would drift from period to period).
 */
export class Circular extends RealConstraint {
  override readonly kind: ConstraintKind = 'circular';
}

/** The comparisons of the half lines: `x > c`, `x >= c`, `x < c`. */
type Compare = (x: tf.Tensor, c: tf.Tensor | number) => tf.Tensor;

/** `{x : x ⋄ bound}`: one bound and one comparison (the shared body of the half lines). */
abstract class HalfLine extends Constraint {
  readonly kind: ConstraintKind;
  readonly eventDim: number = 0;
  /** The bound `c`. */
  protected readonly bound: Bound;
  private readonly compare: Compare;
  /** The name of a named instance (`'positive'`), else undefined. */
  private readonly alias: ConstraintKind | undefined;
  protected constructor(
    kind: ConstraintKind,
    bound: Bound,
    argName: 'lower' | 'upper',
    compare: Compare,
    alias?: ConstraintKind,
  ) {
    super();
    this.kind = alias ?? kind;
    this.alias = alias;
    this.bound = checkBound(bound, argName);
    this.compare = compare;
  }
  override get name(): string {
    return this.alias ?? `${this.kind}(${boundName(this.bound)})`;
  }
  protected _check(x: tf.Tensor): tf.Tensor {
    return this.compare(x, asOperand(this.bound));
  }
}

/** `{x : x > lower}` (Pyro's `greater_than`). */
export class GreaterThan extends HalfLine {
  /** @param lower the exclusive lower bound. @param alias kind and name of a named instance. */
  constructor(lower: Bound, alias?: ConstraintKind) {
    super('greaterThan', lower, 'lower', tf.greater, alias);
  }
  /** The exclusive lower bound. */
  get lower(): Bound {
    return this.bound;
  }
}

/** `{x : x >= lower}` (Pyro's `greater_than_eq`). */
export class GreaterThanEq extends HalfLine {
  /** @param lower the inclusive lower bound. @param alias kind and name of a named instance. */
  constructor(lower: Bound, alias?: ConstraintKind) {
    super('greaterThanEq', lower, 'lower', tf.greaterEqual, alias);
  }
  /** The inclusive lower bound. */
  get lower(): Bound {
    return this.bound;
  }
}

/** `{x : x < upper}` (Pyro's `less_than`). */
export class LessThan extends HalfLine {
  /** @param upper the exclusive upper bound. */
  constructor(upper: Bound) {
    super('lessThan', upper, 'upper', tf.less);
  }
  /** The exclusive upper bound. */
  get upper(): Bound {
    return this.bound;
  }
}

/** `{x : x > 0}` (Pyro's `positive`); `bijectTo` maps onto it with `exp`. */
export class Positive extends GreaterThan {
  constructor() {
    super(0, 'positive');
  }
}

/** `{x : x >= 0}` (Pyro's `nonnegative`). */
export class Nonnegative extends GreaterThanEq {
  constructor() {
    super(0, 'nonnegative');
  }
}

/** `{x : lower <= x <= upper}` (Pyro's `interval`, closed as in Pyro). */
export class Interval extends Constraint {
  readonly kind: ConstraintKind;
  readonly eventDim: number = 0;
  /** Lower end. */
  readonly lower: Bound;
  /** Upper end. */
  readonly upper: Bound;
  /** @param lower lower end. @param upper upper end. @param alias kind and name of a named instance. */
  constructor(lower: Bound, upper: Bound, alias?: ConstraintKind) {
    super();
    this.kind = alias ?? 'interval';
    this.lower = checkBound(lower, 'lower');
    this.upper = checkBound(upper, 'upper');
    if (typeof lower === 'number' && typeof upper === 'number' && !(lower < upper)) {
      throw new ArgumentError('upper', `expected upper > lower, got [${lower}, ${upper}]`);
    }
  }
  override get name(): string {
    if (this.kind !== 'interval') return this.kind;
    return `interval(${boundName(this.lower)}, ${boundName(this.upper)})`;
  }
  protected _check(x: tf.Tensor): tf.Tensor {
    return between(x, this.lower, this.upper);
  }
}

/** `[0, 1]` (Pyro's `unit_interval`); `bijectTo` maps onto it with the sigmoid. */
export class UnitInterval extends Interval {
  constructor() {
    super(0, 1, 'unitInterval');
  }
}

/** The real line. */
export const real: Constraint = new RealConstraint();
/** Angles: every real, with the unconstrained map onto `(-pi, pi)`. */
export const circular: Constraint = new Circular();
/** `(0, inf)`. */
export const positive: Constraint = new Positive();
/** `[0, inf)`. */
export const nonnegative: Constraint = new Nonnegative();
/** `[0, 1]`. */
export const unitInterval: Constraint = new UnitInterval();

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
