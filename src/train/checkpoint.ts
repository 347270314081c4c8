/**
 * Training checkpoints (Node): the model (`model.json` + `weights.bin`), the optimizer state
 * (`optimizer.bin`, e.g. Adam's moments and step count), the trainer state (`state.json`: epoch,
 * step, batcher position, configuration, optimizer settings, metrics history, seed, the hash of
 * the model's architecture) and `manifest.json` (SHA-256 of every file, written last).
 *
 * Rotation that survives any sequence of crashes: a new version is written completely into
 * `checkpoint.tmp-<pid>` (every file fsynced, the manifest last, the directory fsynced); then the
 * current `checkpoint` is renamed to `checkpoint.old`, the new one renamed to `checkpoint`, and
 * only then the old one deleted (deletions first rename a directory to `*.del-*`, so a half-deleted
 * directory is never mistaken for a checkpoint); the run directory is fsynced after each step.
 * At every instant one complete version exists; {@link recoverCheckpoint} (run before every save
 * and by the trainer on start) keeps the newest complete one as `checkpoint` and removes the rest.
 * Loading verifies the manifest, the trainer state's schema, the architecture hash and that
 * every weight is finite, with an error naming the file.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { EpochTotals } from '../layers/fit_loop.js';
import { DeepProbError } from '../utils/errors.js';
import { atomicWriteFile, fileIO, fsOps, fsyncDir, makeDirs } from '../utils/file_io.js';
import { readFileInside } from '../utils/model_files.js';
import { manifestProblem, sha256, verifyManifest, writeManifest } from './manifest.js';
import { disposeModel } from '../layers/dispose_model.js';
import { loadModelFolder } from '../utils/model_folder.js';
import { checkSaveArguments, checkTrainerState } from './trainer_state.js';
import {
  CHECKPOINT_DIR,
  candidates,
  newestComplete,
  recoverCheckpoint,
  trash,
} from './checkpoint_recovery.js';

export { checkTrainerState } from './trainer_state.js';
export { CHECKPOINT_DIR, recoverCheckpoint } from './checkpoint_recovery.js';
export type { SetAsideReport } from './checkpoint_recovery.js';

/** Settings of the optimizer, enough to rebuild it. */
export interface OptimizerSettings {
  name: 'adam';
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** The trainer state saved next to the model. */
export interface TrainerState<C = unknown, M = unknown> {
  /** Format version. */
  version: 1;
  /** Completed epochs. */
  epoch: number;
  /** Completed optimizer steps. */
  step: number;
  /** The run configuration. */
  config: C;
  /** Optimizer settings. */
  optimizer: OptimizerSettings;
  /** Seed of the run (shuffling and weight sampling are re-seeded from it per epoch). */
  seed: number;
  /** Metrics of every completed epoch. */
  metrics: M[];
  /** Manifest of `optimizer.bin` (names, shapes, dtypes). */
  optimizerWeights: tf.io.WeightsManifestEntry[];
  /** ISO time of the save. */
  savedAt: string;
  /** Batches of the current epoch already trained (a mid-epoch checkpoint); absent or 0 at an epoch end. */
  batchInEpoch?: number;
  /** Mid-epoch: the position of the global seed stream after the last step (weight sampling). */
  seedState?: number;
  /** Mid-epoch: the running totals of the batches of the current epoch already trained. */
  epochTotals?: EpochTotals;
  /** SHA-256 of the model's JSON topology (which architecture this state belongs to). */
  modelHash?: string;
}

/** SHA-256 of a model's architecture (its JSON topology). */
export function architectureHash(model: tf.LayersModel): string {
  return sha256(JSON.stringify(model.toJSON(null, false)));
}

/**
 * Save a checkpoint of `model` and `optimizer` under `runDir/checkpoint`, atomically.
 * An operating-system failure (a full disk: `ENOSPC`, a folder that became read-only) is a
 * `DeepProbError` naming the run folder and the file, after the partial version is removed and
 * the previous complete one kept as `checkpoint`.
 *
 * @param runDir the run directory.
 * @param model the model.
 * @param optimizer its optimizer (state saved with `getWeights`).
 * @param state trainer state (`optimizerWeights` and `savedAt` are filled in).
 * @returns the checkpoint directory.
 * @throws ArgumentError before anything is written naming `runDir`, `model`, `optimizer` or the
 *   field of `state` that breaks the `state.json` schema (`state.optimizer`: Adam settings
 *   `{name: 'adam', learningRate, beta1, beta2, epsilon}`; `state.epoch`/`state.step`: integers
 *   >= 0; `state.version`: 1; `state.seed`, `state.config`, `state.metrics`).
 */
export async function saveCheckpoint<C, M>(
  runDir: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  state: Omit<TrainerState<C, M>, 'optimizerWeights' | 'savedAt'>,
): Promise<string> {
  checkSaveArguments(runDir, model, optimizer, state);
  try {
    return await writeCheckpoint(runDir, model, optimizer, state);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException | null)?.code;
    if (typeof code !== 'string') throw e; // not the operating system's (a bug, a kill in a test)
    // the disk is full or the folder not writable: keep the newest complete version as
    // `checkpoint` and remove the partial one, then say which run could not be saved
    let kept: string | undefined;
    try {
      kept = recoverCheckpoint(runDir);
    } catch {
      kept = undefined;
    }
    const err = new DeepProbError(
      `checkpoint: cannot save in ${runDir}: ${e instanceof Error ? e.message : String(e)}` +
        (kept !== undefined ? `; the previous checkpoint ${kept} is kept` : ''),
    ) as DeepProbError & { code: string; cause: unknown };
    err.code = code;
    err.cause = e;
    throw err;
  }
}

/** {@link saveCheckpoint} without the error translation. */
async function writeCheckpoint<C, M>(
  runDir: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  state: Omit<TrainerState<C, M>, 'optimizerWeights' | 'savedAt'>,
): Promise<string> {
  const final = join(runDir, CHECKPOINT_DIR);
  const tmp = join(runDir, `${CHECKPOINT_DIR}.tmp-${process.pid}`);
  const old = join(runDir, `${CHECKPOINT_DIR}.old`);
  makeDirs(runDir);
  // a crash may have left several versions: keep the newest complete one first
  if (candidates(runDir).some((c) => c.dir !== final)) recoverCheckpoint(runDir);
  fsOps.rmSync(tmp, { recursive: true, force: true });
  await model.save(fileIO(tmp));
  const named = await optimizer.getWeights();
  const { data, specs } = await tf.io.encodeWeights(named);
  // getWeights returns the optimizer's own variables plus a fresh `iter` scalar: free only the latter
  tf.dispose(named.map((n) => n.tensor).filter((t) => !(t instanceof tf.Variable)));
  atomicWriteFile(join(tmp, 'optimizer.bin'), new Uint8Array(data));
  const full: TrainerState<C, M> = {
    ...state,
    optimizerWeights: specs,
    savedAt: new Date().toISOString(),
    modelHash: architectureHash(model),
  };
  atomicWriteFile(join(tmp, 'state.json'), JSON.stringify(full, null, 1));
  writeManifest(tmp);
  fsyncDir(tmp);
  fsyncDir(runDir);
  if (existsSync(final)) {
    trash(old);
    fsOps.renameSync(final, old);
    fsyncDir(runDir);
  }
  fsOps.renameSync(tmp, final);
  fsyncDir(runDir);
  trash(old);
  fsyncDir(runDir);
  return final;
}

/**
 * The directory holding a complete checkpoint: `dir` itself when it has `model.json` (or the folder
 * of `dir` when `dir` is such a `model.json` file), else the
 * newest complete version in the run directory `dir` (`checkpoint`, or `checkpoint.old` /
 * `checkpoint.tmp-*` left by a crash). Read-only.
 *
 * @throws DeepProbError when none exists, naming the damaged file when a version is damaged, or
 *   when `dir` is a file rather than a folder.
 */
export function resolveCheckpoint(dir: string): string {
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    // the model.json of a checkpoint folder (the file tf.loadLayersModel is given) names its folder
    if (basename(dir) === 'model.json') return dirname(dir);
    throw new DeepProbError(
      `checkpoint: ${dir} is a file; expected a run folder (from train --out) or a checkpoint folder holding model.json`,
    );
  }
  if (existsSync(join(dir, 'model.json'))) return dir;
  const best = newestComplete(dir);
  if (best !== undefined) return best;
  const damaged = candidates(dir).find((c) => !c.temp);
  if (damaged !== undefined) {
    const problem = existsSync(join(damaged.dir, 'model.json'))
      ? manifestProblem(damaged.dir)
      : `${join(damaged.dir, 'model.json')}: missing`;
    throw new DeepProbError(
      `checkpoint: ${problem ?? damaged.dir} (restore it, or train again with --force)`,
    );
  }
  throw new DeepProbError(
    `checkpoint: no model.json in ${dir} or ${join(dir, CHECKPOINT_DIR)} (train with --out ${dir} first)`,
  );
}

/** A loaded checkpoint. */
export interface LoadedCheckpoint<C, M> {
  /** The checkpoint directory. */
  dir: string;
  /** The model (custom layers must be registered, i.e. `layers` imported). */
  model: tf.LayersModel;
  /** Trainer state, when `state.json` exists (a bare saved model has none). */
  state?: TrainerState<C, M>;
  /** Read the optimizer state (caller disposes the tensors). */
  optimizerWeights(): { name: string; tensor: tf.Tensor }[];
}

/**
 * Load a checkpoint written by {@link saveCheckpoint} (or a bare `model.save(fileIO(dir))`).
 *
 * @param dir a run directory or a checkpoint directory.
 */
export async function loadCheckpoint<C, M>(dir: string): Promise<LoadedCheckpoint<C, M>> {
  const ck = resolveCheckpoint(dir);
  verifyManifest(ck);
  const statePath = join(ck, 'state.json');
  let state: TrainerState<C, M> | undefined;
  if (existsSync(statePath)) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileInside(ck, 'state.json').toString('utf8'));
    } catch (e) {
      if (e instanceof DeepProbError) throw e;
      throw new DeepProbError(
        `${statePath}: cannot parse trainer state: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    state = checkTrainerState<C, M>(raw, statePath);
  }
  const model = await loadModelFolder(ck);
  try {
    if (state?.modelHash !== undefined && state.modelHash !== architectureHash(model)) {
      throw new DeepProbError(
        `${statePath}: belongs to another architecture than ${join(ck, 'model.json')} (files of two runs mixed?)`,
      );
    }
    const bad = firstNonFinite(
      model.getWeights(),
      model.weights.map((w) => w.originalName),
    );
    if (bad !== undefined) {
      throw new DeepProbError(
        `${join(ck, 'weights.bin')}: weight ${bad} holds NaN or Infinity (a damaged or diverged checkpoint)`,
      );
    }
  } catch (e) {
    disposeModel(model);
    throw e;
  }
  return {
    dir: ck,
    model,
    ...(state !== undefined ? { state } : {}),
    optimizerWeights: () => {
      if (state === undefined || state.optimizerWeights.length === 0) return [];
      const bytes = readFileInside(ck, 'optimizer.bin');
      const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      const path = join(ck, 'optimizer.bin');
      const need = state.optimizerWeights.reduce(
        (a, w) => a + w.shape.reduce((x, y) => x * y, 1) * 4,
        0,
      );
      if (bytes.length !== need) {
        throw new DeepProbError(`${path}: ${bytes.length} bytes, state.json describes ${need}`);
      }
      const map = tf.io.decodeWeights(buf, state.optimizerWeights);
      const out = state.optimizerWeights.map((s) => ({
        name: s.name,
        tensor: map[s.name] as tf.Tensor,
      }));
      const bad = firstNonFinite(
        out.map((o) => o.tensor),
        out.map((o) => o.name),
      );
      if (bad !== undefined) {
        tf.dispose(out.map((o) => o.tensor));
        throw new DeepProbError(`${path}: optimizer state ${bad} holds NaN or Infinity`);
      }
      return out;
    },
  };
}

/** Name of the first tensor holding a NaN or an infinity, or undefined. */
function firstNonFinite(
  tensors: readonly tf.Tensor[],
  names: readonly string[],
): string | undefined {
  for (const [i, t] of tensors.entries()) {
    if (t.dtype !== 'float32') continue;
    const ok = tf.tidy(() => tf.all(tf.isFinite(t)).dataSync()[0]);
    if (ok !== 1) return names[i] ?? `#${i}`;
  }
  return undefined;
}
