/**
 * Evidential deep learning (Sensoy et al. 2018): evidence, losses, KL annealing, outputs.
 *
 * @module
 */
export {
  reluEvidence,
  softplusEvidence,
  expEvidence,
  evidenceFunction,
  EVIDENCE_FUNCTIONS,
  type EvidenceName,
} from './evidence.js';
export {
  maximumLikelihoodLoss,
  crossEntropyBayesRisk,
  squaredErrorBayesRisk,
  evidentialLossFunction,
  EVIDENTIAL_LOSSES,
  type EvidentialLossName,
} from './losses.js';
export { klUniformLoss } from './kl.js';
export type { Reduction } from './common.js';
export {
  piecewiseLinear,
  relativePiecewise,
  epochAnnealing,
  scheduleByName,
  LABML_KL_SCHEDULE,
  type Schedule,
  type ScheduleName,
  type TrainingProgress,
} from './schedule.js';
export {
  dirichletOutputs,
  evidentialStatistics,
  type DirichletOutputs,
  type EvidentialStatistics,
} from './dirichlet.js';
export {
  EvidentialLoss,
  evidentialTrainLoss,
  runNetwork,
  type TrainerProgress,
  type TrainerLossTerms,
  type Network,
  type EvidentialLossOptions,
  type EvidentialLossResult,
} from './loss_object.js';

// pytorch-classification-uncertainty's names (dougbrion, Sensoy et al. 2018): the losses on raw
// outputs with the annealed KL term, the annealing coefficient and the Dirichlet KL to uniform.
export {
  edlMseLoss,
  edlLogLoss,
  edlDigammaLoss,
  annealingCoefficient,
  dirichletKLUniform,
  type EdlLossOptions,
} from './edl_losses.js';
