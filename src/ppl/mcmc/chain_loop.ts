/**
 * The sampling loop of one or several chains in lockstep: initialize every chain (first potential
 * evaluation, initial step-size search), then `numWarmup + numSamples` transitions, each round
 * answering all chains' pending potential requests together ({@link driveAll}); the kept
 * positions and per-iteration statistics are collected. The same loop runs sequential chains,
 * vectorized chains and each worker of `chainMethod: 'parallel'`, so the three give the same draws
 * for the same seeds and potential.
 */
import { driveAll, driveBatches, type DriveCounters } from './drive.js';
import type { ChainSampler, TransitionStats } from './chain_sampler.js';
import type { Potential } from './potential.js';

/** Per-iteration statistics of the kept draws of one chain. */
export interface ChainStats {
  /** Per kept iteration: whether the trajectory diverged (energy error above `maxDeltaEnergy`). */
  divergent: boolean[];
  /** Per kept iteration: the acceptance statistic (NUTS: the mean `min(1, e^{H_0 - H_i})`). */
  acceptStat: Float64Array;
  /** Per kept iteration: the step size `ε` used. */
  stepSize: Float64Array;
  /**
   * Per kept iteration: NUTS's tree depth, Stan's convention (the doublings kept; the steps of a
   * last, rejected doubling count in `numSteps`, so `numSteps ≤ 2^(depth+1) - 1`, and always
   * `≤ 2^maxTreeDepth - 1`).
   */
  treeDepth: Int32Array;
  /** Per kept iteration: leapfrog steps (potential evaluations for the gradient-free kernels). */
  numSteps: Int32Array;
  /** Per kept iteration: `H = U(q) + p^T M^{-1} p / 2` at the kept point and its momentum. */
  energy: Float64Array;
  /** Per kept iteration: `U(q) = -(log p(x, T(q)) + log|det J_T(q)|)` at the kept point. */
  potentialEnergy: Float64Array;
  /** Warmup divergences (not counted in `summary`). */
  warmupDivergences: number;
  /**
   * Gradient evaluations of the whole chain (warmup, step-size searches and draws); with
   * `vectorized` chains, the batched evaluations shared by all chains.
   */
  gradientEvaluations: number;
  /** Wall time of the chain in milliseconds (warmup included). */
  milliseconds: number;
  /** Of which in potential/gradient evaluations (the rest is host-side tree building). */
  potentialMilliseconds: number;
  /** Whether the potential was recorded and replayed (the kernel's `compile` option). */
  compiled: boolean;
  /** Why it was not (absent when it was). */
  compileReason?: string;
}

/** Statistics of a chain with room for `numSamples` kept iterations. */
export function emptyStats(numSamples: number): ChainStats {
  const ns = numSamples;
  return {
    divergent: [],
    acceptStat: new Float64Array(ns),
    stepSize: new Float64Array(ns),
    treeDepth: new Int32Array(ns),
    numSteps: new Int32Array(ns),
    energy: new Float64Array(ns),
    potentialEnergy: new Float64Array(ns),
    warmupDivergences: 0,
    gradientEvaluations: 0,
    compiled: false,
    milliseconds: 0,
    potentialMilliseconds: 0,
  };
}

/**
 * Called after every transition round: `i` counts the rounds of this call (0-based), `res` has
 * the chains' transition statistics, `stats` and `kept` the kept iterations so far (the loop's own
 * arrays: copy what must outlive the call), `warmup` says whether the round was a warmup one.
 */
export type IterationCallback = (
  i: number,
  res: TransitionStats[],
  stats: ChainStats[],
  warmup: boolean,
  kept: Float64Array[][],
) => void;

/** What chains continued from a checkpoint have kept so far (their statistics and positions). */
export interface LockstepPrior {
  stats: ChainStats[];
  kept: Float64Array[][];
}

/** A copy of the first `n` kept iterations of `st` into statistics with room for `numSamples`. */
function continuedStats(st: ChainStats, numSamples: number): ChainStats {
  const out = emptyStats(numSamples);
  const n = st.divergent.length;
  out.divergent = st.divergent.slice();
  out.acceptStat.set(st.acceptStat.subarray(0, n));
  out.stepSize.set(st.stepSize.subarray(0, n));
  out.treeDepth.set(st.treeDepth.subarray(0, n));
  out.numSteps.set(st.numSteps.subarray(0, n));
  out.energy.set(st.energy.subarray(0, n));
  out.potentialEnergy.set(st.potentialEnergy.subarray(0, n));
  out.warmupDivergences = st.warmupDivergences;
  out.gradientEvaluations = st.gradientEvaluations;
  out.milliseconds = st.milliseconds;
  out.potentialMilliseconds = st.potentialMilliseconds;
  return out;
}

/**
 * Run `samplers` in lockstep against `potential` (see the module docs) until each has
 * `numSamples` kept draws: a sampler not yet initialized is initialized first, one continued from
 * a state ({@link HamiltonianKernel.resumeChain}) goes on with the rest of its warmup, if any,
 * then the draws. With `prior` (a checkpoint's), the kept draws and statistics so far are
 * continued, so the result is that of the uninterrupted run.
 *
 * @returns per chain: statistics of the kept iterations and the kept unconstrained positions.
 */
export function runLockstep(
  samplers: ChainSampler[],
  potential: Potential,
  numSamples: number,
  onIteration?: IterationCallback,
  prior?: LockstepPrior,
): { stats: ChainStats[]; kept: Float64Array[][] } {
  const t0 = performance.now();
  const p0 = prior?.stats[0];
  const count: DriveCounters = {
    n: p0?.gradientEvaluations ?? 0,
    ms: p0?.potentialMilliseconds ?? 0,
  };
  const ms0 = p0?.milliseconds ?? 0;
  const fresh = samplers.filter((s) => !s.initialized);
  if (fresh.length > 0) {
    driveAll(
      fresh.map((s) => s.initialize()),
      potential,
      count,
    );
  }
  const stats = samplers.map((_, k) => {
    const st = prior?.stats[k];
    return st === undefined ? emptyStats(numSamples) : continuedStats(st, numSamples);
  });
  const kept: Float64Array[][] = samplers.map((_, k) => (prior?.kept[k] ?? []).slice());
  const rounds = samplers.map(
    (s, k) =>
      Math.max(0, s.numWarmup - s.iteration) +
      numSamples -
      (stats[k] as ChainStats).divergent.length,
  );
  const total = rounds[0] ?? 0;
  // an ensemble's walkers move together, one transition of the group per round
  const group = samplers[0]?.group(samplers);
  if (rounds.some((r) => r !== total)) {
    throw new Error(`runLockstep: chains at different iterations (${rounds.join(', ')} to go)`);
  }
  for (let i = 0; i < total; i++) {
    const warmup =
      (samplers[0] as ChainSampler).iteration < (samplers[0] as ChainSampler).numWarmup;
    const res =
      group !== undefined
        ? driveBatches(group.step(), potential, count)
        : driveAll(
            samplers.map((s) => s.step()),
            potential,
            count,
          );
    res.forEach((s: TransitionStats, k) => {
      const st = stats[k] as ChainStats;
      if (warmup) {
        if (s.divergent) st.warmupDivergences += 1;
        return;
      }
      const j = st.divergent.length;
      st.divergent.push(s.divergent);
      st.acceptStat[j] = s.acceptStat;
      st.stepSize[j] = s.stepSize;
      st.treeDepth[j] = s.treeDepth;
      st.numSteps[j] = s.numSteps;
      st.energy[j] = s.energy;
      st.potentialEnergy[j] = s.potentialEnergy;
      (kept[k] as Float64Array[]).push((samplers[k] as ChainSampler).keptPosition());
    });
    for (const st of stats) {
      st.gradientEvaluations = count.n;
      st.potentialMilliseconds = count.ms;
      st.milliseconds = ms0 + performance.now() - t0;
    }
    onIteration?.(i, res, stats, warmup, kept);
  }
  const ms = ms0 + performance.now() - t0;
  for (const st of stats) {
    st.gradientEvaluations = count.n;
    st.potentialMilliseconds = count.ms;
    st.milliseconds = ms;
  }
  return { stats, kept };
}
