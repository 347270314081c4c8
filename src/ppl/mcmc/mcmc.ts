/**
 * The MCMC driver (Pyro's `MCMC`): runs `numChains` chains of a Hamiltonian kernel for
 * `warmupSteps` adaptation iterations and `numSamples` kept iterations, stores the kept draws in
 * the constrained space (latent and `deterministic` sites), and reports diagnostics.
 *
 * Chains run one after the other on the host (`sequential`), in lockstep with batched potential
 * evaluations (`vectorized`), or in worker threads (`parallel`, Node). Each chain owns a generator
 * seeded from the run's seed (`seed` option, else the global `setSeed` stream), so the same seed
 * gives bit-identical chains on the same backend, whichever way they run. The kernel's trajectory
 * code asks for potentials one position at a time; `U(z)` and `dU/dz` come from the model's
 * recorded and replayed potential, or from tfjs (`compile` option of the kernel).
 *
 * Nothing computed is lost (NumPyro's continuation, plus checkpoints): after a run `lastState`
 * holds every chain's state ({@link ChainState}); with `postWarmupState = lastState` the next run
 * continues the chains exactly (no warmup), and `warmup()` runs the warmup alone. The `checkpoint`
 * option rewrites a file with the draws so far and the chains' states every `every` iterations;
 * `resume: true` continues a killed run from it to the draws of the uninterrupted run.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { booleanOption, checkOptionKeys } from '../../utils/options.js';
import { deriveSeeds, nextSeed } from '../../utils/seed.js';
import { runLockstep, type ChainStats, type LockstepPrior } from './chain_loop.js';
import { setupChain, type ChainSetup } from './chain_setup.js';
import { chainStateFromData, cloneChainState, type ChainState } from './chain_state.js';
import type { ChainCheckpoint, MCMCCheckpoint, RunFingerprint } from './checkpoint.js';
import { kernelSpec, type ChainJob, type ChainJobResult } from './chain_worker.js';
import type { Constrainer } from './compiled_constrain.js';
import { HMCGibbs } from './hmc_gibbs.js';
import type { ChainSampler, HamiltonianKernel, TransitionStats } from './kernel.js';
import type { LatentSite } from './potential.js';
import { CompiledPotential } from './replayed_potential.js';
import { silentProgress, stderrProgress, type MCMCProgress } from './progress.js';
import { ChainRng } from './rng.js';
import {
  CheckpointWriter,
  kernelKind,
  kernelOptions,
  openCheckpoint,
  resolveCheckpointOption,
  siteLayout,
  type MCMCCheckpointOptions,
  type ResolvedCheckpoint,
} from './run_checkpoint.js';
import { formatSummary, summarizeSite, type SiteSummary } from './summary.js';

/** Options of {@link MCMC}. */
export interface MCMCOptions {
  /** Kept draws per chain. */
  numSamples: number;
  /** Warmup (adaptation) iterations per chain, discarded. Default `numSamples`. */
  warmupSteps?: number;
  /** Number of chains. Default 1. */
  numChains?: number;
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
   * potential (the kernel's `compile` must succeed): the same draws as `'sequential'`.
   */
  chainMethod?: 'sequential' | 'vectorized' | 'parallel';
  /** For a kernel over a flat {@link Potential}: the start (default `Uniform(-2, 2)` draws). */
  initParams?: Float64Array | number[];
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

/** The option names of {@link MCMCOptions}. */
const MCMC_OPTION_KEYS: readonly string[] = [
  'numSamples',
  'warmupSteps',
  'numChains',
  'progressBar',
  'seed',
  'chainMethod',
  'initParams',
  'checkpoint',
];

/** How one chain of a run starts. */
interface ChainStart {
  /** The chain's seed (its setup draws from a generator of this seed). */
  seed: number;
  /** Continue from this state (a `postWarmupState`'s or a checkpoint's). */
  state?: ChainState;
  /** The kept draws so far (from a checkpoint). */
  prior?: { stats: ChainStats; kept: Float64Array[] };
  /** The chain is complete in the checkpoint. */
  done?: boolean;
}

/** What one run does: its chains' starts, kept draws per chain, and the checkpoint writer. */
interface RunPlan {
  starts: ChainStart[];
  numSamples: number;
  writer?: CheckpointWriter;
  /** A new checkpoint (its site layout is filled in from the model). */
  fresh?: boolean;
  /** The fingerprint's site layout to check against the model's (a checkpoint's or a state's). */
  expectSites?: { sites: RunFingerprint['sites']; what: string; path?: string };
}

/**
 * Markov chain Monte Carlo driver.
 *
 * @example
 * ```ts
 * const mcmc = new MCMC(new NUTS(model), { numSamples: 1000, warmupSteps: 1000, seed: 0 });
 * await mcmc.run(data);
 * const { mu } = mcmc.getSamples();     // tensor [1000]
 * mcmc.printSummary();                  // mean, std, quantiles, ESS, r_hat per site
 * mcmc.postWarmupState = mcmc.lastState; // NumPyro's continuation:
 * await mcmc.run(data);                 // 1000 more draws per chain, the chains continued exactly
 * ```
 */
export class MCMC {
  readonly numSamples: number;
  readonly warmupSteps: number;
  readonly numChains: number;
  /**
   * When set (e.g. to {@link MCMC.lastState}, or by {@link MCMC.warmup}), `run` skips the warmup
   * and continues each chain from its state (NumPyro's `post_warmup_state`): two runs of `N`
   * draws continued this way give the draws of one run of `2N`, bit for bit.
   */
  postWarmupState: MCMCState | undefined;
  private readonly options: MCMCOptions;
  private readonly checkpointOption: ResolvedCheckpoint | undefined;
  /** draws[site][chain]: numSamples * size values. */
  private draws = new Map<string, { shape: number[]; chains: Float32Array[] }>();
  private stats: ChainStats[] = [];
  private sites: LatentSite[] = [];
  private last: MCMCState | undefined;
  private keptPerChain = 0;

  constructor(
    readonly kernel: HamiltonianKernel,
    options: MCMCOptions,
  ) {
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
    const nw = options.warmupSteps ?? ns;
    if (!Number.isInteger(nw) || nw < 0) {
      throw new ArgumentError('warmupSteps', `expected an integer >= 0, got ${nw}`);
    }
    const nc = options.numChains ?? 1;
    if (!Number.isInteger(nc) || nc < 1) {
      throw new ArgumentError('numChains', `expected an integer >= 1, got ${nc}`);
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
    if (options.initParams !== undefined) {
      if (!kernel.isPotential) {
        throw new ArgumentError(
          'initParams',
          'only for kernels over a Potential; use initStrategy: initToValue({...}) for models',
        );
      }
      const ip: unknown = options.initParams;
      if (!(ip instanceof Float64Array) && !Array.isArray(ip)) {
        throw new ArgumentError('initParams', 'expected an array or Float64Array of numbers');
      }
      const bad = Array.from(ip as ArrayLike<unknown>).findIndex(
        (v) => typeof v !== 'number' || !Number.isFinite(v),
      );
      if (bad >= 0) {
        throw new ArgumentError(
          'initParams',
          `expected finite numbers, got ${String((ip as ArrayLike<unknown>)[bad])} at ${bad}`,
        );
      }
      if (options.initParams.length !== kernel.potential.dim) {
        throw new ArgumentError(
          'initParams',
          `expected ${kernel.potential.dim} values, got ${options.initParams.length}`,
        );
      }
    }
    this.checkpointOption =
      options.checkpoint === undefined ? undefined : resolveCheckpointOption(options.checkpoint);
    this.numSamples = ns;
    this.warmupSteps = nw;
    this.numChains = nc;
    this.options = options;
  }

  /**
   * Every chain's state after the last `run` or `warmup` (NumPyro's `last_state`): position,
   * adapted step size, inverse mass matrix, adaptation state, random stream and iteration count,
   * as plain data. Give it to {@link MCMC.postWarmupState} to continue the chains.
   */
  get lastState(): MCMCState | undefined {
    return this.last;
  }

  /**
   * Run all chains on the model's arguments (kept fixed). Resolves when done; the draws replace
   * those of an earlier run. With {@link MCMC.postWarmupState} the chains continue from it without
   * warmup; with the `checkpoint` option the run is saved as it goes (and resumed with `resume`).
   */
  async run(...args: unknown[]): Promise<void> {
    const progress = await this.progressOf(true);
    if (this.options.chainMethod === 'parallel') await this.runParallel(progress, args, false);
    else this.runWith(progress, args, false);
  }

  /** {@link MCMC.run} without the progress bar, synchronously. */
  runSync(...args: unknown[]): void {
    this.requireSync();
    this.runWith(this.syncProgress(), args, false);
  }

  /**
   * Run the warmup alone (NumPyro's `mcmc.warmup`): `warmupSteps` adaptation iterations per chain,
   * from a fresh start, keeping no draws; then {@link MCMC.postWarmupState} is the adapted state,
   * so that the next `run` draws `numSamples` without warmup: `warmup()` then `run()` gives the
   * draws of one `run()`, bit for bit. Checkpoints cover `run()` only (its warmup included).
   */
  async warmup(...args: unknown[]): Promise<void> {
    this.refuseWarmupCheckpoint();
    const progress = await this.progressOf(true);
    if (this.options.chainMethod === 'parallel') await this.runParallel(progress, args, true);
    else this.runWith(progress, args, true);
  }

  /** {@link MCMC.warmup} without the progress bar, synchronously. */
  warmupSync(...args: unknown[]): void {
    this.requireSync();
    this.refuseWarmupCheckpoint();
    this.runWith(this.syncProgress(), args, true);
  }

  private refuseWarmupCheckpoint(): void {
    if (this.checkpointOption !== undefined) {
      throw new ArgumentError(
        'checkpoint',
        'warmup() writes no checkpoints: use run() (its checkpoints cover the warmup too), or an MCMC without the checkpoint option',
      );
    }
  }

  private requireSync(): void {
    if (this.options.chainMethod === 'parallel') {
      throw new ArgumentError(
        'chainMethod',
        "'parallel' runs chains in worker threads: use await run()",
      );
    }
  }

  private async progressOf(dflt: boolean): Promise<MCMCProgress> {
    const p = this.options.progressBar ?? dflt;
    return p === false ? silentProgress() : p === true ? await stderrProgress() : p;
  }

  private syncProgress(): MCMCProgress {
    const p = this.options.progressBar;
    return typeof p === 'object' ? p : silentProgress();
  }

  /** The fingerprint of this run (the site layout filled in once the model has run). */
  private fingerprint(seed: number): Omit<RunFingerprint, 'sites' | 'dim'> {
    const ip = this.options.initParams;
    return {
      kernel: kernelKind(this.kernel),
      kernelOptions: kernelOptions(this.kernel),
      numSamples: this.numSamples,
      warmupSteps: this.warmupSteps,
      numChains: this.numChains,
      chainMethod: this.options.chainMethod ?? 'sequential',
      seed,
      initParams: ip === undefined ? null : Array.from(ip),
    };
  }

  /**
   * Plan a run (before any work): fresh chains, chains continued from `postWarmupState`, or a
   * checkpoint resumed; the checkpoint writer when checkpointing.
   */
  private plan(warmupOnly: boolean): RunPlan {
    const nc = this.numChains;
    const ck = this.checkpointOption;
    const raw = warmupOnly ? undefined : this.postWarmupState;
    const pws = raw === undefined ? undefined : this.checkState(raw);
    const startsOf = (seeds: number[], writer?: CheckpointWriter): ChainStart[] =>
      seeds.map((seed, c) => {
        const st = pws?.chains[c];
        if (st === undefined) return { seed };
        writer?.setStart(c, cloneChainState(st));
        return { seed, state: st };
      });
    const stateSeeds = (): number[] => (pws as MCMCState).chains.map((c) => c.rng.seed);
    if (ck === undefined) {
      const seeds = pws === undefined ? deriveSeeds(nextSeed(this.options.seed), nc) : stateSeeds();
      const out: RunPlan = {
        starts: startsOf(seeds),
        numSamples: warmupOnly ? 0 : this.numSamples,
      };
      if (pws !== undefined) out.expectSites = { sites: pws.sites, what: 'postWarmupState' };
      return out;
    }
    const seedGiven = this.options.seed !== undefined;
    // the global seed stream is drawn from only for a new run (a resumed one has its seed)
    const probe = this.fingerprint(seedGiven ? nextSeed(this.options.seed) : NaN);
    const saved: MCMCCheckpoint | undefined = openCheckpoint(ck, probe, seedGiven);
    if (saved === undefined) {
      const base = seedGiven ? probe.seed : nextSeed(undefined);
      const writer = new CheckpointWriter(ck, { ...probe, seed: base, sites: null, dim: 0 });
      const seeds = pws === undefined ? deriveSeeds(base, nc) : stateSeeds();
      const out: RunPlan = {
        starts: startsOf(seeds, writer),
        numSamples: this.numSamples,
        writer,
        fresh: true,
      };
      if (pws !== undefined) out.expectSites = { sites: pws.sites, what: 'postWarmupState' };
      return out;
    }
    const seeds = deriveSeeds(saved.fingerprint.seed, nc);
    const starts: ChainStart[] = saved.chains.map((c: ChainCheckpoint, k) => {
      const state = c.state ?? c.start;
      const out: ChainStart = { seed: state?.rng.seed ?? (seeds[k] as number) };
      if (state !== undefined) out.state = state;
      if (c.state !== undefined && c.stats !== undefined) {
        out.prior = { stats: c.stats, kept: c.kept };
      }
      if (c.done) out.done = true;
      return out;
    });
    return {
      starts,
      numSamples: this.numSamples,
      writer: new CheckpointWriter(ck, saved.fingerprint, saved),
      expectSites: { sites: saved.fingerprint.sites, what: 'the checkpoint', path: ck.path },
    };
  }

  /**
   * Check a `postWarmupState` against this MCMC (before any work); its checked copy, the chains'
   * arrays as Float64Arrays (a state saved with `JSON.stringify` and read back is accepted).
   */
  private checkState(s: MCMCState): MCMCState {
    if (s === null || typeof s !== 'object' || !Array.isArray(s.chains)) {
      throw new ArgumentError(
        'postWarmupState',
        'expected an MCMC lastState ({kernel, sites, chains})',
      );
    }
    if (s.chains.length !== this.numChains) {
      throw new ArgumentError(
        'postWarmupState',
        `holds ${s.chains.length} chains, this MCMC runs numChains ${this.numChains}`,
      );
    }
    const kind = kernelKind(this.kernel);
    if (s.kernel !== kind) {
      throw new ArgumentError(
        'postWarmupState',
        `is the state of a ${s.kernel} kernel, this MCMC runs ${kind}`,
      );
    }
    return {
      kernel: s.kernel,
      sites: s.sites,
      chains: s.chains.map((c, i) => chainStateFromData(c, 'postWarmupState', i)),
    };
  }

  /** Check the model's latent layout against the plan's (a checkpoint's or a state's). */
  private checkSites(plan: RunPlan, setup: ChainSetup): void {
    const now = this.kernel.isPotential ? null : siteLayout(setup.sites);
    const w = plan.writer;
    if (w !== undefined && plan.fresh === true) {
      // a new checkpoint: its layout is the model's
      w.fingerprint.sites = now;
      w.fingerprint.dim = setup.z.length;
    }
    const e = plan.expectSites;
    if (e === undefined) return;
    const show = (x: unknown): string => JSON.stringify(x);
    if (show(e.sites) === show(now)) return;
    const names = (x: RunFingerprint['sites']): string =>
      x === null ? 'a flat potential' : show(x.map((q) => `${q.name}${show(q.shape)}`));
    const msg = `holds ${names(e.sites)}, the model has ${names(now)}`;
    if (e.path !== undefined) {
      throw new ArgumentError(
        'checkpoint',
        `${e.path} was written by a different model: its latent sites ${msg}`,
      );
    }
    throw new ArgumentError('postWarmupState', `was taken from a different model: it ${msg}`);
  }

  private runWith(progress: MCMCProgress, args: unknown[], warmupOnly: boolean): void {
    const plan = this.plan(warmupOnly);
    this.draws = new Map();
    this.stats = [];
    const states: ChainState[] = [];
    this.keptPerChain = plan.numSamples;
    if ((this.options.chainMethod ?? 'sequential') === 'vectorized') {
      this.runChains(
        plan,
        plan.starts.map((_, c) => c),
        args,
        progress,
        states,
      );
    } else {
      plan.starts.forEach((_, c) => this.runChains(plan, [c], args, progress, states));
    }
    this.finish(plan, states, warmupOnly);
  }

  /** After a run: the chains' last state, and `postWarmupState` after `warmup()`. */
  private finish(plan: RunPlan, states: ChainState[], warmupOnly: boolean): void {
    this.last = {
      kernel: kernelKind(this.kernel),
      sites: this.kernel.isPotential ? null : siteLayout(this.sites),
      chains: states,
    };
    if (plan.writer !== undefined) plan.writer.write();
    if (warmupOnly) this.postWarmupState = this.last;
  }

  /**
   * Run chains `idx` in lockstep ({@link runLockstep}): with one chain the plain sequential loop,
   * with several the `vectorized` one; each fresh, continued from a state, or resumed.
   */
  private runChains(
    plan: RunPlan,
    idx: number[],
    args: unknown[],
    progress: MCMCProgress,
    states: ChainState[],
  ): void {
    const starts = idx.map((c) => plan.starts[c] as ChainStart);
    // a fresh chain's generator is used by its setup and then by the chain; a continued chain's
    // setup replays its original one with a generator of the same seed
    const rngs = starts.map((s) => new ChainRng(s.seed));
    const setups = starts.map((_, k) =>
      setupChain(this.kernel, rngs[k] as ChainRng, args, this.options.initParams),
    );
    const s0 = setups[0] as ChainSetup;
    this.sites = s0.sites;
    this.checkSites(plan, s0);
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
          ? this.kernel.resumeChain(s.state)
          : this.kernel.chain((setups[k] as ChainSetup).z, this.warmupSteps, rngs[k] as ChainRng),
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
        this.numChains === 1
          ? 'sample'
          : idx.length > 1
            ? `${idx.length} chains (vectorized)`
            : `chain ${first + 1}/${this.numChains}`;
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
              divergences: warm
                ? stats.reduce((a, st) => a + st.warmupDivergences, 0)
                : divergences,
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
      const c = idx[k] as number;
      st.compiled = su.compiled;
      if (su.reason !== undefined) st.compileReason = su.reason;
      else delete st.compileReason;
      this.stats[c] = st;
      states[c] = finished
        ? cloneChainState((starts[k] as ChainStart).state as ChainState)
        : (samplers[k] as ChainSampler).state();
      this.store(c, result.kept[k] as Float64Array[], su.model);
    });
  }

  /** `chainMethod: 'parallel'`: chains as plain-data jobs on a pool of worker threads (Node). */
  private async runParallel(
    progress: MCMCProgress,
    args: unknown[],
    warmupOnly: boolean,
  ): Promise<void> {
    const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;
    if (!isNode) {
      throw new ArgumentError(
        'chainMethod',
        "'parallel' needs Node worker threads; use 'sequential' or 'vectorized'",
      );
    }
    const plan = this.plan(warmupOnly);
    this.draws = new Map();
    this.stats = [];
    this.keptPerChain = plan.numSamples;
    const spec = kernelSpec(this.kernel);
    const rngs = plan.starts.map((s) => new ChainRng(s.seed));
    const setups = rngs.map((rng) => setupChain(this.kernel, rng, args, this.options.initParams));
    this.sites = (setups[0] as ChainSetup).sites;
    this.checkSites(plan, setups[0] as ChainSetup);
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
        numWarmup: this.warmupSteps,
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
    const total = this.warmupSteps + plan.numSamples;
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
    const states: ChainState[] = [];
    setups.forEach((su, c) => {
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
      this.stats[c] = r.stats;
      states[c] = cloneChainState(r.state);
      this.store(c, r.kept, su.model);
    });
    this.finish(plan, states, warmupOnly);
  }

  /** Map the kept unconstrained draws to site values and append them as chain `c`. */
  private store(c: number, kept: Float64Array[], model?: Constrainer): void {
    const ns = kept.length;
    if (ns === 0) return; // warmup() keeps no draws
    if (model === undefined) {
      const dim = kept[0]?.length ?? 0;
      const a = new Float32Array(ns * dim);
      kept.forEach((z, i) => a.set(z, i * dim));
      this.appendChain('z', [dim], c, a);
      return;
    }
    const perSite = new Map<string, { shape: number[]; values: Float32Array }>();
    kept.forEach((z, i) => {
      for (const [name, v] of model.constrain(z)) {
        let e = perSite.get(name);
        if (e === undefined) {
          e = { shape: v.shape, values: new Float32Array(ns * v.values.length) };
          perSite.set(name, e);
        }
        e.values.set(v.values, i * v.values.length);
      }
    });
    for (const [name, e] of perSite) this.appendChain(name, e.shape, c, e.values);
  }

  private appendChain(name: string, shape: number[], c: number, values: Float32Array): void {
    let e = this.draws.get(name);
    if (e === undefined) {
      e = { shape, chains: [] };
      this.draws.set(name, e);
    }
    e.chains[c] = values;
  }

  private requireRun(): void {
    if (this.draws.size === 0) {
      throw new ArgumentError('run', 'MCMC: call run() before reading samples');
    }
  }

  /** Names of the latent sites (unconstrained layout order) of the last run. */
  get latentSites(): readonly LatentSite[] {
    return this.sites;
  }

  /**
   * The kept draws in the constrained space: `{site: [numChains * numSamples, ...shape]}`, or
   * `[numChains, numSamples, ...shape]` with `groupByChain` (new tensors, the caller's). A kernel
   * over a flat potential gives one site `z` of shape `[dim]`; one over `potentialFromFn` its
   * parameters by name.
   */
  getSamples(options: { groupByChain?: boolean } = {}): Record<string, tf.Tensor> {
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected {groupByChain?}, got ${String(options)}`);
    }
    checkOptionKeys(options, ['groupByChain'], 'getSamples');
    const group = booleanOption(options.groupByChain, 'groupByChain', false);
    this.requireRun();
    const out: Record<string, tf.Tensor> = {};
    for (const [name, e] of this.draws) {
      const size = e.shape.reduce((a, b) => a * b, 1);
      const ns = this.keptPerChain;
      const all = new Float32Array(this.numChains * ns * size);
      e.chains.forEach((ch, c) => all.set(ch, c * ns * size));
      out[name] = group
        ? tf.tensor(all, [this.numChains, ns, ...e.shape])
        : tf.tensor(all, [this.numChains * ns, ...e.shape]);
    }
    return out;
  }

  /** Per-chain statistics of the kept iterations (divergences, step size, tree depth, ...). */
  getExtraFields(): ChainStats[] {
    this.requireRun();
    return this.stats;
  }

  /** Number of divergent kept transitions over all chains. */
  get numDivergences(): number {
    return this.stats.reduce((n, s) => n + s.divergent.filter(Boolean).length, 0);
  }

  /**
   * Per-site summaries: mean, sd, quantiles (`prob` central mass, default 0.9), bulk and tail ESS,
   * rank-normalized split R-hat, per element.
   */
  summary(prob = 0.9): Record<string, SiteSummary> {
    this.requireRun();
    const out: Record<string, SiteSummary> = {};
    for (const [name, e] of this.draws) out[name] = summarizeSite(e.chains, e.shape, prob);
    return out;
  }

  /** Print (to the console) and return the summary table with the number of divergences. */
  printSummary(prob = 0.9): string {
    const text = formatSummary(this.summary(prob), this.numDivergences, prob);
    console.log(text);
    return text;
  }
}
