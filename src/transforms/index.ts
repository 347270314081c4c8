/**
 * One-line DNN -> BNN conversion of TF.js models (MindSpore's `TransformToBNN`): whole models
 * (`transformToBnnModel`) or one layer type (`transformToBnnLayer`), topology and weights kept,
 * posteriors started from the DNN (MOPED scales or a constant), optionally with priors centred
 * on the DNN weights (`mopedPrior`).
 *
 * @module
 */
export {
  TransformToBNN,
  transformToBnn,
  convertModel,
  checkInit,
  posteriorRho,
  BNN_DENSE_CLASS,
  BNN_CONV_CLASS,
  type Estimator,
  type DnnLayerType,
  type PosteriorInitOptions,
  type TransformToBNNOptions,
  type TransformToBnnOptions,
  type TransformModelOptions,
  type TransformLayerOptions,
  type ConvertedLayer,
  type ConversionRule,
  type BnnConversion,
} from './transform.js';
export {
  denseView,
  convView,
  defaultDenseArgs,
  defaultConvArgs,
  mergeArgs,
  type DenseView,
  type ConvView,
  type GetArgs,
  type LayerArgsDict,
} from './layer_args.js';
export {
  MopedDenseReparam,
  MopedDenseLocalReparam,
  MopedDenseFlipout,
  MopedConvReparam,
  MopedConvLocalReparam,
  MopedConvFlipout,
  MOPED_CLASS,
  isCentredPriorLayer,
  type CentredPriorLayer,
  type PriorMeans,
} from './moped_prior.js';
export { summarizeModel } from './summary.js';
