/** Probability distributions, one family per file, and the KL registry. */
export { Distribution, type DistributionOptions, type TensorInput } from './distribution.js';
export {
  klDivergence,
  monteCarloKL,
  registerKL,
  lookupKL,
  type KLFunction,
  type MonteCarloKLOptions,
  type DistributionClass,
} from './kl.js';
export { Normal, klNormalNormal } from './normal.js';
