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
import type { Bound } from './constraint.js';
import { Constraint } from './constraint.js';
import {
  BooleanConstraint,
  IntegerConstraint,
  IntegerInterval,
  MultinomialConstraint,
  NonnegativeInteger,
} from './discrete.js';
import {
  GreaterThan,
  GreaterThanEq,
  Interval,
  LessThan,
  Nonnegative,
  Positive,
  RealConstraint,
  UnitInterval,
} from './real_line.js';
import {
  CorrCholesky,
  IndependentConstraint,
  LowerCholesky,
  Ordered,
  PositiveDefinite,
  Simplex,
} from './structured.js';

export { Constraint, type Bound, type ConstraintKind } from './constraint.js';
export {
  BooleanConstraint,
  IntegerConstraint,
  IntegerInterval,
  MultinomialConstraint,
  NonnegativeInteger,
} from './discrete.js';
export {
  GreaterThan,
  GreaterThanEq,
  Interval,
  LessThan,
  Nonnegative,
  Positive,
  RealConstraint,
  UnitInterval,
} from './real_line.js';
export {
  CorrCholesky,
  IndependentConstraint,
  LowerCholesky,
  Ordered,
  PositiveDefinite,
  Simplex,
} from './structured.js';

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
