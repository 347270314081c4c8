/**
 * Model zoo: LeNet-5 (MindSpore 32x32 and classic 28x28), AlexNet and 3Conv3FC (BayesianCNN), the
 * conv 20/50 LeNet and the evidential LeNet, each built as a `tf.Sequential` (so it saves and
 * loads), with Bayesian twins using the variational layers of `layers`.
 *
 * @module
 */
export {
  type Padding,
  type Activation,
  type LayerSpec,
  outSize,
  featureSide,
  minInputSide,
} from './spec.js';
export { type Estimator, type PriorOptions, type ModelOptions, buildSequential } from './build.js';
export { type LeNet5Options, lenet5, lenet5Spec } from './lenet5.js';
export { type AlexNetOptions, alexnet, alexnetSpec } from './alexnet.js';
export {
  type ThreeConvThreeFCOptions,
  threeConvThreeFC,
  threeConvThreeFCSpec,
} from './three_conv_three_fc.js';
export { type LeNetOptions, lenet, evidentialLenet, lenetSpec } from './lenet.js';
export {
  type ModelKind,
  type ModelEntry,
  type TrainingRecipe,
  type ZooModelOptions,
  checkActivation,
  BAYES_LENET5_RECIPE,
  MODELS,
  getModelEntry,
  createModel,
} from './registry.js';
