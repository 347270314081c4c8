/**
 * The schema of a checkpoint's trainer state (`state.json`): checked when a checkpoint is read
 * (a damaged or edited file is a `DeepProbError` naming it) and, with the same rules, when one is
 * about to be written (an `ArgumentError` naming `state.<field>`, so that no checkpoint is saved
 * that could not be loaded back).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError, DeepProbError } from '../utils/errors.js';
import type { TrainerState } from './checkpoint.js';

/**
 * Check the schema of a parsed `state.json`.
 * @throws DeepProbError naming the file and the field.
 */
export function checkTrainerState<C, M>(raw: unknown, path: string): TrainerState<C, M> {
  checkStateFields(raw, (field, expected) => {
    throw new DeepProbError(
      `${path}: field '${field}' must be ${expected} (the file is damaged or was edited)`,
    );
  });
  return raw as TrainerState<C, M>;
}

/**
 * The schema of a trainer state (`state.json`): `bad(field, expected)` is called at the first
 * field that breaks it (and throws).
 */
function checkStateFields(raw: unknown, bad: (field: string, expected: string) => never): void {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    return bad('(root)', 'an object');
  const st = raw as Record<string, unknown>;
  const nonNegInt = (k: string): void => {
    const v = st[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) bad(k, 'an integer >= 0');
  };
  if (st.version !== 1) bad('version', '1');
  nonNegInt('epoch');
  nonNegInt('step');
  if (st.batchInEpoch !== undefined) nonNegInt('batchInEpoch');
  if (st.seedState !== undefined) {
    nonNegInt('seedState');
    if ((st.seedState as number) > 0xffffffff) bad('seedState', 'an unsigned 32-bit integer');
  }
  if (st.epochTotals !== undefined) {
    const t = st.epochTotals as Record<string, unknown> | null;
    const keys = ['loss', 'nll', 'kl', 'correct', 'n', 'steps'];
    if (
      t === null ||
      typeof t !== 'object' ||
      !keys.every((k) => typeof t[k] === 'number' && Number.isFinite(t[k]))
    ) {
      bad('epochTotals', `an object of finite numbers ${keys.join(', ')}`);
    }
  }
  if (typeof st.seed !== 'number' || !Number.isFinite(st.seed)) bad('seed', 'a finite number');
  if (st.config === null || typeof st.config !== 'object') bad('config', 'an object');
  if (!Array.isArray(st.metrics)) bad('metrics', 'an array');
  if (!Array.isArray(st.optimizerWeights)) bad('optimizerWeights', 'an array');
  const o = st.optimizer as Record<string, unknown> | null;
  if (
    o === null ||
    typeof o !== 'object' ||
    o.name !== 'adam' ||
    !['learningRate', 'beta1', 'beta2', 'epsilon'].every(
      (k) => typeof o[k] === 'number' && Number.isFinite(o[k]) && (o[k] as number) >= 0,
    )
  ) {
    bad('optimizer', "Adam settings {name: 'adam', learningRate, beta1, beta2, epsilon}");
  }
  if (st.modelHash !== undefined && typeof st.modelHash !== 'string') bad('modelHash', 'a string');
}

/**
 * The arguments of `saveCheckpoint`, checked before anything is written: a state that
 * `loadCheckpoint` would refuse (e.g. `optimizer` without Adam's `beta1`) is refused here.
 * @throws ArgumentError naming `runDir`, `model`, `optimizer` or the field `state.<field>`.
 */
export function checkSaveArguments(
  runDir: unknown,
  model: unknown,
  optimizer: unknown,
  state: unknown,
): void {
  if (typeof runDir !== 'string' || runDir === '') {
    throw new ArgumentError('runDir', `expected a folder path, got ${String(runDir)}`);
  }
  if (!(model instanceof tf.LayersModel)) {
    throw new ArgumentError('model', `expected a tf.LayersModel, got ${String(model)}`);
  }
  if (optimizer === null || typeof optimizer !== 'object' || !(optimizer instanceof tf.Optimizer)) {
    throw new ArgumentError('optimizer', `expected a tf.Optimizer, got ${String(optimizer)}`);
  }
  const full =
    state !== null && typeof state === 'object' && !Array.isArray(state)
      ? { ...state, optimizerWeights: [] }
      : state;
  checkStateFields(full, (field, expected) => {
    throw new ArgumentError(
      field === '(root)' ? 'state' : `state.${field}`,
      `expected ${expected} (loadCheckpoint would refuse the checkpoint)`,
    );
  });
}
