/**
 * One chain as plain data, runnable anywhere (`chainMethod: 'parallel'` sends it to a worker
 * thread, `parallel_chains.ts`): the recorded potential (a {@link TapeProgram}), the kernel's kind
 * and options, the chain's generator state after initialization and its initial point. Running it
 * builds the same kernel over the replayed potential and runs the same loop as sequential chains
 * ({@link runLockstep}), so a chain gives the same draws in a worker as on the main thread. A job
 * may continue a chain from its state (`MCMC.postWarmupState`, a checkpoint) and report its state
 * and draws every `checkpointEvery` iterations. This module imports neither tfjs nor Node
 * built-ins.
 */
import { ArgumentError } from '../../utils/errors.js';
import { runLockstep, type ChainStats } from './chain_loop.js';
import type { ChainState } from './chain_state.js';
import { BarkerMH } from './barker.js';
import { HMC } from './hmc.js';
import type { HamiltonianKernel } from './kernel.js';
import { NUTS } from './nuts.js';
import { RandomWalkMH } from './random_walk.js';
import { SA } from './sa.js';
import { CompiledPotential } from './replayed_potential.js';
import { ChainRng, type ChainRngState } from './rng.js';
import type { TapeProgram } from './tape/program.js';

/** The kernel classes whose chains run in worker threads (`chainMethod: 'parallel'`). */
export type ParallelKernelKind = 'NUTS' | 'HMC' | 'RandomWalkMH' | 'BarkerMH' | 'SA';

/** A kernel as plain data: its class and its options (without `initStrategy` and `compile`). */
export interface KernelSpec {
  kind: ParallelKernelKind;
  options: Record<string, unknown>;
}

/**
 * The {@link ParallelKernelKind} of `kernel`, or `undefined` for a kernel whose chains cannot run
 * as plain-data jobs (the Gibbs kernels condition their potential anew at every step, the
 * ensembles move all chains together, `EllipticalSlice` needs the model's Gaussian prior).
 */
export function parallelKind(kernel: HamiltonianKernel): ParallelKernelKind | undefined {
  if (kernel.constructor === NUTS) return 'NUTS';
  if (kernel.constructor === HMC) return 'HMC';
  if (kernel.constructor === RandomWalkMH) return 'RandomWalkMH';
  if (kernel.constructor === BarkerMH) return 'BarkerMH';
  if (kernel.constructor === SA) return 'SA';
  return undefined;
}

/** The kernels `chainMethod: 'parallel'` runs, for messages. */
export const PARALLEL_KERNELS = 'NUTS, HMC, RandomWalkMH, BarkerMH and SA';

/** A chain to run (see the module docs). */
export interface ChainJob {
  program: TapeProgram;
  kernel: KernelSpec;
  rng: ChainRngState;
  z0: Float64Array;
  numWarmup: number;
  numSamples: number;
  /** Continue the chain from this state (then `rng` and `z0` are not used). */
  state?: ChainState;
  /** With `state` from a checkpoint: the kept draws and statistics so far. */
  prior?: { stats: ChainStats; kept: Float64Array[] };
  /** Report a {@link ChainJobResult} snapshot every this many iterations (0: never). */
  checkpointEvery?: number;
}

/**
 * What a chain gives back: statistics of its kept iterations, its kept positions and its state
 * after the last transition.
 */
export interface ChainJobResult {
  stats: ChainStats;
  kept: Float64Array[];
  state: ChainState;
}

/** The plain-data form of `kernel` (throws for a kernel class {@link parallelKind} refuses). */
export function kernelSpec(kernel: HamiltonianKernel): KernelSpec {
  const kind = parallelKind(kernel);
  if (kind === undefined) {
    throw new ArgumentError(
      'chainMethod',
      `'parallel' runs ${PARALLEL_KERNELS} kernels, not ${kernel.constructor.name}: use 'sequential' or 'vectorized'`,
    );
  }
  if (Array.isArray(kernel.options.fullMass)) {
    throw new ArgumentError(
      'fullMass',
      "blocks of site names run with chainMethod 'sequential' or 'vectorized' (a worker's recorded potential has no sites); use fullMass: true for 'parallel'",
    );
  }
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kernel.options)) {
    if (k !== 'initStrategy' && k !== 'compile' && v !== undefined) options[k] = v;
  }
  if (kind === 'SA') {
    // SA hands its base class fixed adaptation switches that its own constructor refuses
    delete options.adaptStepSize;
    delete options.adaptMassMatrix;
  }
  return { kind, options };
}

/** Build a kernel of `spec` over `potential` (in a worker). */
function kernelOf(spec: KernelSpec, potential: CompiledPotential): HamiltonianKernel {
  switch (spec.kind) {
    case 'NUTS':
      return new NUTS(potential, spec.options);
    case 'HMC':
      return new HMC(potential, spec.options);
    case 'RandomWalkMH':
      return new RandomWalkMH(potential, spec.options);
    case 'BarkerMH':
      return new BarkerMH(potential, spec.options);
    case 'SA':
      return new SA(potential, spec.options);
  }
}

/**
 * Run a chain job.
 *
 * @param job the chain.
 * @param progress called every 100 iterations with the number done.
 * @param checkpoint called every `job.checkpointEvery` iterations with the chain so far.
 */
export function runChainJob(
  job: ChainJob,
  progress?: (done: number) => void,
  checkpoint?: (snapshot: ChainJobResult) => void,
): ChainJobResult {
  const potential = new CompiledPotential(job.program);
  const kernel = kernelOf(job.kernel, potential);
  const sampler =
    job.state !== undefined
      ? kernel.resumeChain(job.state)
      : kernel.chain(job.z0, job.numWarmup, ChainRng.fromState(job.rng));
  const every = job.checkpointEvery ?? 0;
  const prior =
    job.prior === undefined ? undefined : { stats: [job.prior.stats], kept: [job.prior.kept] };
  const { stats, kept } = runLockstep(
    [sampler],
    potential,
    job.numSamples,
    (i, _res, st, _warmup, k) => {
      if ((i + 1) % 100 === 0) progress?.(i + 1);
      if (every > 0 && (i + 1) % every === 0 && checkpoint !== undefined) {
        const s0 = { ...(st[0] as ChainStats), compiled: true };
        checkpoint({ stats: s0, kept: k[0] as Float64Array[], state: sampler.state() });
      }
    },
    prior,
  );
  const st = stats[0] as ChainStats;
  st.compiled = true;
  return { stats: st, kept: kept[0] as Float64Array[], state: sampler.state() };
}
