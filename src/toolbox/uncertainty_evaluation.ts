/**
 * MindSpore's `UncertaintyEvaluation` toolbox for tfjs layers models: epistemic uncertainty by
 * MC dropout (Gal & Ghahramani 2016) and aleatoric uncertainty from a heteroscedastic copy of the
 * model trained with Kendall & Gal's loss, for classification and regression. The auxiliary
 * models are trained on demand and saved to / reloaded from the given paths.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { booleanOption, checkOptionKeys } from '../utils/options.js';
import { checkFinite, checkValues } from '../utils/tensor.js';
import { fit, type DataBatch, type FitOptions, type TrainData } from './fit.js';
import {
  heteroscedasticClassificationLoss,
  heteroscedasticRegressionLoss,
} from './heteroscedastic.js';
import {
  heteroscedasticClassifier,
  heteroscedasticRegressor,
  meanHeadOf,
  withMcDropout,
} from './model_surgery.js';
import { applyWithMcDropout, hasDropout } from './predictors.js';
import { classLogits, classNll, outputKindOf } from './class_outputs.js';
import { bayesianLayers, disposeModel, modelKL, restoreModes, setMode } from '../layers/index.js';
import { transformToBnn } from '../transforms/index.js';
import { batchSizeOf, type ModelInput } from '../layers/model_input.js';

/**
 * Inputs of the evaluated model as tfjs's `model.predict` / `model.fit` take them: one tensor (a
 * single-input model), an array of one tensor per input (`model.inputs` order), or a map
 * `{[inputName]: tensor}` keyed by `model.inputNames`.
 */
export type EvaluationInput = tf.Tensor | tf.Tensor[] | { [inputName: string]: tf.Tensor };

/** The rows of inputs in any {@link EvaluationInput} form (0 when none can be read). */
function rowsOf(x: unknown): number {
  if (x instanceof tf.Tensor) return x.shape[0] ?? 0;
  const first: unknown = Array.isArray(x)
    ? x[0]
    : typeof x === 'object' && x !== null
      ? Object.values(x)[0]
      : undefined;
  return first instanceof tf.Tensor ? (first.shape[0] ?? 0) : 0;
}

/** A batch of {@link EvaluationData}: inputs in any {@link EvaluationInput} form. */
export interface EvaluationBatch {
  x: EvaluationInput;
  y: tf.Tensor;
  dispose?: () => void;
}

/**
 * Training data of {@link UncertaintyEvaluation}: in-memory `{x, y}` or a batch source, with the
 * inputs in any {@link EvaluationInput} form (one tensor, an array per input, a map by input name).
 */
export type EvaluationData =
  { x: EvaluationInput; y: tf.Tensor } | { batches(epoch: number): Iterable<EvaluationBatch> };

/** Number of training examples of training data. */
function datasetSize(data: EvaluationData): number {
  if ('batches' in data) {
    const set = (data as { set?: { count?: number } }).set;
    if (set?.count !== undefined) return set.count;
    let n = 0;
    for (const b of data.batches(0)) {
      n += rowsOf(b.x);
      b.dispose?.();
    }
    return n;
  }
  return rowsOf(data.x);
}

export type { TrainData } from './fit.js';

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

/** Options of {@link UncertaintyEvaluation} (MindSpore's arguments, camel-cased, plus extras). */
export interface UncertaintyEvaluationOptions {
  /**
   * The trained model, one output and one input or several (a functional model taking, e.g., an
   * image and metadata; its data is then an array of one tensor per input or a
   * `{[inputName]: tensor}` map, see {@link EvaluationInput}): for classification `[N, K]` logits, a softmax
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
   * it is drawn).
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
function checkScalarOptions(o: UncertaintyEvaluationOptions): void {
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

/** `[N, a, b]` for the non-batch dims `[a, b]` (`?` where the model leaves a size open). */
function shapeText(dims: readonly (number | null)[]): string {
  return `[N${dims.map((d) => `, ${d ?? '?'}`).join('')}]`;
}

/** One input of the model: its name (`model.inputNames`) and non-batch dims. */
interface InputSpec {
  name: string;
  dims: (number | null)[];
}

/** The inputs of a model (one or several). */
function inputSpecs(model: tf.LayersModel): InputSpec[] {
  return model.inputs.map((t, i) => ({
    name: model.inputNames[i] ?? t.name,
    dims: t.shape.slice(1),
  }));
}

/** The non-batch dims of a model's one output (several outputs are refused, naming `model`). */
function outputDims(model: tf.LayersModel): (number | null)[] {
  if (model.outputs.length !== 1) {
    throw new ArgumentError(
      'model',
      `expected a model with one output (the prediction whose uncertainty is evaluated), got ${model.outputs.length} outputs; build a model with the one output to evaluate (tf.model({ inputs: model.inputs, outputs: model.outputs[i] }))`,
    );
  }
  return (model.outputs[0] as tf.SymbolicTensor).shape.slice(1);
}

/** `'img' [N, 4], 'meta' [N, 2]`. */
function specsText(specs: readonly InputSpec[]): string {
  return specs.map((s) => `'${s.name}' ${shapeText(s.dims)}`).join(', ');
}

/** Whether `shape` is `[N, ...dims]` (a null dim matches any size). */
function matchesDims(shape: readonly number[], dims: readonly (number | null)[]): boolean {
  return shape.length === dims.length + 1 && dims.every((d, i) => d === null || d === shape[i + 1]);
}

/**
 * Check inputs against the model's inputs and return them as the model takes them (one tensor for
 * a single-input model, else an array in `model.inputs` order): `x` one tensor (a single-input
 * model), an array of one tensor per input, or a map keyed by the input names; each a finite tensor
 * `[N, ...]` of its input's shape, all with the same `N`.
 *
 * @throws ArgumentError naming `name`, or the input (`x[i]`, `x['meta']`) that does not fit.
 */
function checkInputs(x: unknown, name: string, specs: readonly InputSpec[]): ModelInput {
  const multi = specs.length > 1;
  const what = (s: InputSpec): string => `the model's input${multi ? ` '${s.name}'` : ''}`;
  let list: { t: unknown; label: string; spec: InputSpec }[];
  if (x instanceof tf.Tensor && !multi) {
    list = [{ t: x, label: name, spec: specs[0] as InputSpec }];
  } else if (x instanceof tf.Tensor) {
    throw new ArgumentError(
      name,
      `the model has ${specs.length} inputs: expected an array of one tensor per input (model.inputs order) or a {name: tensor} map (${specsText(specs)}), got one tensor [${x.shape.join(', ')}]`,
    );
  } else if (Array.isArray(x) && !multi && !(x.length === 1 && x[0] instanceof tf.Tensor)) {
    throw new ArgumentError(
      name,
      `expected a tf.Tensor ${shapeText((specs[0] as InputSpec).dims)} (the model's input)${x.every((v) => typeof v === 'number' || Array.isArray(v)) ? ', got a plain array: wrap it in tf.tensor' : `, got an array of ${x.length}`}`,
    );
  } else if (Array.isArray(x)) {
    if (x.length !== specs.length) {
      throw new ArgumentError(
        name,
        `expected ${specs.length} input tensor${multi ? 's, one per model input (' + specsText(specs) + ')' : ` ${shapeText((specs[0] as InputSpec).dims)}`}, got an array of ${x.length}`,
      );
    }
    list = specs.map((spec, i) => ({
      t: x[i] as unknown,
      label: `${name}[${i}]${multi ? ` (input '${spec.name}')` : ''}`,
      spec,
    }));
  } else if (typeof x === 'object' && x !== null && !multi && x.constructor !== Object) {
    throw new ArgumentError(
      name,
      `expected a tf.Tensor ${shapeText((specs[0] as InputSpec).dims)} (the model's input)`,
    );
  } else if (typeof x === 'object' && x !== null) {
    const map = x as Record<string, unknown>;
    const extra = Object.keys(map).find((k) => !specs.some((s) => s.name === k));
    if (extra !== undefined) {
      throw new ArgumentError(
        `${name}['${extra}']`,
        `is not an input of the model; expected the inputs ${specsText(specs)}`,
      );
    }
    list = specs.map((spec) => ({ t: map[spec.name], label: `${name}['${spec.name}']`, spec }));
  } else {
    throw new ArgumentError(
      name,
      multi
        ? `expected one tensor per model input, as an array (model.inputs order) or a {name: tensor} map (${specsText(specs)})`
        : `expected a tf.Tensor ${shapeText((specs[0] as InputSpec).dims)} (the model's input)`,
    );
  }
  const tensors = list.map(({ t, label, spec }) => {
    if (!(t instanceof tf.Tensor) || t.isDisposed) {
      throw new ArgumentError(
        label,
        `${t === undefined ? 'missing: ' : ''}expected a tf.Tensor ${shapeText(spec.dims)} (${what(spec)})`,
      );
    }
    if (!matchesDims(t.shape, spec.dims)) {
      throw new ArgumentError(
        label,
        `expected shape ${shapeText(spec.dims)} (${what(spec)}), got [${t.shape.join(', ')}]`,
      );
    }
    return t;
  });
  const n = tensors[0]?.shape[0] as number;
  tensors.forEach((t, i) => {
    const label = (list[i] as { label: string }).label;
    if (t.shape[0] !== n) {
      throw new ArgumentError(
        label,
        `expected ${n} rows (the rows of ${(list[0] as { label: string }).label}), got ${t.shape[0]}`,
      );
    }
    checkFinite(t, label, 'inputs');
  });
  return multi ? tensors : (tensors[0] as tf.Tensor);
}

/**
 * Throw `ArgumentError(name)` unless `y` holds `n` integer class labels in `[0, K)`, shape `[N]` or
 * `[N, 1]` (MindSpore's sparse labels; one-hot rows are refused with the `argMax` hint).
 */
function checkLabels(y: unknown, name: string, n: number, k: number): void {
  if (!(y instanceof tf.Tensor)) {
    throw new ArgumentError(name, 'expected a tf.Tensor of integer class labels [N]');
  }
  if (!(y.rank === 1 || (y.rank === 2 && y.shape[1] === 1))) {
    const hint =
      y.rank === 2 && y.shape[1] === k
        ? ` (one-hot rows? pass the class indices, e.g. tf.argMax(y, -1))`
        : '';
    throw new ArgumentError(
      name,
      `expected integer class labels [N] (MindSpore's sparse labels), got shape [${y.shape.join(', ')}]${hint}`,
    );
  }
  if (y.shape[0] !== n) {
    throw new ArgumentError(name, `expected ${n} labels (one per row of x), got ${y.shape[0]}`);
  }
  checkValues(
    y,
    name,
    (v) => Number.isInteger(v) && v >= 0 && v < k,
    `integer class labels in [0, ${k})`,
  );
}

/** Throw `ArgumentError(name)` unless `y` holds `n` finite targets shaped like the model's output. */
function checkTargets(y: unknown, name: string, n: number, dims: readonly (number | null)[]): void {
  const single = dims.length === 1 && dims[0] === 1;
  const expected = `${shapeText(dims)} like the model's output${single ? ' (or [N])' : ''}`;
  if (!(y instanceof tf.Tensor)) {
    throw new ArgumentError(name, `expected a tf.Tensor of regression targets ${expected}`);
  }
  if (!(matchesDims(y.shape, dims) || (single && y.rank === 1))) {
    throw new ArgumentError(name, `expected targets ${expected}, got [${y.shape.join(', ')}]`);
  }
  if (y.shape[0] !== n) {
    throw new ArgumentError(name, `expected ${n} targets (one per row of x), got ${y.shape[0]}`);
  }
  checkFinite(y, name, 'targets');
}

/**
 * Epistemic and aleatoric uncertainty of a trained model (after MindSpore's
 * `mindspore.nn.probability.toolbox.UncertaintyEvaluation`).
 *
 * - **Epistemic**: `T` forward passes with dropout active; if the model has no dropout, a copy
 *   with `Dropout(0.5)` after its first dense/conv layer is fine-tuned for `epochs` epochs
 *   (`epistemicMethod: 'bnn'`: a Bayesian copy from the DNN -> BNN transform, sampled instead). The
 *   result is the variance over passes of each output,
 *   $$\operatorname{Var}_t[f_t(x)]\in\mathbb{R}^{N\times K}$$
 *   (`[N, D]` for regression), as MindSpore's `eval_epistemic_uncertainty`. Only the dropout
 *   layers run as in training (`applyWithMcDropout` of `predictors.ts`): BatchNorm keeps its
 *   moving statistics, so the given model is never changed and a row does not depend on its batch.
 * - **Aleatoric**: a heteroscedastic copy predicting a log variance `s` per output, trained with
 *   Kendall & Gal's loss (Gaussian NLL with learnt variance for regression; sampled-logit softmax
 *   likelihood for classification). The result is the predicted variance summed over outputs,
 *   $$\sum_k \sigma_k^2(x) = \sum_k e^{s_k(x)}\in\mathbb{R}^{N}.$$
 * - Classifiers are trained on their class logits `z` (a softmax head: `log p`; one output: a
 *   binary classifier), with the cross-entropy `-(1/N) Σ_n log softmax(z_n)_{y_n}`.
 * - A functional model with several inputs (image + metadata, ...) takes its inputs as an array
 *   (`model.inputs` order) or a `{[inputName]: tensor}` map, in the training data and at
 *   evaluation; each input is checked against its own shape and named when it does not fit. The
 *   Bayesian twin, the MC-dropout copy (dropout on the input of the Dense making the output) and
 *   the heteroscedastic copy take the same inputs. One output only (several are refused).
 * - Every option, the training data and the evaluation inputs are checked before any work
 *   (`ArgumentError` naming the argument); copies are disposed when a call throws.
 *
 * @example
 * ```ts
 * const evaluation = new UncertaintyEvaluation({
 *   model: net, trainDataset: { x: xTrain, y: yTrain }, taskType: 'classification', numClasses: 10,
 *   epochs: 1, epiUncerModelPath: 'file://runs/epi', aleUncerModelPath: 'file://runs/ale', saveModel: true,
 * });
 * const epistemic = await evaluation.evalEpistemicUncertainty(xTest); // [N, 10]
 * const aleatoric = await evaluation.evalAleatoricUncertainty(xTest); // [N]
 * evaluation.dispose();
 * ```
 */
export class UncertaintyEvaluation {
  readonly taskType: 'classification' | 'regression';
  readonly numClasses: number | undefined;
  readonly epochs: number;
  readonly mcSamples: number;
  private readonly options: UncertaintyEvaluationOptions;
  /** The model's inputs (names, non-batch dims) and its output's non-batch dims. */
  private readonly inSpecs: InputSpec[];
  private readonly outDims: (number | null)[];
  /** The training data with its inputs as the model takes them (checked by the constructor). */
  private readonly data: EvaluationData | undefined;
  /** What a classifier outputs: logits, or probabilities (softmax head; one output: p(y = 1)). */
  private readonly outputKind: 'logits' | 'probs';
  private readonly store: ModelStore;
  private epiModel: tf.LayersModel | undefined;
  private epiOwned = false;
  private aleModel: tf.LayersModel | undefined;
  private epiBuilding: Promise<tf.LayersModel> | undefined;
  private aleBuilding: Promise<tf.LayersModel> | undefined;

  constructor(options: UncertaintyEvaluationOptions) {
    checkScalarOptions(options);
    if (!(options.model instanceof tf.LayersModel)) {
      throw new ArgumentError('model', 'expected a tf.LayersModel');
    }
    if (options.taskType !== 'classification' && options.taskType !== 'regression') {
      throw new ArgumentError(
        'taskType',
        `expected 'classification' or 'regression', got '${String(options.taskType)}'`,
      );
    }
    const epochs = options.epochs ?? 1;
    if (options.taskType === 'classification') {
      const k = options.numClasses;
      if (k === undefined || !Number.isInteger(k) || k < 2) {
        throw new ArgumentError(
          'numClasses',
          `expected an integer >= 2 for classification, got ${k}`,
        );
      }
    }
    if (
      options.saveModel === true &&
      (options.epiUncerModelPath === undefined || options.aleUncerModelPath === undefined)
    ) {
      throw new ArgumentError(
        'saveModel',
        'when saveModel is true, epiUncerModelPath and aleUncerModelPath must both be given',
      );
    }
    this.outDims = outputDims(options.model);
    this.inSpecs = inputSpecs(options.model);
    if (options.taskType === 'classification') {
      const k = options.numClasses as number;
      const w = this.outDims[0];
      if (this.outDims.length !== 1) {
        throw new ArgumentError(
          'model',
          `a classifier must output [N, K], got ${shapeText(this.outDims)}`,
        );
      }
      if (w !== null && w !== k && !(w === 1 && k === 2)) {
        throw new ArgumentError(
          'numClasses',
          `the model outputs ${w} value${w === 1 ? '' : 's'} per input, so expected numClasses ${w === 1 ? '2 (one output: a binary classifier)' : w}, got ${k}`,
        );
      }
    }
    // a multi-unit sigmoid head is refused, naming model
    this.outputKind =
      options.taskType === 'classification' ? (outputKindOf(options.model) ?? 'logits') : 'logits';
    const mc = options.mcSamples ?? 10;
    this.options = options;
    this.taskType = options.taskType;
    this.numClasses = options.numClasses;
    this.epochs = epochs;
    this.mcSamples = mc;
    this.store = options.store ?? routerModelStore;
    this.data =
      options.trainDataset === undefined ? undefined : this.checkTrainData(options.trainDataset);
  }

  /**
   * Check the training data before any work: shapes, finite values, labels, at least one row; the
   * data with its inputs as the model takes them (a map of inputs in `model.inputs` order).
   */
  private checkTrainData(data: EvaluationData): EvaluationData {
    if (typeof data !== 'object' || data === null) {
      throw new ArgumentError(
        'trainDataset',
        'expected {x, y} tensors or a batch source with batches(epoch)',
      );
    }
    if ('batches' in data) {
      if (typeof data.batches !== 'function') {
        throw new ArgumentError('trainDataset', 'expected batches(epoch) to be a function');
      }
      return data; // each batch is checked as it is drawn (checkedSource)
    }
    const raw = (data as { x?: unknown }).x;
    if (raw instanceof tf.Tensor && raw.shape[0] === 0) {
      throw new ArgumentError(
        'trainDataset',
        'is empty (x has 0 rows); expected training examples',
      );
    }
    const x = this.checkBatch(raw, data.y, 'trainDataset.x', 'trainDataset.y');
    if (batchSizeOf(x) === 0) {
      throw new ArgumentError(
        'trainDataset',
        'is empty (x has 0 rows); expected training examples',
      );
    }
    return { x, y: data.y };
  }

  /** Check one batch of training inputs and targets (names for the messages); its inputs. */
  private checkBatch(x: unknown, y: unknown, xName: string, yName: string): ModelInput {
    const xs = checkInputs(x, xName, this.inSpecs);
    const n = batchSizeOf(xs);
    if (this.taskType === 'classification') checkLabels(y, yName, n, this.numClasses as number);
    else checkTargets(y, yName, n, this.outDims);
    return xs;
  }

  /**
   * The training data with every batch of a batch source checked before it is used (in-memory
   * tensors were checked by the constructor), counting the examples it yields.
   */
  private checkedSource(data: EvaluationData, seen: { n: number }): TrainData {
    if (!('batches' in data)) {
      // in-memory inputs were put in model.inputs order by the constructor (checkTrainData)
      const x = data.x as ModelInput;
      seen.n += batchSizeOf(x);
      return { x, y: data.y };
    }
    const check = (b: EvaluationBatch | DataBatch): ModelInput =>
      this.checkBatch(b.x, b.y, 'trainDataset (a batch x)', 'trainDataset (a batch y)');
    return {
      *batches(epoch: number): Generator<DataBatch> {
        for (const b of data.batches(epoch)) {
          let x: ModelInput;
          try {
            x = check(b);
          } catch (e) {
            b.dispose?.();
            throw e;
          }
          seen.n += batchSizeOf(x);
          // the batch's own tensors (a map of inputs is read in model.inputs order)
          yield { ...b, x };
        }
      },
    };
  }

  /** Train `model` with `loss` on the checked training data; refuse a source with no examples. */
  private async train(
    model: tf.LayersModel,
    loss: (x: ModelInput, y: tf.Tensor) => tf.Scalar,
    which: 'epistemic' | 'aleatoric',
  ): Promise<void> {
    const seen = { n: 0 };
    await fit(
      model,
      loss,
      this.checkedSource(this.requireData(which), seen),
      this.fitOptions(which),
    );
    if (seen.n === 0) {
      throw new ArgumentError('trainDataset', 'yielded no training examples');
    }
  }

  private supervisedLoss(model: tf.LayersModel): (x: ModelInput, y: tf.Tensor) => tf.Scalar {
    return (x, y) => {
      const out = model.apply(x, { training: true }) as tf.Tensor;
      if (this.taskType === 'classification') {
        // a softmax head is read as its log-probabilities, one output as the logits [0, z]
        const logits = classLogits(out, this.outputKind);
        return classNll(logits, tf.reshape(y, [-1]), 'logits');
      }
      return tf.losses.meanSquaredError(tf.reshape(y, out.shape), out) as tf.Scalar;
    };
  }

  private requireData(which: string): EvaluationData {
    const d = this.data;
    if (d === undefined) {
      throw new ArgumentError(
        'trainDataset',
        `needed to train the ${which} uncertainty model (or give a path to load it from)`,
      );
    }
    return d;
  }

  /** Options of the toolbox `fit` loop for the `which` uncertainty model. */
  private fitOptions(which: 'epistemic' | 'aleatoric'): FitOptions {
    const o = this.options;
    return {
      epochs: this.epochs,
      batchSize: o.batchSize,
      learningRate: o.learningRate,
      seed: o.seed,
      onEpoch: (e, l) => o.onEpoch?.(which, e, l),
    };
  }

  /**
   * The MC-dropout model: the given model when it has dropout or Bayesian layers (sampled as it
   * is), else a trained/loaded copy (a
   * Bayesian copy for `epistemicMethod: 'bnn'`). Built once; a copy is disposed when its training,
   * saving or checking throws.
   */
  async epistemicModel(): Promise<tf.LayersModel> {
    if (this.epiModel !== undefined) return this.epiModel;
    this.epiBuilding ??= this.buildEpistemic().finally(() => {
      this.epiBuilding = undefined;
    });
    return this.epiBuilding;
  }

  private async buildEpistemic(): Promise<tf.LayersModel> {
    const o = this.options;
    const bnn = o.epistemicMethod === 'bnn';
    // a model that is already stochastic (dropout, or Bayesian layers such as a converted BNN)
    // is sampled as it is
    if (!bnn && (hasDropout(o.model) || bayesianLayers(o.model).length > 0)) {
      this.epiModel = o.model;
      return o.model;
    }
    const load = o.saveModel !== true && o.epiUncerModelPath !== undefined;
    let make: () => Promise<tf.LayersModel>;
    let prepare: (m: tf.LayersModel) => Promise<void>;
    if (load) {
      make = () => this.store.load(o.epiUncerModelPath as string);
      prepare = async (m) => this.checkLoaded(m, 'epiUncerModelPath', 1);
    } else if (bnn) {
      const data = this.data;
      const n = data === undefined ? 0 : datasetSize(data);
      if (data !== undefined && n === 0) {
        throw new ArgumentError('trainDataset', 'yielded no training examples');
      }
      make = async () => (await transformToBnn(o.model, { layers: 'all', moped: 0.1 })).model;
      prepare = async (m) => {
        if (data === undefined) return;
        const nll = this.supervisedLoss(m);
        setMode(m, 'sample');
        await this.train(
          m,
          (x, y) => tf.add(nll(x, y), tf.div(modelKL(m), n)) as tf.Scalar,
          'epistemic',
        );
      };
    } else {
      this.requireData('epistemic');
      make = () => withMcDropout(o.model, o.dropoutRate ?? 0.5);
      prepare = (m) => this.train(m, this.supervisedLoss(m), 'epistemic');
    }
    const m = await make();
    try {
      await prepare(m);
      if (o.saveModel === true) await this.store.save(m, o.epiUncerModelPath as string);
    } catch (e) {
      disposeModel(m);
      throw e;
    }
    this.epiModel = m;
    this.epiOwned = true;
    return m;
  }

  /**
   * The heteroscedastic model `x -> [output, logVar]`, trained or loaded on first use. Built once;
   * the copy is disposed when its training, saving or checking throws.
   */
  async aleatoricModel(): Promise<tf.LayersModel> {
    if (this.aleModel !== undefined) return this.aleModel;
    this.aleBuilding ??= this.buildAleatoric().finally(() => {
      this.aleBuilding = undefined;
    });
    return this.aleBuilding;
  }

  private async buildAleatoric(): Promise<tf.LayersModel> {
    const o = this.options;
    const load = o.saveModel !== true && o.aleUncerModelPath !== undefined;
    if (!load) {
      this.requireData('aleatoric');
      this.checkHeteroscedasticBase();
    }
    const m = load
      ? await this.store.load(o.aleUncerModelPath as string)
      : this.taskType === 'classification'
        ? await heteroscedasticClassifier(o.model, this.numClasses as number)
        : await heteroscedasticRegressor(o.model);
    try {
      if (load) {
        this.checkLoaded(m, 'aleUncerModelPath', 2);
      } else {
        const loss = (x: ModelInput, y: tf.Tensor): tf.Scalar => {
          const [out, logVar] = m.apply(x, { training: true }) as tf.Tensor[];
          if (this.taskType === 'classification') {
            const logits = classLogits(out as tf.Tensor, this.outputKind);
            return heteroscedasticClassificationLoss(logits, logVar as tf.Tensor, y, 10);
          }
          return heteroscedasticRegressionLoss(
            out as tf.Tensor,
            logVar as tf.Tensor,
            tf.reshape(y, (out as tf.Tensor).shape),
          );
        };
        await this.train(m, loss, 'aleatoric');
        if (o.saveModel === true) await this.store.save(m, o.aleUncerModelPath as string);
      }
    } catch (e) {
      disposeModel(m);
      throw e;
    }
    this.aleModel = m;
    return m;
  }

  /**
   * What the heteroscedastic copy needs of the model, checked before it is built (a copy made and
   * then refused would leak): a fully defined input shape; for regression a `tf.Sequential` with
   * a dense layer (the mean head).
   */
  private checkHeteroscedasticBase(): void {
    const model = this.options.model;
    const open = this.inSpecs.find((s) => s.dims.some((d) => d === null));
    if (open !== undefined) {
      throw new ArgumentError(
        'model',
        `the aleatoric copy needs a fully defined input shape, got ${shapeText(open.dims)}${this.inSpecs.length > 1 ? ` (input '${open.name}')` : ''}`,
      );
    }
    if (this.taskType === 'regression') {
      // the mean head: a Sequential's last dense layer, or the Dense making a functional model's output
      const ok =
        model instanceof tf.Sequential
          ? model.layers.some((l) => /^dense/i.test(l.getClassName()))
          : meanHeadOf(model) !== undefined;
      if (!ok) {
        throw new ArgumentError(
          'model',
          'the aleatoric copy of a regression model needs a tf.Sequential ending in a dense layer, or a functional model whose output is made by a Dense layer applied once (the mean head)',
        );
      }
    }
  }

  /**
   * Throw `ArgumentError(path)` unless a loaded model takes the model's inputs and has `outputs`
   * outputs, the first shaped like the model's output.
   */
  private checkLoaded(m: tf.LayersModel, path: string, outputs: number): void {
    const dims = (t: tf.SymbolicTensor | undefined): string =>
      t === undefined ? '' : shapeText(t.shape.slice(1));
    const okIn =
      m.inputs.length === this.inSpecs.length &&
      this.inSpecs.every((spec, i) => dims(m.inputs[i]) === shapeText(spec.dims));
    const okOut = m.outputs.length === outputs && dims(m.outputs[0]) === shapeText(this.outDims);
    if (okIn && okOut && outputs === 1 && !hasDropout(m) && bayesianLayers(m).length === 0) {
      throw new ArgumentError(
        path,
        'the loaded model has no dropout or Bayesian layer, so its passes would all be equal',
      );
    }
    if (!okIn || !okOut) {
      throw new ArgumentError(
        path,
        `the loaded model does not fit the given model: expected input${this.inSpecs.length > 1 ? 's' : ''} ${this.inSpecs.map((spec) => shapeText(spec.dims)).join(', ')} and ${outputs} output${outputs === 1 ? '' : 's'} (the first ${shapeText(this.outDims)}), got inputs ${m.inputs.map(dims).join(', ')} and outputs ${m.outputs.map(dims).join(', ')}`,
      );
    }
  }

  /**
   * Epistemic (model) uncertainty: the variance over `mcSamples` dropout passes (or Bayesian
   * weight draws) of each output.
   * @param x finite inputs `[N, ...]` of the model's input shape; for a model with several inputs
   *   one tensor per input, as an array (`model.inputs` order) or a `{[inputName]: tensor}` map
   *   (else an `ArgumentError` naming `x`, or the input: `x[1]`, `x['meta']`); `N = 0` gives an
   *   empty `[0, K]` without training anything.
   * @returns `[N, K]` (classification) or `[N, D]` (regression); the caller disposes it.
   */
  async evalEpistemicUncertainty(input: EvaluationInput): Promise<tf.Tensor2D> {
    const x = checkInputs(input, 'x', this.inSpecs);
    if (batchSizeOf(x) === 0) {
      const width = this.outDims.reduce<number>((a, d) => a * (d ?? 0), 1);
      return tf.zeros([0, width]);
    }
    const m = await this.epistemicModel();
    const sampleWeights = bayesianLayers(m).length > 0;
    // sample the weights; the given model gets its layers' modes back afterwards
    const modes = sampleWeights ? setMode(m, 'sample') : [];
    try {
      return this.sampleVariance(m, x, sampleWeights);
    } finally {
      if (m === this.options.model) restoreModes(m, modes);
    }
  }

  /** The variance over `mcSamples` passes of each output, `[N, D]`. */
  private sampleVariance(m: tf.LayersModel, x: ModelInput, sampleWeights: boolean): tf.Tensor2D {
    return tf.tidy(() => {
      const outs: tf.Tensor[] = [];
      for (let t = 0; t < this.mcSamples; t++) {
        // Bayesian layers sample their weights; else only the dropout layers run as in training
        // (BatchNorm keeps its moving statistics: nothing of the model changes)
        const o = (
          sampleWeights ? m.apply(x, { training: false }) : applyWithMcDropout(m, x)
        ) as tf.Tensor;
        outs.push(o.rank === 1 ? tf.expandDims(o, -1) : tf.reshape(o, [o.shape[0] as number, -1]));
      }
      return tf.moments(tf.stack(outs), 0).variance as tf.Tensor2D;
    });
  }

  /**
   * Aleatoric (data) uncertainty: the predicted variance, summed over outputs.
   * @param x finite inputs `[N, ...]` of the model's input shape; for a model with several inputs
   *   one tensor per input, as an array or a `{[inputName]: tensor}` map (else an `ArgumentError`
   *   naming `x` or the input); `N = 0` gives an empty `[0]` without training anything.
   * @returns `[N]`; the caller disposes it.
   */
  async evalAleatoricUncertainty(input: EvaluationInput): Promise<tf.Tensor1D> {
    const x = checkInputs(input, 'x', this.inSpecs);
    if (batchSizeOf(x) === 0) return tf.zeros([0]);
    const m = await this.aleatoricModel();
    return tf.tidy(() => {
      const [, logVar] = m.apply(x, { training: false }) as tf.Tensor[];
      const s = logVar as tf.Tensor;
      return tf.sum(tf.exp(tf.reshape(s, [s.shape[0] as number, -1])), -1) as tf.Tensor1D;
    });
  }

  /** Free the auxiliary models this object created (never the given model). */
  dispose(): void {
    // disposeModel: also the weights of a layer applied several times (tfjs counts each use)
    if (this.epiOwned && this.epiModel !== undefined) disposeModel(this.epiModel);
    if (this.aleModel !== undefined) disposeModel(this.aleModel);
    this.epiModel = undefined;
    this.aleModel = undefined;
  }
}
