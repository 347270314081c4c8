/**
 * The options of `UncertaintyEvaluation` (MindSpore's arguments, camel-cased, plus extras),
 * the model store they may name, and the checks of the options that are not tensors or models
 * (types, ranges, unknown keys), run before any work.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { booleanOption, checkOptionKeys } from '../utils/options.js';
import type { EvaluationData } from './evaluation_data.js';

/** Saves and loads models by path (default: tfjs IO routers, e.g. `indexeddb://` or, with
 * `deepprob/node` imported, `file://` and plain directory paths). */
export interface ModelStore {
  save(model: tf.LayersModel, path: string): Promise<void>;
  load(path: string): Promise<tf.LayersModel>;
}

/** The default store: `model.save(path)` and `tf.loadLayersModel(path)`. */
export const routerModelStore: ModelStore = {
  async save(model, path) {
    await model.save(path);
  },
  async load(path) {
    return tf.loadLayersModel(path);
  },
};

/** Options of `UncertaintyEvaluation` (MindSpore's arguments, camel-cased, plus extras). */
export interface UncertaintyEvaluationOptions {
  /**
   * The trained model, one output and one input or several (a functional model taking, e.g., an
   * image and metadata; its data is then an array of one tensor per input or a
   * `{[inputName]: tensor}` map, see `EvaluationInput`): for classification `[N, K]` logits, a softmax
   * head (trained on as its log-probabilities `log p`, never softmaxed again) or one output (a
   * binary classifier, `numClasses: 2`: a logit `z` read as the logits `[0, z]`, a sigmoid
   * `p` as `[log(1 - p), log p]`), see `class_outputs.ts`; for regression any output `[N, ...]`.
   */
  model: tf.LayersModel;
  /**
   * Data to train the auxiliary models on (needed unless they are loaded from paths): finite
   * inputs `x` of the model's input shape (a model with several inputs: one tensor per input, as an
   * array in `model.inputs` order or a map keyed by `model.inputNames`) and, for classification, integer labels `y` in
   * `[0, numClasses)`, shape `[N]` or `[N, 1]` (MindSpore's sparse labels; for one-hot rows pass
   * `tf.argMax(y, -1)`), for regression finite targets shaped like the output (`[N]` for one
   * output); at least one example. Checked by the constructor (a batch source: each batch as
   * it is drawn). Also a `tf.data.Dataset` whose elements are batches `{xs, ys}` (as
   * `model.fitDataset` takes them; `xs` in any of the input forms above), read afresh each
   * epoch, each element checked as it is drawn and disposed after its step.
   */
  trainDataset?: EvaluationData;
  /** `'classification'` or `'regression'`. */
  taskType: 'classification' | 'regression';
  /** Number of classes (classification): the model's output width, or 2 for one output. */
  numClasses?: number;
  /** Training epochs of the auxiliary models (default 1). */
  epochs?: number;
  /** Where the MC-dropout model is saved to / loaded from. */
  epiUncerModelPath?: string;
  /** Where the heteroscedastic model is saved to / loaded from. */
  aleUncerModelPath?: string;
  /** Train and save the auxiliary models (needs both paths); otherwise load them when a path is given. */
  saveModel?: boolean;
  /** Forward passes of MC dropout (default 10, as MindSpore). */
  mcSamples?: number;
  /**
   * How the epistemic model is made (only these two spellings; anything else is an
   * `ArgumentError` naming `epistemicMethod`): `'mc-dropout'` (default, MindSpore) or `'bnn'`: the DNN -> BNN
   * transform (posterior means at the trained weights, MOPED scales `0.1 |w|`), fine-tuned on
   * `trainDataset` with the ELBO `CE + KL / N` for `epochs` when data is given, sampled with
   * `setMode(model, 'sample')`.
   */
  epistemicMethod?: 'mc-dropout' | 'bnn';
  /** Dropout rate inserted when the model has none, in `(0, 1)` (default 0.5). */
  dropoutRate?: number;
  /** Batch size of the auxiliary training, a positive integer (default 32). */
  batchSize?: number;
  /** Adam learning rate of the auxiliary training, finite and > 0 (default 1e-3). */
  learningRate?: number;
  /** How models are saved and loaded (default {@link routerModelStore}). */
  store?: ModelStore;
  /** Progress callback of the auxiliary training. */
  onEpoch?: (which: 'epistemic' | 'aleatoric', epoch: number, loss: number) => void;
  /** Seed of batch shuffling, an integer (default 0). */
  seed?: number;
}

/** The option names of {@link UncertaintyEvaluationOptions} (anything else is rejected). */
const OPTION_KEYS = [
  'model',
  'trainDataset',
  'taskType',
  'numClasses',
  'epochs',
  'epiUncerModelPath',
  'aleUncerModelPath',
  'saveModel',
  'mcSamples',
  'epistemicMethod',
  'dropoutRate',
  'batchSize',
  'learningRate',
  'store',
  'onEpoch',
  'seed',
] as const;

/** Throw unless the numeric option `name` is undefined or a positive integer. */
function checkPositiveInt(value: unknown, name: string, min = 1): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ArgumentError(
      name,
      `expected ${min === 1 ? 'a positive integer' : `an integer >= ${min}`}, got ${String(value)}`,
    );
  }
}

/** Check the options that are not tensors or models (types, ranges, unknown keys). */
export function checkScalarOptions(o: UncertaintyEvaluationOptions): void {
  if (typeof o !== 'object' || o === null) {
    throw new ArgumentError('options', 'expected an options object');
  }
  checkOptionKeys(o, OPTION_KEYS, 'UncertaintyEvaluation');
  checkPositiveInt(o.epochs, 'epochs');
  checkPositiveInt(o.mcSamples, 'mcSamples', 2);
  checkPositiveInt(o.batchSize, 'batchSize');
  const lr = o.learningRate;
  if (lr !== undefined && !(typeof lr === 'number' && Number.isFinite(lr) && lr > 0)) {
    throw new ArgumentError('learningRate', `expected a finite number > 0, got ${String(lr)}`);
  }
  const rate = o.dropoutRate;
  if (rate !== undefined && !(typeof rate === 'number' && rate > 0 && rate < 1)) {
    throw new ArgumentError('dropoutRate', `expected a rate in (0, 1), got ${String(rate)}`);
  }
  if (o.seed !== undefined && !(typeof o.seed === 'number' && Number.isInteger(o.seed))) {
    throw new ArgumentError('seed', `expected an integer, got ${String(o.seed)}`);
  }
  const method = o.epistemicMethod;
  if (method !== undefined && method !== 'mc-dropout' && method !== 'bnn') {
    throw new ArgumentError(
      'epistemicMethod',
      `expected 'mc-dropout' or 'bnn', got ${JSON.stringify(method)}`,
    );
  }
  booleanOption(o.saveModel, 'saveModel', false);
  for (const key of ['epiUncerModelPath', 'aleUncerModelPath'] as const) {
    const path = o[key];
    if (path !== undefined && (typeof path !== 'string' || path === '')) {
      throw new ArgumentError(key, `expected a non-empty path string, got ${String(path)}`);
    }
  }
  const store = o.store;
  if (
    store !== undefined &&
    (typeof store !== 'object' ||
      store === null ||
      typeof store.save !== 'function' ||
      typeof store.load !== 'function')
  ) {
    throw new ArgumentError('store', 'expected an object with save(model, path) and load(path)');
  }
  if (o.onEpoch !== undefined && typeof o.onEpoch !== 'function') {
    throw new ArgumentError('onEpoch', 'expected a function (which, epoch, loss) => void');
  }
}
