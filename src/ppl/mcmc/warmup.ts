/**
 * Stan's windowed warmup schedule. Warmup iterations are split into a fast initial buffer
 * (`initBuffer`, step size only), a series of slow windows doubling in length from
 * `baseWindow` (the metric is estimated from each window's draws and replaced at its end), and a
 * fast terminal buffer (`termBuffer`). When the three defaults (75 + 25 + 50) do not fit, the
 * buffers become 15 % and 10 % of the warmup and the window takes the rest; with fewer than 20
 * warmup iterations no metric is estimated. A window is stretched to the terminal buffer when the
 * next doubled window would not fit (`3 w > ` what is left before the terminal buffer), the first
 * one included (NumPyro's schedule; Stan's leaves a short window after the first for warmups of
 * 151 to 199 iterations).
 */
import { ArgumentError } from '../../utils/errors.js';

/** Sizes of the warmup phases (Stan's defaults 75, 50, 25). */
export interface WarmupWindowOptions {
  /** Iterations before the first metric window. Default 75. */
  initBuffer?: number;
  /** Iterations after the last metric window. Default 50. */
  termBuffer?: number;
  /** Length of the first metric window (later windows double). Default 25. */
  baseWindow?: number;
}

/**
 * The metric-adaptation windows of a warmup of `numWarmup` iterations, as inclusive
 * `[first, last]` iteration indices (0-based). E.g. 1000 iterations give
 * `[75,99] [100,149] [150,249] [250,449] [450,949]`.
 */
export function warmupWindows(
  numWarmup: number,
  options: WarmupWindowOptions = {},
): [number, number][] {
  if (!Number.isInteger(numWarmup) || numWarmup < 0) {
    throw new ArgumentError('warmupSteps', `expected an integer >= 0, got ${numWarmup}`);
  }
  let init = options.initBuffer ?? 75;
  let term = options.termBuffer ?? 50;
  let base = options.baseWindow ?? 25;
  for (const [k, v] of Object.entries({ initBuffer: init, termBuffer: term, baseWindow: base })) {
    if (!Number.isInteger(v) || v < 0 || (k === 'baseWindow' && v < 1)) {
      throw new ArgumentError(k, `expected a non-negative integer, got ${v}`);
    }
  }
  const n = numWarmup;
  if (n < 20) return [];
  if (init + base + term > n) {
    init = Math.floor(0.15 * n);
    term = Math.floor(0.1 * n);
    base = n - (init + term);
  }
  // Each window is kept, and the next one doubled, when three of its lengths fit before the
  // terminal buffer; else it is stretched to the terminal buffer (Stan's rule, applied to the
  // first window too as NumPyro's `build_adaptation_schedule` does: Stan's first window is never
  // stretched, which left windows of 1 to 49 draws, a 1-draw one giving a NaN variance, for
  // warmups of 151 to 199 iterations).
  const endStart = n - term;
  const windows: [number, number][] = [];
  let start = init;
  let size = base;
  while (start < endStart) {
    let cur = size;
    if (3 * cur <= endStart - start) size = 2 * cur;
    else cur = endStart - start;
    windows.push([start, start + cur - 1]);
    start += cur;
  }
  return windows;
}
