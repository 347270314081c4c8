/**
 * Training checkpoints (Node): the model (`model.json` + `weights.bin`), the optimizer state
 * (`optimizer.bin`, e.g. Adam's moments and step count) and the trainer state (`state.json`:
 * epoch, step, configuration, optimizer settings, metrics history, seed).
 *
 * A checkpoint is one directory `<run>/checkpoint`, replaced atomically each epoch: the new one
 * is written to `checkpoint.tmp-<pid>` (every file itself atomically), then the old one is moved
 * to `checkpoint.old`, the new one renamed into place and the old one removed. A crash at any
 * point leaves either `checkpoint` or `checkpoint.old` complete; {@link resolveCheckpoint} finds it.
 */
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DeepProbError } from '../utils/errors.js';
import { atomicWriteFile, fileIO } from '../utils/file_io.js';

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
}

/** Name of the checkpoint directory inside a run directory. */
export const CHECKPOINT_DIR = 'checkpoint';

/**
 * Save a checkpoint of `model` and `optimizer` under `runDir/checkpoint`, atomically.
 *
 * @param runDir the run directory.
 * @param model the model.
 * @param optimizer its optimizer (state saved with `getWeights`).
 * @param state trainer state (`optimizerWeights` and `savedAt` are filled in).
 * @returns the checkpoint directory.
 */
export async function saveCheckpoint<C, M>(
  runDir: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  state: Omit<TrainerState<C, M>, 'optimizerWeights' | 'savedAt'>,
): Promise<string> {
  const final = join(runDir, CHECKPOINT_DIR);
  const tmp = join(runDir, `${CHECKPOINT_DIR}.tmp-${process.pid}`);
  const old = join(runDir, `${CHECKPOINT_DIR}.old`);
  rmSync(tmp, { recursive: true, force: true });
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
  };
  atomicWriteFile(join(tmp, 'state.json'), JSON.stringify(full, null, 1));
  rmSync(old, { recursive: true, force: true });
  if (existsSync(final)) renameSync(final, old);
  renameSync(tmp, final);
  rmSync(old, { recursive: true, force: true });
  return final;
}

/**
 * The directory holding a complete checkpoint: `dir` itself when it has `model.json`, else
 * `dir/checkpoint`, else `dir/checkpoint.old` (left by a crash between the two renames).
 *
 * @throws DeepProbError when none exists.
 */
export function resolveCheckpoint(dir: string): string {
  for (const d of [dir, join(dir, CHECKPOINT_DIR), join(dir, `${CHECKPOINT_DIR}.old`)]) {
    if (existsSync(join(d, 'model.json'))) return d;
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
  const model = await tf.loadLayersModel(fileIO(ck));
  const statePath = join(ck, 'state.json');
  let state: TrainerState<C, M> | undefined;
  if (existsSync(statePath)) {
    try {
      state = JSON.parse(readFileSync(statePath, 'utf8')) as TrainerState<C, M>;
    } catch (e) {
      throw new DeepProbError(
        `${statePath}: cannot parse trainer state: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
  return {
    dir: ck,
    model,
    ...(state !== undefined ? { state } : {}),
    optimizerWeights: () => {
      if (state === undefined || state.optimizerWeights.length === 0) return [];
      const bytes = readFileSync(join(ck, 'optimizer.bin'));
      const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      const map = tf.io.decodeWeights(buf, state.optimizerWeights);
      return state.optimizerWeights.map((s) => ({
        name: s.name,
        tensor: map[s.name] as tf.Tensor,
      }));
    },
  };
}
