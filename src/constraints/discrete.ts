/**
 * Discrete constraints (Pyro's `integer`, `nonnegative_integer`, `integer_interval`, `boolean`,
 * `multinomial`): sets of integers, for which no bijection from the reals exists.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { between, boundName, checkBound } from './bound.js';
import { Constraint, type Bound, type ConstraintKind } from './constraint.js';

/**
 * `[x ∈ Z]` elementwise: finite and equal to its rounding (torch's `x % 1 == 0`, NaN at
 * `±Infinity`; `round(±Infinity) = ±Infinity` had let an infinite value pass as an integer).
 */
function isWhole(x: tf.Tensor): tf.Tensor {
  return tf.logicalAnd(tf.equal(x, tf.round(x)), tf.isFinite(x));
}
/** `[x ∈ {0, 1, 2, ...}]` elementwise. */
function isCount(x: tf.Tensor): tf.Tensor {
  return tf.logicalAnd(isWhole(x), tf.greaterEqual(x, 0));
}

/** A discrete set given by an elementwise test (integers, counts, booleans). */
abstract class ElementwiseDiscrete extends Constraint {
  readonly eventDim: number = 0;
  override readonly isDiscrete: boolean = true;
  protected constructor(
    readonly kind: ConstraintKind,
    private readonly test: (x: tf.Tensor) => tf.Tensor,
  ) {
    super();
  }
  protected _check(x: tf.Tensor): tf.Tensor {
    return this.test(x);
  }
}

/** The integers (Pyro's `integer`). */
export class IntegerConstraint extends ElementwiseDiscrete {
  constructor() {
    super('integer', isWhole);
  }
}

/** `{0, 1, 2, ...}` (Pyro's `nonnegative_integer`). */
export class NonnegativeInteger extends ElementwiseDiscrete {
  constructor() {
    super('nonnegativeInteger', isCount);
  }
}

/** `{0, 1}` (Pyro's `boolean`). */
export class BooleanConstraint extends ElementwiseDiscrete {
  constructor() {
    super('boolean', (x) => tf.logicalOr(tf.equal(x, 0), tf.equal(x, 1)));
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
    return tf.logicalAnd(isWhole(x), between(x, this.lower, this.upper));
  }
}

/**
 * Count vectors with a fixed total (Pyro's `multinomial(n)`, event dim 1): non-negative integers
 * summing to `totalCount` — one number, or a tensor of totals broadcast against the vectors' batch
 * dims (NumPyro's `multinomial(total_count)` with an array of totals).
 */
export class MultinomialConstraint extends Constraint {
  readonly kind: ConstraintKind = 'multinomial';
  readonly eventDim: number = 1;
  override readonly isDiscrete: boolean = true;
  /** The fixed total: one number, or a tensor of totals (one per batch entry, broadcast). */
  readonly totalCount: number | tf.Tensor;
  constructor(totalCount: number | tf.Tensor) {
    super();
    if (typeof totalCount === 'number' && (!Number.isInteger(totalCount) || totalCount < 0)) {
      throw new ArgumentError('totalCount', `expected a non-negative integer, got ${totalCount}`);
    }
    if (typeof totalCount !== 'number' && !(totalCount instanceof tf.Tensor)) {
      throw new ArgumentError(
        'totalCount',
        `expected a non-negative integer or a tensor of them, got ${String(totalCount)}`,
      );
    }
    this.totalCount = totalCount;
  }
  override get name(): string {
    return `multinomial(${boundName(this.totalCount)})`;
  }
  protected _check(x: tf.Tensor): tf.Tensor {
    const counts = tf.all(isCount(x), -1);
    return tf.logicalAnd(counts, tf.equal(tf.sum(x, -1), this.totalCount));
  }
}

/** The integers. */
export const integer: Constraint = new IntegerConstraint();
/** `{0, 1, 2, ...}`. */
export const nonnegativeInteger: Constraint = new NonnegativeInteger();
/** `{0, 1}`. */
export const boolean: Constraint = new BooleanConstraint();

/** `{a, ..., b}`. @param a lowest value. @param b highest value. */
export function integerInterval(a: Bound, b: Bound): Constraint {
  return new IntegerInterval(a, b);
}
/**
 * Count vectors summing to `n` (event dim 1).
 * @param n the total count: a number, or a tensor of totals broadcast over the batch dims.
 */
export function multinomial(n: number | tf.Tensor): Constraint {
  return new MultinomialConstraint(n);
}
