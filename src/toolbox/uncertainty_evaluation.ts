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
  withMcDropout,
} from './model_surgery.js';
import { applyWithMcDropout, hasDropout } from './predictors.js';
import { classLogits, classNll, outputKindOf } from './class_outputs.js';
import { bayesianLayers, modelKL, setMode } from '../layers/index.js';
import { transformToBnn } from '../transforms/index.js';

/** Number of training examples of a {@link TrainData}. */
function datasetSize(data: TrainData): number {
  if ('batches' in data) {
    const set = (data as { set?: { count?: number } }).set;
    if (set?.count !== undefined) return set.count;
    let n = 0;
    for (const b of data.batches(0)) {
      n += b.x.shape[0] ?? 0;
      b.dispose?.();
    }
    return n;
  }
  return data.x.shape[0] ?? 0;
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
   * The trained model, one input and one output: for classification `[N, K]` logits, a softmax
   * head (trained on as its log-probabilities `log p`, never softmaxed again) or one output (a
   * binary classifier, `numClasses: 2`: a logit `z` read as the logits `[0, z]`, a sigmoid
   * `p` as `[log(1 - p), log p]`), see `class_outputs.ts`; for regression any output `[N, ...]`.
   */
  model: tf.LayersModel;
  /**
   * Data to train the auxiliary models on (needed unless they are loaded from paths): finite
   * inputs `x` of the model's input shape and, for classification, integer labels `y` in
   * `[0, numClasses)`, shape `[N]` or `[N, 1]` (MindSpore's sparse labels; for one-hot rows pass
   * `tf.argMax(y, -1)`), for regression finite targets shaped like the output (`[N]` for one
   * output); at least one example. Checked by the constructor (a batch source: each batch as
   * it is drawn).
   */
  trainDataset?: TrainData;
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

/** The non-batch dims of a model's single input or output. */
function nonBatchDims(model: tf.LayersModel, which: 'inputs' | 'outputs'): (number | null)[] {
  const list = model[which];
  if (list.length !== 1) {
    throw new ArgumentError(
      'model',
      `expected a model with one input and one output, got ${model.inputs.length} inputs and ${model.outputs.length} outputs`,
    );
  }
  return (list[0] as tf.SymbolicTensor).shape.slice(1);
}

/** Whether `shape` is `[N, ...dims]` (a null dim matches any size). */
function matchesDims(shape: readonly number[], dims: readonly (number | null)[]): boolean {
  return shape.length === dims.length + 1 && dims.every((d, i) => d === null || d === shape[i + 1]);
}

/**
 * Throw `ArgumentError(name)` unless `x` is a finite tensor `[N, ...]` of the model's input shape.
 */
function checkInputs(x: unknown, name: string, dims: readonly (number | null)[]): tf.Tensor {
  if (!(x instanceof tf.Tensor)) {
    throw new ArgumentError(name, `expected a tf.Tensor ${shapeText(dims)} (the model's input)`);
  }
  if (!matchesDims(x.shape, dims)) {
    throw new ArgumentError(
      name,
      `expected shape ${shapeText(dims)} (the model's input), got [${x.shape.join(', ')}]`,
    );
  }
  checkFinite(x, name, 'inputs');
  return x;
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
  /** The model's non-batch input and output dims. */
  private readonly inDims: (number | null)[];
  private readonly outDims: (number | null)[];
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
    this.inDims = nonBatchDims(options.model, 'inputs');
    this.outDims = nonBatchDims(options.model, 'outputs');
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
    if (options.trainDataset !== undefined) this.checkTrainData(options.trainDataset);
  }

  /** Check the training data before any work: shapes, finite values, labels, at least one row. */
  private checkTrainData(data: TrainData): void {
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
      return; // each batch is checked as it is drawn (checkedSource)
    }
    const n = data.x instanceof tf.Tensor ? data.x.shape[0] : undefined;
    if (n === 0) {
      throw new ArgumentError(
        'trainDataset',
        'is empty (x has 0 rows); expected training examples',
      );
    }
    this.checkBatch(data.x, data.y, 'trainDataset.x', 'trainDataset.y');
  }

  /** Check one batch of training inputs and targets (names for the messages). */
  private checkBatch(x: unknown, y: unknown, xName: string, yName: string): void {
    const xs = checkInputs(x, xName, this.inDims);
    const n = xs.shape[0] as number;
    if (this.taskType === 'classification') checkLabels(y, yName, n, this.numClasses as number);
    else checkTargets(y, yName, n, this.outDims);
  }

  /**
   * The training data with every batch of a batch source checked before it is used (in-memory
   * tensors were checked by the constructor), counting the examples it yields.
   */
  private checkedSource(data: TrainData, seen: { n: number }): TrainData {
    if (!('batches' in data)) {
      seen.n += data.x.shape[0] as number;
      return data;
    }
    const check = (b: DataBatch): void =>
      this.checkBatch(b.x, b.y, 'trainDataset (a batch x)', 'trainDataset (a batch y)');
    return {
      *batches(epoch: number): Generator<DataBatch> {
        for (const b of data.batches(epoch)) {
          try {
            check(b);
          } catch (e) {
            b.dispose?.();
            throw e;
          }
          seen.n += b.x.shape[0] as number;
          yield b;
        }
      },
    };
  }

  /** Train `model` with `loss` on the checked training data; refuse a source with no examples. */
  private async train(
    model: tf.LayersModel,
    loss: (x: tf.Tensor, y: tf.Tensor) => tf.Scalar,
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

  private supervisedLoss(model: tf.LayersModel): (x: tf.Tensor, y: tf.Tensor) => tf.Scalar {
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

  private requireData(which: string): TrainData {
    const d = this.options.trainDataset;
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
   * The MC-dropout model: the given model when it has dropout, else a trained/loaded copy (a
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
    if (!bnn && hasDropout(o.model)) {
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
      const data = o.trainDataset;
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
      m.dispose();
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
        const loss = (x: tf.Tensor, y: tf.Tensor): tf.Scalar => {
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
      m.dispose();
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
    if (this.inDims.some((d) => d === null)) {
      throw new ArgumentError(
        'model',
        `the aleatoric copy needs a fully defined input shape, got ${shapeText(this.inDims)}`,
      );
    }
    if (
      this.taskType === 'regression' &&
      !(
        model instanceof tf.Sequential && model.layers.some((l) => /^dense/i.test(l.getClassName()))
      )
    ) {
      throw new ArgumentError(
        'model',
        'the aleatoric copy of a regression model needs a tf.Sequential ending in a dense layer (the mean head)',
      );
    }
  }

  /**
   * Throw `ArgumentError(path)` unless a loaded model takes the model's inputs and has `outputs`
   * outputs, the first shaped like the model's output.
   */
  private checkLoaded(m: tf.LayersModel, path: string, outputs: number): void {
    const dims = (t: tf.SymbolicTensor | undefined): string =>
      t === undefined ? '' : shapeText(t.shape.slice(1));
    const okIn = m.inputs.length === 1 && dims(m.inputs[0]) === shapeText(this.inDims);
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
        `the loaded model does not fit the given model: expected input ${shapeText(this.inDims)} and ${outputs} output${outputs === 1 ? '' : 's'} (the first ${shapeText(this.outDims)}), got inputs ${m.inputs.map(dims).join(', ')} and outputs ${m.outputs.map(dims).join(', ')}`,
      );
    }
  }

  /**
   * Epistemic (model) uncertainty: the variance over `mcSamples` dropout passes of each output.
   * @param x finite inputs `[N, ...]` of the model's input shape (else an `ArgumentError` naming
   *   `x`); `N = 0` gives an empty `[0, K]` without training anything.
   * @returns `[N, K]` (classification) or `[N, D]` (regression); the caller disposes it.
   */
  async evalEpistemicUncertainty(x: tf.Tensor): Promise<tf.Tensor2D> {
    checkInputs(x, 'x', this.inDims);
    if (x.shape[0] === 0) {
      const width = this.outDims.reduce<number>((a, d) => a * (d ?? 0), 1);
      return tf.zeros([0, width]);
    }
    const m = await this.epistemicModel();
    const sampleWeights = bayesianLayers(m).length > 0;
    if (sampleWeights) setMode(m, 'sample');
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
   * @param x finite inputs `[N, ...]` of the model's input shape (else an `ArgumentError` naming
   *   `x`); `N = 0` gives an empty `[0]` without training anything.
   * @returns `[N]`; the caller disposes it.
   */
  async evalAleatoricUncertainty(x: tf.Tensor): Promise<tf.Tensor1D> {
    checkInputs(x, 'x', this.inDims);
    if (x.shape[0] === 0) return tf.zeros([0]);
    const m = await this.aleatoricModel();
    return tf.tidy(() => {
      const [, logVar] = m.apply(x, { training: false }) as tf.Tensor[];
      const s = logVar as tf.Tensor;
      return tf.sum(tf.exp(tf.reshape(s, [s.shape[0] as number, -1])), -1) as tf.Tensor1D;
    });
  }

  /** Free the auxiliary models this object created (never the given model). */
  dispose(): void {
    if (this.epiOwned) this.epiModel?.dispose();
    this.aleModel?.dispose();
    this.epiModel = undefined;
    this.aleModel = undefined;
  }
}
