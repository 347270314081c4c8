/**
 * Probability distributions, one family per file, and the KL registry.
 *
 * Every family derives from {@link Distribution} (sample, rsample, logProb, prob, cdf, logCdf,
 * survival, mean, mode, variance, stddev, entropy, crossEntropy, batchShape, eventShape) and
 * registers its analytic KL pairs with {@link registerKL} in its own file.
 *
 * @module
 */
export { Distribution, type DistributionOptions, type TensorInput } from './distribution.js';
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
export { TransformedDistribution } from './transformed.js';
