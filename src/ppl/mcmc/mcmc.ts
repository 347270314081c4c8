/**
 * The MCMC driver (Pyro's `MCMC`): runs `numChains` chains of a Hamiltonian kernel for
 * `warmupSteps` adaptation iterations and `numSamples` kept iterations, stores the kept draws in
 * the constrained space (latent and `deterministic` sites), and reports diagnostics.
 *
 * Chains run one after the other on the host. Each chain owns a generator seeded from the run's
 * seed (`seed` option, else the global `setSeed` stream), so the same seed gives bit-identical
 * chains on the same backend. The kernel's trajectory code asks for potentials one position at a
 * time; only `U(z)` and `dU/dz` are computed with tfjs (one `tf.tidy` per evaluation).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { deriveSeeds, nextSeed } from '../../utils/seed.js';
import { driveAll, type DriveCounters } from './drive.js';
import { chainPotential } from './compiled_potential.js';
import { compileConstrain, type Constrainer } from './compiled_constrain.js';
import { initialPoint } from './init.js';
import type { ChainSampler, HamiltonianKernel, TransitionStats } from './kernel.js';
import { ModelPotential, type LatentSite, type Potential } from './potential.js';
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
   * lockstep with one batched potential evaluation per round (NumPyro's `chain_method`): the
   * latents get a leading chain dimension, so the model must broadcast over it.
   */
  chainMethod?: 'sequential' | 'vectorized';
  /** For a kernel over a flat {@link Potential}: the start (default `Uniform(-2, 2)` draws). */
  initParams?: Float64Array | number[];
}

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
    if (cm !== 'sequential' && cm !== 'vectorized') {
      throw new ArgumentError(
        'chainMethod',
        `expected 'sequential' or 'vectorized', got '${String(cm)}'`,
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
    this.runWith(progress, args);
  }

  /** {@link MCMC.run} without the progress bar, synchronously. */
  runSync(...args: unknown[]): void {
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

  private setup(
    rng: ChainRng,
    args: unknown[],
  ): {
    potential: Potential;
    model?: Constrainer;
    z: Float64Array;
    compiled?: boolean;
    reason?: string;
  } {
    const k = this.kernel;
    if (k.isPotential) {
      const potential = k.potential;
      for (let attempt = 0; ; attempt++) {
        const z =
          this.options.initParams !== undefined
            ? Float64Array.from(this.options.initParams)
            : Float64Array.from({ length: potential.dim }, () => 4 * rng.uniform() - 2);
        if (this.options.initParams !== undefined || attempt >= 99 || finiteAt(potential, z)) {
          return { potential, z };
        }
      }
    }
    const model = k.target as (...a: unknown[]) => unknown;
    for (let attempt = 0; ; attempt++) {
      const { sites, z } = initialPoint(model, args, k.initStrategy, rng);
      if (sites.length === 0) {
        throw new ArgumentError('model', 'MCMC: the model has no latent sample sites');
      }
      const mp = new ModelPotential(model, args, sites);
      let ok = false;
      try {
        const { value, grad } = mp.evaluate(z);
        ok = Number.isFinite(value) && grad.every(Number.isFinite);
      } catch (e) {
        // a start the model rejects (e.g. a parameter out of range): redraw, up to 100 times
        if (!(e instanceof ArgumentError) || e.argument === 'model' || attempt >= 99) throw e;
      }
      if (ok || attempt >= 99) {
        this.sites = sites;
        const cp = chainPotential(mp, z, k.compile);
        const model = (cp.compiled ? compileConstrain(mp, z) : null) ?? mp;
        return { potential: cp.potential, model, z, compiled: cp.compiled, reason: cp.reason };
      }
    }
  }

  private emptyStats(): ChainStats {
    const ns = this.numSamples;
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
   * Run chains `first..first+rngs.length-1` in lockstep: each iteration advances every chain's
   * transition, answering all pending potential requests together (one batched evaluation when
   * the potential has `valueAndGradBatch`). With one chain this is the plain sequential loop.
   */
  private runChains(
    first: number,
    rngs: ChainRng[],
    args: unknown[],
    progress: MCMCProgress,
  ): void {
    const t0 = performance.now();
    const setups = rngs.map((rng) => this.setup(rng, args));
    const potential = (setups[0] as (typeof setups)[number]).potential;
    const samplers = setups.map((s, k) =>
      this.kernel.chain(s.z, this.warmupSteps, rngs[k] as ChainRng),
    );
    const count: DriveCounters = { n: 0, ms: 0 };
    driveAll(
      samplers.map((s) => s.initialize()),
      potential,
      count,
    );
    const total = this.warmupSteps + this.numSamples;
    const stats = samplers.map(() => this.emptyStats());
    const kept: Float64Array[][] = samplers.map(() => []);
    let divergences = 0;
    const label =
      this.numChains === 1
        ? 'sample'
        : rngs.length > 1
          ? `${rngs.length} chains (vectorized)`
          : `chain ${first + 1}/${this.numChains}`;
    progress.start(label, total);
    try {
      for (let i = 0; i < total; i++) {
        const res = driveAll(
          samplers.map((s) => s.step()),
          potential,
          count,
        );
        res.forEach((s: TransitionStats, k) => {
          const st = stats[k] as ChainStats;
          if (i < this.warmupSteps) {
            if (s.divergent) st.warmupDivergences += 1;
            return;
          }
          const j = i - this.warmupSteps;
          st.divergent.push(s.divergent);
          if (s.divergent) divergences += 1;
          st.acceptStat[j] = s.acceptStat;
          st.stepSize[j] = s.stepSize;
          st.treeDepth[j] = s.treeDepth;
          st.numSteps[j] = s.numSteps;
          st.energy[j] = s.energy;
          st.potentialEnergy[j] = s.potentialEnergy;
          (kept[k] as Float64Array[]).push((samplers[k] as ChainSampler).point.q.slice());
        });
        const s0 = res[0] as TransitionStats;
        progress.update(i + 1, {
          phase: i < this.warmupSteps ? 'warmup' : 'sample',
          stepSize: s0.stepSize,
          treeDepth: s0.treeDepth,
          divergences:
            i < this.warmupSteps
              ? stats.reduce((a, st) => a + st.warmupDivergences, 0)
              : divergences,
        });
      }
    } finally {
      progress.stop();
    }
    const ms = performance.now() - t0;
    stats.forEach((st, k) => {
      st.gradientEvaluations = count.n;
      st.potentialMilliseconds = count.ms;
      st.milliseconds = ms;
      const su = setups[k] as (typeof setups)[number];
      st.compiled = su.compiled === true;
      if (su.reason !== undefined) st.compileReason = su.reason;
      this.stats[first + k] = st;
      this.store(
        first + k,
        kept[k] as Float64Array[],
        (setups[k] as (typeof setups)[number]).model,
      );
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
   * over a flat potential gives one site `z` of shape `[dim]`.
   */
  getSamples(options: { groupByChain?: boolean } = {}): Record<string, tf.Tensor> {
    this.requireRun();
    const out: Record<string, tf.Tensor> = {};
    for (const [name, e] of this.draws) {
      const size = e.shape.reduce((a, b) => a * b, 1);
      const all = new Float32Array(this.numChains * this.numSamples * size);
      e.chains.forEach((ch, c) => all.set(ch, c * this.numSamples * size));
      out[name] = options.groupByChain
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

function finiteAt(potential: Potential, z: Float64Array): boolean {
  const { value, grad } = potential.valueAndGrad(z);
  return Number.isFinite(value) && grad.every(Number.isFinite);
}
