/**
 * Audit 18: recovery never deletes a `checkpoint` it cannot use. A stray file of that name, or a
 * checkpoint damaged after it was written, used to be removed silently by `recoverCheckpoint`
 * (run by `deepprob train` on start, also before `--resume` refuses): it is now moved aside to
 * `checkpoint.damaged-<ms>`, byte for byte, and reported; a complete older version still wins.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint, recoverCheckpoint } from '../../src/train/checkpoint.js';
import { saveTinyCheckpoint } from '../fixtures/checkpoints.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'deepprob-audit18-'));

const save = saveTinyCheckpoint;

function recorder(): {
  calls: [string, string, string][];
  fn: (a: string, b: string, c: string) => void;
} {
  const calls: [string, string, string][] = [];
  return { calls, fn: (a, b, c) => calls.push([a, b, c]) };
}

describe('recoverCheckpoint sets aside, never deletes, a checkpoint it cannot use', () => {
  it('a stray file named checkpoint is kept as checkpoint.damaged-*, content intact', () => {
    const run = tmp();
    writeFileSync(join(run, 'checkpoint'), 'my notes');
    const r = recorder();
    expect(recoverCheckpoint(run, r.fn)).toBeUndefined();
    const names = readdirSync(run);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^checkpoint\.damaged-\d+$/);
    expect(readFileSync(join(run, names[0]!), 'utf8')).toBe('my notes');
    expect(r.calls).toEqual([[join(run, 'checkpoint'), join(run, names[0]!), 'not a folder']]);
  });

  it('a damaged checkpoint with no other version is set aside, its bytes unchanged', async () => {
    const run = tmp();
    const ck = await save(run, 1);
    const w = readFileSync(join(ck, 'weights.bin'));
    w.writeUInt8(w.readUInt8(3) ^ 0x10, 3);
    writeFileSync(join(ck, 'weights.bin'), w);
    const r = recorder();
    expect(recoverCheckpoint(run, r.fn)).toBeUndefined();
    const names = readdirSync(run);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^checkpoint\.damaged-/);
    expect(readFileSync(join(run, names[0]!, 'weights.bin')).equals(w)).toBe(true);
    expect(r.calls).toHaveLength(1);
    expect(r.calls[0]![2]).toMatch(/weights\.bin/);
  });

  it('a damaged checkpoint next to a complete checkpoint.old: the old one is used, the damaged one kept', async () => {
    const run = tmp();
    await save(run, 1);
    // a second run folder gives a complete version 2; put version 1 at checkpoint.old by hand
    const other = tmp();
    await save(other, 2);
    const { renameSync } = await import('node:fs');
    renameSync(join(run, 'checkpoint'), join(run, 'checkpoint.old'));
    renameSync(join(other, 'checkpoint'), join(run, 'checkpoint'));
    writeFileSync(join(run, 'checkpoint', 'state.json'), '{"step": 2, "trunc');
    const r = recorder();
    expect(recoverCheckpoint(run, r.fn)).toBe(join(run, 'checkpoint'));
    const names = readdirSync(run).sort();
    expect(names[0]).toBe('checkpoint');
    expect(names[1]).toMatch(/^checkpoint\.damaged-/);
    expect(names).toHaveLength(2);
    const ck = await loadCheckpoint(run);
    expect(ck.state?.step).toBe(1);
    ck.model.dispose();
    expect(r.calls).toHaveLength(1);
  });

  it('a complete checkpoint is left in place and nothing is reported', async () => {
    const run = tmp();
    await save(run, 1);
    const r = recorder();
    expect(recoverCheckpoint(run, r.fn)).toBe(join(run, 'checkpoint'));
    expect(readdirSync(run)).toEqual(['checkpoint']);
    expect(r.calls).toEqual([]);
    expect(existsSync(join(run, 'checkpoint', 'model.json'))).toBe(true);
  });
});
