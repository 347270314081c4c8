/**
 * Node file IO for `model.save` / `tf.loadLayersModel` (stock tfjs needs `@tensorflow/tfjs-node`
 * for `file://`): a directory with `model.json` (topology + weights manifest) and `weights.bin`,
 * each written atomically (temporary file in the same directory, then `rename`), so a crash never
 * leaves a half-written file under the final name.
 */
import {
  closeSync,
  existsSync,
  statSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ArgumentError, DeepProbError } from './errors.js';
import { checkWeightsManifest, confinedPath, readFileInside, specBytes } from './model_files.js';
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
 * Create `dir` and its missing parents, one `mkdir` each from the deepest folder that exists
 * (Node's recursive `mkdirSync` never returns on some pseudo file systems: `/proc/x` loops on
 * `ENOENT`). An existing directory is left as it is; a parent that is a file, a read-only or
 * pseudo file system each throw the operating system's error, naming the folder.
 *
 * @param dir the directory.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  let p = resolve(dir);
  while (!existsSync(p)) {
    missing.unshift(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (const d of missing) {
    try {
      fsOps.mkdirSync(d);
    } catch (e) {
      // made meanwhile by another writer
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

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
  const tmp = `${path}.tmp-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
  try {
    makeDirs(dirname(path));
    fsOps.writeFileSync(tmp, data);
    fsOps.fsync(tmp);
    fsOps.renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw namedWriteError(path, e);
  }
  removeStaleTemps(path);
}

/** A file-system error of the operating system (it has an errno code such as `ENOSPC`). */
export type FileWriteError = DeepProbError & { code: string; path: string; cause: unknown };

/**
 * Name the file in an operating-system error of a write: Node's own messages of a failed
 * `write` (`ENOSPC: no space left on device, write`, `EIO`, `EDQUOT`) do not say which file.
 * The result is a {@link DeepProbError} `"<path>: cannot write (<message>)"` keeping the errno
 * `code` (and the original error as `cause`); any other error (not from the OS) passes unchanged.
 *
 * @param path the file that was being written.
 * @param e what was thrown.
 */
export function namedWriteError(path: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (!(e instanceof Error) || typeof code !== 'string' || e instanceof DeepProbError) return e;
  const hint =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? ': the disk is full; free space and run again'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? ': the folder is not writable'
        : '';
  const err = new DeepProbError(`${path}: cannot write (${e.message})${hint}`) as FileWriteError;
  err.code = code;
  err.path = path;
  err.cause = e;
  return err;
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
        // one folder at a time (a recursive mkdir never returns under /proc)
        makeDirs(dir);
        if (!statSync(dir).isDirectory()) {
          throw Object.assign(new Error('not a directory'), { code: 'EEXIST' });
        }
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
      let text: string;
      try {
        text = readFileInside(dir, modelFile).toString('utf8');
      } catch (e) {
        if (e instanceof DeepProbError) throw e;
        throw new DeepProbError(
          `${path}: cannot read model: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(text) as tf.io.ModelJSON;
      } catch (e) {
        throw new DeepProbError(
          `${path}: cannot read model: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
      checkWeightsManifest(json, path);
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const parts: Uint8Array[] = [];
        for (const group of manifest) {
          for (const p of group.paths) {
            const file = confinedPath(dir, p, path);
            if (!existsSync(file)) {
              throw new DeepProbError(`${path}: its weight file ${file} is missing`);
            }
            if (!statSync(file).isFile()) {
              throw new DeepProbError(
                `${path}: its weight path ${JSON.stringify(p)} is not a file`,
              );
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
