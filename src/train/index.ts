/**
 * Training: objectives (cross-entropy, the ELBO of Bayesian models, the evidential loss), one
 * optimizer step with its statistics, the epoch loop {@link fit} and test-set evaluation with
 * 1-sample, posterior-mean and MC accuracy. Files (checkpoints, logs, the CLI runners) are in the
 * Node entry `deepprob/node`.
 *
 * @module
 */
export {
  type TrainProgress,
  type LossTerms,
  type TrainLoss,
  type ElboLossOptions,
  type EvidentialTrainOptions,
  crossEntropyLoss,
  elboLoss,
  evidentialLoss,
} from './loss.js';
export { type StepStats, trainStep, trainableVariables } from './step.js';
export { type EpochRecord, type FitOptions, fit } from './fit.js';
export {
  type EvalKind,
  type EvaluateOptions,
  type EvalResult,
  type PerExample,
  evaluate,
} from './evaluate.js';
export type { ProgressReporter, ProgressValues } from './progress.js';
export { klDominanceWarning, type KlGuardInput } from './kl_guard.js';
