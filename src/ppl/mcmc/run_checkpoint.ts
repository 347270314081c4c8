/**
 * The driver's side of MCMC checkpoints (`MCMCOptions.checkpoint`): the fingerprint of a run (what
 * a checkpoint must have been written by to be continued), opening a checkpoint before any work
 * (refused when it exists and `resume` is not set, when it is unreadable, or when it was written by
 * another run), and the writer that keeps every chain's latest state and draws and rewrites the
 * file atomically.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import type { ChainStats } from './chain_loop.js';
import type { ChainState } from './chain_state.js';
import {
  checkpointIO,
  decodeCheckpoint,
  encodeCheckpoint,
  fingerprintMismatches,
  refuseMismatch,
  type ChainCheckpoint,
  type MCMCCheckpoint,
  type MCMCCheckpointIO,
  type RunFingerprint,
} from './checkpoint.js';
import { DiscreteHMCGibbs } from './discrete_hmc_gibbs.js';
import { HMC } from './hmc.js';
import { HMCGibbs } from './hmc_gibbs.js';
import { MixedHMC } from './mixed_hmc.js';
import type { HamiltonianKernel } from './kernel.js';
import { NUTS } from './nuts.js';
import { RandomWalkMH } from './random_walk.js';
import { BarkerMH } from './barker.js';
import { SA } from './sa.js';
import { EllipticalSlice } from './elliptical_slice.js';
import { AIES } from './aies.js';
import { ESS } from './ensemble_slice.js';
import type { LatentSite } from './potential.js';

/** The `checkpoint` option of `MCMC`. */
export interface MCMCCheckpointOptions {
  /** The checkpoint file (with `deepprob/node`), or the key given to `io`. */
  path: string;
  /** Write the checkpoint every this many iterations of a chain (warmup included). Default 100. */
  every?: number;
  /**
   * Continue the run saved at `path` (when there is one; without a file the run starts afresh).
   * Default false: then an existing checkpoint at `path` is an error, never overwritten.
   */
  resume?: boolean;
  /** Where checkpoints are read and written. Default: files (registered by `deepprob/node`). */
  io?: MCMCCheckpointIO;
}

/** A checkpoint option, checked and resolved (see {@link MCMCCheckpointOptions}). */
export interface ResolvedCheckpoint {
  /** The checkpoint's path (or key of `io`). */
  path: string;
  /** Iterations of a chain between writes. */
  every: number;
  /** Whether an existing checkpoint is continued. */
  resume: boolean;
  /** The IO that reads and writes it. */
  io: MCMCCheckpointIO;
}

/** Check the `checkpoint` option (before any work). */
export function resolveCheckpointOption(c: MCMCCheckpointOptions): ResolvedCheckpoint {
  if (c === null || typeof c !== 'object') {
    throw new ArgumentError(
      'checkpoint',
      `expected {path, every?, resume?, io?}, got ${String(c)}`,
    );
  }
  checkOptionKeys(c, ['path', 'every', 'resume', 'io'], 'checkpoint');
  if (typeof c.path !== 'string' || c.path.length === 0) {
    throw new ArgumentError(
      'checkpoint.path',
      `expected a non-empty string, got ${String(c.path)}`,
    );
  }
  const every = c.every ?? 100;
  if (!Number.isInteger(every) || every < 1) {
    throw new ArgumentError('checkpoint.every', `expected an integer >= 1, got ${String(every)}`);
  }
  if (c.resume !== undefined && typeof c.resume !== 'boolean') {
    throw new ArgumentError('checkpoint.resume', `expected a boolean, got ${String(c.resume)}`);
  }
  const io = c.io ?? checkpointIO();
  if (io === undefined) {
    throw new ArgumentError(
      'checkpoint',
      "checkpoint files need Node's file system: import from 'deepprob/node' (or give checkpoint.io)",
    );
  }
  if (typeof io.read !== 'function' || typeof io.write !== 'function') {
    throw new ArgumentError('checkpoint.io', 'expected {read(path), write(path, bytes)}');
  }
  return { path: c.path, every, resume: c.resume ?? false, io };
}

/**
 * `'NUTS'`, `'HMC'`, `'RandomWalkMH'`, `'HMCGibbs'`, `'DiscreteHMCGibbs'`, `'MixedHMC'`, `'BarkerMH'`,
 * `'SA'`, `'EllipticalSlice'`, `'AIES'` or `'ESS'` (the kernel classes a
 * checkpoint can name; a Gibbs kernel's inner kernel is in its options, `innerKernel`).
 */
export function kernelKind(kernel: HamiltonianKernel): string {
  if (kernel instanceof MixedHMC) return 'MixedHMC';
  if (kernel instanceof DiscreteHMCGibbs) return 'DiscreteHMCGibbs';
  if (kernel instanceof HMCGibbs) return 'HMCGibbs';
  if (kernel instanceof NUTS) return 'NUTS';
  if (kernel instanceof HMC) return 'HMC';
  if (kernel instanceof RandomWalkMH) return 'RandomWalkMH';
  if (kernel instanceof BarkerMH) return 'BarkerMH';
  if (kernel instanceof SA) return 'SA';
  if (kernel instanceof EllipticalSlice) return 'EllipticalSlice';
  if (kernel instanceof AIES) return 'AIES';
  if (kernel instanceof ESS) return 'ESS';
  // a user's own kernel class: its name, so that two different classes are told apart
  return kernel.constructor.name === '' ? 'other' : kernel.constructor.name;
}

/** A value of the kernel's options as plain, comparable data. */
function plain(v: unknown): unknown {
  if (v instanceof tf.Tensor) return { shape: v.shape, values: Array.from(v.dataSync()) };
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = plain(x);
    return o;
  }
  return v;
}

/** The kernel's options as plain data (defaults filled where the run depends on them). */
export function kernelOptions(kernel: HamiltonianKernel): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kernel.options)) if (v !== undefined) o[k] = plain(v);
  o.compile = kernel.compile;
  if (kernel instanceof HMCGibbs) {
    o.innerKernel = kernelKind(kernel.innerKernel);
    Object.assign(o, kernel.gibbsOptions());
  }
  return o;
}

/** The layout part of a fingerprint. */
export function siteLayout(sites: readonly LatentSite[]): RunFingerprint['sites'] {
  return sites.map((s) => ({
    name: s.name,
    shape: [...s.shape],
    unconstrainedShape: [...s.unconstrainedShape],
  }));
}

/**
 * Open the checkpoint of `c` for a run with fingerprint `current` (before any work): `undefined`
 * to start afresh, or the saved run to continue.
 *
 * @throws ArgumentError when a checkpoint exists and `resume` is not set, or was written by a run
 *   with other settings; DeepProbError (naming the file) when it is unreadable.
 */
export function openCheckpoint(
  c: ResolvedCheckpoint,
  current: Omit<RunFingerprint, 'sites' | 'dim'>,
  seedGiven: boolean,
): MCMCCheckpoint | undefined {
  const bytes = c.io.read(c.path);
  if (bytes === undefined) return undefined;
  if (!c.resume) {
    let what: string;
    try {
      const ck = decodeCheckpoint(bytes, c.path);
      what = `a checkpoint with ${ck.chains.map((ch) => ch.kept.length).join('+')} of ${ck.fingerprint.numChains}x${ck.fingerprint.numSamples} draws`;
    } catch {
      what = 'a file (not a readable checkpoint)';
    }
    throw new ArgumentError(
      'checkpoint.resume',
      `${c.path} already holds ${what}: pass checkpoint.resume: true to continue it, or move it away to start over (it is never overwritten)`,
    );
  }
  const ck = decodeCheckpoint(bytes, c.path);
  const mism = fingerprintMismatches(ck.fingerprint, current);
  if (seedGiven && ck.fingerprint.seed !== current.seed) {
    mism.push(`seed: ${ck.fingerprint.seed} in the checkpoint, ${current.seed} now`);
  }
  refuseMismatch(c.path, mism);
  if (ck.chains.length !== ck.fingerprint.numChains) {
    throw new ArgumentError(
      'checkpoint',
      `${c.path}: ${ck.chains.length} chains saved for numChains ${ck.fingerprint.numChains}`,
    );
  }
  return ck;
}

/** Keeps every chain's latest checkpoint and writes them all (see the module docs). */
export class CheckpointWriter {
  readonly chains: ChainCheckpoint[];

  constructor(
    readonly c: ResolvedCheckpoint,
    readonly fingerprint: RunFingerprint,
    saved?: MCMCCheckpoint,
  ) {
    this.chains =
      saved?.chains.slice() ??
      Array.from({ length: fingerprint.numChains }, () => ({ kept: [], done: false }));
  }

  /** Record chain `k`'s progress (its arrays are encoded at the next {@link write}). */
  set(
    k: number,
    state: ChainState,
    kept: Float64Array[],
    stats: ChainStats,
    done: boolean,
    start?: ChainState,
  ): void {
    const entry: ChainCheckpoint = { state, kept, stats, done };
    const s = start ?? this.chains[k]?.start;
    if (s !== undefined) entry.start = s;
    this.chains[k] = entry;
  }

  /** Note the state chain `k` starts from (a run continued from `postWarmupState`). */
  setStart(k: number, start: ChainState): void {
    const e = this.chains[k] as ChainCheckpoint;
    this.chains[k] = { ...e, start };
  }

  /** Write the checkpoint (atomically, by the IO). */
  write(): void {
    this.c.io.write(
      this.c.path,
      encodeCheckpoint({ fingerprint: this.fingerprint, chains: this.chains }),
    );
  }
}
