/**
 * The conversion rules of `TransformToBNN`: the view and the default argument getter of each
 * convertible DNN layer type, the rules of the convolution types, a `SeparableConv2D` split into
 * its depthwise and pointwise Bayesian parts, and a channels-first layer's `dataFormat` kept.
 */
import * as tf from '@tensorflow/tfjs';
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
  type ConvView,
  type LayerArgsDict,
} from './layer_args.js';
import type { ConversionRule } from './conversion_types.js';
import {
  BNN_CONV1D_CLASS,
  BNN_CONV2D_TRANSPOSE_CLASS,
  BNN_CONV3D_CLASS,
  BNN_CONV3D_TRANSPOSE_CLASS,
  BNN_CONV_CLASS,
} from './bnn_class_names.js';
import type { TransformModelOptions } from './transform_options.js';
import type { Estimator } from '../layers/estimator_registry.js';

/** The view of a DNN layer of each convertible type, for the argument getters. */
export const VIEWS = {
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
export const DEFAULT_ARGS = {
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

/**
 * The rules converting every convolution type (Conv2D, DepthwiseConv2D, Conv1D, Conv2DTranspose,
 * SeparableConv2D, Conv3D, Conv3DTranspose) to the Bayesian class `target(BNN_*_CLASS[estimator])`,
 * each layer's arguments `add(get(view(l)))`: its getter (or the default), then `addConvArgs`.
 */
export function convolutionRules(
  options: TransformModelOptions,
  target: (cls: string) => string,
  estimator: Estimator,
): ConversionRule[] {
  const getConv = options.getConvArgs ?? defaultConvArgs;
  const getConv1d = options.getConv1dArgs ?? defaultConv1dArgs;
  const getTranspose = options.getConv2dTransposeArgs ?? defaultConv2dTransposeArgs;
  const getConv3d = options.getConv3dArgs ?? defaultConv3dArgs;
  const getConv3dTranspose = options.getConv3dTransposeArgs ?? defaultConv3dTransposeArgs;
  const add = (a: LayerArgsDict): LayerArgsDict => mergeArgs(a, options.addConvArgs, 'addConvArgs');
  const conv = target(BNN_CONV_CLASS[estimator]);
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
      to: target(BNN_CONV1D_CLASS[estimator]),
      args: (l) => add(getConv1d(conv1dView(l))),
      argsName: by('getConv1dArgs'),
    },
    {
      from: 'Conv2DTranspose',
      to: target(BNN_CONV2D_TRANSPOSE_CLASS[estimator]),
      args: (l) => add(withFormat(getTranspose, conv2dTransposeView(l))),
      argsName: by('getConv2dTransposeArgs'),
    },
    { ...separableRule(conv, getConv, add), argsName: by('getConvArgs') },
    {
      from: 'Conv3D',
      to: target(BNN_CONV3D_CLASS[estimator]),
      args: (l) => add(withFormat(getConv3d, conv3dView(l))),
      argsName: by('getConv3dArgs'),
    },
    {
      from: 'Conv3DTranspose',
      to: target(BNN_CONV3D_TRANSPOSE_CLASS[estimator]),
      args: (l) => add(withFormat(getConv3dTranspose, conv3dTransposeView(l))),
      argsName: by('getConv3dTransposeArgs'),
    },
  ];
}

/**
 * The rule splitting a `SeparableConv2D` into two Bayesian Conv2D layers of class `to`: its
 * depthwise part (inserted before, a grouped convolution) and its pointwise part, each with the
 * arguments `get` reads from its view (then `add`).
 */
export function separableRule(
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
export function withFormat<V extends { readonly dataFormat?: DataFormat }>(
  get: (v: V) => LayerArgsDict,
  view: V,
): LayerArgsDict {
  const args = get(view);
  if (args === null || typeof args !== 'object') return args; // refused by the topology rewrite
  return args.dataFormat === undefined && view.dataFormat === 'channelsFirst'
    ? { ...args, dataFormat: 'channelsFirst' }
    : args;
}
