/**
 * The plan of one MCMC run, made before any work: each chain's start (fresh from a seed derived
 * from the run's seed, continued from a `postWarmupState`, or resumed from a checkpoint with its
 * kept draws), the kept draws per chain, and the checkpoint writer; the run's fingerprint, and the
 * checks of a given state and of the model's latent layout against the plan's.
 */
import { ArgumentError } from '../../utils/errors.js';
import { deriveSeeds, nextSeed } from '../../utils/seed.js';
import type { ChainStats } from './chain_loop.js';
import type { ChainSetup } from './chain_setup.js';
import { chainStateFromData, cloneChainState, type ChainState } from './chain_state.js';
import type { ChainCheckpoint, MCMCCheckpoint, RunFingerprint } from './checkpoint.js';
import type { HamiltonianKernel } from './kernel.js';
import { flatModelInitParams } from './model_init_params.js';
import type { MCMCSettings, MCMCState } from './mcmc_options.js';
import {
  CheckpointWriter,
  kernelKind,
  kernelOptions,
  openCheckpoint,
  siteLayout,
} from './run_checkpoint.js';
/** How one chain of a run starts. */
export interface ChainStart {
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
export interface RunPlan {
  starts: ChainStart[];
  numSamples: number;
  writer?: CheckpointWriter;
  /** A new checkpoint (its site layout is filled in from the model). */
  fresh?: boolean;
  /** The fingerprint's site layout to check against the model's (a checkpoint's or a state's). */
  expectSites?: { sites: RunFingerprint['sites']; what: string; path?: string };
}

/** The fingerprint of this run (the site layout filled in once the model has run). */
export function runFingerprint(
  cfg: MCMCSettings,
  seed: number,
): Omit<RunFingerprint, 'sites' | 'dim'> {
  const ip = cfg.options.initParams;
  return {
    kernel: kernelKind(cfg.kernel),
    kernelOptions: kernelOptions(cfg.kernel),
    numSamples: cfg.numSamples,
    warmupSteps: cfg.warmupSteps,
    numChains: cfg.numChains,
    chainMethod: cfg.options.chainMethod ?? 'sequential',
    seed,
    initParams:
      cfg.modelInitParams !== undefined
        ? flatModelInitParams(cfg.modelInitParams)
        : ip === undefined
          ? null
          : Array.from(ip as ArrayLike<number | number[]>).flatMap((v) => v),
  };
}

/**
 * Plan a run (before any work): fresh chains, chains continued from `postWarmupState`, or a
 * checkpoint resumed; the checkpoint writer when checkpointing.
 */
export function planRun(
  cfg: MCMCSettings,
  postWarmupState: MCMCState | undefined,
  warmupOnly: boolean,
): RunPlan {
  const nc = cfg.numChains;
  const ck = cfg.checkpoint;
  const raw = warmupOnly ? undefined : postWarmupState;
  const pws = raw === undefined ? undefined : checkState(raw, cfg.numChains, cfg.kernel);
  const startsOf = (seeds: number[], writer?: CheckpointWriter): ChainStart[] =>
    seeds.map((seed, c) => {
      const st = pws?.chains[c];
      if (st === undefined) return { seed };
      writer?.setStart(c, cloneChainState(st));
      return { seed, state: st };
    });
  const stateSeeds = (): number[] => (pws as MCMCState).chains.map((c) => c.rng.seed);
  if (ck === undefined) {
    const seeds = pws === undefined ? deriveSeeds(nextSeed(cfg.options.seed), nc) : stateSeeds();
    const out: RunPlan = {
      starts: startsOf(seeds),
      numSamples: warmupOnly ? 0 : cfg.numSamples,
    };
    if (pws !== undefined) out.expectSites = { sites: pws.sites, what: 'postWarmupState' };
    return out;
  }
  const seedGiven = cfg.options.seed !== undefined;
  // the global seed stream is drawn from only for a new run (a resumed one has its seed)
  const probe = runFingerprint(cfg, seedGiven ? nextSeed(cfg.options.seed) : NaN);
  const saved: MCMCCheckpoint | undefined = openCheckpoint(ck, probe, seedGiven);
  if (saved === undefined) {
    const base = seedGiven ? probe.seed : nextSeed(undefined);
    const writer = new CheckpointWriter(ck, { ...probe, seed: base, sites: null, dim: 0 });
    const seeds = pws === undefined ? deriveSeeds(base, nc) : stateSeeds();
    const out: RunPlan = {
      starts: startsOf(seeds, writer),
      numSamples: cfg.numSamples,
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
    numSamples: cfg.numSamples,
    writer: new CheckpointWriter(ck, saved.fingerprint, saved),
    expectSites: { sites: saved.fingerprint.sites, what: 'the checkpoint', path: ck.path },
  };
}

/**
 * Check a `postWarmupState` against this MCMC (before any work); its checked copy, the chains'
 * arrays as Float64Arrays (a state saved with `JSON.stringify` and read back is accepted).
 */
export function checkState(s: MCMCState, numChains: number, kernel: HamiltonianKernel): MCMCState {
  if (s === null || typeof s !== 'object' || !Array.isArray(s.chains)) {
    throw new ArgumentError(
      'postWarmupState',
      'expected an MCMC lastState ({kernel, sites, chains})',
    );
  }
  if (s.chains.length !== numChains) {
    throw new ArgumentError(
      'postWarmupState',
      `holds ${s.chains.length} chains, this MCMC runs numChains ${numChains}`,
    );
  }
  const kind = kernelKind(kernel);
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
export function checkSites(kernel: HamiltonianKernel, plan: RunPlan, setup: ChainSetup): void {
  const now = kernel.isPotential ? null : siteLayout(setup.sites);
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
