/**
 * Systematic resampling (Pyro's `_systematic_sample`), the resampling step of `SMCFilter`: one
 * uniform offset `u` places `N` evenly spaced points `(i + u)/N` on the cumulative weights.
 */
import { ArgumentError } from '../../utils/errors.js';

/**
 * The systematic resampling indices of normalized weights `w̄` (Pyro's `_systematic_sample`):
 * slot `i` takes particle `j` with `C_{j-1} ≤ (i + u)/N < C_j`, `C_j = Σ_{l≤j} w̄_l`. Particle
 * `j` fills `⌊N C_j + 1 - u⌋ - ⌊N C_{j-1} + 1 - u⌋` slots, `N w̄_j` on average over `u ~ U(0, 1)`.
 * @param probs the weights (summing to 1 up to rounding).
 * @param u the uniform offset in `[0, 1)`.
 * @returns `N` indices, non-decreasing.
 * @throws ArgumentError naming `probs` or `u`.
 */
export function systematicResample(probs: ArrayLike<number>, u: number): Int32Array {
  const n = probs.length;
  if (n < 1) throw new ArgumentError('probs', 'expected at least one weight');
  if (typeof u !== 'number' || !(u >= 0 && u < 1)) {
    throw new ArgumentError('u', `expected a number in [0, 1), got ${String(u)}`);
  }
  const out = new Int32Array(n);
  let j = 0;
  let c = probs[0] as number;
  for (let i = 0; i < n; i++) {
    const pos = (i + u) / n;
    while (c <= pos && j < n - 1) {
      j++;
      c += probs[j] as number;
    }
    out[i] = j;
  }
  return out;
}
