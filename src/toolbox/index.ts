/**
 * The uncertainty toolbox: decomposition of predictive uncertainty from Monte Carlo samples,
 * evidential deep learning, MC-dropout and ensemble baselines behind one prediction interface,
 * calibration and out-of-distribution metrics, and MindSpore's `UncertaintyEvaluation`.
 *
 * @module
 */
export {
  meanProbs,
  predictiveEntropy,
  expectedEntropy,
  mutualInformation,
  probabilityVariance,
  decompose,
  kwonUncertainty,
  softmaxUncertainty,
  normalizedUncertainty,
  softplusNormalize,
  type Decomposition,
  type AleatoricEpistemic,
} from './decomposition.js';
export { lgamma, digamma } from './special.js';
export {
  accuracy,
  nll,
  brierScore,
  calibration,
  classificationMetrics,
  type Calibration,
  type ReliabilityBin,
  type ClassificationMetrics,
} from './metrics.js';
export {
  auroc,
  aupr,
  fprAtTpr,
  rocCurve,
  oodMetrics,
  type OodMetrics,
  type OperatingPoint,
} from './ood.js';
export { histogram, type Histogram } from './histogram.js';
export type { ProbMatrix, ClassProbs } from './host.js';
export {
  stochasticPredictor,
  mcDropoutPredictor,
  ensemblePredictor,
  predictSamplesBatched,
  hasDropout,
  type Predictor,
} from './predictors.js';
export {
  looksLikeProbs,
  outputKindOf,
  classProbs,
  classLogits,
  classNll,
  modelLogits,
  type OutputKind,
} from './class_outputs.js';
export * as evidential from './evidential/index.js';
export {
  heteroscedasticRegressionLoss,
  heteroscedasticClassificationLoss,
} from './heteroscedastic.js';
export {
  cloneModel,
  withMcDropout,
  heteroscedasticClassifier,
  heteroscedasticRegressor,
} from './model_surgery.js';
export { fit, type TrainData, type DataBatch, type FitOptions } from './fit.js';
export {
  UncertaintyEvaluation,
  routerModelStore,
  type ModelStore,
  type UncertaintyEvaluationOptions,
} from './uncertainty_evaluation.js';
export { buildReport, type ReportInput, type ScoreInput } from './report/build.js';
export type { UncertaintyReport, ScoreSummary, GalleryItem } from './report/types.js';
export {
  fitTemperature,
  bestTemperatureNll,
  temperatureScale,
  type TemperatureFit,
  type TemperatureOptions,
} from './posthoc/temperature.js';
export {
  fitMixtureTemperature,
  type MixtureTemperatureOptions,
} from './posthoc/mixture_temperature.js';
export {
  calibrateConformal,
  conformalSets,
  type ConformalScore,
  type ConformalOptions,
  type ConformalCalibration,
  type ConformalSets,
} from './posthoc/conformal.js';
export { lastLayerLaplace } from './posthoc/laplace/fit_last_layer.js';
export { allLayersLaplace } from './posthoc/laplace/fit_all_layers.js';
export {
  LastLayerLaplace,
  type LaplaceOptions,
  type LaplacePredictOptions,
  type LinkApproximation,
} from './posthoc/laplace/last_layer.js';
export type { HessianStructure, LaplaceLikelihood } from './posthoc/laplace/curvature.js';
export type { LaplaceTargets } from './posthoc/laplace/checks.js';
export {
  AllLayersLaplace,
  type AllLayersLaplaceOptions,
  type AllLayersStructure,
} from './posthoc/laplace/all_layers.js';
export { Swag, swagPredictor } from './posthoc/swag.js';
export { trainSwag, type TrainSwagOptions } from './posthoc/swag_train.js';
export type {
  SwagOptions,
  SwagSampleOptions,
  SwagPredictorOptions,
  SwagBnUpdate,
} from './posthoc/swag_options.js';
export {
  bnUpdate,
  batchNormLayers,
  saveBnStats,
  restoreBnStats,
  type BnUpdateOptions,
} from './posthoc/bn_update.js';
export { withPosteriorScale } from './posthoc/posterior_scale.js';
export { shiftBenchmark, shiftBenchmarkSteps, type ShiftStop } from './shift/benchmark.js';
export { formatShiftTable } from './shift/shift_table.js';
export type {
  ShiftMethod,
  ShiftSet,
  OodSet,
  ShiftBenchmarkOptions,
  ShiftRow,
  OodRow,
  ShiftSummary,
  ShiftBenchmarkResult,
} from './shift/benchmark_types.js';

// Models with several inputs and shared layers: the inputs UncertaintyEvaluation takes (an array or
// a {[inputName]: tensor} map) and the mean head of a functional regressor.
export {
  type EvaluationInput,
  type EvaluationData,
  type EvaluationBatch,
} from './uncertainty_evaluation.js';
export { meanHeadOf } from './model_surgery.js';

// The trigamma function (the gradient of digamma, whose custom gradient it is).
export { trigamma } from './special.js';

// Laplace prior precision fitting (laplace-torch's optimize_prior_precision options: marglik with
// scalar / layerwise / per-parameter priors, gridsearch with the 'glm' or 'nn' predictive).
export type { PriorPrecisionOptions } from './posthoc/laplace/laplace_posterior.js';

// Regression metrics of a Gaussian predictive (uncertainty-toolbox, properscoring): NLL, CRPS,
// interval coverage and the mean absolute calibration error with its curve.
export {
  gaussianNll,
  gaussianCrps,
  intervalCoverage,
  regressionCalibrationError,
  type RegressionValues,
  type IntervalCoverage,
  type RegressionCalibration,
  type RegressionCalibrationOptions,
} from './regression_metrics.js';
