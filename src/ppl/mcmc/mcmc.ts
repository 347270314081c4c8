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
import type { ChainStats } from './chain_loop.js';
import { setupChain, type ChainSetup } from './chain_setup.js';
import { cloneChainState, type ChainState } from './chain_state.js';
import { kernelSpec, type ChainJobResult } from './chain_worker.js';
import * as extra from './extra_fields.js';
import { keptSiteValues } from './kept_values.js';
import type { Constrainer } from './compiled_constrain.js';
import type { HamiltonianKernel } from './kernel.js';
import { sampleGroup } from './lockstep_run.js';
import { thinChain } from './thinning.js';
import {
  chainInitParams,
  checkMCMCOptions,
  groupByChainOption,
  type MCMCOptions,
  type MCMCSettings,
  type MCMCState,
} from './mcmc_options.js';
import type { LatentSite } from './potential.js';
import { silentProgress, stderrProgress, type MCMCProgress } from './progress.js';
import { ChainRng } from './rng.js';
import { kernelKind, siteLayout, type MCMCCheckpointOptions } from './run_checkpoint.js';
import { checkSites, planRun, type ChainStart, type RunPlan } from './run_plan.js';
import {
  excludeDeterministicOption,
  formatSummary,
  summarizeSite,
  type SiteSummary,
  type SummaryOptions,
} from './summary.js';
import { runWorkerChains } from './worker_run.js';

export type { ChainStats, MCMCCheckpointOptions, MCMCOptions, MCMCState };

/**
 * Markov chain Monte Carlo driver.
 *
 * @example
 * ```ts
 * const mcmc = new MCMC(new NUTS(model), { numSamples: 1000, warmupSteps: 1000, seed: 0 });
 * await mcmc.run(data);
 * const { mu } = mcmc.getSamples();     // tensor [1000]
 * mcmc.printSummary();                  // mean, std, quantiles, HPDI, n_eff, ESS, r_hat per site
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
  private readonly settings: MCMCSettings;
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
    this.settings = checkMCMCOptions(kernel, options);
    this.numSamples = this.settings.numSamples;
    this.warmupSteps = this.settings.warmupSteps;
    this.numChains = this.settings.numChains;
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
    if (this.settings.options.chainMethod === 'parallel')
      await this.runParallel(progress, args, false);
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
    if (this.settings.options.chainMethod === 'parallel')
      await this.runParallel(progress, args, true);
    else this.runWith(progress, args, true);
  }

  /** {@link MCMC.warmup} without the progress bar, synchronously. */
  warmupSync(...args: unknown[]): void {
    this.requireSync();
    this.refuseWarmupCheckpoint();
    this.runWith(this.syncProgress(), args, true);
  }

  private refuseWarmupCheckpoint(): void {
    if (this.settings.checkpoint !== undefined) {
      throw new ArgumentError(
        'checkpoint',
        'warmup() writes no checkpoints: use run() (its checkpoints cover the warmup too), or an MCMC without the checkpoint option',
      );
    }
  }

  private requireSync(): void {
    if (this.settings.options.chainMethod === 'parallel') {
      throw new ArgumentError(
        'chainMethod',
        "'parallel' runs chains in worker threads: use await run()",
      );
    }
  }

  private async progressOf(dflt: boolean): Promise<MCMCProgress> {
    const p = this.settings.options.progressBar ?? dflt;
    return p === false ? silentProgress() : p === true ? await stderrProgress() : p;
  }

  private syncProgress(): MCMCProgress {
    const p = this.settings.options.progressBar;
    return typeof p === 'object' ? p : silentProgress();
  }

  private runWith(progress: MCMCProgress, args: unknown[], warmupOnly: boolean): void {
    const plan = this.beginRun(warmupOnly);
    const states: ChainState[] = [];
    if ((this.settings.options.chainMethod ?? 'sequential') === 'vectorized') {
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
   * Run chains `idx` in lockstep ({@link sampleGroup}): with one chain the plain sequential loop,
   * with several the `vectorized` one; each fresh, continued from a state, or resumed.
   */
  private runChains(
    plan: RunPlan,
    idx: number[],
    args: unknown[],
    progress: MCMCProgress,
    states: ChainState[],
  ): void {
    const { rngs, setups } = this.setupChains(plan, idx, args);
    const run = sampleGroup(this.settings, plan, idx, setups, rngs, progress);
    idx.forEach((c, k) => {
      states[c] = run.states[k] as ChainState;
      this.keepChain(
        c,
        run.kept[k] as Float64Array[],
        run.stats[k] as ChainStats,
        (setups[k] as ChainSetup).model,
      );
    });
  }

  /**
   * The preamble of every run path: the plan (fresh, continued or resumed chains), the draws and
   * statistics cleared, and the kept draws per chain `⌊numSamples / thinning⌋`.
   */
  private beginRun(warmupOnly: boolean): RunPlan {
    const plan = planRun(this.settings, this.postWarmupState, warmupOnly);
    this.draws = new Map();
    this.stats = [];
    this.keptPerChain = Math.floor(plan.numSamples / this.settings.thinning);
    return plan;
  }

  /**
   * Set up chains `idx` of `plan`: each a generator of its start's seed (a fresh chain's is used by
   * its setup and then by the chain; a continued chain's setup replays its original one with a
   * generator of the same seed) and its setup from its `initParams`; the model's latent layout
   * checked against the plan's.
   */
  private setupChains(
    plan: RunPlan,
    idx: number[],
    args: unknown[],
  ): { rngs: ChainRng[]; setups: ChainSetup[] } {
    const rngs = idx.map((c) => new ChainRng((plan.starts[c] as ChainStart).seed));
    const ip = this.settings.options.initParams;
    const mi = this.settings.modelInitParams;
    const setups = idx.map((c, k) =>
      setupChain(
        this.kernel,
        rngs[k] as ChainRng,
        args,
        chainInitParams(ip, c),
        mi === undefined ? undefined : { values: mi, chain: c, numChains: this.numChains },
      ),
    );
    const s0 = setups[0] as ChainSetup;
    this.sites = s0.sites;
    checkSites(this.kernel, plan, s0);
    return { rngs, setups };
  }

  /** Thin chain `c`'s kept draws and statistics and store them (constrained by `model`). */
  private keepChain(c: number, kept: Float64Array[], stats: ChainStats, model?: Constrainer): void {
    const th = thinChain(kept, stats, this.settings.thinning);
    this.stats[c] = th.stats;
    this.store(c, th.kept, model);
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
    const plan = this.beginRun(warmupOnly);
    const spec = kernelSpec(this.kernel);
    const idx = plan.starts.map((_, c) => c);
    const { rngs, setups } = this.setupChains(plan, idx, args);
    const ran = await runWorkerChains(this.settings, plan, spec, setups, rngs, progress);
    const states: ChainState[] = [];
    setups.forEach((su, c) => {
      const r = ran[c] as ChainJobResult;
      states[c] = cloneChainState(r.state);
      this.keepChain(c, r.kept, r.stats, su.model);
    });
    this.finish(plan, states, warmupOnly);
  }

  /** Map the kept unconstrained draws to site values and append them as chain `c`. */
  private store(c: number, kept: Float64Array[], model?: Constrainer): void {
    for (const [name, e] of keptSiteValues(kept, model)) {
      this.appendChain(name, e.shape, c, e.values);
    }
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
    const group = groupByChainOption(options, 'getSamples');
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
  getExtraFields(): ChainStats[];
  /**
   * The kept iterations' statistics as new tensors (NumPyro's `get_extra_fields`), one per field of
   * `EXTRA_FIELDS`: `[numChains * kept]` (rows as in {@link MCMC.getSamples}), `[numChains, kept]`
   * with `groupByChain`; `divergent` `bool`, `treeDepth`, `numSteps` `int32`, the rest `float32`.
   */
  getExtraFields(options: { groupByChain?: boolean }): Record<extra.ExtraField, tf.Tensor>;
  /** The `fields` named, ours or NumPyro's (`diverging`, `accept_prob`, ...), under those names. */
  getExtraFields(options: extra.ExtraFieldsOptions): Record<string, tf.Tensor>;
  getExtraFields(options?: extra.ExtraFieldsOptions): ChainStats[] | Record<string, tf.Tensor> {
    if (options === undefined) {
      this.requireRun();
      return this.stats;
    }
    const { group, fields } = extra.extraFieldsOptions(options);
    this.requireRun();
    return extra.extraFieldTensors(this.stats, this.numChains, this.keptPerChain, group, fields);
  }

  /** Number of divergent kept transitions over all chains. */
  get numDivergences(): number {
    return this.stats.reduce((n, s) => n + s.divergent.filter(Boolean).length, 0);
  }

  /**
   * Per-site summaries: mean, sd, quantiles (`prob` central mass, default 0.9), bulk and tail ESS,
   * rank-normalized split R-hat, and NumPyro's HPDI of mass `prob` and `n_eff`, per element. With
   * `excludeDeterministic` (NumPyro's `exclude_deterministic`, default here `false`) only the
   * latent sites.
   */
  summary(prob = 0.9, options: SummaryOptions = {}): Record<string, SiteSummary> {
    const skip = excludeDeterministicOption(options);
    this.requireRun();
    const latent = new Set(this.sites.map((s) => s.name));
    const out: Record<string, SiteSummary> = {};
    for (const [name, e] of this.draws) {
      if (skip && !this.kernel.isPotential && !latent.has(name)) continue;
      out[name] = summarizeSite(e.chains, e.shape, prob);
    }
    return out;
  }

  /** Print (to the console) and return the summary table with the number of divergences. */
  printSummary(prob = 0.9, options: SummaryOptions = {}): string {
    const text = formatSummary(this.summary(prob, options), this.numDivergences, prob);
    console.log(text);
    return text;
  }
}
