/**
 * The options of the MCMC driver ({@link MCMCOptions}), the state it hands back
 * ({@link MCMCState}), and their checks: every option validated, naming the option, before a run
 * starts (`numSamples ≥ 1`, `warmupSteps` (or NumPyro's `numWarmup`) `≥ 0`, `numChains ≥ 1` integers; the chain method; the
 * progress reporter; a finite seed; `initParams` of the potential's dimension).
 */
import { ArgumentError } from '../../utils/errors.js';
import { booleanOption, checkOptionKeys } from '../../utils/options.js';
import type { ChainStats } from './chain_loop.js';
import { kernelSpec, PARALLEL_KERNELS, parallelKind } from './chain_worker.js';
import type { ChainState } from './chain_state.js';
import type { RunFingerprint } from './checkpoint.js';
import { HMCGibbs } from './hmc_gibbs.js';
import type { HamiltonianKernel } from './kernel.js';
import type { MCMCProgress } from './progress.js';
import {
  isModelInitParams,
  readModelInitParams,
  type ModelInitParams,
} from './model_init_params.js';
import {
  kernelKind,
  resolveCheckpointOption,
  type MCMCCheckpointOptions,
  type ResolvedCheckpoint,
} from './run_checkpoint.js';

/** Options of {@link MCMC}. */
export interface MCMCOptions {
  /** Kept draws per chain. */
  numSamples: number;
  /** Warmup (adaptation) iterations per chain, discarded. Default `numSamples`. */
  warmupSteps?: number;
  /**
   * NumPyro's name of {@link warmupSteps} (`num_warmup`): either may be given; both only when
   * they are equal.
   */
  numWarmup?: number;
  /** Number of chains. Default 1. */
  numChains?: number;
  /**
   * Keep every `thinning`-th draw (NumPyro's `thinning`): of the `numSamples` post-warmup
   * iterations of a chain, `⌊numSamples / thinning⌋` are kept, the last of each run of `thinning`
   * (after skipping the first `numSamples mod thinning`), with their extra fields. Default 1.
   */
  thinning?: number;
  /** Show a progress bar on stderr (Node). Default true. */
  progressBar?: boolean | MCMCProgress;
  /** Seed of the run (each chain gets a derived seed). Default: the global seed stream. */
  seed?: number;
  /**
   * How chains run: `'sequential'` (default) one after the other; `'vectorized'` all chains in
   * lockstep with one batched potential evaluation per round (NumPyro's `chain_method`): without
   * a recorded potential the chains form a plate left of the model's plates (Pyro's
   * `vectorize_particles`), so a model that broadcasts along its plates batches unchanged, nested
   * plates included; a model that does not batch (checked against per-chain evaluations on the
   * first round) is evaluated one chain at a time, with the same numbers (with a recorded
   * potential, each round replays every chain's point); `'parallel'`
   * (Node, `await run()`) chains in worker threads, at most one per core, over the recorded
   * potential (the kernel's `compile` must succeed): the same draws as `'sequential'`; for NUTS,
   * HMC, RandomWalkMH, BarkerMH and SA (the Gibbs kernels, EllipticalSlice, the ensembles and a
   * block-structured `fullMass` are refused when the MCMC is built, naming the kernel or option).
   */
  chainMethod?: 'sequential' | 'vectorized' | 'parallel';
  /**
   * For a kernel over a flat {@link Potential}: the start (default `Uniform(-2, 2)` draws), one
   * point for every chain, or one row per chain (`numChains` rows of `dim` values: NumPyro's
   * `init_params` with a leading chain dim). For a model (HMC, NUTS, RandomWalkMH, BarkerMH, SA):
   * NumPyro's `init_params` dict, `{site: unconstrained value}` ({@link ModelInitParams}: each
   * value of the site's unconstrained size, or `numChains` rows of it; sites not named start from
   * the kernel's `initStrategy`).
   */
  initParams?: Float64Array | number[] | number[][] | ModelInitParams;
  /**
   * Write the draws so far and every chain's state to `path` every `every` iterations (default
   * 100; atomically, so a kill leaves the last complete checkpoint), and at the end of each chain.
   * With `resume: true` a run continues the checkpoint at `path` (written by the same model,
   * kernel settings and MCMC options, else refused naming the difference) to the same draws as the
   * uninterrupted run; without it an existing checkpoint is an error, never overwritten. Files
   * need `deepprob/node` (or an `io` of your own).
   */
  checkpoint?: MCMCCheckpointOptions;
}

export type { ChainStats, MCMCCheckpointOptions };

/**
 * Every chain's state after a run or `warmup()` (NumPyro's `last_state`), to continue the chains
 * with {@link MCMC.postWarmupState}.
 */
export interface MCMCState {
  /**
   * The kernel class (`'NUTS'`, `'HMC'`, `'RandomWalkMH'`, `'HMCGibbs'`, `'DiscreteHMCGibbs'`,
   * `'MixedHMC'`, `'BarkerMH'`, `'SA'`, `'EllipticalSlice'`, `'AIES'`, `'ESS'`).
   */
  kernel: string;
  /** The latent layout of the model (`null` for a flat potential). */
  sites: RunFingerprint['sites'];
  /** One state per chain. */
  chains: ChainState[];
}

/**
 * Chain `c`'s start from the `initParams` option: its row when one row per chain is given, else
 * the one point (or `undefined`).
 */
export function chainInitParams(
  ip: MCMCOptions['initParams'],
  c: number,
): Float64Array | number[] | undefined {
  if (ip === undefined || ip instanceof Float64Array) return ip;
  if (isModelInitParams(ip)) return undefined; // a model's: applied at setup
  if (ip.length > 0 && ip.every((r) => Array.isArray(r))) return (ip as number[][])[c];
  return ip as number[];
}

/** The option names of {@link MCMCOptions}. */
const MCMC_OPTION_KEYS: readonly string[] = [
  'numSamples',
  'warmupSteps',
  'numWarmup',
  'numChains',
  'thinning',
  'progressBar',
  'seed',
  'chainMethod',
  'initParams',
  'checkpoint',
];

/**
 * The checked settings of one MCMC: the kernel, the options, and the resolved counts
 * (`numSamples`, `warmupSteps` = `numSamples` by default, `numChains` = 1 by default) and checkpoint.
 */
export interface MCMCSettings {
  kernel: HamiltonianKernel;
  options: MCMCOptions;
  numSamples: number;
  warmupSteps: number;
  numChains: number;
  /** Keep every `thinning`-th draw (default 1). */
  thinning: number;
  checkpoint: ResolvedCheckpoint | undefined;
  /** A model's `initParams` record, read: one float64 array per site. */
  modelInitParams: Map<string, Float64Array> | undefined;
}

/**
 * Check an MCMC's kernel and options (before any work): an {@link ArgumentError} naming the
 * option for any bad value, unknown keys refused; the settings with their defaults.
 */
export function checkMCMCOptions(kernel: HamiltonianKernel, options: MCMCOptions): MCMCSettings {
  if (kernel === null || typeof kernel !== 'object' || typeof kernel.chain !== 'function') {
    throw new ArgumentError(
      'kernel',
      'expected an MCMC kernel (NUTS, HMC, RandomWalkMH, BarkerMH, SA, EllipticalSlice, AIES, ESS, HMCGibbs, DiscreteHMCGibbs, MixedHMC)',
    );
  }
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', 'expected {numSamples, warmupSteps?, numChains?, ...}');
  }
  checkOptionKeys(options, MCMC_OPTION_KEYS, 'MCMC');
  const ns = options.numSamples;
  if (!Number.isInteger(ns) || ns < 1) {
    throw new ArgumentError('numSamples', `expected an integer >= 1, got ${ns}`);
  }
  const warmupKey = options.warmupSteps === undefined && options.numWarmup !== undefined;
  const nw = options.warmupSteps ?? options.numWarmup ?? ns;
  if (!Number.isInteger(nw) || nw < 0) {
    throw new ArgumentError(
      warmupKey ? 'numWarmup' : 'warmupSteps',
      `expected an integer >= 0, got ${String(nw)}`,
    );
  }
  if (options.numWarmup !== undefined && options.numWarmup !== nw) {
    throw new ArgumentError(
      'numWarmup',
      `NumPyro's name of warmupSteps: give one of them, or both equal (warmupSteps ${String(options.warmupSteps)}, numWarmup ${String(options.numWarmup)})`,
    );
  }
  const nc = options.numChains ?? 1;
  if (!Number.isInteger(nc) || nc < 1) {
    throw new ArgumentError('numChains', `expected an integer >= 1, got ${nc}`);
  }
  const th = options.thinning ?? 1;
  if (!Number.isInteger(th) || th < 1) {
    throw new ArgumentError('thinning', `expected an integer >= 1, got ${String(th)}`);
  }
  if (th > ns) {
    throw new ArgumentError(
      'thinning',
      `expected at most numSamples (${ns}) so that a draw is kept, got ${th}`,
    );
  }
  const cm = options.chainMethod ?? 'sequential';
  if (cm !== 'sequential' && cm !== 'vectorized' && cm !== 'parallel') {
    throw new ArgumentError(
      'chainMethod',
      `expected 'sequential', 'vectorized' or 'parallel', got '${String(cm)}'`,
    );
  }
  if (cm === 'parallel' && kernel instanceof HMCGibbs) {
    throw new ArgumentError(
      'chainMethod',
      `'parallel' runs chains in worker threads over a recorded potential, which a ${kernelKind(kernel)} kernel (its potential conditioned anew at every Gibbs step, its Gibbs step on the main thread) does not have: use chainMethod 'sequential' or 'vectorized'`,
    );
  }
  kernel.checkDriver(nc, cm);
  if (cm === 'parallel' && parallelKind(kernel) === undefined) {
    throw new ArgumentError(
      'chainMethod',
      `'parallel' runs ${PARALLEL_KERNELS} kernels in worker threads, not ${kernelKind(kernel)} (its chains are not plain-data jobs over a recorded potential): use chainMethod 'sequential' or 'vectorized'`,
    );
  }
  if (cm === 'parallel') kernelSpec(kernel); // the kernel's options as a worker's job, or refused
  const pb: unknown = options.progressBar;
  if (
    pb !== undefined &&
    typeof pb !== 'boolean' &&
    (pb === null ||
      typeof pb !== 'object' ||
      ['start', 'update', 'stop'].some(
        (f) => typeof (pb as Record<string, unknown>)[f] !== 'function',
      ))
  ) {
    throw new ArgumentError(
      'progressBar',
      `expected true, false or a reporter {start, update, stop}, got ${String(pb)}`,
    );
  }
  if (options.seed !== undefined && !Number.isFinite(options.seed)) {
    throw new ArgumentError('seed', `expected a finite number, got ${options.seed}`);
  }
  let modelInitParams: Map<string, Float64Array> | undefined;
  if (options.initParams !== undefined && !kernel.isPotential) {
    if (!isModelInitParams(options.initParams)) {
      throw new ArgumentError(
        'initParams',
        "for a model: expected {site: unconstrained value} (NumPyro's init_params), or use initStrategy: initToValue({site: value})",
      );
    }
    modelInitParams = readModelInitParams(options.initParams);
  } else if (options.initParams !== undefined) {
    const ip: unknown = options.initParams;
    if (isModelInitParams(ip)) {
      throw new ArgumentError(
        'initParams',
        'for a flat Potential: expected an array of dim numbers (or one row per chain), not a record of sites',
      );
    }
    if (!(ip instanceof Float64Array) && !Array.isArray(ip)) {
      throw new ArgumentError('initParams', 'expected an array or Float64Array of numbers');
    }
    const dim = kernel.potential.dim;
    const perChain = Array.isArray(ip) && ip.length > 0 && ip.every((r) => Array.isArray(r));
    if (perChain && ip.length !== nc) {
      throw new ArgumentError(
        'initParams',
        `with one row per chain: expected ${nc} rows (numChains), got ${ip.length}`,
      );
    }
    const rows: ArrayLike<unknown>[] = perChain ? (ip as unknown[][]) : [ip as ArrayLike<unknown>];
    rows.forEach((row, r) => {
      const at = perChain ? ` in row ${r}` : '';
      const bad = Array.from(row).findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
      if (bad >= 0) {
        throw new ArgumentError(
          'initParams',
          `expected finite numbers, got ${String(row[bad])} at ${bad}${at}`,
        );
      }
      if (row.length !== dim) {
        throw new ArgumentError('initParams', `expected ${dim} values, got ${row.length}${at}`);
      }
    });
  }
  const checkpoint =
    options.checkpoint === undefined ? undefined : resolveCheckpointOption(options.checkpoint);
  return {
    kernel,
    options,
    numSamples: ns,
    warmupSteps: nw,
    numChains: nc,
    thinning: th,
    checkpoint,
    modelInitParams,
  };
}

/**
 * The `groupByChain` option of `getSamples` and `getExtraFields` (`who`), checked: an object with
 * no other key, a boolean or absent (`false`).
 */
export function groupByChainOption(options: unknown, who: string): boolean {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `expected {groupByChain?}, got ${String(options)}`);
  }
  checkOptionKeys(options as Record<string, unknown>, ['groupByChain'], who);
  return booleanOption((options as { groupByChain?: unknown }).groupByChain, 'groupByChain', false);
}
