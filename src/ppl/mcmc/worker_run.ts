/**
 * `chainMethod: 'parallel'`: an MCMC run's chains as plain-data jobs ({@link ChainJob}: the
 * recorded potential's program, the kernel's spec, the chain's generator state, its start) on the
 * Node-only worker-thread pool of `parallel_chains.ts`, loaded by a computed specifier so that no
 * bundler follows it into a browser build. Progress is the sum over chains of the iterations done;
 * each job's checkpoint snapshots go to the plan's writer.
 */
import { ArgumentError } from '../../utils/errors.js';
import type { ChainStats } from './chain_loop.js';
import type { ChainSetup } from './chain_setup.js';
import type { ChainState } from './chain_state.js';
import type { ChainJob, ChainJobResult, KernelSpec } from './chain_worker.js';
import type { MCMCSettings } from './mcmc_options.js';
import type { MCMCProgress } from './progress.js';
import { CompiledPotential } from './replayed_potential.js';
import type { ChainRng } from './rng.js';
import type { ChainStart, RunPlan } from './run_plan.js';

/**
 * Run the chains of `plan` not yet done as worker jobs from their setups (made with the generators
 * `rngs`), each of `cfg.warmupSteps` warmup and `plan.numSamples` kept iterations of the kernel
 * `spec`; per chain its result (statistics marked compiled, kept draws, last state), those
 * complete in a checkpoint from it. Refused (naming `chainMethod`) where a setup's potential is not
 * a recorded one.
 */
export async function runWorkerChains(
  cfg: MCMCSettings,
  plan: RunPlan,
  spec: KernelSpec,
  setups: ChainSetup[],
  rngs: ChainRng[],
  progress: MCMCProgress,
): Promise<ChainJobResult[]> {
  const writer = plan.writer;
  const jobs: ChainJob[] = setups.map((s, c) => {
    if (!(s.potential instanceof CompiledPotential)) {
      throw new ArgumentError(
        'chainMethod',
        `'parallel' runs chains in worker threads over the recorded potential, which is not available: ${s.reason ?? 'the kernel wraps a Potential that is not a CompiledPotential'} (use chainMethod 'sequential' or 'vectorized')`,
      );
    }
    const start = plan.starts[c] as ChainStart;
    const job: ChainJob = {
      program: s.potential.program,
      kernel: spec,
      rng: (rngs[c] as ChainRng).state(),
      z0: s.z,
      numWarmup: cfg.warmupSteps,
      numSamples: plan.numSamples,
    };
    if (start.state !== undefined) job.state = start.state;
    if (start.prior !== undefined) job.prior = start.prior;
    if (writer !== undefined) job.checkpointEvery = writer.c.every;
    return job;
  });
  const todo = jobs.map((_, c) => c).filter((c) => plan.starts[c]?.done !== true);
  const file = './parallel_chains' + (import.meta.url.endsWith('.ts') ? '.ts' : '.js');
  const spec2 = new URL(file, import.meta.url).href;
  const mod = (await import(/* @vite-ignore */ /* webpackIgnore: true */ spec2)) as {
    runParallelChains: (
      jobs: ChainJob[],
      o: {
        onProgress?: (chain: number, done: number) => void;
        onCheckpoint?: (chain: number, snap: ChainJobResult) => void;
      },
    ) => Promise<ChainJobResult[]>;
  };
  const total = cfg.warmupSteps + plan.numSamples;
  const done = new Array<number>(todo.length).fill(0);
  progress.start(`${jobs.length} chains (parallel)`, total * todo.length);
  let ran: ChainJobResult[] = [];
  const record = (c: number, r: ChainJobResult, fin: boolean): void => {
    if (writer === undefined) return;
    writer.set(c, r.state, r.kept, r.stats, fin);
    writer.write();
  };
  try {
    ran = await mod.runParallelChains(
      todo.map((c) => jobs[c] as ChainJob),
      {
        onProgress: (j, d) => {
          done[j] = Math.min(d, total);
          progress.update(
            done.reduce((a, b) => a + b, 0),
            { phase: 'sample', stepSize: NaN, treeDepth: 0, divergences: 0 },
          );
        },
        onCheckpoint: (j, snap) => record(todo[j] as number, snap, false),
      },
    );
  } finally {
    progress.stop();
  }
  return setups.map((_, c) => {
    const j = todo.indexOf(c);
    const start = plan.starts[c] as ChainStart;
    const r: ChainJobResult =
      j >= 0
        ? (ran[j] as ChainJobResult)
        : {
            stats: start.prior?.stats as ChainStats,
            kept: start.prior?.kept as Float64Array[],
            state: start.state as ChainState,
          };
    if (j >= 0 && writer !== undefined) writer.set(c, r.state, r.kept, r.stats, true);
    r.stats.compiled = true;
    return r;
  });
}
