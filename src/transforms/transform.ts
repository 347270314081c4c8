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
 * part); the prior is the layers' scalar `N(priorMu, priorSigma^2)` (or, with `mopedPrior`,
 * centred elementwise on the DNN weights with the scalar `priorSigma`).
 */
import * as tf from '@tensorflow/tfjs';
import { WithBNNLoss } from '../layers/bnn_loss.js';
import { resolveLoss, type LossFn, type LossName } from '../layers/losses.js';
import { ArgumentError } from '../utils/errors.js';
import { checkOptionKeys } from '../utils/options.js';
import type { DataFormat } from '../layers/conv_format.js';
import {
  conv1dView,
  conv2dTransposeView,
  conv3dTransposeView,
  conv3dView,
  convView,
  defaultConv1dArgs,
  defaultConv2dTransposeArgs,
  defaultConv3dArgs,
  defaultConv3dTransposeArgs,
  defaultConvArgs,
  defaultDenseArgs,
  defaultGruArgs,
  defaultLstmArgs,
  defaultSimpleRnnArgs,
  denseView,
  depthwiseView,
  gruView,
  lstmView,
  simpleRnnView,
  mergeArgs,
  separableView,
  type Conv1DView,
  type Conv2DTransposeView,
  type Conv3DTransposeView,
  type Conv3DView,
  type ConvView,
  type DenseView,
  type GRUView,
  type LSTMView,
  type SimpleRNNView,
  type GetArgs,
  type LayerArgsDict,
} from './layer_args.js';
import { MOPED_CLASS } from './moped_prior.js';
import {
  BAYESIAN_CLASSES,
  bayesianClassName,
  type BayesianKind,
} from '../layers/bayesian_classes.js';
import { checkEstimator, ESTIMATOR_NAMES, type Estimator } from '../layers/estimator_registry.js';
import { summarizeModel } from './summary.js';
import {
  checkExcludeLayers,
  checkModel,
  convertModel,
  type ConversionRule,
  type ConvertedLayer,
  type DnnLayerType,
} from './topology.js';
import { checkInit, type PosteriorInitOptions } from './posterior_init.js';

export type { Estimator } from '../layers/estimator_registry.js';

/** Bayesian Dense class name for each estimator (from the estimator registry). */
export const BNN_DENSE_CLASS: Readonly<Record<Estimator, string>> = classNames('dense');

/** Bayesian Conv2D class name for each estimator (from the estimator registry). */
export const BNN_CONV_CLASS: Readonly<Record<Estimator, string>> = classNames('conv');

/** Bayesian Conv1D class name for each estimator (from the estimator registry). */
export const BNN_CONV1D_CLASS: Readonly<Record<Estimator, string>> = classNames('conv1d');

/** Bayesian Conv2DTranspose class name for each estimator (from the estimator registry). */
export const BNN_CONV2D_TRANSPOSE_CLASS: Readonly<Record<Estimator, string>> =
  classNames('conv2dTranspose');

/** Bayesian Conv3D class name for each estimator (from the estimator registry). */
export const BNN_CONV3D_CLASS: Readonly<Record<Estimator, string>> = classNames('conv3d');

/** Bayesian Conv3DTranspose class name for each estimator (from the estimator registry). */
export const BNN_CONV3D_TRANSPOSE_CLASS: Readonly<Record<Estimator, string>> =
  classNames('conv3dTranspose');

/** Bayesian LSTM class name for each estimator (from the estimator registry). */
export const BNN_LSTM_CLASS: Readonly<Record<Estimator, string>> = classNames('lstm');

/** Bayesian GRU class name for each estimator (from the estimator registry). */
export const BNN_GRU_CLASS: Readonly<Record<Estimator, string>> = classNames('gru');

/** Bayesian SimpleRNN class name for each estimator (from the estimator registry). */
export const BNN_SIMPLE_RNN_CLASS: Readonly<Record<Estimator, string>> = classNames('simpleRnn');

function classNames(kind: BayesianKind): Record<Estimator, string> {
  return Object.fromEntries(ESTIMATOR_NAMES.map((e) => [e, bayesianClassName(kind, e)])) as Record<
    Estimator,
    string
  >;
}

/** Every registered class name of a kind (plain and MOPED). */
function classesOf(kind: BayesianKind): string[] {
  return BAYESIAN_CLASSES.filter((c) => c.kind === kind).map((c) => c.className);
}
const DENSE_CLASSES: readonly string[] = classesOf('dense');
const CONV_CLASSES: readonly string[] = classesOf('conv');
const CONV1D_CLASSES: readonly string[] = classesOf('conv1d');
const CONV2D_TRANSPOSE_CLASSES: readonly string[] = classesOf('conv2dTranspose');
const LSTM_CLASSES: readonly string[] = classesOf('lstm');
const GRU_CLASSES: readonly string[] = classesOf('gru');
const SIMPLE_RNN_CLASSES: readonly string[] = classesOf('simpleRnn');
const CONV3D_CLASSES: readonly string[] = classesOf('conv3d');
const CONV3D_TRANSPOSE_CLASSES: readonly string[] = classesOf('conv3dTranspose');

/** The Bayesian classes that can replace each convertible DNN layer type. */
const TARGETS: Readonly<Record<DnnLayerType, readonly string[]>> = {
  Dense: DENSE_CLASSES,
  Conv2D: CONV_CLASSES,
  DepthwiseConv2D: CONV_CLASSES,
  Conv1D: CONV1D_CLASSES,
  Conv2DTranspose: CONV2D_TRANSPOSE_CLASSES,
  SeparableConv2D: CONV_CLASSES,
  LSTM: LSTM_CLASSES,
  GRU: GRU_CLASSES,
  SimpleRNN: SIMPLE_RNN_CLASSES,
  Conv3D: CONV3D_CLASSES,
  Conv3DTranspose: CONV3D_TRANSPOSE_CLASSES,
};

/** The view of a DNN layer of each convertible type, for the argument getters. */
const VIEWS = {
  Dense: denseView,
  Conv2D: convView,
  DepthwiseConv2D: depthwiseView,
  Conv1D: conv1dView,
  Conv2DTranspose: conv2dTransposeView,
  SeparableConv2D: (l: tf.layers.Layer): ConvView => separableView(l).pointwise,
  LSTM: lstmView,
  GRU: gruView,
  SimpleRNN: simpleRnnView,
  Conv3D: conv3dView,
  Conv3DTranspose: conv3dTransposeView,
} as const;

/** The default argument getter of each convertible type. */
const DEFAULT_ARGS = {
  Dense: defaultDenseArgs,
  Conv2D: defaultConvArgs,
  DepthwiseConv2D: defaultConvArgs,
  Conv1D: defaultConv1dArgs,
  Conv2DTranspose: defaultConv2dTransposeArgs,
  SeparableConv2D: defaultConvArgs,
  LSTM: defaultLstmArgs,
  GRU: defaultGruArgs,
  SimpleRNN: defaultSimpleRnnArgs,
  Conv3D: defaultConv3dArgs,
  Conv3DTranspose: defaultConv3dTransposeArgs,
} as const;

/** Options of {@link TransformToBNN}. */
export interface TransformToBNNOptions extends PosteriorInitOptions {
  /** Factor of the data loss in `WithBNNLoss` (MindSpore's `dnn_factor`). Default 1. */
  dnnFactor?: number;
  /** Factor of the summed KL in `WithBNNLoss` (MindSpore's `bnn_factor`). Default 1. */
  bnnFactor?: number;
  /** The data loss. Default softmax cross-entropy from logits. */
  lossFn?: LossFn | LossName;
  /** Estimator of the layers made by `transformToBnnModel`. Default `'reparam'`. */
  estimator?: Estimator;
  /**
   * Names of layers to keep deterministic although their type is converted (e.g. the output
   * layer, or the first convolution), `outer/inner` for a layer of a nested model (a bare name
   * matches at any depth); each must name a layer of the model. Default none.
   */
  excludeLayers?: readonly string[];
}

/** The options of {@link TransformToBNN} (and the MOPED posterior initialisation). */
const TRANSFORM_KEYS = [
  'dnnFactor',
  'bnnFactor',
  'lossFn',
  'estimator',
  'init',
  'moped',
  'posteriorSigma',
  'mopedPrior',
  'excludeLayers',
] as const;

/** Options of {@link TransformToBNN.transformToBnnModel} (MindSpore's four arguments). */
export interface TransformModelOptions {
  /** Which arguments of a DNN Dense layer the Bayesian layer receives. Default {@link defaultDenseArgs}. */
  getDenseArgs?: GetArgs<DenseView>;
  /**
   * Which arguments of a DNN Conv2D (or DepthwiseConv2D, seen as a grouped Conv2D) layer the
   * Bayesian layer receives; a SeparableConv2D is seen as its two convolutions, each given to
   * this getter. Default {@link defaultConvArgs}.
   */
  getConvArgs?: GetArgs<ConvView>;
  /** Which arguments of a DNN Conv1D layer the Bayesian layer receives. Default {@link defaultConv1dArgs}. */
  getConv1dArgs?: GetArgs<Conv1DView>;
  /**
   * Which arguments of a DNN Conv2DTranspose layer the Bayesian layer receives. Default
   * {@link defaultConv2dTransposeArgs}.
   */
  getConv2dTransposeArgs?: GetArgs<Conv2DTransposeView>;
  /** Extra Bayesian Dense arguments (e.g. `{priorSigma: 0.05}`); may not repeat a getter key. */
  addDenseArgs?: LayerArgsDict;
  /** Extra Bayesian convolution arguments (Conv2D, DepthwiseConv2D, Conv1D, Conv2DTranspose); may not repeat a getter key. */
  addConvArgs?: LayerArgsDict;
  /** Which arguments of a DNN LSTM layer the Bayesian LSTM receives. Default {@link defaultLstmArgs}. */
  getLstmArgs?: GetArgs<LSTMView>;
  /** Extra Bayesian LSTM arguments; may not repeat a getter key. */
  addLstmArgs?: LayerArgsDict;
  /** Which arguments of a DNN GRU layer the Bayesian GRU receives. Default {@link defaultGruArgs}. */
  getGruArgs?: GetArgs<GRUView>;
  /** Extra Bayesian GRU arguments; may not repeat a getter key. */
  addGruArgs?: LayerArgsDict;
  /** Which arguments of a DNN SimpleRNN layer the Bayesian SimpleRNN receives. Default {@link defaultSimpleRnnArgs}. */
  getSimpleRnnArgs?: GetArgs<SimpleRNNView>;
  /** Extra Bayesian SimpleRNN arguments; may not repeat a getter key. */
  addSimpleRnnArgs?: LayerArgsDict;
  /** Which arguments of a DNN Conv3D layer the Bayesian Conv3D receives. Default {@link defaultConv3dArgs}. */
  getConv3dArgs?: GetArgs<Conv3DView>;
  /**
   * Which arguments of a DNN Conv3DTranspose layer the Bayesian layer receives. Default
   * {@link defaultConv3dTransposeArgs}.
   */
  getConv3dTransposeArgs?: GetArgs<Conv3DTransposeView>;
}

/** Options of {@link TransformToBNN.transformToBnnLayer}. */
export interface TransformLayerOptions {
  /** Getter of the DNN layer's arguments (a Dense, Conv or Conv1D view, matching `dnnLayerType`). */
  getArgs?:
    | GetArgs<DenseView>
    | GetArgs<ConvView>
    | GetArgs<Conv1DView>
    | GetArgs<Conv2DTransposeView>
    | GetArgs<LSTMView>
    | GetArgs<GRUView>
    | GetArgs<SimpleRNNView>
    | GetArgs<Conv3DView>
    | GetArgs<Conv3DTransposeView>;
  /** Extra Bayesian layer arguments; may not repeat a key of `getArgs`. */
  addArgs?: LayerArgsDict;
}

/** The result of a conversion: a trainable Bayesian model. */
export interface BnnConversion {
  /** The Bayesian model (a new model; the DNN is left untouched). */
  model: tf.LayersModel;
  /** `WithBNNLoss(model, lossFn, dnnFactor, bnnFactor)`, ready for `optimizer.minimize`. */
  loss: WithBNNLoss;
  /** The layers that became Bayesian, in model order. */
  converted: ConvertedLayer[];
  /** A printable listing of the model, like MindSpore's, showing which layers became Bayesian. */
  summary(): string;
}

function checkFactor(v: number | undefined, name: string, dflt: number): number {
  const x = v ?? dflt;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) {
    throw new ArgumentError(name, `expected a finite number >= 0, got ${String(v)}`);
  }
  return x;
}

/** The class name of a Bayesian layer class or name; throws naming `name` otherwise. */
function bnnClassName(t: unknown, name: string): string {
  const cls =
    typeof t === 'string'
      ? t
      : typeof t === 'function' && typeof (t as { className?: unknown }).className === 'string'
        ? (t as unknown as { className: string }).className
        : undefined;
  const known = [
    ...DENSE_CLASSES,
    ...CONV_CLASSES,
    ...CONV1D_CLASSES,
    ...CONV2D_TRANSPOSE_CLASSES,
    ...LSTM_CLASSES,
    ...GRU_CLASSES,
    ...SIMPLE_RNN_CLASSES,
    ...CONV3D_CLASSES,
    ...CONV3D_TRANSPOSE_CLASSES,
  ];
  if (cls === undefined || !known.includes(cls)) {
    throw new ArgumentError(
      name,
      `expected a Bayesian layer class or one of ${known.join(', ')}, got ${String(cls ?? t)}`,
    );
  }
  return cls;
}

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
    const { excludeLayers, ...init } = options;
    this.init = checkInit(init);
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
      ...this.convolutionRules(options),
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

  /** The rules converting every convolution type (Conv2D, DepthwiseConv2D, Conv1D, Conv2DTranspose). */
  private convolutionRules(options: TransformModelOptions): ConversionRule[] {
    const getConv = options.getConvArgs ?? defaultConvArgs;
    const getConv1d = options.getConv1dArgs ?? defaultConv1dArgs;
    const getTranspose = options.getConv2dTransposeArgs ?? defaultConv2dTransposeArgs;
    const getConv3d = options.getConv3dArgs ?? defaultConv3dArgs;
    const getConv3dTranspose = options.getConv3dTransposeArgs ?? defaultConv3dTransposeArgs;
    const add = (a: LayerArgsDict): LayerArgsDict =>
      mergeArgs(a, options.addConvArgs, 'addConvArgs');
    const conv = this.target(BNN_CONV_CLASS[this.estimator]);
    // the option an error about a layer's arguments names: its getter when given
    const by = (getter: keyof TransformModelOptions): string =>
      options[getter] !== undefined ? getter : 'addConvArgs';
    return [
      {
        from: 'Conv2D',
        to: conv,
        args: (l) => add(withFormat(getConv, convView(l))),
        argsName: by('getConvArgs'),
      },
      {
        from: 'DepthwiseConv2D',
        to: conv,
        args: (l) => add(withFormat(getConv, depthwiseView(l))),
        argsName: by('getConvArgs'),
      },
      {
        from: 'Conv1D',
        to: this.target(BNN_CONV1D_CLASS[this.estimator]),
        args: (l) => add(getConv1d(conv1dView(l))),
        argsName: by('getConv1dArgs'),
      },
      {
        from: 'Conv2DTranspose',
        to: this.target(BNN_CONV2D_TRANSPOSE_CLASS[this.estimator]),
        args: (l) => add(withFormat(getTranspose, conv2dTransposeView(l))),
        argsName: by('getConv2dTransposeArgs'),
      },
      { ...separableRule(conv, getConv, add), argsName: by('getConvArgs') },
      {
        from: 'Conv3D',
        to: this.target(BNN_CONV3D_CLASS[this.estimator]),
        args: (l) => add(withFormat(getConv3d, conv3dView(l))),
        argsName: by('getConv3dArgs'),
      },
      {
        from: 'Conv3DTranspose',
        to: this.target(BNN_CONV3D_TRANSPOSE_CLASS[this.estimator]),
        args: (l) => add(withFormat(getConv3dTranspose, conv3dTransposeView(l))),
        argsName: by('getConv3dTransposeArgs'),
      },
    ];
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
    return this.run(this.convolutionRules(options));
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
    return { model, loss, converted, summary: () => summarizeModel(model) };
  }
}

/**
 * The rule splitting a `SeparableConv2D` into two Bayesian Conv2D layers of class `to`: its
 * depthwise part (inserted before, a grouped convolution) and its pointwise part, each with the
 * arguments `get` reads from its view (then `add`).
 */
function separableRule(
  to: string,
  get: (v: ConvView) => LayerArgsDict,
  add: (a: LayerArgsDict) => LayerArgsDict,
): ConversionRule {
  return {
    from: 'SeparableConv2D',
    to,
    args: (l) => add(withFormat(get, separableView(l).pointwise)),
    before: (l) => add(withFormat(get, separableView(l).depthwise)),
  };
}

/**
 * The arguments `get` reads from a convolution's view, with the view's `dataFormat` added when the
 * DNN layer is channels-first and the getter left it out (a MindSpore-style getter written for
 * channels-last layers would otherwise build a channels-last layer on channels-first data).
 */
function withFormat<V extends { readonly dataFormat?: DataFormat }>(
  get: (v: V) => LayerArgsDict,
  view: V,
): LayerArgsDict {
  const args = get(view);
  if (args === null || typeof args !== 'object') return args; // refused by the topology rewrite
  return args.dataFormat === undefined && view.dataFormat === 'channelsFirst'
    ? { ...args, dataFormat: 'channelsFirst' }
    : args;
}

/** Options of the one-line {@link transformToBnn}. */
export interface TransformToBnnOptions extends TransformToBNNOptions {
  /** Which layer types to convert. Default `'all'`. */
  layers?: 'dense' | 'conv' | 'all';
  /** Extra Bayesian Dense arguments (e.g. `{priorSigma: 0.05}`). */
  addDenseArgs?: LayerArgsDict;
  /** Extra Bayesian Conv arguments. */
  addConvArgs?: LayerArgsDict;
  /** Extra Bayesian LSTM arguments (with `layers: 'all'`). */
  addLstmArgs?: LayerArgsDict;
  /** Extra Bayesian GRU arguments (with `layers: 'all'`). */
  addGruArgs?: LayerArgsDict;
  /** Extra Bayesian SimpleRNN arguments (with `layers: 'all'`). */
  addSimpleRnnArgs?: LayerArgsDict;
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
