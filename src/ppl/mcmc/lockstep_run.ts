/**
 * One group of an MCMC run's chains sampled in lockstep ({@link runLockstep}): one chain for the
 * `sequential` loop, all of them for the `vectorized` one; each chain fresh, continued from a
 * state, or resumed from a checkpoint (its kept draws so far the loop's prior), with progress
 * reports and the checkpoint written every `every` iterations and at the end.
 */
import { runLockstep, type ChainStats, type LockstepPrior } from './chain_loop.js';
import type { ChainSetup } from './chain_setup.js';
import { cloneChainState, type ChainState } from './chain_state.js';
import type { ChainSampler, TransitionStats } from './chain_sampler.js';
import type { MCMCSettings } from './mcmc_options.js';
import type { MCMCProgress } from './progress.js';
import type { ChainRng } from './rng.js';
import type { ChainStart, RunPlan } from './run_plan.js';

/** What a group of chains gave: per chain its statistics, kept draws and last state. */
export interface GroupRun {
  stats: ChainStats[];
  kept: Float64Array[][];
  states: ChainState[];
}

/**
 * Sample chains `idx` of `plan` in lockstep from their setups (made with the generators `rngs`),
 * `plan.numSamples` kept draws each after what is left of the warmup; the statistics marked with
 * each setup's compilation. Chains complete in a checkpoint give their saved draws and state.
 */
export function sampleGroup(
  cfg: MCMCSettings,
  plan: RunPlan,
  idx: number[],
  setups: ChainSetup[],
  rngs: ChainRng[],
  progress: MCMCProgress,
): GroupRun {
  const starts = idx.map((c) => plan.starts[c] as ChainStart);
  const s0 = setups[0] as ChainSetup;
  const writer = plan.writer;
  const finished = starts.every((s) => s.done === true);
  let result: { stats: ChainStats[]; kept: Float64Array[][] };
  let samplers: ChainSampler[] = [];
  if (finished) {
    result = {
      stats: starts.map((s) => s.prior?.stats as ChainStats),
      kept: starts.map((s) => s.prior?.kept as Float64Array[]),
    };
  } else {
    const pot = s0.potential;
    if (idx.length > 1 && pot.valueAndGradBatch !== undefined && starts.some((s) => s.state)) {
      // a batched tfjs potential chooses how it batches on its first call, which in the
      // original run was at the chains' initial points: choose the same way here
      pot.valueAndGradBatch(setups.map((su) => su.z));
    }
    samplers = starts.map((s, k) =>
      s.state !== undefined
        ? cfg.kernel.resumeChain(s.state)
        : cfg.kernel.chain((setups[k] as ChainSetup).z, cfg.warmupSteps, rngs[k] as ChainRng),
    );
    const prior: LockstepPrior | undefined = starts.every((s) => s.prior !== undefined)
      ? {
          stats: starts.map((s) => s.prior?.stats as ChainStats),
          kept: starts.map((s) => s.prior?.kept as Float64Array[]),
        }
      : undefined;
    const sm0 = samplers[0] as ChainSampler;
    const warmLeft = Math.max(0, sm0.numWarmup - sm0.iteration);
    const keptSoFar = prior?.kept[0]?.length ?? 0;
    const total = warmLeft + plan.numSamples - keptSoFar;
    const first = idx[0] as number;
    const label =
      cfg.numChains === 1
        ? 'sample'
        : idx.length > 1
          ? `${idx.length} chains (vectorized)`
          : `chain ${first + 1}/${cfg.numChains}`;
    progress.start(label, total);
    let divergences = 0;
    const every = writer?.c.every ?? 0;
    const save = (stats: ChainStats[], kept: Float64Array[][], done: boolean): void => {
      if (writer === undefined) return;
      idx.forEach((c, k) => {
        const st = { ...(stats[k] as ChainStats), compiled: (setups[k] as ChainSetup).compiled };
        writer.set(c, (samplers[k] as ChainSampler).state(), kept[k] as Float64Array[], st, done);
      });
      writer.write();
    };
    try {
      result = runLockstep(
        samplers,
        s0.potential,
        plan.numSamples,
        (i, res, stats, warm, kept) => {
          if (!warm) divergences += res.filter((r) => r.divergent).length;
          const r0 = res[0] as TransitionStats;
          progress.update(i + 1, {
            phase: warm ? 'warmup' : 'sample',
            stepSize: r0.stepSize,
            treeDepth: r0.treeDepth,
            divergences: warm ? stats.reduce((a, st) => a + st.warmupDivergences, 0) : divergences,
          });
          if (every > 0 && (i + 1) % every === 0 && i + 1 < total) save(stats, kept, false);
        },
        prior,
      );
    } finally {
      progress.stop();
    }
    save(result.stats, result.kept, true);
  }
  result.stats.forEach((st, k) => {
    const su = setups[k] as ChainSetup;
    st.compiled = su.compiled;
    if (su.reason !== undefined) st.compileReason = su.reason;
    else delete st.compileReason;
  });
  return {
    stats: result.stats,
    kept: result.kept,
    states: starts.map((st, k) =>
      finished ? cloneChainState(st.state as ChainState) : (samplers[k] as ChainSampler).state(),
    ),
  };
}
