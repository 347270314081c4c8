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

// Deep evidential regression (Amini et al., NeurIPS 2020; the evidential-deep-learning package's
// DenseNormalGamma, NIG_NLL, NIG_Reg, EvidentialRegression): the Normal-Inverse-Gamma head, its
// losses, uncertainties and Student-t predictive.
export {
  normalGammaOutputs,
  NIG_MIN_POSITIVE,
  NIG_MIN_ALPHA,
  type NormalGammaOutputs,
  type NormalGammaParams,
  type NormalGammaInput,
} from './normal_gamma.js';
export {
  DenseNormalGamma,
  denseNormalGamma,
  type DenseNormalGammaArgs,
} from './dense_normal_gamma.js';
export {
  nigNll,
  nigRegularizer,
  evidentialRegressionLoss,
  type EvidentialRegressionOptions,
} from './nig_losses.js';
export { nigUncertainty, nigPredictive, type NigUncertainty } from './nig_uncertainty.js';
