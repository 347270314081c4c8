/**
 * The sampling loop of one or several chains in lockstep: initialize every chain (first potential
 * evaluation, initial step-size search), then `numWarmup + numSamples` transitions, each round
 * answering all chains' pending potential requests together ({@link driveAll}); the kept
 * positions and per-iteration statistics are collected. The same loop runs sequential chains,
 * vectorized chains and each worker of `chainMethod: 'parallel'`, so the three give the same draws
 * for the same seeds and potential.
 */
import { driveAll, type DriveCounters } from './drive.js';
import type { ChainSampler, TransitionStats } from './kernel.js';
import type { Potential } from './potential.js';

/** Per-iteration statistics of the kept draws of one chain. */
export interface ChainStats {
  divergent: boolean[];
  acceptStat: Float64Array;
  stepSize: Float64Array;
  treeDepth: Int32Array;
  numSteps: Int32Array;
  energy: Float64Array;
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

/** Called after every iteration `i` (0-based) with the chains' transition statistics. */
export type IterationCallback = (i: number, res: TransitionStats[], stats: ChainStats[]) => void;

/**
 * Run `samplers` in lockstep against `potential` (see the module docs).
 *
 * @returns per chain: statistics of the kept iterations and the kept unconstrained positions.
 */
export function runLockstep(
  samplers: ChainSampler[],
  potential: Potential,
  numWarmup: number,
  numSamples: number,
  onIteration?: IterationCallback,
): { stats: ChainStats[]; kept: Float64Array[][] } {
  const t0 = performance.now();
  const count: DriveCounters = { n: 0, ms: 0 };
  driveAll(
    samplers.map((s) => s.initialize()),
    potential,
    count,
  );
  const total = numWarmup + numSamples;
  const stats = samplers.map(() => emptyStats(numSamples));
  const kept: Float64Array[][] = samplers.map(() => []);
  for (let i = 0; i < total; i++) {
    const res = driveAll(
      samplers.map((s) => s.step()),
      potential,
      count,
    );
    res.forEach((s: TransitionStats, k) => {
      const st = stats[k] as ChainStats;
      if (i < numWarmup) {
        if (s.divergent) st.warmupDivergences += 1;
        return;
      }
      const j = i - numWarmup;
      st.divergent.push(s.divergent);
      st.acceptStat[j] = s.acceptStat;
      st.stepSize[j] = s.stepSize;
      st.treeDepth[j] = s.treeDepth;
      st.numSteps[j] = s.numSteps;
      st.energy[j] = s.energy;
      st.potentialEnergy[j] = s.potentialEnergy;
      (kept[k] as Float64Array[]).push((samplers[k] as ChainSampler).point.q.slice());
    });
    onIteration?.(i, res, stats);
  }
  const ms = performance.now() - t0;
  for (const st of stats) {
    st.gradientEvaluations = count.n;
    st.potentialMilliseconds = count.ms;
    st.milliseconds = ms;
  }
  return { stats, kept };
}
