/**
 * Owning a run directory (Node): `--out` is checked for writability before any data is loaded
 * (without recursive `mkdir`, which never returns on some pseudo file systems), and a lock file
 * `.lock` (pid, host, start time) stops two trainers writing one folder; a lock whose process is
 * gone (same host) is stale and replaced.
 */
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ArgumentError, DeepProbError } from '../utils/errors.js';

/** Name of the lock file in a run directory. */
export const LOCK_FILE = '.lock';

/**
 * Create `out` if needed and check that files can be written in it.
 * @param out the run directory.
 * @param argument the option name for errors (default `out`).
 * @returns the folders it created, outermost first (for {@link removeCreatedDirs}).
 * @throws ArgumentError naming the argument when it is not a writable directory.
 */
export function ensureWritableDir(out: string, argument = 'out'): string[] {
  if (typeof out !== 'string' || out === '') {
    throw new ArgumentError(argument, `expected a directory path, got ${String(out)}`);
  }
  const missing: string[] = [];
  let p = resolve(out);
  while (!existsSync(p)) {
    missing.unshift(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  const fail = (why: string): never => {
    throw new ArgumentError(argument, `cannot write to ${out}: ${why}`);
  };
  if (!statSync(p).isDirectory()) fail(`${p} is not a directory`);
  try {
    accessSync(p, constants.W_OK);
  } catch {
    fail(`${p} is not writable`);
  }
  try {
    for (const d of missing) mkdirSync(d);
    const probe = join(out, `.write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (e) {
    removeCreatedDirs(missing);
    fail(e instanceof Error ? e.message : String(e));
  }
  return missing;
}

/**
 * Remove folders made by {@link ensureWritableDir} that are still empty (innermost first), so
 * that a run refused before it wrote anything leaves no trace.
 * @param created the folders, outermost first.
 */
export function removeCreatedDirs(created: readonly string[]): void {
  for (const d of [...created].reverse()) {
    try {
      if (readdirSync(d).length === 0) rmdirSync(d);
    } catch {
      // gone already, or not ours to remove
    }
  }
}

/** What a lock file holds. */
export interface RunLock {
  pid: number;
  host: string;
  startedAt: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Take the lock of a run directory.
 * @returns a function that releases it.
 * @throws DeepProbError when a live process (on this host) or another host holds it.
 */
export function lockRun(out: string): () => void {
  const path = join(out, LOCK_FILE);
  const mine: RunLock = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(mine), { flag: 'wx' });
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let held: Partial<RunLock> = {};
    try {
      held = JSON.parse(readFileSync(path, 'utf8')) as Partial<RunLock>;
    } catch {
      // an unreadable lock (torn write) is stale
    }
    const stale =
      held.host === undefined ||
      (held.host === mine.host && (typeof held.pid !== 'number' || !alive(held.pid)));
    if (!stale) {
      throw new DeepProbError(
        `${out} is in use by process ${String(held.pid)} on ${held.host} since ${String(held.startedAt)} ` +
          `(${path}); wait for it, or delete the lock if that process is gone`,
      );
    }
    rmSync(path, { force: true });
  }
  throw new DeepProbError(`${path}: cannot take the lock`);
}
