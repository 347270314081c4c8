/**
 * Thinning of a chain's kept iterations (NumPyro's `MCMC(..., thinning=k)`): of `n` post-warmup
 * iterations, `⌊n / k⌋` are kept, the last of each run of `k` after skipping the first `n mod k`:
 *
 * $$\text{kept} = \{\, r + (j + 1) k - 1 : j = 0, \dots, \lfloor n / k \rfloor - 1 \,\}, \quad r = n \bmod k$$
 *
 * (0-based), so the chain's last iteration is always kept, as in NumPyro's `fori_collect`.
 */
import type { ChainStats } from './chain_loop.js';

/** The 0-based indices of the iterations kept of `n` with thinning `k` (see the module docs). */
export function thinnedIndices(n: number, k: number): number[] {
  const r = n % k;
  return Array.from({ length: Math.floor(n / k) }, (_, j) => r + (j + 1) * k - 1);
}

/**
 * A chain's kept positions and statistics thinned by `k` (the same objects when `k = 1`); the
 * per-iteration statistics are thinned alike, the chain totals (warmup divergences, gradient
 * evaluations, times) kept.
 */
export function thinChain(
  kept: Float64Array[],
  stats: ChainStats,
  k: number,
): { kept: Float64Array[]; stats: ChainStats } {
  if (k === 1) return { kept, stats };
  const idx = thinnedIndices(kept.length, k);
  const pick = <T extends Float64Array | Int32Array>(a: T): T =>
    a.constructor === Float64Array
      ? (Float64Array.from(idx, (i) => a[i] as number) as T)
      : (Int32Array.from(idx, (i) => a[i] as number) as T);
  return {
    kept: idx.map((i) => kept[i] as Float64Array),
    stats: {
      ...stats,
      divergent: idx.map((i) => stats.divergent[i] === true),
      acceptStat: pick(stats.acceptStat),
      stepSize: pick(stats.stepSize),
      treeDepth: pick(stats.treeDepth),
      numSteps: pick(stats.numSteps),
      energy: pick(stats.energy),
      potentialEnergy: pick(stats.potentialEnergy),
    },
  };
}
