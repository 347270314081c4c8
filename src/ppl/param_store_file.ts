/**
 * Node-only file IO of the parameter store (exported from `deepprob/node`): `<path>` holds the
 * JSON description (`ParamStore.save().spec` plus the weight file's name) and `<path>.bin`
 * (`<name>.weights.bin` when `path` ends in `.json`) the float32 values, little-endian. Both are
 * written to temporary files and renamed into place, so a crash never leaves half a store.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ArgumentError } from '../utils/errors.js';
import { getParamStore, type ParamStore, type ParamStoreSpec } from './param_store.js';

function weightsPath(path: string): string {
  return path.endsWith('.json') ? `${path.slice(0, -5)}.weights.bin` : `${path}.bin`;
}

function atomicWrite(path: string, data: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/**
 * Save the parameter store to `path` (JSON) and its sibling weight file.
 * @param path the JSON file, e.g. `'params.json'` (weights in `'params.weights.bin'`).
 * @param store the store; default the global one.
 * @example
 * ```ts
 * import { ppl, saveParamStore, loadParamStore } from 'deepprob/node';
 * saveParamStore('fit.json');
 * ppl.clearParamStore();
 * loadParamStore('fit.json');
 * ```
 */
export function saveParamStore(path: string, store: ParamStore = getParamStore()): void {
  if (typeof path !== 'string' || path.length === 0) {
    throw new ArgumentError('path', 'expected a non-empty file path');
  }
  const { spec, weights } = store.save();
  const wPath = weightsPath(path);
  const bytes = new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength);
  atomicWrite(wPath, bytes);
  atomicWrite(path, JSON.stringify({ ...spec, weightsFile: basename(wPath) }, null, 1));
}

/**
 * Load a store saved by {@link saveParamStore} into `store` (parameters of the same names are
 * replaced).
 * @param path the JSON file.
 * @param store the store; default the global one.
 */
export function loadParamStore(path: string, store: ParamStore = getParamStore()): void {
  let spec: ParamStoreSpec & { weightsFile?: string };
  try {
    spec = JSON.parse(readFileSync(path, 'utf8')) as ParamStoreSpec & { weightsFile?: string };
  } catch (e) {
    throw new ArgumentError('path', `cannot read a parameter store from ${path}: ${String(e)}`);
  }
  const wPath = join(dirname(path), spec.weightsFile ?? basename(weightsPath(path)));
  const buf = readFileSync(wPath);
  if (buf.byteLength % 4 !== 0) {
    throw new ArgumentError(
      'path',
      `${wPath}: expected float32 values, got ${buf.byteLength} bytes`,
    );
  }
  const weights = new Float32Array(buf.byteLength / 4);
  new Uint8Array(weights.buffer).set(buf);
  store.load({ spec, weights });
}
