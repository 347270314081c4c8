/**
 * Node-only parts of the toolbox (exported from `deepprob/node`): a {@link ModelStore} on the
 * file system for `UncertaintyEvaluation`, and the uncertainty report (PNG images, file output).
 */
import { fileIO } from '../utils/file_io.js';
import { loadModelFolder } from '../utils/model_folder.js';
import type { ModelStore } from './uncertainty_evaluation.js';

export { imageDataUri } from './report/png.js';
export { renderReportHtml, escapeHtml } from './report/html.js';
export {
  renderSvg,
  reliabilitySpec,
  confidenceCountSpec,
  scoreHistogramSpec,
  probabilitySpec,
} from './report/charts.js';

/** Strip an optional `file://` scheme. */
function dirOf(path: string): string {
  return path.startsWith('file://') ? path.slice('file://'.length) : path;
}

/**
 * Save/load models as directories (`model.json` + `weights.bin`, each written atomically) for
 * `UncertaintyEvaluation`'s `epiUncerModelPath` / `aleUncerModelPath`.
 *
 * @example
 * ```ts
 * new UncertaintyEvaluation({ ..., epiUncerModelPath: 'runs/epi', store: fileModelStore });
 * ```
 */
export const fileModelStore: ModelStore = {
  async save(model, path) {
    await model.save(fileIO(dirOf(path)));
  },
  async load(path) {
    return loadModelFolder(dirOf(path));
  },
};
