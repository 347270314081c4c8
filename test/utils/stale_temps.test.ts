/**
 * A writer killed between writing `path.tmp-<pid>-<n>` and renaming it left the temporary file
 * for good (an MCMC or training checkpoint folder kept one per kill); the next atomic write of
 * `path` now deletes those whose process is gone and keeps a live writer's.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { atomicWriteFile } from '../../src/utils/file_io.js';

describe('atomicWriteFile sweeps stale temporaries', () => {
  it("deletes a dead writer's temporaries of the same file only", () => {
    const dir = mkdtempSync(join(tmpdir(), 'deepprob-stale-'));
    // a pid that has exited: a child process that already ended
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    const stale = `ck.bin.tmp-${dead}-123`;
    const live = `ck.bin.tmp-${process.ppid}-7`; // the parent of this process is alive
    const other = `other.bin.tmp-${dead}-5`; // another file's temporary: not ours to sweep
    const look = 'ck.bin.tmp-notes.txt'; // not a temporary's name
    for (const n of [stale, live, other, look]) writeFileSync(join(dir, n), 'x');
    atomicWriteFile(join(dir, 'ck.bin'), 'new');
    expect(readFileSync(join(dir, 'ck.bin'), 'utf8')).toBe('new');
    expect(existsSync(join(dir, stale))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['ck.bin', live, look, other].sort());
  });
});
