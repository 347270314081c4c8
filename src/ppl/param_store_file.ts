/**
 * Node-only file IO of the parameter store (exported from `deepprob/node`): `<path>` holds the
 * JSON description (`ParamStore.save().spec` plus the weight file's name, its size and SHA-256) and
 * `<path>.bin` (`<name>.weights.bin` when `path` ends in `.json`) the float32 values,
 * little-endian.
 *
 * A save survives a kill at any instant: the new description is written (and fsynced) to the
 * hidden `.<name>.pending` first, then the weights are written atomically (temporary file, fsync,
 * rename), and only then the description is renamed over `<path>` and the folder fsynced. A kill
 * before the weights' rename leaves the previous pair; a kill between the two renames leaves the
 * new weights next to the previous description, and the complete `.pending` description that
 * matches them, which {@link loadParamStore} then uses. A load checks the weights against the
 * SHA-256 of the description, refuses a weight file named outside the description's folder, a
 * missing or truncated file and non-finite values, each with an error naming the file.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ArgumentError } from '../utils/errors.js';
import { atomicWriteFile, fsOps, fsyncDir, namedWriteError } from '../utils/file_io.js';
import { confinedPath } from '../utils/model_files.js';
import { getParamStore, type ParamStore, type ParamStoreSpec } from './param_store.js';

/** The description as written in the file: the store's spec plus its weight file. */
type FileSpec = ParamStoreSpec & {
  weightsFile?: string;
  /** Size of the weight file in bytes (absent in files of older versions). */
  weightsBytes?: number;
  /** SHA-256 (hex) of the weight file (absent in files of older versions). */
  weightsSha256?: string;
};

function weightsPath(path: string): string {
  return path.endsWith('.json') ? `${path.slice(0, -5)}.weights.bin` : `${path}.bin`;
}

/** The description of a save in progress (see the module docs). */
function pendingPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.pending`);
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function checkPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path.length === 0) {
    throw new ArgumentError('path', `expected a non-empty file path, got ${String(path)}`);
  }
}

/**
 * Save the parameter store to `path` (JSON) and its sibling weight file, so that a kill at any
 * moment leaves a complete store (the previous one or this one; see the module docs).
 *
 * The JSON records, per parameter, its name, constraint, unconstrained shape and offset `o` in
 * the weight file, whose bytes `4 o .. 4 (o + prod(shape))` hold the unconstrained values
 * `u = T^{-1}(x)` as float32; plus the file's size and SHA-256.
 *
 * @param path the JSON file, e.g. `'params.json'` (weights in `'params.weights.bin'`).
 * @param store the store; default the global one.
 * @throws ArgumentError naming `path` when it is not a non-empty string; a `DeepProbError`
 *   naming the file when it cannot be written (full disk, read-only folder).
 * @example
 * ```ts
 * import { ppl, saveParamStore, loadParamStore } from 'deepprob/node';
 * saveParamStore('fit.json');
 * ppl.clearParamStore();
 * loadParamStore('fit.json');
 * ```
 */
export function saveParamStore(path: string, store: ParamStore = getParamStore()): void {
  checkPath(path);
  const { spec, weights } = store.save();
  const wPath = weightsPath(path);
  const bytes = new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength);
  const description: FileSpec = {
    ...spec,
    weightsFile: basename(wPath),
    weightsBytes: bytes.byteLength,
    weightsSha256: sha256(bytes),
  };
  const pending = pendingPath(path);
  atomicWriteFile(pending, JSON.stringify(description, null, 1));
  atomicWriteFile(wPath, bytes);
  try {
    fsOps.renameSync(pending, path);
    fsyncDir(dirname(path));
  } catch (e) {
    throw namedWriteError(path, e);
  }
}

/** Parse a description file; undefined when it does not exist. */
function readSpec(path: string): FileSpec | undefined {
  if (!existsSync(path)) return undefined;
  if (!statSync(path).isFile()) {
    // a FIFO blocked the load forever, a link to /dev/zero read until memory ran out
    throw new ArgumentError(
      'path',
      `${path}: not a regular file (a folder, a FIFO or a device); expected the JSON file written by saveParamStore`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ArgumentError(
      'path',
      `cannot read a parameter store from ${path}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ArgumentError('path', `${path}: not a parameter store written by saveParamStore`);
  }
  return raw as FileSpec;
}

/** Values the description needs: the end of its last parameter (NaN when it is malformed). */
function neededValues(spec: FileSpec): number {
  if (!Array.isArray(spec.params)) return Number.NaN;
  let end = 0;
  for (const p of spec.params) {
    const shape = (p as { shape?: unknown } | null)?.shape;
    const offset = (p as { offset?: unknown } | null)?.offset;
    if (
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isInteger(d) && (d as number) >= 0) ||
      !Number.isInteger(offset) ||
      (offset as number) < 0
    ) {
      return Number.NaN;
    }
    end = Math.max(end, (offset as number) + (shape as number[]).reduce((a, b) => a * b, 1));
  }
  return end;
}

/**
 * Load a store saved by {@link saveParamStore} into `store` (parameters of the same names are
 * replaced; nothing changes when the load fails).
 *
 * Checked before anything is installed: the description is a saved store; its weight file lies
 * in the description's folder (no `..`, absolute path or symbolic link out), exists, holds
 * `4 * max(offset + prod(shape))` bytes and matches the recorded SHA-256; every value is finite.
 *
 * @param path the JSON file.
 * @param store the store; default the global one.
 * @throws ArgumentError naming `path` and the file at fault.
 */
export function loadParamStore(path: string, store: ParamStore = getParamStore()): void {
  checkPath(path);
  const dir = dirname(path);
  const pending = (): FileSpec | undefined => {
    try {
      return readSpec(pendingPath(path));
    } catch {
      return undefined; // a torn leftover of a save that never finished: not a candidate
    }
  };
  let spec = readSpec(path) ?? pending();
  if (spec === undefined) {
    throw new ArgumentError('path', `cannot read a parameter store from ${path}: no such file`);
  }
  const named = spec.weightsFile ?? basename(weightsPath(path));
  let wPath: string;
  try {
    wPath = confinedPath(dir, named, path);
  } catch (e) {
    throw new ArgumentError('path', e instanceof Error ? e.message : String(e));
  }
  if (!existsSync(wPath) || !statSync(wPath).isFile()) {
    throw new ArgumentError('path', `${path}: its weight file ${wPath} is missing`);
  }
  const buf = readFileSync(wPath);
  if (spec.weightsSha256 !== undefined) {
    const sha = sha256(buf);
    if (sha !== spec.weightsSha256) {
      // a save killed between its two renames: the new weights and its pending description
      const next = pending();
      if (next?.weightsSha256 === sha && (next.weightsFile ?? named) === named) spec = next;
      else {
        throw new ArgumentError(
          'path',
          `${wPath}: ${buf.byteLength} bytes whose SHA-256 differs from the one ${path} records ` +
            '(the weight file is corrupted, or was replaced by that of another store)',
        );
      }
    }
  }
  const need = neededValues(spec);
  if (buf.byteLength % 4 !== 0 || (Number.isFinite(need) && buf.byteLength !== 4 * need)) {
    throw new ArgumentError(
      'path',
      `${wPath}: expected ${Number.isFinite(need) ? 4 * need : 'a multiple of 4'} bytes of float32 ` +
        `values for the parameters of ${path}, got ${buf.byteLength} (truncated or mismatched)`,
    );
  }
  const weights = new Float32Array(buf.byteLength / 4);
  new Uint8Array(weights.buffer).set(buf);
  const bad = weights.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    const owner = Array.isArray(spec.params)
      ? spec.params.find((p) => {
          const size = p.shape.reduce((a, b) => a * b, 1);
          return bad >= p.offset && bad < p.offset + size;
        })
      : undefined;
    throw new ArgumentError(
      'path',
      `${wPath}: value ${bad}${owner !== undefined ? ` (param '${owner.name}')` : ''} is ` +
        `${weights[bad]}: a parameter store holds finite values (a damaged or diverged fit)`,
    );
  }
  try {
    store.load({ spec, weights });
  } catch (e) {
    // the description of the file is at fault: name the file, not the in-memory argument
    if (!(e instanceof ArgumentError)) throw e;
    throw new ArgumentError(
      'path',
      `${path}: ${e.message} (not a parameter store written by saveParamStore)`,
    );
  }
}
