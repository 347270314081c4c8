/**
 * The integrity manifest of a checkpoint directory (`manifest.json`, written last): the SHA-256
 * and size of every file, so that a load can tell a complete, untouched checkpoint from a torn,
 * truncated, bit-flipped or edited one, and name the file.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DeepProbError } from '../utils/errors.js';
import { atomicWriteFile } from '../utils/file_io.js';
import { readFileInside } from '../utils/model_files.js';

/** Name of the manifest file. */
export const MANIFEST_FILE = 'manifest.json';

/** The manifest: format version and, per file name, its size and SHA-256 (hex). */
export interface Manifest {
  version: 1;
  files: Record<string, { bytes: number; sha256: string }>;
}

/** SHA-256 (hex) of bytes. */
export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Write `dir/manifest.json` listing every other file of `dir` (atomically, after them).
 * @param dir a checkpoint directory whose files are written and fsynced.
 */
export function writeManifest(dir: string): Manifest {
  const files: Manifest['files'] = {};
  for (const name of readdirSync(dir).sort()) {
    if (name === MANIFEST_FILE || name.includes('.tmp-')) continue;
    const data = readFileSync(join(dir, name));
    files[name] = { bytes: data.length, sha256: sha256(data) };
  }
  const manifest: Manifest = { version: 1, files };
  atomicWriteFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 1));
  return manifest;
}

/** Read and check the shape of `dir/manifest.json`; undefined when there is none. */
export function readManifest(dir: string): Manifest | undefined {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return undefined;
  let m: unknown;
  try {
    m = JSON.parse(readFileInside(dir, MANIFEST_FILE).toString('utf8'));
  } catch (e) {
    if (e instanceof DeepProbError) throw e;
    throw new DeepProbError(`${path}: not valid JSON (the checkpoint is damaged)`);
  }
  const files = (m as { files?: unknown } | null)?.files;
  if (
    (m as { version?: unknown } | null)?.version !== 1 ||
    files === null ||
    typeof files !== 'object'
  ) {
    throw new DeepProbError(`${path}: not a deepprob checkpoint manifest (version 1 with files)`);
  }
  for (const [name, e] of Object.entries(files as Record<string, unknown>)) {
    const entry = e as { bytes?: unknown; sha256?: unknown } | null;
    if (
      name.includes('/') ||
      name.includes('\\') ||
      name === '..' ||
      typeof entry?.bytes !== 'number' ||
      typeof entry.sha256 !== 'string'
    ) {
      throw new DeepProbError(`${path}: bad entry ${JSON.stringify(name)}`);
    }
  }
  return m as Manifest;
}

/**
 * Verify every file of `dir` against its manifest: each file listed exists with its size and
 * SHA-256, and every `*.json` / `*.bin` file of `dir` (what a load reads) is listed.
 * @returns the first problem as a message naming the file, or undefined when all match (or when
 *   the directory has no manifest: a checkpoint written before manifests, or a bare saved model).
 */
export function manifestProblem(dir: string): string | undefined {
  let m: Manifest | undefined;
  try {
    m = readManifest(dir);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  if (m === undefined) return undefined;
  // a file the load reads (`*.json`, `*.bin`) must be covered: dropping its entry from the
  // manifest must not hide a damaged weights file
  for (const name of readdirSync(dir).sort()) {
    if (name === MANIFEST_FILE || name.includes('.tmp-') || !/\.(json|bin)$/i.test(name)) continue;
    if (!Object.prototype.hasOwnProperty.call(m.files, name)) {
      return `${join(dir, name)}: not listed in ${MANIFEST_FILE} (the manifest was edited, or the file added after the save)`;
    }
  }
  for (const [name, e] of Object.entries(m.files)) {
    const path = join(dir, name);
    if (!existsSync(path)) return `${path}: missing (listed in ${MANIFEST_FILE})`;
    let data: Buffer<ArrayBuffer>;
    try {
      // never a byte outside the folder, never a FIFO or a device (a hang, or all the memory)
      data = readFileInside(dir, name);
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
    if (data.length !== e.bytes) {
      return `${path}: ${data.length} bytes, the manifest says ${e.bytes} (truncated or replaced)`;
    }
    if (sha256(data) !== e.sha256) {
      return `${path}: SHA-256 differs from ${MANIFEST_FILE} (the file is corrupted or was edited)`;
    }
  }
  return undefined;
}

/**
 * Throw when `dir` does not match its manifest.
 * @throws DeepProbError naming the file and what to do.
 */
export function verifyManifest(dir: string): void {
  const problem = manifestProblem(dir);
  if (problem !== undefined) {
    throw new DeepProbError(
      `${problem}; restore the checkpoint from a backup, or start the run again with --force`,
    );
  }
}
