/**
 * The files of a model or checkpoint folder, checked before they are read (Node): weight paths
 * confined to the folder, files read only when they are regular files inside it, and the weights
 * manifest of a `model.json` (shapes, dtypes, names, topology) checked before any weight is decoded.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { DeepProbError } from './errors.js';

/**
 * The path of a file named in `dir`'s `model.json` (a weight file), confined to `dir`: a plain
 * relative path with no `..` segment, not absolute, and (after resolving symbolic links) inside
 * `dir`. Nothing outside the folder is ever read.
 *
 * @param dir the model directory.
 * @param name the path as written in the manifest.
 * @param source the file that names it (for the error).
 * @throws DeepProbError naming `source` and the path otherwise (no size or content of the target).
 */
export function confinedPath(dir: string, name: unknown, source: string): string {
  const bad = (why: string): never => {
    throw new DeepProbError(
      `${source}: weight path ${JSON.stringify(name)} ${why}; weight files must lie inside ${dir}`,
    );
  };
  if (typeof name !== 'string' || name === '' || name.includes('\0'))
    return bad('is not a file name');
  if (isAbsolute(name) || /^[a-zA-Z]:/.test(name)) return bad('is absolute');
  if (name.split(/[\\/]/).includes('..')) return bad("contains '..'");
  const full = join(dir, name);
  if (existsSync(full)) {
    const rel = relative(realpathSync(dir), realpathSync(full));
    if (rel === '') return bad('is the folder itself, not a file');
    if (rel.startsWith('..') || isAbsolute(rel)) return bad('leads outside the folder');
  }
  return full;
}

/**
 * Read the file `name` of the folder `dir` (a checkpoint's `model.json`, `state.json`,
 * `manifest.json`, `*.bin`), refusing before a byte is read a symbolic link that leads outside
 * `dir` and anything that is not a regular file: a FIFO would block the read forever, a device
 * such as `/dev/zero` fill the memory, a folder fail with Node's `EISDIR`.
 *
 * @param dir the folder.
 * @param name a file name inside it.
 * @returns the bytes.
 * @throws DeepProbError naming the file and what was expected (a missing file throws Node's
 *   `ENOENT`, for callers that treat it apart).
 */
export function readFileInside(dir: string, name: string): Buffer<ArrayBuffer> {
  const full = join(dir, name);
  const real = realpathSync(full);
  const rel = relative(realpathSync(dir), real);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new DeepProbError(
      `${full}: a symbolic link that leads outside the folder (to ${real}); the files of a checkpoint or model folder must lie inside ${dir}`,
    );
  }
  if (!statSync(real).isFile()) {
    throw new DeepProbError(
      `${full}: not a regular file (a FIFO, a device or a folder); expected the plain file written by the save`,
    );
  }
  return readFileSync(real);
}

/** Bytes per value of the weight dtypes tfjs decodes (string weights have no place in a layers model). */
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

/** Bytes per value of the quantized weight encodings of tfjs. */
const QUANT_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

/**
 * Check the weights manifest of a parsed `model.json` before anything is read: an array of
 * groups `{paths: string[], weights: [{name, shape, dtype}]}`, each shape a list of integers >= 0,
 * each dtype one tfjs decodes (`float32`, `int32`, `bool`, `complex64`; a `quantization` dtype
 * `uint8`, `uint16` or `float16`), each name once, and a `modelTopology` object beside it.
 * (tfjs would fail on it later with a raw TypeError, size a negative buffer, or load the second of
 * two weights of one name into a layer and leave another unset.)
 *
 * @param json the parsed file.
 * @param path the file (for the error).
 * @throws DeepProbError naming the file and the entry otherwise.
 */
export function checkWeightsManifest(json: unknown, path: string): void {
  const bad = (what: string): never => {
    throw new DeepProbError(`${path}: ${what} (not a model.json written by model.save)`);
  };
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return bad('expected a JSON object');
  }
  const topology = (json as { modelTopology?: unknown }).modelTopology;
  if (topology === null || typeof topology !== 'object' || Array.isArray(topology)) {
    return bad(
      `modelTopology is ${topology === undefined ? 'missing' : JSON.stringify(topology)}: expected the model's topology object`,
    );
  }
  const wm = (json as { weightsManifest?: unknown }).weightsManifest;
  if (wm === undefined) return;
  if (!Array.isArray(wm)) return bad('weightsManifest must be an array of {paths, weights}');
  const seen = new Map<string, string>();
  for (const [g, group] of (wm as unknown[]).entries()) {
    const gr = group as { paths?: unknown; weights?: unknown } | null;
    if (gr === null || typeof gr !== 'object') bad(`weightsManifest[${g}] must be an object`);
    if (!Array.isArray(gr?.paths) || !(gr.paths as unknown[]).every((p) => typeof p === 'string'))
      bad(`weightsManifest[${g}].paths must be an array of file names`);
    if (!Array.isArray(gr?.weights)) bad(`weightsManifest[${g}].weights must be an array`);
    for (const [i, w] of (gr?.weights as unknown[]).entries()) {
      const e = w as { name?: unknown; shape?: unknown; dtype?: unknown } | null;
      const where = `weightsManifest[${g}].weights[${i}]`;
      if (e === null || typeof e !== 'object' || typeof e.name !== 'string')
        bad(`${where} must be {name, shape, dtype}`);
      if (
        !Array.isArray(e?.shape) ||
        !(e.shape as unknown[]).every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)
      )
        bad(
          `${where} (${String(e?.name)}) has shape ${JSON.stringify(e?.shape)}: expected integers >= 0`,
        );
      if (typeof e?.dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, e.dtype))
        bad(
          `${where} (${String(e?.name)}) has dtype ${JSON.stringify(e?.dtype)}: expected one of ${Object.keys(DTYPE_BYTES).join(', ')}`,
        );
      const q = (e as { quantization?: unknown }).quantization;
      if (q !== undefined) {
        const qd = (q as { dtype?: unknown } | null)?.dtype;
        if (typeof qd !== 'string' || !Object.hasOwn(QUANT_BYTES, qd))
          bad(
            `${where} (${String(e?.name)}) has quantization dtype ${JSON.stringify(qd)}: expected one of ${Object.keys(QUANT_BYTES).join(', ')}`,
          );
      }
      const name = (e as { name: string }).name;
      const first = seen.get(name);
      if (first !== undefined)
        bad(`weight name ${JSON.stringify(name)} appears twice (${first} and ${where})`);
      seen.set(name, where);
    }
  }
}

/** Bytes a manifest entry occupies in the weight files. */
export function specBytes(w: tf.io.WeightsManifestEntry): number {
  const n = w.shape.reduce((a, b) => a * b, 1);
  if (w.quantization !== undefined) return n * (QUANT_BYTES[w.quantization.dtype] ?? 4);
  return n * (DTYPE_BYTES[w.dtype] ?? 4);
}
