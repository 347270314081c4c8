/**
 * Where the jobs of a queue put their results: a {@link ResultStore} keyed by job key, each
 * result a small JSON document plus named binary blobs, checksummed (SHA-256 manifest) so that a
 * reader can tell a complete result from a torn, truncated or edited one. {@link DirResultStore}
 * keeps them in a shared directory (a network file system for several machines); object storage
 * can implement the same interface later.
 */
import { existsSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { manifestProblem, readManifest, writeManifest } from '../train/manifest.js';
import { ArgumentError, DeepProbError } from '../utils/errors.js';
import { atomicWriteFile, fsyncDir, makeDirs } from '../utils/file_io.js';

/** Name of the JSON document of a result. */
export const RESULT_FILE = 'result.json';

/** A stored result: its JSON document and its binary blobs by name. */
export interface StoredResult<T = unknown> {
  /** The job key. */
  key: string;
  /** The JSON document. */
  value: T;
  /** Names of the blobs stored with it. */
  blobs: string[];
}

/** What {@link ResultStore.check} finds for a key: absent, valid, or a problem naming the file. */
export type ResultState =
  { state: 'missing' } | { state: 'valid' } | { state: 'corrupt'; problem: string };

/** Thrown when a stored result does not match its checksums. */
export class CorruptResultError extends DeepProbError {
  /**
   * @param key the job key.
   * @param problem what is wrong, naming the file.
   */
  constructor(
    readonly key: string,
    readonly problem: string,
  ) {
    super(`result of job ${key} is corrupt: ${problem}`);
    this.name = 'CorruptResultError';
  }
}

/**
 * The shared store of job results. Writes are all-or-nothing: a reader sees either no result or a
 * complete one; a second writer of the same key (a job run twice after a lost lock) leaves one.
 */
export interface ResultStore {
  /** A description for messages (the directory, a bucket URL). */
  readonly location: string;
  /** Whether `key` holds a valid result. */
  check(key: string): ResultState;
  /** The result of `key`, undefined when absent; throws {@link CorruptResultError} when damaged. */
  get<T>(key: string): StoredResult<T> | undefined;
  /** A blob of a valid result (verified when the result was read by {@link get}). */
  blob(key: string, name: string): Uint8Array;
  /** Store the result of `key` (replacing a corrupt one; keeping a valid one already there). */
  put(key: string, value: unknown, blobs?: Record<string, Uint8Array>): void;
  /** Remove the result of `key`. */
  remove(key: string): void;
  /** Keys with a stored result (valid or not), sorted. */
  keys(prefix?: string): string[];
  /** A private scratch directory of a job (checkpoints while it runs). */
  workDir(key: string): string;
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;
const BLOB = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Check a job key: path-like segments of letters, digits, `.`, `_`, `-`. */
export function checkKey(key: unknown): string {
  if (typeof key !== 'string' || !KEY.test(key) || key.split('/').includes('..')) {
    throw new ArgumentError(
      'key',
      `expected segments of letters, digits, '.', '_', '-' joined by '/', got ${JSON.stringify(key)}`,
    );
  }
  return key;
}

/**
 * A {@link ResultStore} in a directory: `<root>/results/<key>/{result.json, <blobs>,
 * manifest.json}`, written in a temporary folder, checksummed, fsynced and renamed into place;
 * `<root>/work/<key>` is the jobs' scratch space.
 */
export class DirResultStore implements ResultStore {
  readonly location: string;

  /** @param root the shared directory (created when missing). */
  constructor(readonly root: string) {
    if (typeof root !== 'string' || root === '') {
      throw new ArgumentError('store', `expected a directory path, got ${String(root)}`);
    }
    this.location = resolve(root);
    makeDirs(join(this.location, 'results'));
  }

  private dir(key: string): string {
    return join(this.location, 'results', checkKey(key));
  }

  check(key: string): ResultState {
    const dir = this.dir(key);
    if (!existsSync(dir)) return { state: 'missing' };
    if (!existsSync(join(dir, 'manifest.json'))) {
      return { state: 'corrupt', problem: `${dir}: no manifest.json (an incomplete result)` };
    }
    const problem = manifestProblem(dir);
    if (problem !== undefined) return { state: 'corrupt', problem };
    if (!existsSync(join(dir, RESULT_FILE))) {
      return { state: 'corrupt', problem: `${join(dir, RESULT_FILE)}: missing` };
    }
    return { state: 'valid' };
  }

  get<T>(key: string): StoredResult<T> | undefined {
    const s = this.check(key);
    if (s.state === 'missing') return undefined;
    if (s.state === 'corrupt') throw new CorruptResultError(key, s.problem);
    const dir = this.dir(key);
    const path = join(dir, RESULT_FILE);
    let value: T;
    try {
      value = JSON.parse(readFileSync(path, 'utf8')) as T;
    } catch (e) {
      throw new CorruptResultError(key, `${path}: not JSON (${(e as Error).message})`);
    }
    const manifest = readManifest(dir);
    const blobs = Object.keys(manifest?.files ?? {}).filter((n) => n !== RESULT_FILE);
    return { key, value, blobs };
  }

  blob(key: string, name: string): Uint8Array {
    if (!BLOB.test(name)) throw new ArgumentError('name', `bad blob name ${JSON.stringify(name)}`);
    const path = join(this.dir(key), name);
    if (!existsSync(path)) throw new DeepProbError(`result of job ${key} has no blob ${name}`);
    return new Uint8Array(readFileSync(path));
  }

  put(key: string, value: unknown, blobs: Record<string, Uint8Array> = {}): void {
    const dir = this.dir(key);
    for (const name of Object.keys(blobs)) {
      if (!BLOB.test(name) || name === RESULT_FILE || name === 'manifest.json') {
        throw new ArgumentError('blobs', `bad blob name ${JSON.stringify(name)}`);
      }
    }
    const tmp = `${dir}.tmp-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
    makeDirs(tmp);
    try {
      atomicWriteFile(join(tmp, RESULT_FILE), JSON.stringify(value, null, 1));
      for (const [name, data] of Object.entries(blobs)) atomicWriteFile(join(tmp, name), data);
      writeManifest(tmp);
      const state = this.check(key).state;
      if (state === 'valid') return; // another run of the same job finished first: keep it
      if (state === 'corrupt') rmSync(dir, { recursive: true, force: true });
      try {
        renameSync(tmp, dir);
      } catch (e) {
        // lost a race with another writer of the same key: theirs stands when valid
        if (this.check(key).state !== 'valid') throw e;
      }
      fsyncDir(join(dir, '..'));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  remove(key: string): void {
    rmSync(this.dir(key), { recursive: true, force: true });
  }

  keys(prefix = ''): string[] {
    const base = join(this.location, 'results');
    const out: string[] = [];
    const walk = (rel: string): void => {
      const abs = join(base, rel);
      if (!existsSync(abs)) return;
      const names = readdirSync(abs, { withFileTypes: true });
      if (names.some((d) => d.isFile() && (d.name === RESULT_FILE || d.name === 'manifest.json'))) {
        out.push(rel);
        return;
      }
      for (const d of names) {
        if (d.isDirectory() && !d.name.includes('.tmp-'))
          walk(rel === '' ? d.name : `${rel}/${d.name}`);
      }
    };
    walk(prefix === '' ? '' : checkKey(prefix));
    return out.sort();
  }

  workDir(key: string): string {
    const dir = join(this.location, 'work', checkKey(key));
    makeDirs(dir);
    return dir;
  }
}
