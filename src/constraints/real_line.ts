/**
 * Constraints on the real line (Pyro's `real`, `greater_than`, `greater_than_eq`, `less_than`,
 * `interval` and their named instances `positive`, `nonnegative`, `unit_interval`).
 *
 * The three half lines share one class: a bound `c` and a comparison,
 * `S = {x : x ⋄ c}` with `⋄ ∈ {>, >=, <}`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import {
  asOperand,
  boundName,
  checkBound,
  Constraint,
  type Bound,
  type ConstraintKind,
} from './constraint.js';

/** The real line (Pyro's `real`): every non-NaN value. */
export class RealConstraint extends Constraint {
  readonly kind: ConstraintKind = 'real';
  readonly eventDim: number = 0;
  protected _check(x: tf.Tensor): tf.Tensor {
    return tf.equal(x, x);
  }
}

/** The comparisons of the half lines: `x > c`, `x >= c`, `x < c`. */
type Compare = (x: tf.Tensor, c: tf.Tensor | number) => tf.Tensor;

/** `{x : x ⋄ bound}`: one bound and one comparison (the shared body of the half lines). */
abstract class HalfLine extends Constraint {
  readonly eventDim: number = 0;
  /** The bound `c`. */
  protected readonly bound: Bound;
  private readonly compare: Compare;
  protected constructor(bound: Bound, argName: 'lower' | 'upper', compare: Compare) {
    super();
    this.bound = checkBound(bound, argName);
    this.compare = compare;
  }
  override get name(): string {
    return `${this.kind}(${boundName(this.bound)})`;
  }
  protected _check(x: tf.Tensor): tf.Tensor {
    return this.compare(x, asOperand(this.bound));
  }
}

/** `{x : x > lower}` (Pyro's `greater_than`). */
export class GreaterThan extends HalfLine {
  readonly kind: ConstraintKind = 'greaterThan';
  constructor(lower: Bound) {
    super(lower, 'lower', tf.greater);
  }
  /** The exclusive lower bound. */
  get lower(): Bound {
    return this.bound;
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
export class GreaterThanEq extends HalfLine {
  readonly kind: ConstraintKind = 'greaterThanEq';
  constructor(lower: Bound) {
    super(lower, 'lower', tf.greaterEqual);
  }
  /** The inclusive lower bound. */
  get lower(): Bound {
    return this.bound;
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
export class LessThan extends HalfLine {
  readonly kind: ConstraintKind = 'lessThan';
  constructor(upper: Bound) {
    super(upper, 'upper', tf.less);
  }
  /** The exclusive upper bound. */
  get upper(): Bound {
    return this.bound;
  }
}

/** `[lower <= x <= upper]` elementwise (the closed-interval test shared with `integerInterval`). */
export function between(x: tf.Tensor, lower: Bound, upper: Bound): tf.Tensor {
  return tf.logicalAnd(tf.greaterEqual(x, asOperand(lower)), tf.lessEqual(x, asOperand(upper)));
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
    return between(x, this.lower, this.upper);
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
