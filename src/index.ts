/**
 * deepprob: deep probabilistic programming for TypeScript on TensorFlow.js.
 *
 * The public surface is organised as namespaces: `distributions`, `bijectors`, `layers`, `infer`,
 * `ppl`, `dpn`, `transforms`, `toolbox`, `models`, `train`, `data`. Call `await ready()` once
 * before tensor work to pick the best backend. Node-only pieces (file IO, dataset files, the CLI)
 * are in the `deepprob/node` entry.
 *
 * @packageDocumentation
 */
// First: one clear message when the installed tfjs is not the tested version (kernel pack off).
import './backend/tfjs_check.js';

export * as distributions from './distributions/index.js';
export * as bijectors from './bijectors/index.js';
export * as layers from './layers/index.js';
export * as infer from './infer/index.js';
export * as ppl from './ppl/index.js';
export * as dpn from './dpn/index.js';
export * as transforms from './transforms/index.js';
export * as toolbox from './toolbox/index.js';
export * as models from './models/index.js';
export * as train from './train/index.js';
export * as data from './data/index.js';
export { ready, backendInfo, type BackendInfo, type ReadyOptions } from './backend/ready.js';
export { describeBackend } from './backend/describe_backend.js';
export { setSeed, clearSeed, nextSeed, makeRng } from './utils/seed.js';
export { randomNormal } from './backend/random.js';
export {
  DeepProbError,
  ArgumentError,
  NotRegisteredError,
  NotDefinedError,
} from './utils/errors.js';
export { klDivergence, monteCarloKL } from './distributions/kl.js';
export { version } from './version.js';
export {
  TESTED_TFJS_RANGE,
  tfjsCompatibility,
  type TfjsCompatibility,
  type TfjsVersions,
} from './backend/tfjs_version.js';
/**
 * The {@link infer} namespace under a second name that TypeScript accepts in type positions:
 * `infer` is a keyword there (conditional types, `T extends (infer U)[]`), so
 * `const r: infer.EpochReport` does not parse (TS1003 "Identifier expected"). Write
 * `inference.EpochReport`, `inference.ELBOOptions`, `inference.SVIOptions`,
 * `inference.NetWithLoss`, ...; the values are the same objects (`inference.ELBO === infer.ELBO`).
 */
export * as inference from './infer/index.js';
