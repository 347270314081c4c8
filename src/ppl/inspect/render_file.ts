/**
 * Node-only: write a model's picture to a file (Pyro's `render_model(..., filename=...)`),
 * exported from `deepprob/node`.
 */
import { extname } from 'node:path';
import { atomicWriteFile } from '../../utils/file_io.js';
import { ArgumentError } from '../../utils/errors.js';
import { checkRenderOptions, renderModel, type RenderModelOptions } from './render.js';
import { dotToSvg } from './svg.js';

const FORMATS = ['.dot', '.gv', '.svg'];

/**
 * Render `model(...args)` and write it to `filename`, atomically: DOT text for `.dot`/`.gv`,
 * an SVG picture (Graphviz in WebAssembly, the optional package `@viz-js/viz`) for `.svg`.
 * Edges follow provenance, `u -> d` when $u \in \operatorname{prov}(\log p_d(x_d))$ (see
 * `renderModel`). The extension is checked before the model runs.
 *
 * @param model the model, a synchronous function.
 * @param args its arguments.
 * @param filename where to write; its extension picks the format.
 * @param options as `renderModel`'s.
 * @returns the text written.
 * @example
 * ```ts
 * import { renderModelToFile } from 'deepprob/node';
 * await renderModelToFile(model, [data], 'model.svg', { renderDistributions: true });
 * ```
 */
export async function renderModelToFile<A extends unknown[]>(
  model: (...args: A) => unknown,
  args: A,
  filename: string,
  options: RenderModelOptions = {},
): Promise<string> {
  if (typeof filename !== 'string' || filename.length === 0) {
    throw new ArgumentError('filename', 'renderModelToFile: expected a non-empty file path');
  }
  const ext = extname(filename).toLowerCase();
  if (!FORMATS.includes(ext)) {
    throw new ArgumentError(
      'filename',
      `renderModelToFile: expected a file ending in ${FORMATS.join(', ')}, got '${filename}'`,
    );
  }
  checkRenderOptions('renderModelToFile', model, args, options);
  const dot = renderModel(model, args, options);
  const text = ext === '.svg' ? await dotToSvg(dot) : dot;
  atomicWriteFile(filename, text);
  return text;
}
