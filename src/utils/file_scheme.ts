/**
 * The `file://` URL scheme of tfjs in plain Node: `model.save('file://dir')` and
 * `tf.loadLayersModel('file://dir/model.json')` without `@tensorflow/tfjs-node`, the way a TF.js
 * user writes them. `deepprob/node` registers the routers when it is imported; they map the URL to
 * {@link fileIO} (atomic writes, `model.json` + `weights.bin`, the layout of tfjs-node).
 */
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { fileIO } from './file_io.js';

/** The scheme prefix handled here. */
export const FILE_SCHEME = 'file://';

/** Where a `file://` URL points: the model directory and the name of its JSON file. */
export interface FileLocation {
  /** The model directory (created on save). */
  dir: string;
  /** The topology + manifest file inside `dir` (default `model.json`). */
  modelFile: string;
}

/**
 * Resolve a `file://` URL as tfjs-node does: the path after `file://` is a directory (the model
 * goes to `model.json` + `weights.bin` in it) or a `.json` file (its directory holds the weights).
 * Relative paths (`file://runs/m`) are relative to the working directory; absolute ones are written
 * `file:///abs/path` (standard file URLs, percent-decoded, are accepted too).
 *
 * @param url a URL starting with `file://`.
 * @returns the directory and the model file name.
 * @example
 * ```ts
 * fileLocation('file://runs/m');            // { dir: 'runs/m', modelFile: 'model.json' }
 * fileLocation('file:///tmp/m/model.json'); // { dir: '/tmp/m', modelFile: 'model.json' }
 * ```
 */
export function fileLocation(url: string): FileLocation {
  if (typeof url !== 'string' || !url.startsWith(FILE_SCHEME)) {
    throw new ArgumentError('url', `expected a string starting with 'file://', got ${String(url)}`);
  }
  let path = url.slice(FILE_SCHEME.length);
  if (path.startsWith('/')) {
    try {
      path = fileURLToPath(url);
    } catch {
      // not a well-formed file URL (e.g. a stray '%'): take the path as written
    }
  }
  if (path === '') throw new ArgumentError('url', `expected a path after 'file://', got '${url}'`);
  return path.toLowerCase().endsWith('.json')
    ? { dir: dirname(path), modelFile: basename(path) }
    : { dir: path, modelFile: 'model.json' };
}

/**
 * The IO router for `file://` URLs (save and load): a {@link fileIO} handler for the URL, or null
 * for other URLs. It also steps aside (null) when `@tensorflow/tfjs-node` is loaded, whose own
 * `file://` router then serves the URL, so tfjs never sees two handlers.
 *
 * @param url what was passed to `model.save` / `tf.loadLayersModel` (a string, or a handler).
 * @returns the handler or null.
 */
export function fileRouter(url: string | string[]): tf.io.IOHandler | null {
  if (typeof url !== 'string' || !url.startsWith(FILE_SCHEME)) return null;
  if (tf.findBackendFactory('tensorflow') !== null) return null;
  const { dir, modelFile } = fileLocation(url);
  return fileIO(dir, { modelFile });
}

let registered = false;

/**
 * Register {@link fileRouter} for saving and loading (idempotent; done by importing
 * `deepprob/node`). After it, in plain Node:
 *
 * ```ts
 * await model.save('file://runs/bnn');                          // runs/bnn/model.json + weights.bin
 * const back = await tf.loadLayersModel('file://runs/bnn/model.json');
 * ```
 *
 * Loading a model with Bayesian layers needs deepprob imported first (its layer classes register
 * themselves with tfjs on import; otherwise tfjs reports `Unknown layer: DenseReparam`).
 */
export function registerFileScheme(): void {
  if (registered) return;
  registered = true;
  // tfjs's IORouter type says IOHandler, but its registry skips routers that return null (as its
  // own http and browser routers do).
  const router = fileRouter as (url: string | string[]) => tf.io.IOHandler;
  tf.io.registerSaveRouter(router);
  tf.io.registerLoadRouter(router);
}
