/**
 * The options of the DNN -> BNN conversion (`TransformToBNN`, its `transformToBnnModel` /
 * `transformToBnnLayer`, the one-line `transformToBnn`), the option names each accepts and the
 * result of a conversion.
 */
import * as tf from '@tensorflow/tfjs';
import { WithBNNLoss } from '../layers/with_bnn_loss.js';
import type { LossFn, LossName } from '../layers/losses.js';
import { ArgumentError } from '../utils/errors.js';
import {
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
import type { Estimator } from '../layers/estimator_registry.js';
import type { ConvertedLayer } from './conversion_types.js';
import type { PosteriorInitOptions } from './posterior_init.js';

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
   * matches at any depth; a nested model's name keeps every layer it holds); each must name a
   * layer of the model. Default none.
   */
  excludeLayers?: readonly string[];
  /**
   * No console warning when converted layers had kernel/bias (or recurrent, depthwise, ...)
   * regularizers or constraints, which the conversion drops (the prior replaces them); the
   * result's `warning` still says it. Default false.
   */
  quiet?: boolean;
}

/** The options of {@link TransformToBNN} (and the MOPED posterior initialisation). */
export const TRANSFORM_KEYS = [
  'dnnFactor',
  'bnnFactor',
  'lossFn',
  'estimator',
  'init',
  'moped',
  'posteriorSigma',
  'mopedPrior',
  'excludeLayers',
  'quiet',
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
  /**
   * The warning printed (`console.warn`, unless `quiet`) when converted layers had regularizers or
   * constraints, which were dropped (their layer paths and option names); absent when none.
   */
  warning?: string;
}

/** A loss factor: finite and >= 0 (`dflt` when undefined); throws naming `name` otherwise. */
export function checkFactor(v: number | undefined, name: string, dflt: number): number {
  const x = v ?? dflt;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) {
    throw new ArgumentError(name, `expected a finite number >= 0, got ${String(v)}`);
  }
  return x;
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
