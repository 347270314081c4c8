/**
 * Statistics of draws, Pyro's `pyro.ops.stats` under one namespace (`ppl.stats`): chain
 * diagnostics in tensor form, autocorrelation, quantiles and intervals (also weighted), random
 * subsets, scoring rules of sample forecasts, the generalized Pareto fit and the information
 * criteria.
 */
export { autocorrelation, autocovariance } from './autocorrelation.js';
export {
  effectiveSampleSize,
  essBulk,
  essTail,
  gelmanRubin,
  rankRhat,
  splitGelmanRubin,
} from './chain_diagnostics.js';
export {
  crpsEmpirical,
  energyScoreEmpirical,
  crpsEmpirical as crps,
  energyScoreEmpirical as energyScore,
} from './scoring_rules.js';
export { quantile } from './quantile.js';
export { weighedQuantile } from './weighed_quantile.js';
export { resample, type ResampleOptions } from './resample.js';
export { pi } from './percentile_interval.js';
export { fitGeneralizedPareto } from './generalized_pareto.js';
export { hpdi } from '../infer/hpdi.js';
export { waic } from '../infer/loo.js';
