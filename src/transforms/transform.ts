/**
 * DNN -> BNN conversion of TF.js models (MindSpore's `TransformToBNN`).
 *
 * The model's topology (Sequential or functional, built in code or loaded from a `model.json`,
 * nested models included) is taken from its JSON description; every layer of a selected type
 * (`Dense`, `Conv2D`, `DepthwiseConv2D`, `Conv1D`, `Conv2DTranspose`, `SeparableConv2D`, `Conv3D`,
 * `Conv3DTranspose`) is replaced by a Bayesian layer built from MindSpore-style arguments
 * (`get*Args(dp)` plus `add*Args`), all other layers (pooling, batch norm, dropout, residual
 * adds, concatenations, depthwise convolutions, ...) pass through unchanged with their weights,
 * and the layer names, order and connections stay those of the DNN. The Bayesian layers start
 * from the DNN:
 *
 * $$\mu = w_{\text{DNN}},\qquad \sigma = \delta\,|w_{\text{DNN}}|\ \text{(MOPED, default
 * } \delta = 0.1)\ \text{or a constant } \sigma_0,$$
 *
 * so the converted model predicts like the DNN before any Bayesian training (`init: 'fresh'`
 * keeps the Bayesian layers' own random initialisation instead). With `mopedPrior: true` the
 * prior of every weight is centred on its DNN value, `p(w) = N(w_DNN, sigma_p^2)` (see
 * `moped_prior.ts`); otherwise it is the layers' scalar prior `N(priorMu, priorSigma^2)`.
 * The result trains with `WithBNNLoss(model, lossFn, dnnFactor, bnnFactor)`.
 *
 * Limits: `Dense`, `Conv2D`, `DepthwiseConv2D` (a grouped Bayesian Conv2D), `Conv1D`,
 * `Conv2DTranspose`, `SeparableConv2D`, `Conv3D`, `Conv3DTranspose` (the convolutions in either
 * data format, but a channels-first `Conv1D`, which tfjs 4.22 returns channels-last, is refused),
 * `LSTM`, `GRU` and `SimpleRNN` layers (not
 * stateful, no dropout; returned and initial states kept, so encoder-decoders convert), also
 * inside `Bidirectional` (to `BidirectionalVariational`) and `TimeDistributed` (to
 * `TimeDistributedVariational`) wrappers, are converted (a separable convolution becomes two Bayesian Conv2D layers, its
 * depthwise part `<name>_depthwise`, a grouped convolution, then its pointwise 1x1 part under the
 * layer's name); kernel/bias
 * regularizers and constraints of a converted layer are dropped (the KL plays the regularizer's
 * part) with one `deepprob: warning:` naming the layers (`quiet: true` silences it; the result's
 * `warning` keeps it); the prior is the layers' scalar `N(priorMu, priorSigma^2)` (or, with `mopedPrior`,
 * centred elementwise on the DNN weights with the scalar `priorSigma`).
 */
import * as tf from '@tensorflow/tfjs';
import { WithBNNLoss } from '../layers/with_bnn_loss.js';
import { resolveLoss, type LossFn, type LossName } from '../layers/losses.js';
import { ArgumentError } from '../utils/errors.js';
import { booleanOption, checkOptionKeys } from '../utils/options.js';
import { droppedOptions, droppedWarning } from './dropped_regularizers.js';
import type { DataFormat } from '../layers/conv_format.js';
import {
  defaultDenseArgs,
  defaultGruArgs,
  defaultLstmArgs,
  defaultSimpleRnnArgs,
  denseView,
  gruView,
  lstmView,
  simpleRnnView,
  mergeArgs,
  type LayerArgsDict,
} from './layer_args.js';
import { MOPED_CLASS } from './moped_prior.js';
import { checkEstimator, type Estimator } from '../layers/estimator_registry.js';
import { summarizeModel } from './summary.js';
import { convertModel } from './topology.js';
import { checkExcludeLayers, checkModel } from './topology_checks.js';
import type { ConversionRule, DnnLayerType } from './conversion_types.js';
import { checkInit, type PosteriorInitOptions } from './posterior_init.js';
import {
  BNN_DENSE_CLASS,
  BNN_GRU_CLASS,
  BNN_LSTM_CLASS,
  BNN_SIMPLE_RNN_CLASS,
  TARGETS,
  bnnClassName,
} from './bnn_class_names.js';
import {
  TRANSFORM_KEYS,
  checkFactor,
  type BnnConversion,
  type TransformLayerOptions,
  type TransformModelOptions,
  type TransformToBNNOptions,
  type TransformToBnnOptions,
} from './transform_options.js';
import {
  DEFAULT_ARGS,
  VIEWS,
  convolutionRules,
  separableRule,
  withFormat,
} from './conversion_rules.js';

export type { Estimator } from '../layers/estimator_registry.js';

/**
 * MindSpore's `TransformToBNN`: convert a trained DNN into a trainable BNN, the whole model at
 * once ({@link TransformToBNN.transformToBnnModel}) or one layer type
 * ({@link TransformToBNN.transformToBnnLayer}). The loss of the result is MindSpore's
 * `WithBNNLossCell`: `dnnFactor * lossFn(model(x), y) + bnnFactor * sum_l KL_l`.
 *
 * @example
 * ```ts
 * // MindSpore: TransformToBNN(train_network, 60000, 0.000001)
 * const t = new TransformToBNN(lenet, { dnnFactor: 60000, bnnFactor: 1e-6 });
 * const { model, loss, summary } = await t.transformToBnnModel();
 * console.log(summary());
 * const opt = tf.train.adam(1e-3);
 * opt.minimize(() => loss.compute(x, y).loss);
 * ```
 */
export class TransformToBNN {
  readonly model: tf.LayersModel;
  readonly dnnFactor: number;
  readonly bnnFactor: number;
  readonly lossFn: LossFn | LossName;
  readonly estimator: Estimator;
  private readonly init: PosteriorInitOptions;
  /** No console warning for dropped regularizers / constraints (option `quiet`). */
  readonly quiet: boolean;
  /** The layers kept deterministic (option `excludeLayers`). */
  readonly excludeLayers: readonly string[];

  /**
   * @param model the trained DNN (`tf.LayersModel`).
   * @param options loss factors (MindSpore's `dnn_factor`, `bnn_factor`), loss, estimator, init.
   */
  constructor(model: tf.LayersModel, options: TransformToBNNOptions = {}) {
    this.model = checkModel(model);
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an object, got ${String(options)}`);
    }
    checkOptionKeys(options, TRANSFORM_KEYS, 'TransformToBNN');
    this.dnnFactor = checkFactor(options.dnnFactor, 'dnnFactor', 1);
    this.bnnFactor = checkFactor(options.bnnFactor, 'bnnFactor', 1);
    this.lossFn = options.lossFn ?? 'softmaxCrossEntropy';
    // checked here, before any model is built (a bad name used to fail after the conversion)
    resolveLoss(this.lossFn);
    this.estimator = checkEstimator(options.estimator);
    const { excludeLayers, quiet, ...init } = options;
    this.init = checkInit(init);
    this.quiet = booleanOption(quiet, 'quiet', false);
    this.excludeLayers = [...checkExcludeLayers(excludeLayers, this.model)];
  }

  /** The Bayesian class a converted layer gets (its MOPED twin with `mopedPrior`). */
  private target(cls: string): string {
    return this.init.mopedPrior === true ? (MOPED_CLASS[cls] ?? cls) : cls;
  }

  /**
   * Convert every Dense and convolution layer (MindSpore `transform_to_bnn_model`): `Dense`,
   * `Conv2D`, `DepthwiseConv2D` (a grouped Bayesian Conv2D, `group = inChannels`), `Conv1D`,
   * `Conv2DTranspose` and `SeparableConv2D`; and every `LSTM` (a Bayesian LSTM with kernel mean
   * `[W; U]`, `getLstmArgs`, `addLstmArgs`); every `GRU` (`getGruArgs`, `addGruArgs`) and
   * `SimpleRNN` (`getSimpleRnnArgs`, `addSimpleRnnArgs`) likewise. A `Bidirectional` or
   * `TimeDistributed` over a converted type becomes `BidirectionalVariational` /
   * `TimeDistributedVariational` over the Bayesian layer (`converted[i].wrapper` names it).
   * @param options MindSpore's `get_dense_args`, `get_conv_args`, `add_dense_args`,
   *   `add_conv_args` (and `getConv1dArgs` / `getConv2dTransposeArgs` for Conv1D /
   *   Conv2DTranspose layers); an `add*Args` key that repeats a
   *   `get*Args` key is an error.
   */
  async transformToBnnModel(options: TransformModelOptions = {}): Promise<BnnConversion> {
    checkOptionKeys(
      options,
      [
        'getDenseArgs',
        'getConvArgs',
        'getConv1dArgs',
        'getConv2dTransposeArgs',
        'addDenseArgs',
        'addConvArgs',
        'getLstmArgs',
        'addLstmArgs',
        'getGruArgs',
        'addGruArgs',
        'getSimpleRnnArgs',
        'addSimpleRnnArgs',
        'getConv3dArgs',
        'getConv3dTransposeArgs',
      ],
      'transformToBnnModel',
    );
    const getDense = options.getDenseArgs ?? defaultDenseArgs;
    const getLstm = options.getLstmArgs ?? defaultLstmArgs;
    const getGru = options.getGruArgs ?? defaultGruArgs;
    const getRnn = options.getSimpleRnnArgs ?? defaultSimpleRnnArgs;
    return this.run([
      {
        from: 'Dense',
        to: this.target(BNN_DENSE_CLASS[this.estimator]),
        argsName: options.getDenseArgs !== undefined ? 'getDenseArgs' : 'addDenseArgs',
        args: (l) => mergeArgs(getDense(denseView(l)), options.addDenseArgs, 'addDenseArgs'),
      },
      ...convolutionRules(options, (c) => this.target(c), this.estimator),
      {
        from: 'LSTM',
        to: this.target(BNN_LSTM_CLASS[this.estimator]),
        argsName: options.getLstmArgs !== undefined ? 'getLstmArgs' : 'addLstmArgs',
        args: (l) => mergeArgs(getLstm(lstmView(l)), options.addLstmArgs, 'addLstmArgs'),
      },
      {
        from: 'GRU',
        to: this.target(BNN_GRU_CLASS[this.estimator]),
        argsName: options.getGruArgs !== undefined ? 'getGruArgs' : 'addGruArgs',
        args: (l) => mergeArgs(getGru(gruView(l)), options.addGruArgs, 'addGruArgs'),
      },
      {
        from: 'SimpleRNN',
        to: this.target(BNN_SIMPLE_RNN_CLASS[this.estimator]),
        argsName: options.getSimpleRnnArgs !== undefined ? 'getSimpleRnnArgs' : 'addSimpleRnnArgs',
        args: (l) =>
          mergeArgs(getRnn(simpleRnnView(l)), options.addSimpleRnnArgs, 'addSimpleRnnArgs'),
      },
    ]);
  }

  /**
   * Convert every convolution (Conv2D, DepthwiseConv2D, Conv1D, Conv2DTranspose) and leave the Dense layers
   * deterministic (`transformToBnn(model, { layers: 'conv' })`).
   * @param options the convolution getters and `addConvArgs`.
   */
  async transformConvolutions(
    options: Pick<
      TransformModelOptions,
      | 'getConvArgs'
      | 'getConv1dArgs'
      | 'getConv2dTransposeArgs'
      | 'getConv3dArgs'
      | 'getConv3dTransposeArgs'
      | 'addConvArgs'
    > = {},
  ): Promise<BnnConversion> {
    checkOptionKeys(
      options,
      [
        'getConvArgs',
        'getConv1dArgs',
        'getConv2dTransposeArgs',
        'getConv3dArgs',
        'getConv3dTransposeArgs',
        'addConvArgs',
      ],
      'transformConvolutions',
    );
    return this.run(convolutionRules(options, (c) => this.target(c), this.estimator));
  }

  /**
   * Convert the layers of one type only (MindSpore `transform_to_bnn_layer`), e.g.
   * `transformToBnnLayer('Dense', 'DenseReparam')` leaves the convolutions deterministic.
   * @param dnnLayerType `'Dense'`, `'Conv2D'`, `'DepthwiseConv2D'` (to a Bayesian Conv2D class),
   *   `'Conv1D'` (to a Bayesian Conv1D class), `'Conv2DTranspose'` (to a Bayesian
   *   Conv2DTranspose class), `'SeparableConv2D'` (to two Bayesian Conv2D layers, depthwise then
   *   pointwise), `'LSTM'`, `'GRU'` or `'SimpleRNN'` (to a Bayesian class of that recurrence).
   * @param bnnLayerType a Bayesian layer class (e.g. `layers.DenseReparam`) or its class name;
   *   must be of the same kind as `dnnLayerType`.
   * @param options `getArgs` / `addArgs`, as MindSpore's `get_args` / `add_args`.
   */
  async transformToBnnLayer(
    dnnLayerType: DnnLayerType,
    bnnLayerType: string | { className: string },
    options: TransformLayerOptions = {},
  ): Promise<BnnConversion> {
    checkOptionKeys(options, ['getArgs', 'addArgs'], 'transformToBnnLayer');
    if (typeof dnnLayerType !== 'string' || !Object.hasOwn(TARGETS, dnnLayerType)) {
      throw new ArgumentError(
        'dnnLayerType',
        `expected ${Object.keys(TARGETS)
          .map((t) => `'${t}'`)
          .join(', ')}, got '${String(dnnLayerType)}'`,
      );
    }
    const cls = bnnClassName(bnnLayerType, 'bnnLayerType');
    const targets = TARGETS[dnnLayerType];
    if (!targets.includes(cls)) {
      throw new ArgumentError(
        'bnnLayerType',
        `${cls} cannot replace a ${dnnLayerType} layer (expected one of ${targets.join(', ')})`,
      );
    }
    const view = VIEWS[dnnLayerType] as (l: tf.layers.Layer) => unknown;
    const getter = (options.getArgs ?? DEFAULT_ARGS[dnnLayerType]) as (v: unknown) => LayerArgsDict;
    const get = (v: unknown): LayerArgsDict =>
      withFormat(getter, v as { readonly dataFormat?: DataFormat });
    const add = (a: LayerArgsDict): LayerArgsDict => mergeArgs(a, options.addArgs, 'addArgs');
    const argsName = options.getArgs !== undefined ? 'getArgs' : 'addArgs';
    if (dnnLayerType === 'SeparableConv2D') {
      return this.run([{ ...separableRule(this.target(cls), get, add), argsName }]);
    }
    const rule: ConversionRule = {
      from: dnnLayerType,
      to: this.target(cls),
      args: (l) => add(get(view(l))),
      argsName,
    };
    return this.run([rule]);
  }

  private async run(rules: ConversionRule[]): Promise<BnnConversion> {
    const { model, converted } = await convertModel(
      this.model,
      rules,
      this.init,
      this.excludeLayers,
    );
    const loss = new WithBNNLoss(model, this.lossFn, this.dnnFactor, this.bnnFactor);
    const warning = droppedWarning(droppedOptions(this.model, converted));
    if (warning !== undefined && !this.quiet) console.warn(warning);
    return {
      model,
      loss,
      converted,
      summary: () => summarizeModel(model),
      ...(warning !== undefined ? { warning } : {}),
    };
  }
}

/**
 * One-line DNN -> BNN conversion.
 *
 * @param model a trained `tf.LayersModel`.
 * @param options which layers (`'dense' | 'conv' | 'all'`), the estimator, the posterior
 *   initialisation (`init`, `moped`, `posteriorSigma`, `mopedPrior`), extra layer arguments and
 *   the loss factors.
 * @returns the Bayesian model, its `WithBNNLoss` and the list of converted layers.
 * @example
 * ```ts
 * const { model, loss, summary } = await transforms.transformToBnn(dnn, { estimator: 'flipout' });
 * console.log(summary());
 * ```
 */
export async function transformToBnn(
  model: tf.LayersModel,
  options: TransformToBnnOptions = {},
): Promise<BnnConversion> {
  if (options !== null && typeof options === 'object') {
    checkOptionKeys(
      options,
      [
        ...TRANSFORM_KEYS,
        'layers',
        'addDenseArgs',
        'addConvArgs',
        'addLstmArgs',
        'addGruArgs',
        'addSimpleRnnArgs',
      ],
      'transformToBnn',
    );
  }
  const {
    layers: _layers,
    addDenseArgs: _dense,
    addConvArgs: _conv,
    addLstmArgs: _lstm,
    addGruArgs: _gru,
    addSimpleRnnArgs: _rnn,
    ...base
  } = options ?? {};
  const t = new TransformToBNN(
    model,
    options === null || typeof options !== 'object' ? options : base,
  );
  const which = options.layers ?? 'all';
  const dense = { addArgs: options.addDenseArgs };
  const conv = { addArgs: options.addConvArgs };
  if (which === 'all') {
    return t.transformToBnnModel({
      addDenseArgs: options.addDenseArgs,
      addConvArgs: options.addConvArgs,
      addLstmArgs: options.addLstmArgs,
      addGruArgs: options.addGruArgs,
      addSimpleRnnArgs: options.addSimpleRnnArgs,
    });
  }
  if (which === 'dense') return t.transformToBnnLayer('Dense', BNN_DENSE_CLASS[t.estimator], dense);
  if (which === 'conv') return t.transformConvolutions({ addConvArgs: conv.addArgs });
  throw new ArgumentError('layers', `expected 'dense', 'conv' or 'all', got '${String(which)}'`);
}
