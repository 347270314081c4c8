/**
 * Probability distributions, one family per file, and the KL registry.
 *
 * Every family derives from {@link Distribution} (sample, rsample, logProb, prob, cdf, icdf, logCdf,
 * survival, mean, mode, variance, stddev, entropy, crossEntropy, batchShape, eventShape) and
 * registers its analytic KL pairs with {@link registerKL} in its own file.
 *
 * @module
 */
export {
  Distribution,
  type DistributionOptions,
  type MaskInput,
  type NestedBooleans,
  type TensorInput,
} from './distribution.js';
export { ScalarDistribution } from './scalar.js';
export { LocationScaleDistribution } from './location_scale.js';
export {
  klDivergence,
  monteCarloKL,
  registerKL,
  lookupKL,
  type KLFunction,
  type MonteCarloKLOptions,
  type DistributionClass,
} from './kl.js';
export { type ProbsOrLogits } from './probs.js';
export { Normal, klNormalNormal } from './normal.js';
export { Bernoulli, klBernoulliBernoulli } from './bernoulli.js';
export { Beta, klBetaBeta } from './beta.js';
export { Categorical, klCategoricalCategorical } from './categorical.js';
export { Cauchy, klCauchyCauchy } from './cauchy.js';
export { Dirichlet, klDirichletDirichlet } from './dirichlet.js';
export { Exponential, klExponentialExponential } from './exponential.js';
export { Gamma, klGammaGamma } from './gamma.js';
export { Geometric, klGeometricGeometric } from './geometric.js';
export { Gumbel, klGumbelGumbel, EULER_GAMMA } from './gumbel.js';
export { HalfNormal, klHalfNormalHalfNormal } from './half_normal.js';
export { Independent, klIndependentIndependent } from './independent.js';
export { Laplace, klLaplaceLaplace } from './laplace.js';
export { Logistic } from './logistic.js';
export { LogNormal, klLogNormalLogNormal } from './log_normal.js';
export { MultivariateNormalDiag, klMvnDiagMvnDiag } from './mvn_diag.js';
export { Poisson, klPoissonPoisson } from './poisson.js';
export { StudentT } from './student_t.js';
export { Uniform, klUniformUniform } from './uniform.js';
export { DiscreteUniform } from './discrete_uniform.js';
export { Delta, type DeltaOptions } from './delta.js';
export { TransformedDistribution } from './transformed.js';
export { HalfCauchy, klHalfCauchyHalfCauchy } from './half_cauchy.js';
export { InverseGamma, klInverseGammaInverseGamma } from './inverse_gamma.js';
export { Weibull, klWeibullWeibull } from './weibull.js';
export { Binomial, klBinomialBinomial } from './binomial.js';
export { NegativeBinomial } from './negative_binomial.js';
export { Multinomial } from './multinomial.js';
export { MultivariateNormal, klMvnMvn, type MvnCovariance } from './mvn.js';
export { LowRankMultivariateNormal, klLowRankLowRank } from './lowrank_mvn.js';
export { LKJCholesky } from './lkj_cholesky.js';
export { VonMises } from './von_mises.js';
export { ImproperUniform } from './improper_uniform.js';
export { ExpandedDistribution, klExpandedExpanded } from './expanded.js';
export { MaskedDistribution, klMaskedMasked } from './masked.js';
export * as constraints from '../constraints/constraints.js';
export { Constraint, type Bound, type ConstraintKind } from '../constraints/constraints.js';
export { bijectTo, transformTo, registerBijectTo, type BijectorFactory } from './transform_to.js';
export { MixtureSameFamily } from './mixture_same_family.js';
export { OneHotCategorical, klOneHotCategoricalOneHotCategorical } from './one_hot_categorical.js';
export { RelaxedBernoulli } from './relaxed_bernoulli.js';
export { RelaxedOneHotCategorical } from './relaxed_one_hot_categorical.js';
export { ZeroInflatedDistribution, type GateParams } from './zero_inflated.js';
export { ZeroInflatedPoisson } from './zero_inflated_poisson.js';
export { ZeroInflatedNegativeBinomial } from './zero_inflated_negative_binomial.js';
export { BetaBinomial } from './beta_binomial.js';
export { DirichletMultinomial } from './dirichlet_multinomial.js';
export { GammaPoisson } from './gamma_poisson.js';
export { Chi2 } from './chi2.js';
export { Pareto } from './pareto.js';
export { Kumaraswamy } from './kumaraswamy.js';
export { TruncatedNormal } from './truncated_normal.js';
export { AsymmetricLaplace } from './asymmetric_laplace.js';
export { GaussianRandomWalk } from './gaussian_random_walk.js';
export { MultivariateStudentT } from './multivariate_student_t.js';
export { SkewNormal } from './skew_normal.js';
export { DiscreteHMM, type DiscreteHMMOptions } from './discrete_hmm.js';
export { GaussianHMM, type GaussianHMMOptions } from './gaussian_hmm.js';
export { OrderedLogistic } from './ordered_logistic.js';
export { LKJ } from './lkj.js';
export { Wishart, klWishartWishart, type WishartScale } from './wishart.js';
export {
  InverseWishart,
  klInverseWishartInverseWishart,
  type InverseWishartScale,
} from './inverse_wishart.js';
export { TruncatedDistribution, type TruncationBounds } from './truncated.js';
export { FoldedDistribution } from './folded.js';
export { LogUniform } from './log_uniform.js';
export {
  ContinuousBernoulli,
  klContinuousBernoulliContinuousBernoulli,
} from './continuous_bernoulli.js';
export { FisherSnedecor } from './fisher_snedecor.js';
export { LogisticNormal } from './logistic_normal.js';
export { SoftLaplace } from './soft_laplace.js';
export { ZeroSumNormal } from './zero_sum_normal.js';
export { Empirical } from './empirical.js';
export { ProjectedNormal } from './projected_normal.js';
export { conjugateUpdate, hasConjugateUpdate, type ConjugateUpdate } from './conjugate.js';
export { MixtureGeneral } from './mixture_general.js';
export { MaskedMixture } from './masked_mixture.js';
export {
  LeftCensoredDistribution,
  RightCensoredDistribution,
  IntervalCensoredDistribution,
  type CensoringIndicator,
} from './censored.js';
export { BetaProportion } from './beta_proportion.js';
export { Gompertz, scaledExpIntegralE1 } from './gompertz.js';
export { Levy } from './levy.js';
export { SineBivariateVonMises, type SineCorrelation } from './sine_bivariate_von_mises.js';
export { CAR } from './car.js';
export { GaussianScaleMixture } from './gaussian_scale_mixture.js';
export {
  Stable,
  standardStable,
  unsafeStandardStable,
  STABLE_HOLE_RADIUS,
  type StableCoords,
  type StableOptions,
} from './stable.js';
export { StableWithLogProb, stableStandardLogPdf } from './stable_log_prob.js';
export { klGaussianGaussian, klExponentialGamma } from './kl_cross.js';
export { klGaussianIndependent } from './kl_cross.js';

// Pyro's dist.util.clamp_probs (Pyro examples round 4)
export { clampProbs, PROBS_EPS } from './clamp_probs.js';

// Session 17: differentiable quantiles of the Gamma, Beta and Student t families (TFP's
// igammainv / betaincinv, scipy's gammaincinv / betaincinv / t.ppf)
export { gammaQuantile, betaQuantile, studentTQuantile } from './quantile_ops.js';
export type { BetaQuantileOutput } from './quantile_ops.js';
