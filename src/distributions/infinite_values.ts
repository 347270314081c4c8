/**
 * The limits of the value methods at an infinite value, for every scalar family at once (the
 * `Distribution` base's `logProb`, `prob`, `cdf`, `logCdf`, `survival` and `logSurvival` call
 * {@link withInfiniteLimits}): a density or mass vanishes at `±Infinity`, which lies in no support
 * of a real value, and a distribution function tends to its limits,
 *
 * $$\log p(\pm\infty) = -\infty, \quad F(-\infty) = 0, \quad F(+\infty) = 1,
 *   \quad S(x) = 1 - F(x),$$
 *
 * as scipy and @stdlib give them. A family's own formula evaluated at `±Infinity` often gives
 * `NaN` instead (`Inf - Inf` or `0 * Inf` in a Gamma's `(a - 1) log x - b x`, an incomplete
 * gamma at `Infinity`), and some gave a number at `NaN` (a Gamma's `cdf(NaN) = 0`); so the
 * non-finite entries are replaced by a safe point of the support
 * before the family's hook runs, and the limit is put back with a second `where` (the double-
 * `where` trick): the hook's unused branch is finite, so the gradients with respect to the
 * parameters (and to the value) at those entries are 0, never `NaN`. A `NaN` value gives `NaN`
 * in every method (as scipy), whatever the family's formula would make of it.
 */
import * as tf from '@tensorflow/tfjs';
import { asOperand } from '../constraints/bound.js';
import type { Constraint } from '../constraints/constraints.js';
import { broadcastShapes, peekValues, valuesOnHost } from '../utils/tensor.js';
import { gt, noGrad } from './special.js';

/** The values of a method at `-Infinity` and at `+Infinity`. */
export type InfiniteLimits = readonly [atMinusInfinity: number, atPlusInfinity: number];

/** The limits of the value methods (`[at -Infinity, at +Infinity]`). */
export const LIMITS = {
  /** `log p(±inf) = -inf`. */
  logProb: [-Infinity, -Infinity],
  /** `p(±inf) = 0`. */
  prob: [0, 0],
  /** `F(-inf) = 0`, `F(+inf) = 1`. */
  cdf: [0, 1],
  /** `log F(-inf) = -inf`, `log F(+inf) = 0`. */
  logCdf: [-Infinity, 0],
  /** `S(-inf) = 1`, `S(+inf) = 0`. */
  survival: [1, 0],
  /** `log S(-inf) = 0`, `log S(+inf) = -inf`. */
  logSurvival: [0, -Infinity],
} as const satisfies Record<string, InfiniteLimits>;

/**
 * A point inside a scalar support (where a family's formula is finite with finite gradients):
 * `0` on the reals, the integers, `{0, 1}` and the counts; `1` on `positive`/`nonnegative`;
 * `c + 1` on `x > c` / `x >= c`; `c - 1` on `x < c`; the midpoint `(a + b) / 2` of `[a, b]`; the
 * lowest value `a` of `{a, ..., b}`. Undefined for any other (custom or event) constraint.
 * @param c the support.
 */
export function supportPoint(c: Constraint): tf.Tensor | number | undefined {
  const o = c as Constraint & { lower?: unknown; upper?: unknown };
  const bound = (b: unknown): tf.Tensor | number | undefined =>
    typeof b === 'number' || b instanceof tf.Tensor ? asOperand(b) : undefined;
  const lo = bound(o.lower);
  const hi = bound(o.upper);
  switch (c.kind) {
    case 'real':
    case 'circular':
    case 'integer':
    case 'nonnegativeInteger':
    case 'boolean':
      return 0;
    case 'positive':
    case 'nonnegative':
      return 1;
    case 'unitInterval':
      return 0.5;
    case 'greaterThan':
    case 'greaterThanEq':
      return lo === undefined ? undefined : tf.add(lo, 1);
    case 'lessThan':
      return hi === undefined ? undefined : tf.sub(hi, 1);
    case 'interval':
      return lo === undefined || hi === undefined ? undefined : tf.mul(tf.add(lo, hi), 0.5);
    case 'integerInterval':
      return lo;
    default:
      return undefined;
  }
}

/**
 * Whether `v` may hold `±Infinity` or `NaN`: its values are scanned where reading them is free
 * (cpu, wasm); on a GPU backend the answer is `true` without a read (the `where`s then run always).
 */
function mayHoldNonFinite(v: tf.Tensor): boolean {
  if (!valuesOnHost(v)) return true;
  const a = peekValues(v);
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) return true;
  }
  return false;
}

/**
 * `f(v)` with the infinite entries of `v` sent to their limits and the `NaN` ones to `NaN`: with
 * `s` a point of `support` ({@link supportPoint}) and `I = [v \notin \mathbb{R}]` (`±inf`, `NaN`),
 *
 * $$\tilde v = \operatorname{where}(I, s, v), \qquad
 *   \text{out} = \operatorname{where}\big(I, L(v), f(\tilde v)\big), \qquad
 *   L(v) = \begin{cases} L_+ & v = +\infty \\ L_- & v = -\infty \\ \text{NaN} & v = \text{NaN} \end{cases}$$
 *
 * so `f` never sees a non-finite value and the gradients at those entries are 0. Runs `f(v)`
 * unchanged when every entry of `v` is finite (read where free) or `support` has no known point.
 * Call inside a tidy; `v` is a scalar-event value of shape `sample + batch` (broadcasting).
 * @param v the value.
 * @param support the family's (scalar) support.
 * @param limits the values at `-Infinity` and `+Infinity`.
 * @param f the family's hook.
 */
export function withInfiniteLimits(
  v: tf.Tensor,
  support: Constraint,
  limits: InfiniteLimits,
  f: (v: tf.Tensor) => tf.Tensor,
): tf.Tensor {
  if (support.eventDim !== 0 || !mayHoldNonFinite(v)) return f(v);
  const point = supportPoint(support);
  if (point === undefined) return f(v);
  const s = typeof point === 'number' ? tf.scalar(point) : point;
  const shape = broadcastShapes({ value: v.shape, support: s.shape });
  const vFull = arraysEqual(v.shape, shape) ? v : tf.broadcastTo(v, shape);
  // the conditions are off the gradient tape (tfjs has no gradient for the comparisons)
  const nonFinite = noGrad((x) => tf.logicalNot(tf.isFinite(x)), vFull);
  const safe = tf.where(nonFinite, tf.broadcastTo(s, shape), vFull);
  const out = f(safe);
  const spread = (t: tf.Tensor): tf.Tensor =>
    arraysEqual(t.shape, out.shape) ? t : tf.broadcastTo(t, out.shape);
  const at = (x: number): tf.Tensor => tf.fill(out.shape, x);
  // NaN where v is NaN, else the limit at the sign of v
  const limit = tf.where(
    spread(noGrad((x) => tf.isNaN(x), vFull)),
    at(NaN),
    tf.where(spread(gt(vFull, 0)), at(limits[1]), at(limits[0])),
  );
  return tf.where(spread(nonFinite), limit, out);
}

function arraysEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
