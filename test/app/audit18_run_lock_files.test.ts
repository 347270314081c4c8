/**
 * Audit 18 (reliability, round 2): a run folder's `.lock` that is not a regular file. A folder
 * gave Node's raw `EISDIR: illegal operation on a directory, read`; a FIFO (or a link to a device)
 * blocked the trainer forever before it wrote anything. Both are refused naming the lock file;
 * a dead holder's lock is still taken over.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCK_FILE, lockHost, lockRun } from '../../src/app/run_lock.js';
import { DeepProbError } from '../../src/utils/errors.js';

const root = mkdtempSync(join(tmpdir(), 'deepprob-a18-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A run folder whose `.lock` is made by `make`. */
function runWith(make: (lock: string) => void): string {
  const d = join(root, `r${n++}`);
  mkdirSync(d);
  make(join(d, LOCK_FILE));
  return d;
}

function refused(dir: string): void {
  let err: unknown;
  try {
    lockRun(dir).release();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DeepProbError);
  expect((err as Error).message).toContain(join(dir, LOCK_FILE));
  expect((err as Error).message).toMatch(/not a regular file .* remove it and run again/);
  expect((err as Error).message).not.toMatch(/EISDIR|illegal operation/);
}

describe('a .lock that is not a regular file', () => {
  it('a folder is refused naming it (was EISDIR)', () => {
    refused(runWith((p) => mkdirSync(p)));
  });

  it('a FIFO is refused at once (the trainer blocked on it forever)', () => {
    refused(runWith((p) => execFileSync('mkfifo', [p])));
  });

  it('a symbolic link to a device is refused', () => {
    refused(runWith((p) => symlinkSync('/dev/zero', p)));
  });

  it("a dead holder's lock of this host is still taken over", () => {
    const pid = spawnSync(process.execPath, ['-e', '0']).pid as number;
    const d = runWith((p) =>
      writeFileSync(
        p,
        JSON.stringify({ pid, host: lockHost(), startedAt: new Date().toISOString() }),
      ),
    );
    const logged: string[] = [];
    const h = lockRun(d, { log: (l) => logged.push(l) });
    expect(logged.join('\n')).toMatch(/took over/);
    expect(h.lost()).toBeUndefined();
    h.release();
  });
});
