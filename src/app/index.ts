/**
 * The application layer (Node only, exported from `deepprob/node`): the runners behind the CLI
 * (training, evaluation, the uncertainty report, DNN -> BNN conversion of files), one
 * configuration schema ({@link TrainConfig}) and one helper that opens a run ({@link openRun}).
 */
export {
  type TrainConfig,
  type RunOptions,
  TRAIN_DEFAULTS,
  withModelRecipe,
  recipeDecay,
  checkConfig,
} from './run_config.js';
export { datasetNormalization, transformOf, loadSplit, proportionalTestLimit } from './run_data.js';
export { type OpenedRun, openRun } from './open_run.js';
export { type TrainResult, runTraining, describeRecord, setLearningRate } from './train.js';
export { type EvalConfig, type EvalRunResult, runEvaluation } from './evaluate.js';
export {
  type UncertaintyRunOptions,
  type UncertaintyRunResult,
  runUncertaintyReport,
} from './uncertainty_report.js';
export {
  type ConvertCliOptions,
  type ConvertFileResult,
  checkConvertOut,
  convertFile,
} from './convert.js';
export { checkSplits, checkSetsAgainstModel, describeSet } from './data_checks.js';
export {
  STOP_SIGNALS,
  RunInterrupted,
  TrainingInterrupted,
  TRAINING_STOP_MESSAGES,
  watchSignals,
  type StopMessages,
  type StopSignal,
  type StopSwitch,
} from './graceful_stop.js';
