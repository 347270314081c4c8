/**
 * Open a run or checkpoint directory for the runners that read one (`eval`, `uncertainty`,
 * `train --resume`): the checkpoint, its saved configuration (or one inferred from a bare
 * saved model) and the kind of model.
 */
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { disposeModel } from '../layers/dispose_model.js';
import { bayesianLayers } from '../layers/model_utils.js';
import { getModelEntry, type ModelKind } from '../models/registry.js';
import { loadCheckpoint, type LoadedCheckpoint } from '../train/checkpoint.js';
import type { EpochRecord } from '../train/fit.js';
import { DeepProbError } from '../utils/errors.js';
import { checkConfig, TRAIN_DEFAULTS, type TrainConfig } from './run_config.js';

/** An opened run. */
export interface OpenedRun {
  /** The loaded checkpoint (its model is the caller's to dispose). */
  checkpoint: LoadedCheckpoint<TrainConfig, EpochRecord>;
  /** The model. */
  model: tf.LayersModel;
  /** The configuration saved with the checkpoint (undefined for a bare saved model). */
  saved: TrainConfig | undefined;
  /** The saved configuration completed with the defaults and the model's input size. */
  config: TrainConfig;
  /** Kind of model: from the saved model name, else Bayesian when it has Bayesian layers. */
  kind: ModelKind;
  /** Model name (saved, else the tfjs model's name). */
  modelName: string;
}

/**
 * Load the checkpoint in `dir` (a run directory or a checkpoint directory) with its
 * configuration. A bare saved model (no `state.json`) gets the defaults, with the zoo's
 * `bayes-lenet5` or `lenet5` standing for its preprocessing.
 * @param dir the run or checkpoint directory.
 */
export async function openRun(dir: string): Promise<OpenedRun> {
  const checkpoint = await loadCheckpoint<TrainConfig, EpochRecord>(dir);
  const model = checkpoint.model;
  try {
    const saved = checkpoint.state?.config;
    if (saved !== undefined) checkSavedConfig(saved, model, checkpoint.dir, dir);
    const kind: ModelKind =
      saved !== undefined
        ? getModelEntry(saved.model).kind
        : bayesianLayers(model).length > 0
          ? 'bayesian'
          : 'plain';
    // an image model [batch, H, W, C] sets the input size; other inputs are checked against the data
    const inShape = model.inputs[0]?.shape;
    const inputSize = inShape?.length === 4 ? inShape[1] : undefined;
    const inputWidth = inShape?.length === 4 ? inShape[2] : undefined;
    const config: TrainConfig = {
      ...TRAIN_DEFAULTS,
      out: dir,
      ...(saved ?? { model: kind === 'bayesian' ? 'bayes-lenet5' : 'lenet5' }),
      ...(typeof inputSize === 'number' ? { inputSize } : {}),
      // a model on non-square images [H, W] takes them as they are (was: padded to H x H)
      ...(typeof inputWidth === 'number' && inputWidth !== inputSize ? { inputWidth } : {}),
    };
    return { checkpoint, model, saved, config, kind, modelName: saved?.model ?? model.name };
  } catch (e) {
    disposeModel(model);
    throw e;
  }
}

/**
 * Check the configuration saved in a checkpoint's `state.json` against the ranges of a run and
 * against the model it belongs to: its `model` must be a model of the zoo whose kind matches the
 * saved network (Bayesian layers exactly when the kind is Bayesian). A `state.json` edited by hand
 * (its manifest rewritten) would otherwise evaluate or resume a Bayesian network under a plain
 * model's objective and label.
 * @param saved the saved configuration.
 * @param model the checkpoint's model.
 * @param ckDir the checkpoint directory.
 * @param dir the run directory as given.
 * @throws DeepProbError naming `state.json` and the field.
 */
export function checkSavedConfig(
  saved: TrainConfig,
  model: tf.LayersModel,
  ckDir: string,
  dir: string,
): void {
  const statePath = join(ckDir, 'state.json');
  try {
    checkConfig({ ...TRAIN_DEFAULTS, ...saved, out: dir });
  } catch (e) {
    throw new DeepProbError(
      `${statePath}: the saved configuration is invalid (${e instanceof Error ? e.message : String(e)}); the file was edited or is damaged`,
    );
  }
  const kind = getModelEntry(saved.model).kind;
  const bayes = bayesianLayers(model).length > 0;
  if ((kind === 'bayesian') !== bayes) {
    throw new DeepProbError(
      `${statePath}: names the ${kind} model '${saved.model}', but ${join(ckDir, 'model.json')} ` +
        `${bayes ? 'has' : 'has no'} Bayesian layers (the file was edited, or the files of two runs were mixed)`,
    );
  }
}
