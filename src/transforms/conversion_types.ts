/**
 * The types of the DNN -> BNN topology rewrite: the convertible DNN layer types and wrappers, the
 * Bayesian class each converted wrapper becomes, a conversion rule (DNN class -> Bayesian class
 * with its arguments) and the record of one converted layer.
 */
import * as tf from '@tensorflow/tfjs';
import type { LayerArgsDict } from './layer_args.js';

/** The DNN layer types that can be converted. */
export type DnnLayerType =
  | 'Dense'
  | 'Conv2D'
  | 'Conv1D'
  | 'DepthwiseConv2D'
  | 'Conv2DTranspose'
  | 'SeparableConv2D'
  | 'LSTM'
  | 'GRU'
  | 'SimpleRNN'
  | 'Conv3D'
  | 'Conv3DTranspose';

/**
 * One replaced layer (`path` is `outer/inner` for layers of nested models). A layer split in two
 * (a `SeparableConv2D`) gives two entries: the inserted one named `<name>_depthwise` (made
 * unique), then the one that keeps the DNN layer's name.
 */
export interface ConvertedLayer {
  name: string;
  path: string;
  from: DnnLayerType;
  to: string;
  /**
   * The wrapper the converted layer runs in, when it does: a `'Bidirectional'` (now a
   * `BidirectionalVariational` whose two directions are of class `to`) or a `'TimeDistributed'`
   * (now a `TimeDistributedVariational` over a layer of class `to`).
   */
  wrapper?: DnnWrapperType;
}

/** The tfjs wrappers whose wrapped layer is converted. */
export type DnnWrapperType = 'Bidirectional' | 'TimeDistributed';

/** The Bayesian class each converted tfjs wrapper becomes. */
export const BAYESIAN_WRAPPER_CLASS: Readonly<Record<DnnWrapperType, string>> = {
  Bidirectional: 'BidirectionalVariational',
  TimeDistributed: 'TimeDistributedVariational',
};

/** One conversion rule: DNN class -> Bayesian class with the argument function. */
export interface ConversionRule {
  from: DnnLayerType;
  to: string;
  args: (layer: tf.layers.Layer) => LayerArgsDict;
  /**
   * A Bayesian layer (class `to`) inserted before the converted one, taking the DNN layer's
   * inputs, with these arguments; the converted layer (which keeps the DNN layer's name) then
   * takes its output. A `SeparableConv2D` becomes its depthwise then its pointwise convolution.
   */
  before?: (layer: tf.layers.Layer) => LayerArgsDict;
  /**
   * The option the arguments come from (e.g. `'getDenseArgs'`), named by the errors about them;
   * default `'model'`.
   */
  argsName?: string;
}
