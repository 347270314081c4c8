/**
 * The registry of the generic wrappers' builders: `expanded.ts`, `independent.ts` and `masked.ts`
 * register how `Distribution.expand`, `toEvent` and `mask` build their wrapper when they load, so
 * that `distribution.ts` needs no runtime import of its subclasses (no import cycle). A mask is
 * `true`, `false`, a `bool` tensor or nested arrays of booleans.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Distribution } from './distribution.js';

/** Nested JS arrays of booleans (a mask given as data). */
export type NestedBooleans = readonly (boolean | NestedBooleans)[];

/**
 * A mask for {@link Distribution.mask}: `true`, `false`, a `bool` tensor or nested arrays of
 * booleans (numbers are refused, as Pyro's masks are boolean).
 */
export type MaskInput = boolean | tf.Tensor | NestedBooleans;

/**
 * Builders of the generic wrappers (set by `expanded.ts`, `independent.ts` and `masked.ts` when
 * they load, which avoids an import cycle with the subclasses).
 */
export const wrappers: {
  expand?: (d: Distribution, batchShape: number[]) => Distribution;
  toEvent?: (d: Distribution, n: number) => Distribution;
  mask?: (d: Distribution, mask: MaskInput) => Distribution;
} = {};

/** @internal Registers the `expand` implementation (called by `expanded.ts`). */
export function registerExpand(f: (d: Distribution, batchShape: number[]) => Distribution): void {
  wrappers.expand = f;
}
/** @internal Registers the `toEvent` implementation (called by `independent.ts`). */
export function registerToEvent(f: (d: Distribution, n: number) => Distribution): void {
  wrappers.toEvent = f;
}

/** @internal Registers the `mask` implementation (called by `masked.ts`). */
export function registerMask(f: (d: Distribution, mask: MaskInput) => Distribution): void {
  wrappers.mask = f;
}
