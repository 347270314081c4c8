/**
 * Open a run or checkpoint directory for the runners that read one (`eval`, `uncertainty`,
 * `train --resume`): the checkpoint, its saved configuration (or one inferred from a bare
 * saved model) and the kind of model.
 */
import type * as tf from '@tensorflow/tfjs';
import { bayesianLayers } from '../layers/model_utils.js';
import { getModelEntry, type ModelKind } from '../models/registry.js';
import { loadCheckpoint, type LoadedCheckpoint } from '../train/checkpoint.js';
import type { EpochRecord } from '../train/fit.js';
import { TRAIN_DEFAULTS, type TrainConfig } from './run_config.js';

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
  const saved = checkpoint.state?.config;
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
}
