/**
 * Gaussian processes, as Pyro's `pyro.contrib.gp`: `kernels`, `likelihoods`, `models`
 * (`GPRegression`, `SparseGPRegression`, `VariationalGP`, `VariationalSparseGP`), the
 * {@link conditional} and {@link train} utilities, and `Parameterized` (hyperparameters in the
 * parameter store, priors by `setPrior`).
 * @module
 */
export * as kernels from './kernels/index.js';
export * as likelihoods from './likelihoods/index.js';
export * as models from './models/index.js';
export { Parameterized, type Mode } from './parameterized.js';
export { type ParamValue } from './param_value.js';
export { conditional, type ConditionalOptions } from './conditional.js';
export { train, type TrainOptions } from './train.js';
export * as util from './util.js';
