/**
 * Constraints on vectors and matrices (Pyro's `simplex`, `ordered_vector`, `lower_cholesky`,
 * `corr_cholesky`, `positive_definite`) and the event reinterpretation `independent`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { Constraint, type ConstraintKind } from './constraint.js';
import { real } from './real_line.js';

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

/** Strictly-upper-triangular mask (ones above the diagonal) for `[n, n]`. */
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
export class CorrCholesky extends LowerCholesky {
  override readonly kind: ConstraintKind = 'corrCholesky';
  protected override _check(x: tf.Tensor): tf.Tensor {
    const rowNorm = tf.sqrt(tf.sum(tf.square(x), -1));
    const unit = tf.all(tf.lessEqual(tf.abs(tf.sub(rowNorm, 1)), 1e-4), -1);
    return tf.logicalAnd(super._check(x), unit);
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

/**
 * Correlation matrices (Pyro's `corr_matrix`, event dim 2): symmetric positive-definite with a
 * unit diagonal (`|C_ii - 1| <= 1e-4`, the float32 tolerance of `corrCholesky`'s unit rows). The
 * test is the float64 host test of {@link PositiveDefinite} plus the diagonal.
 */
export class CorrMatrix extends Constraint {
  readonly kind: ConstraintKind = 'corrMatrix';
  readonly eventDim: number = 2;
  protected _check(x: tf.Tensor): tf.Tensor {
    const n = checkSquare(x, this.name);
    const v = x.dataSync();
    const m = n * n;
    const count = m === 0 ? 0 : v.length / m;
    const out = new Uint8Array(count);
    for (let b = 0; b < count; b++) {
      let unit = true;
      for (let i = 0; i < n && unit; i++)
        unit = Math.abs((v[b * m + i * n + i] as number) - 1) <= 1e-4;
      out[b] = unit && isSpd(v, b * m, n) ? 1 : 0;
    }
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
/** Real vectors: `independent(real, 1)`. */
export const realVector: Constraint = new IndependentConstraint(real, 1);

/**
 * Reinterpret `n` more trailing dims of `c` as one event (`n = 0` returns `c`).
 * @param c the base constraint. @param n extra event dims.
 */
export function independent(c: Constraint, n: number): Constraint {
  if (n === 0 && c instanceof Constraint) return c;
  return new IndependentConstraint(c, n);
}
/** Correlation matrices: symmetric positive-definite, unit diagonal (event dim 2). */
export const corrMatrix: Constraint = new CorrMatrix();
