/**
 * Node file IO for `model.save` / `tf.loadLayersModel` (stock tfjs needs `@tensorflow/tfjs-node`
 * for `file://`): a directory with `model.json` (topology + weights manifest) and `weights.bin`,
 * each written atomically (temporary file in the same directory, then `rename`), so a crash never
 * leaves a half-written file under the final name.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ArgumentError, DeepProbError } from './errors.js';
import { optionsObject } from './options.js';

/**
 * The file-system calls that change files, in one object so that the fault-injection suite
 * (`test/faults/`) can stop the process at any one of them; everything that writes checkpoints
 * goes through it.
 */
export const fsOps = {
  writeFileSync,
  renameSync,
  rmSync,
  mkdirSync,
  fsync(path: string): void {
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  },
};

/**
 * fsync a directory, so that the renames and deletions inside it are durable.
 * @param dir the directory.
 */
export function fsyncDir(dir: string): void {
  fsOps.fsync(dir);
}

/**
 * Write `data` to `path` atomically: write and fsync `path.tmp-<pid>-<n>`, then rename it over
 * `path` (atomic on POSIX file systems).
 *
 * @param path destination.
 * @param data bytes or UTF-8 text.
 * @example
 * ```ts
 * atomicWriteFile('out/state.json', JSON.stringify(state));
 * ```
 */
export function atomicWriteFile(path: string, data: Uint8Array | string): void {
  fsOps.mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
  try {
    fsOps.writeFileSync(tmp, data);
    fsOps.fsync(tmp);
    fsOps.renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  removeStaleTemps(path);
}

/** Whether a process with id `pid` is running (signal 0 probes without signalling). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Delete the temporary files `path.tmp-<pid>-<n>` that a writer killed between its write and its
 * rename left behind (their process is gone); a live writer's are kept. Best effort: a file that
 * cannot be listed or deleted is left.
 *
 * @param path the destination whose temporaries to sweep.
 */
export function removeStaleTemps(path: string): void {
  const prefix = `${basename(path)}.tmp-`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)-\d+$/.exec(name.slice(prefix.length));
    if (m === null) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    try {
      rmSync(join(dirname(path), name), { force: true });
    } catch {
      // left for the next write
    }
  }
}

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
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel))
      return bad('leads outside the folder');
  }
  return full;
}

/** File names used by {@link fileIO}. */
export interface FileIOOptions {
  /** Topology + manifest file (default `model.json`). */
  modelFile?: string;
  /** Weights file (default `weights.bin`). */
  weightsFile?: string;
}

function toBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  const buf = Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data;
  return new Uint8Array(buf);
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, float16: 2 };

function specBytes(w: tf.io.WeightsManifestEntry): number {
  const n = w.shape.reduce((a, b) => a * b, 1);
  if (w.quantization !== undefined) {
    return n * (w.quantization.dtype === 'uint8' ? 1 : w.quantization.dtype === 'uint16' ? 2 : 2);
  }
  return n * (DTYPE_BYTES[w.dtype] ?? 4);
}

/**
 * An IO handler saving to / loading from directory `dir`.
 *
 * @param dir the model directory (created on save).
 * @param options file names.
 * @example
 * ```ts
 * await model.save(fileIO('runs/lenet'));
 * const back = await tf.loadLayersModel(fileIO('runs/lenet'));
 * ```
 */
export function fileIO(dir: string, options: FileIOOptions = {}): tf.io.IOHandler {
  if (typeof dir !== 'string' || dir === '') {
    throw new ArgumentError('dir', `expected a model directory path, got ${JSON.stringify(dir)}`);
  }
  optionsObject(options, ['modelFile', 'weightsFile'], 'fileIO');
  const fileName = (value: string | undefined, name: string, dflt: string): string => {
    if (value === undefined) return dflt;
    if (typeof value !== 'string' || value === '' || /[\\/]/.test(value)) {
      throw new ArgumentError(
        name,
        `expected a file name inside the model directory, got ${JSON.stringify(value)}`,
      );
    }
    return value;
  };
  const modelFile = fileName(options.modelFile, 'modelFile', 'model.json');
  const weightsFile = fileName(options.weightsFile, 'weightsFile', 'weights.bin');
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new DeepProbError('fileIO: binary model topologies are not supported');
      }
      try {
        fsOps.mkdirSync(dir, { recursive: true });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTDIR') throw e;
        throw new ArgumentError(
          'dir',
          `${dir}: cannot be the model directory (a file is in the way: ${code}); expected a folder for ${modelFile} and ${weightsFile}`,
        );
      }
      const weights = toBytes(artifacts.weightData);
      atomicWriteFile(join(dir, weightsFile), weights);
      const json: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs ?? [] }],
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
      };
      if (artifacts.trainingConfig !== undefined) json.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata !== undefined) {
        json.userDefinedMetadata = artifacts.userDefinedMetadata;
      }
      atomicWriteFile(join(dir, modelFile), JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const path = join(dir, modelFile);
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(readFileSync(path, 'utf8')) as tf.io.ModelJSON;
      } catch (e) {
        throw new DeepProbError(
          `${path}: cannot read model: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const parts: Uint8Array[] = [];
        for (const group of manifest) {
          for (const p of group.paths) {
            const file = confinedPath(dir, p, path);
            if (!existsSync(file)) {
              throw new DeepProbError(`${path}: its weight file ${file} is missing`);
            }
            parts.push(new Uint8Array(readFileSync(file)));
          }
          specs.push(...group.weights);
        }
        const total = parts.reduce((a, b) => a + b.length, 0);
        const expected = specs.reduce((a, w) => a + specBytes(w), 0);
        if (total !== expected) {
          throw new DeepProbError(
            `${dir}: weight files hold ${total} bytes, the manifest of ${modelFile} expects ${expected} (truncated or mismatched weights)`,
          );
        }
        const joined = new Uint8Array(total);
        let off = 0;
        for (const p of parts) {
          joined.set(p, off);
          off += p.length;
        }
        return [specs, joined.buffer];
      });
    },
  };
}
