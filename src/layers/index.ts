/**
 * Bayesian layers (TF.js layers with weight posteriors) and the Bayesian losses.
 *
 * - Dense, Conv2D (NHWC), Conv1D and Conv2DTranspose layers in three estimators: `DenseReparam`,
 *   `DenseLocalReparam`, `DenseFlipout`, `ConvReparam`, `ConvLocalReparam`, `ConvFlipout`,
 *   `Conv1DReparam`, `Conv1DLocalReparam`, `Conv1DFlipout`, `Conv2DTransposeReparam`,
 *   `Conv2DTransposeLocalReparam`, `Conv2DTransposeFlipout` (lowercase factories
 *   `denseReparam(...)`, ...). They mix with ordinary tfjs layers, train with `model.fit`
 *   (their KL is in the model's losses, scaled by `klScale`) and save/load with
 *   `model.save` / `tf.loadLayersModel`.
 * - Priors and posteriors as JSON objects: `normalPrior`, `scaleMixturePrior`, `normalPosterior`.
 * - Model helpers: `bayesianLayers`, `setMode` (`'sample'` | `'mean'`), `modelKL`, `setKLScale`.
 * - Loss cells: `WithBNNLoss` (MindSpore), `ELBOLoss` (BayesianCNN) with KL schedules.
 *
 * @module
 */
import { installSeededDropout } from './seeded_dropout.js';
import { installSeededInitializers } from './seeded_initializers.js';
import { installSharedLayerLosses } from './shared_layer_losses.js';
import { installWrapperConfigSync } from './wrapper_config_sync.js';

// dropout masks follow deepprob's seed (setSeed), as the Bayesian layers' noise does
installSeededDropout();
installSeededInitializers();
// a shared Bayesian layer (or a nested model applied twice) adds its KL to model.fit's loss once
installSharedLayerLosses();
// a Bidirectional over a Bayesian layer saves the mode and KL factor its directions run with
installWrapperConfigSync();

export { BayesianLayer, isBayesianLayer } from './bayesian_layer.js';
export {
  writeWeight,
  type WriteWeightOptions,
  type PriorMeans,
  type PosteriorValues,
  type PosteriorTensors,
} from './weight_values.js';
export {
  normalizeBayesianArgs,
  type BayesianLayerArgs,
  type BayesianMode,
  type LayerArgs,
  type NormalizedBayesianArgs,
} from './bayesian_args.js';
export { weightKL } from './weight_kl.js';
export { DenseVariational, type DenseVariationalArgs } from './dense_variational.js';
export {
  ConvVariational,
  dilateKernel,
  type ConvVariationalArgs,
  type PadMode,
} from './conv_variational.js';
export {
  DenseReparam,
  DenseLocalReparam,
  DenseFlipout,
  denseReparam,
  denseLocalReparam,
  denseFlipout,
  ConvReparam,
  ConvLocalReparam,
  ConvFlipout,
  convReparam,
  convLocalReparam,
  convFlipout,
  Conv2DReparam,
  Conv2DLocalReparam,
  Conv2DFlipout,
  conv2dReparam,
  conv2dLocalReparam,
  conv2dFlipout,
  Conv1DReparam,
  Conv1DLocalReparam,
  Conv1DFlipout,
  conv1dReparam,
  conv1dLocalReparam,
  conv1dFlipout,
  Conv2DTransposeReparam,
  Conv2DTransposeLocalReparam,
  Conv2DTransposeFlipout,
  conv2dTransposeReparam,
  conv2dTransposeLocalReparam,
  conv2dTransposeFlipout,
} from './named_classes.js';
export {
  Conv2DTransposeVariational,
  transposedLength,
  type Conv2DTransposeVariationalArgs,
} from './conv2d_transpose_variational.js';
export { Conv1DVariational, type Conv1DVariationalArgs } from './conv1d_variational.js';
export * from './moped_classes.js';
export {
  ESTIMATORS,
  ESTIMATOR_NAMES,
  DEFAULT_ESTIMATOR,
  isEstimator,
  checkEstimator,
  type Estimator,
  type EstimatorSpec,
  type VariationalKernel,
} from './estimator_registry.js';
export {
  ESTIMATOR_CLASSES,
  BAYESIAN_CLASSES,
  bayesianClassName,
  bayesianClassInfo,
  type BayesianKind,
  type BayesianClassInfo,
  type EstimatorClasses,
  type DenseClass,
  type ConvClass,
  type Conv1DClass,
  type Conv2DTransposeClass,
} from './bayesian_classes.js';
export {
  reparamKernel,
  localReparamKernel,
  LOCAL_REPARAM_MIN_VARIANCE,
  flipoutKernel,
  rademacher,
  standardNormal,
  type LinearOp,
} from './estimators.js';
export {
  normalPrior,
  scaleMixturePrior,
  normalPosterior,
  normalizePrior,
  normalizePosterior,
  priorLogProb,
  DEFAULT_PRIOR,
  DEFAULT_POSTERIOR,
  type NormalPrior,
  type ScaleMixturePrior,
  type PriorConfig,
  type NormalPosterior,
  type PosteriorConfig,
  type PriorInput,
  type PosteriorInput,
} from './priors.js';
export { installSeededDropout } from './seeded_dropout.js';
export { installSeededInitializers } from './seeded_initializers.js';
export { ACTIVATION_NAMES, normalizeActivation, applyActivation } from './activations.js';
export {
  bayesianLayers,
  posteriorRhoVariables,
  setMode,
  restoreModes,
  modelKL,
  setKLScale,
  numBayesianParams,
  type LayerContainer,
} from './model_utils.js';
export { compileBayesian, type CompileBayesianArgs } from './compile_bayesian.js';
export {
  fromTfjsArgs,
  type TfjsLayerArgs,
  type TfjsDenseArgs,
  type TfjsConvArgs,
} from './tfjs_args.js';
export {
  resolveInitializer,
  serializeInitializer,
  type SerializedInitializer,
  type Initializer,
  type InitializerName,
  type InitializerSpec,
} from './initializers.js';
export {
  softmaxCrossEntropy,
  meanSquaredError,
  resolveLoss,
  type LossFn,
  type LossName,
  checkClassTargets,
} from './losses.js';
export { type StepContext, runProgress } from './step_context.js';
export {
  constantKL,
  blundellKL,
  uniformKL,
  soenderbyKL,
  klSchedule,
  parseKLWeight,
  type KLSchedule,
  type KLScheduleContext,
  type KLScheduleSpec,
  type SoenderbyOptions,
} from './kl_schedules.js';
export {
  BayesianLossCell,
  type Backbone,
  type LossContext,
  type LossTerms,
  type StepResult,
  type TrainStepOptions,
} from './bnn_loss.js';
export { checkModelInputs, batchSizeOf, type ModelInput } from './model_input.js';
export { minimizeStep, trainableVariables, type StepTerms, type KeptStep } from './train_step.js';
export {
  epochLoop,
  emptyTotals,
  type BatchSource,
  type EpochLoopOptions,
  type EpochTotals,
  type LoopBatch,
  type LoopPosition,
  type StepStats,
} from './fit_loop.js';
export { disposeModel } from './dispose_model.js';
export { LSTMVariational, type LSTMVariationalArgs } from './lstm_variational.js';
export {
  LSTMReparam,
  LSTMLocalReparam,
  LSTMFlipout,
  lstmReparam,
  lstmLocalReparam,
  lstmFlipout,
} from './named_classes.js';
export { type LSTMClass } from './bayesian_classes.js';
export { RecurrentVariational } from './recurrent_variational.js';
export { recurrentBaseArgs, type RecurrentVariationalArgs } from './recurrent_args.js';
export { GRUVariational, type GRUVariationalArgs } from './gru_variational.js';
export { SimpleRNNVariational, type SimpleRNNVariationalArgs } from './simple_rnn_variational.js';
export {
  GRUReparam,
  GRULocalReparam,
  GRUFlipout,
  gruReparam,
  gruLocalReparam,
  gruFlipout,
  SimpleRNNReparam,
  SimpleRNNLocalReparam,
  SimpleRNNFlipout,
  simpleRnnReparam,
  simpleRnnLocalReparam,
  simpleRnnFlipout,
} from './named_classes.js';
export { type GRUClass, type SimpleRNNClass } from './bayesian_classes.js';
export {
  Conv3DVariational,
  dilateKernel3d,
  intTriple,
  convLength,
  type Conv3DVariationalArgs,
} from './conv3d_variational.js';
export {
  Conv3DTransposeVariational,
  conv3dTransposeWithGrad,
  type Conv3DTransposeVariationalArgs,
} from './conv3d_transpose_variational.js';
export {
  Conv3DReparam,
  Conv3DLocalReparam,
  Conv3DFlipout,
  conv3dReparam,
  conv3dLocalReparam,
  conv3dFlipout,
  Conv3DTransposeReparam,
  Conv3DTransposeLocalReparam,
  Conv3DTransposeFlipout,
  conv3dTransposeReparam,
  conv3dTransposeLocalReparam,
  conv3dTransposeFlipout,
} from './named_classes.js';
export { type Conv3DClass, type Conv3DTransposeClass } from './bayesian_classes.js';
export {
  checkDataFormat,
  channelAxis,
  toChannelsLast,
  fromChannelsLast,
  shapeToChannelsLast,
  shapeFromChannelsLast,
  type DataFormat,
} from './conv_format.js';
export {
  BidirectionalVariational,
  BIDIRECTIONAL_MERGE_MODES,
  type BidirectionalMergeMode,
  type BidirectionalVariationalArgs,
} from './bidirectional_variational.js';
export {
  TimeDistributedVariational,
  type TimeDistributedVariationalArgs,
} from './time_distributed_variational.js';
export { wrappedLayers } from './tfjs_wrappers.js';
export { WithBNNLoss } from './with_bnn_loss.js';
export { ELBOLoss, type ELBOLossOptions } from './elbo_loss.js';
export { installSharedLayerLosses } from './shared_layer_losses.js';
export { installWrapperConfigSync } from './wrapper_config_sync.js';

// BayesianCNN's metrics.get_beta(batch_idx, m, beta_type, epoch, num_epochs), with its names.
export { getBeta } from './kl_schedules.js';
