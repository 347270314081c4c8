/**
 * One-line DNN -> BNN conversion of TF.js models (MindSpore's `TransformToBNN`): whole models
 * (`transformToBnnModel`) or one layer type (`transformToBnnLayer`), topology and weights kept,
 * posteriors started from the DNN (MOPED scales or a constant), optionally with priors centred
 * on the DNN weights (`mopedPrior`).
 *
 * @module
 */
export { TransformToBNN, transformToBnn, type Estimator } from './transform.js';
export {
  BNN_DENSE_CLASS,
  BNN_CONV_CLASS,
  BNN_CONV1D_CLASS,
  BNN_CONV2D_TRANSPOSE_CLASS,
} from './bnn_class_names.js';
export type {
  TransformToBNNOptions,
  TransformToBnnOptions,
  TransformModelOptions,
  TransformLayerOptions,
  BnnConversion,
} from './transform_options.js';
export { convertModel } from './topology.js';
export type { ConvertedLayer, ConversionRule, DnnLayerType } from './conversion_types.js';
export {
  checkInit,
  posteriorRho,
  initFromWeights,
  type PosteriorInitOptions,
} from './posterior_init.js';
export {
  denseView,
  convView,
  conv1dView,
  conv2dTransposeView,
  depthwiseView,
  defaultDenseArgs,
  defaultConvArgs,
  defaultConv1dArgs,
  defaultConv2dTransposeArgs,
  mergeArgs,
  separableView,
  type SeparableView,
  type DenseView,
  type ConvView,
  type Conv1DView,
  type Conv2DTransposeView,
  type GetArgs,
  type LayerArgsDict,
} from './layer_args.js';
export { MOPED_CLASS } from './moped_prior.js';
export * from '../layers/moped_classes.js';
export type { PriorMeans } from '../layers/bayesian_layer.js';
export { summarizeModel } from './summary.js';
export { BNN_LSTM_CLASS } from './bnn_class_names.js';
export { lstmView, defaultLstmArgs, type LSTMView } from './layer_args.js';
export { BNN_GRU_CLASS, BNN_SIMPLE_RNN_CLASS } from './bnn_class_names.js';
export {
  gruView,
  simpleRnnView,
  defaultGruArgs,
  defaultSimpleRnnArgs,
  type GRUView,
  type SimpleRNNView,
  type RecurrentView,
} from './layer_args.js';
export { BNN_CONV3D_CLASS, BNN_CONV3D_TRANSPOSE_CLASS } from './bnn_class_names.js';
export {
  conv3dView,
  conv3dTransposeView,
  defaultConv3dArgs,
  defaultConv3dTransposeArgs,
  formatArg,
  type Conv3DView,
  type Conv3DTransposeView,
} from './layer_args.js';
export { BAYESIAN_WRAPPER_CLASS, type DnnWrapperType } from './conversion_types.js';
