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
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { booleanOption, checkOptionKeys } from '../../utils/options.js';
import { deriveSeeds, nextSeed } from '../../utils/seed.js';
import { runLockstep, type ChainStats } from './chain_loop.js';
import { setupChain } from './chain_setup.js';
import { kernelSpec, type ChainJob, type ChainJobResult } from './chain_worker.js';
import type { Constrainer } from './compiled_constrain.js';
import type { HamiltonianKernel, TransitionStats } from './kernel.js';
import type { LatentSite } from './potential.js';
import { CompiledPotential } from './replayed_potential.js';
import { silentProgress, stderrProgress, type MCMCProgress } from './progress.js';
import { ChainRng } from './rng.js';
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
}

export type { ChainStats };

/** The option names of {@link MCMCOptions}. */
const MCMC_OPTION_KEYS: readonly string[] = [
  'numSamples',
  'warmupSteps',
  'numChains',
  'progressBar',
  'seed',
  'chainMethod',
  'initParams',
];

/**
 * Markov chain Monte Carlo driver.
 *
 * @example
 * ```ts
 * const mcmc = new MCMC(new NUTS(model), { numSamples: 1000, warmupSteps: 1000, seed: 0 });
 * await mcmc.run(data);
 * const { mu } = mcmc.getSamples();     // tensor [1000]
 * mcmc.printSummary();                  // mean, std, quantiles, ESS, r_hat per site
 * ```
 */
export class MCMC {
  readonly numSamples: number;
  readonly warmupSteps: number;
  readonly numChains: number;
  private readonly options: MCMCOptions;
  /** draws[site][chain]: numSamples * size values. */
  private draws = new Map<string, { shape: number[]; chains: Float32Array[] }>();
  private stats: ChainStats[] = [];
  private sites: LatentSite[] = [];

  constructor(
    readonly kernel: HamiltonianKernel,
    options: MCMCOptions,
  ) {
    if (kernel === null || typeof kernel !== 'object' || typeof kernel.chain !== 'function') {
      throw new ArgumentError('kernel', 'expected an HMC or NUTS kernel');
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
      if (options.initParams.length !== kernel.potential.dim) {
        throw new ArgumentError(
          'initParams',
          `expected ${kernel.potential.dim} values, got ${options.initParams.length}`,
        );
      }
    }
    this.numSamples = ns;
    this.warmupSteps = nw;
    this.numChains = nc;
    this.options = options;
  }

  /**
   * Run all chains on the model's arguments (kept fixed). Resolves when done; the draws replace
   * those of an earlier run.
   */
  async run(...args: unknown[]): Promise<void> {
    const p = this.options.progressBar ?? true;
    const progress = p === false ? silentProgress() : p === true ? await stderrProgress() : p;
    if (this.options.chainMethod === 'parallel') await this.runParallel(progress, args);
    else this.runWith(progress, args);
  }

  /** {@link MCMC.run} without the progress bar, synchronously. */
  runSync(...args: unknown[]): void {
    if (this.options.chainMethod === 'parallel') {
      throw new ArgumentError(
        'chainMethod',
        "'parallel' runs chains in worker threads: use await run()",
      );
    }
    const p = this.options.progressBar;
    this.runWith(typeof p === 'object' ? p : silentProgress(), args);
  }

  private runWith(progress: MCMCProgress, args: unknown[]): void {
    const seeds = deriveSeeds(nextSeed(this.options.seed), this.numChains);
    this.draws = new Map();
    this.stats = [];
    const rngs = seeds.map((sd) => new ChainRng(sd));
    if ((this.options.chainMethod ?? 'sequential') === 'vectorized') {
      this.runChains(0, rngs, args, progress);
    } else {
      rngs.forEach((rng, c) => this.runChains(c, [rng], args, progress));
    }
  }

  /**
   * Run chains `first..first+rngs.length-1` in lockstep ({@link runLockstep}): with one chain the
   * plain sequential loop, with several the `vectorized` one.
   */
  private runChains(
    first: number,
    rngs: ChainRng[],
    args: unknown[],
    progress: MCMCProgress,
  ): void {
    const setups = rngs.map((rng) => setupChain(this.kernel, rng, args, this.options.initParams));
    const s0 = setups[0] as (typeof setups)[number];
    this.sites = s0.sites;
    const samplers = setups.map((s, k) =>
      this.kernel.chain(s.z, this.warmupSteps, rngs[k] as ChainRng),
    );
    const label =
      this.numChains === 1
        ? 'sample'
        : rngs.length > 1
          ? `${rngs.length} chains (vectorized)`
          : `chain ${first + 1}/${this.numChains}`;
    const nw = this.warmupSteps;
    progress.start(label, nw + this.numSamples);
    let divergences = 0;
    let result: ReturnType<typeof runLockstep>;
    try {
      result = runLockstep(samplers, s0.potential, nw, this.numSamples, (i, res, stats) => {
        if (i >= nw) divergences += res.filter((r) => r.divergent).length;
        const r0 = res[0] as TransitionStats;
        progress.update(i + 1, {
          phase: i < nw ? 'warmup' : 'sample',
          stepSize: r0.stepSize,
          treeDepth: r0.treeDepth,
          divergences: i < nw ? stats.reduce((a, st) => a + st.warmupDivergences, 0) : divergences,
        });
      });
    } finally {
      progress.stop();
    }
    result.stats.forEach((st, k) => {
      const su = setups[k] as (typeof setups)[number];
      st.compiled = su.compiled;
      if (su.reason !== undefined) st.compileReason = su.reason;
      this.stats[first + k] = st;
      this.store(first + k, result.kept[k] as Float64Array[], su.model);
    });
  }

  /** `chainMethod: 'parallel'`: chains as plain-data jobs on a pool of worker threads (Node). */
  private async runParallel(progress: MCMCProgress, args: unknown[]): Promise<void> {
    const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;
    if (!isNode) {
      throw new ArgumentError(
        'chainMethod',
        "'parallel' needs Node worker threads; use 'sequential' or 'vectorized'",
      );
    }
    const seeds = deriveSeeds(nextSeed(this.options.seed), this.numChains);
    this.draws = new Map();
    this.stats = [];
    const rngs = seeds.map((sd) => new ChainRng(sd));
    const setups = rngs.map((rng) => setupChain(this.kernel, rng, args, this.options.initParams));
    const spec = kernelSpec(this.kernel);
    const jobs: ChainJob[] = setups.map((s, c) => {
      if (!(s.potential instanceof CompiledPotential)) {
        throw new ArgumentError(
          'chainMethod',
          `'parallel' runs chains in worker threads over the recorded potential, which is not available: ${s.reason ?? 'the kernel wraps a Potential that is not a CompiledPotential'} (use chainMethod 'sequential' or 'vectorized')`,
        );
      }
      return {
        program: s.potential.program,
        kernel: spec,
        rng: (rngs[c] as ChainRng).state(),
        z0: s.z,
        numWarmup: this.warmupSteps,
        numSamples: this.numSamples,
      };
    });
    this.sites = (setups[0] as (typeof setups)[number]).sites;
    const file = './parallel_chains' + (import.meta.url.endsWith('.ts') ? '.ts' : '.js');
    const spec2 = new URL(file, import.meta.url).href;
    const mod = (await import(/* @vite-ignore */ /* webpackIgnore: true */ spec2)) as {
      runParallelChains: (
        jobs: ChainJob[],
        o: { onProgress?: (chain: number, done: number) => void },
      ) => Promise<ChainJobResult[]>;
    };
    const total = this.warmupSteps + this.numSamples;
    const done = new Array<number>(jobs.length).fill(0);
    progress.start(`${jobs.length} chains (parallel)`, total * jobs.length);
    let results: ChainJobResult[];
    try {
      results = await mod.runParallelChains(jobs, {
        onProgress: (c, d) => {
          done[c] = Math.min(d, total);
          progress.update(
            done.reduce((a, b) => a + b, 0),
            { phase: 'sample', stepSize: NaN, treeDepth: 0, divergences: 0 },
          );
        },
      });
    } finally {
      progress.stop();
    }
    results.forEach((r, c) => {
      this.stats[c] = r.stats;
      this.store(c, r.kept, (setups[c] as (typeof setups)[number]).model);
    });
  }

  /** Map the kept unconstrained draws to site values and append them as chain `c`. */
  private store(c: number, kept: Float64Array[], model?: Constrainer): void {
    const ns = kept.length;
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
      const all = new Float32Array(this.numChains * this.numSamples * size);
      e.chains.forEach((ch, c) => all.set(ch, c * this.numSamples * size));
      out[name] = group
        ? tf.tensor(all, [this.numChains, this.numSamples, ...e.shape])
        : tf.tensor(all, [this.numChains * this.numSamples, ...e.shape]);
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
