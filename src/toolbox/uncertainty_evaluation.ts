/**
 * MindSpore's `UncertaintyEvaluation` toolbox for tfjs layers models: epistemic uncertainty by
 * MC dropout (Gal & Ghahramani 2016) and aleatoric uncertainty from a heteroscedastic copy of the
 * model trained with Kendall & Gal's loss, for classification and regression. The auxiliary
 * models are trained on demand and saved to / reloaded from the given paths.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { isTfDataset } from '../utils/tf_data.js';
import { fit, type FitOptions } from './fit.js';
import {
  heteroscedasticClassificationLoss,
  heteroscedasticRegressionLoss,
} from './heteroscedastic.js';
import {
  heteroscedasticClassifier,
  heteroscedasticRegressor,
  withMcDropout,
} from './model_surgery.js';
import { hasDropout } from './predictors.js';
import { aleatoricVariance, sampleVariance } from './evaluation_passes.js';
import { classLogits, classNll, classProbs, outputKindOf } from './class_outputs.js';
import { bayesianLayers, disposeModel, modelKL, restoreModes, setMode } from '../layers/index.js';
import { transformToBnn } from '../transforms/index.js';
import { batchSizeOf, type ModelInput } from '../layers/model_input.js';
import {
  checkHeteroscedasticBase,
  checkInputs,
  checkLoaded,
  checkModelOptions,
  type ModelSpec,
} from './evaluation_checks.js';
import {
  checkedSource,
  checkTrainData,
  datasetSize,
  overDatasetBatches,
  type EvaluationData,
  type EvaluationInput,
} from './evaluation_data.js';
import {
  checkScalarOptions,
  routerModelStore,
  type ModelStore,
  type UncertaintyEvaluationOptions,
} from './evaluation_options.js';

export type { EvaluationBatch, EvaluationData, EvaluationInput } from './evaluation_data.js';
export type { TrainData } from './fit.js';
export {
  routerModelStore,
  type ModelStore,
  type UncertaintyEvaluationOptions,
} from './evaluation_options.js';

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
 *   A copy of a model with Bayesian layers (a converted BNN) is trained on its ELBO (the loss plus
 *   `KL / N`) and its variance averaged over `mcSamples` weight draws (Kendall & Gal, eq. 9),
 *   $$\frac{1}{T}\sum_t \sum_k e^{s_k(x; w_t)}.$$
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
  /** The model's inputs (names, non-batch dims), its output's non-batch dims and the task. */
  private readonly spec: ModelSpec;
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
    const epochs = options.epochs ?? 1;
    const spec = checkModelOptions(options);
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
    this.spec = spec;
    this.data =
      options.trainDataset === undefined
        ? undefined
        : checkTrainData(options.trainDataset, this.spec);
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
      checkedSource(this.requireData(which), seen, this.spec),
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
      prepare = async (m) => checkLoaded(m, 'epiUncerModelPath', 1, this.spec);
    } else if (bnn) {
      const data = this.data;
      const n = data === undefined ? 0 : await datasetSize(data);
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
      checkHeteroscedasticBase(o.model, this.spec);
    }
    const m = load
      ? await this.store.load(o.aleUncerModelPath as string)
      : this.taskType === 'classification'
        ? await heteroscedasticClassifier(o.model, this.numClasses as number)
        : await heteroscedasticRegressor(o.model);
    try {
      if (load) {
        checkLoaded(m, 'aleUncerModelPath', 2, this.spec);
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
        // a copy of a BNN samples its weights and is trained on its ELBO, the KL over N examples
        const bayes = bayesianLayers(m).length > 0;
        if (bayes) setMode(m, 'sample');
        const n = bayes ? await datasetSize(this.requireData('aleatoric')) : 1;
        const elbo = (x: ModelInput, y: tf.Tensor): tf.Scalar =>
          bayes ? (tf.add(loss(x, y), tf.div(modelKL(m), n)) as tf.Scalar) : loss(x, y);
        await this.train(m, elbo, 'aleatoric');
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
   * Epistemic (model) uncertainty: the variance over `mcSamples` dropout passes (or Bayesian
   * weight draws) of each output.
   * @param x finite inputs `[N, ...]` of the model's input shape; for a model with several inputs
   *   one tensor per input, as an array (`model.inputs` order) or a `{[inputName]: tensor}` map
   *   (else an `ArgumentError` naming `x`, or the input: `x[1]`, `x['meta']`); `N = 0` gives an
   *   empty `[0, K]` without training anything. Or a `tf.data.Dataset` of batches, each element
   *   inputs in one of those forms or `{xs, ys?}` (a training set's elements; `ys` is not read):
   *   the rows of every batch in order (an element that does not fit is named `x (element i)`).
   * @returns `[N, K]` (classification; a binary classifier with one output gives `K = 2`, the
   *   variances of `[1 - p, p]` for a sigmoid output, of the logits `[0, z]` for a logit) or
   *   `[N, D]` (regression); the caller disposes it.
   */
  async evalEpistemicUncertainty(
    input: EvaluationInput | tf.data.Dataset<tf.TensorContainer>,
  ): Promise<tf.Tensor2D> {
    if (isTfDataset(input)) {
      const names = this.spec.inputs.map((s) => s.name);
      const f = (x: unknown, name: string): Promise<tf.Tensor> => this.epistemicOf(x, name);
      return (await overDatasetBatches(input, names, f, [0, this.outputWidth()])) as tf.Tensor2D;
    }
    return this.epistemicOf(input, 'x');
  }

  /** The width of the epistemic rows: the output's non-batch size; 2 for a binary one-output. */
  private outputWidth(): number {
    return this.binaryOutput() ? 2 : this.spec.outDims.reduce<number>((a, d) => a * (d ?? 0), 1);
  }

  /** Whether the model is a binary classifier with one output (`p(y = 1)` or its logit). */
  private binaryOutput(): boolean {
    return this.taskType === 'classification' && this.spec.outDims[0] === 1;
  }

  /** {@link evalEpistemicUncertainty} of inputs named `name` in messages. */
  private async epistemicOf(input: unknown, name: string): Promise<tf.Tensor2D> {
    const x = checkInputs(input, name, this.spec.inputs);
    if (batchSizeOf(x) === 0) return tf.zeros([0, this.outputWidth()]);
    const m = await this.epistemicModel();
    const sampleWeights = bayesianLayers(m).length > 0;
    // sample the weights; the given model gets its layers' modes back afterwards
    const modes = sampleWeights ? setMode(m, 'sample') : [];
    try {
      // a binary classifier's one output as its two classes: [1 - p, p] (sigmoid), [0, z] (logit)
      const perPass = this.binaryOutput()
        ? (o: tf.Tensor): tf.Tensor =>
            this.outputKind === 'probs' ? classProbs(o, 'probs') : classLogits(o, 'logits')
        : undefined;
      return sampleVariance(m, x, this.mcSamples, sampleWeights, perPass);
    } finally {
      if (m === this.options.model) restoreModes(m, modes);
    }
  }

  /**
   * Aleatoric (data) uncertainty: the predicted variance, summed over outputs.
   * @param x finite inputs `[N, ...]` of the model's input shape; for a model with several inputs
   *   one tensor per input, as an array or a `{[inputName]: tensor}` map (else an `ArgumentError`
   *   naming `x` or the input); `N = 0` gives an empty `[0]` without training anything. Or a
   *   `tf.data.Dataset` of batches (elements as for {@link evalEpistemicUncertainty}).
   * @returns `[N]`; the caller disposes it.
   */
  async evalAleatoricUncertainty(
    input: EvaluationInput | tf.data.Dataset<tf.TensorContainer>,
  ): Promise<tf.Tensor1D> {
    if (isTfDataset(input)) {
      const names = this.spec.inputs.map((s) => s.name);
      const f = (x: unknown, name: string): Promise<tf.Tensor> => this.aleatoricOf(x, name);
      return (await overDatasetBatches(input, names, f, [0])) as tf.Tensor1D;
    }
    return this.aleatoricOf(input, 'x');
  }

  /** {@link evalAleatoricUncertainty} of inputs named `name` in messages. */
  private async aleatoricOf(input: unknown, name: string): Promise<tf.Tensor1D> {
    const x = checkInputs(input, name, this.spec.inputs);
    if (batchSizeOf(x) === 0) return tf.zeros([0]);
    const m = await this.aleatoricModel();
    // a Bayesian copy (of a BNN) is averaged over mcSamples weight draws (Kendall & Gal, eq. 9)
    return aleatoricVariance(m, x, bayesianLayers(m).length > 0 ? this.mcSamples : 1);
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
