/**
 * GP likelihoods (Pyro's `pyro.contrib.gp.likelihoods`): `Gaussian`, `Bernoulli`, `Poisson`,
 * `MultiClass`.
 * @module
 */
export {
  Likelihood,
  Gaussian,
  MultiClass,
  Bernoulli,
  Poisson,
  type LikelihoodOptions,
  type GaussianOptions,
  type ResponseOptions,
  type MultiClassOptions,
  type ResponseFunction,
} from './likelihood.js';
