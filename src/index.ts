/**
 * deepprob: deep probabilistic programming for TypeScript on TensorFlow.js.
 *
 * The public surface is organised as namespaces: `distributions`, `bijectors`, `layers`, `infer`,
 * `ppl`, `dpn`, `transforms`, `toolbox`, `models`, `train`, `data`. Call `await ready()` once
 * before tensor work to pick the best backend.
 *
 * @packageDocumentation
 */
export * as distributions from './distributions/index.js';
export {
  ready,
  backendInfo,
  describeBackend,
  type BackendInfo,
  type ReadyOptions,
} from './backend/ready.js';
export { setSeed, clearSeed } from './utils/seed.js';
export {
  DeepProbError,
  ArgumentError,
  NotRegisteredError,
  NotDefinedError,
} from './utils/errors.js';
export { klDivergence, monteCarloKL } from './distributions/kl.js';
export { version } from './version.js';
