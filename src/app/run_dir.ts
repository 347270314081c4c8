/**
 * Owning a run directory (Node): `--out` is checked for writability before any data is loaded
 * (without recursive `mkdir`, which never returns on some pseudo file systems). Its lock (a lease
 * that a dead holder's successor, on any host, can take over) is `run_lock.ts`.
 */
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ArgumentError } from '../utils/errors.js';

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
 * Check that files can be written in `out` (created if needed) and leave no trace: the folders
 * it had to create for the check are removed again. For the runners that write their output only
 * at the end (`uncertainty`, `shift`, `convert`): an unwritable `--out` (a file, a read-only or
 * pseudo file system such as `/proc`) is refused before any data is loaded.
 * @param out the output directory.
 * @param argument the option name for errors (default `out`).
 * @throws ArgumentError naming the argument when it is not a writable directory.
 */
export function checkWritableDir(out: string, argument = 'out'): void {
  removeCreatedDirs(ensureWritableDir(out, argument));
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
