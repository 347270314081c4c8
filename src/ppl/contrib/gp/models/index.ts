/**
 * GP models (Pyro's `pyro.contrib.gp.models`).
 * @module
 */
export {
  GPModel,
  type GPModelOptions,
  type PredictOptions,
  type MeanFunction,
  type GPPrediction,
} from './model.js';
export { GPRegression, type GPRegressionOptions } from './gpr.js';
export { SparseGPRegression, type SparseGPRegressionOptions, type SparseApprox } from './sgpr.js';
export { VariationalGP, type VariationalGPOptions } from './vgp.js';
export { VariationalSparseGP, type VariationalSparseGPOptions } from './vsgp.js';
