/**
 * Facts about a support constraint the base class reads: the values of a finite discrete support
 * (`enumerateSupport`, parallel enumeration) and whether the support is the reals (no support check).
 */
import * as tf from '@tensorflow/tfjs';
import { IndependentConstraint, type Constraint } from '../constraints/constraints.js';

/**
 * The values of a finite discrete support: `[0, 1]` for `boolean`, `lower..upper` for an integer
 * interval whose bounds are numbers or tensors holding one value over the whole batch (torch's
 * `enumerate_support` asks `min(n) == max(n)` of a batched `total_count`); undefined otherwise.
 */
export function finiteSupportValues(c: Constraint): number[] | undefined {
  const o = c as Constraint & { lower?: unknown; upper?: unknown };
  const num = (b: unknown): number | undefined => {
    if (typeof b === 'number') return b;
    if (!(b instanceof tf.Tensor) || b.size === 0) return undefined;
    const v = b.dataSync();
    const first = v[0] as number;
    return v.every((x) => x === first) ? first : undefined;
  };
  if (c.kind === 'boolean') return [0, 1];
  if (c.kind !== 'integerInterval') return undefined;
  const lo = num(o.lower);
  const hi = num(o.upper);
  if (lo === undefined || hi === undefined || !(hi >= lo)) return undefined;
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

/** True for `real` and `independent(real, n)`, whose membership test is only "not NaN". */
export function isRealSupport(c: Constraint): boolean {
  let x: Constraint = c;
  while (x instanceof IndependentConstraint) x = x.base;
  return x.kind === 'real';
}
