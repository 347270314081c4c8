/** Equal-width histograms of host values (for statistics and reports). */
import { ArgumentError } from '../utils/errors.js';

/** A histogram with equal-width bins on `[lo, hi]`. */
export interface Histogram {
  /** Bin edges, `bins + 1` values. */
  edges: number[];
  /** Counts per bin. */
  counts: number[];
}

/**
 * Histogram of `values` on `[lo, hi]` with `bins` equal-width bins (the last bin is closed;
 * values outside are clamped into the end bins). NaN values are refused, as `numpy.histogram`
 * refuses them (a NaN has no bin, and dropping it would misstate the counts).
 * @throws ArgumentError naming `values` (with the number of NaN), `bins`, `lo` or `hi`.
 * @example
 * ```ts
 * histogram([0.1, 0.9], 2); // { edges: [0, 0.5, 1], counts: [1, 1] }
 * ```
 */
export function histogram(values: ArrayLike<number>, bins = 20, lo = 0, hi = 1): Histogram {
  if (!Number.isInteger(bins) || bins < 1) {
    throw new ArgumentError('bins', `expected a positive integer, got ${bins}`);
  }
  if (!Number.isFinite(lo)) throw new ArgumentError('lo', `expected a finite number, got ${lo}`);
  if (!(Number.isFinite(hi) && hi > lo)) {
    throw new ArgumentError('hi', `expected a finite number > lo = ${lo}, got ${hi}`);
  }
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
    throw new ArgumentError('values', 'expected an array of numbers');
  }
  let nan = 0;
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) nan++;
  if (nan > 0) {
    throw new ArgumentError(
      'values',
      `expected no NaN (a NaN has no bin), got ${nan} NaN of ${values.length} values (first at index ${Array.prototype.findIndex.call(values, (v: number) => Number.isNaN(v))})`,
    );
  }
  const counts = new Array<number>(bins).fill(0);
  const width = (hi - lo) / bins;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    const b = Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)));
    counts[b] = (counts[b] as number) + 1;
  }
  return { edges: Array.from({ length: bins + 1 }, (_, i) => lo + i * width), counts };
}
