/**
 * MCMC checkpoints against a real kill (`npm run test:faults`): a child process running NUTS
 * (`mcmc_entry.ts`: 2 sequential chains, 150 warmup + 150 draws each, a checkpoint every 10
 * iterations) is killed with SIGKILL in chain 0's warmup, resumed and killed again in chain 1,
 * and resumed to the end: its draws and tree depths are those of an uninterrupted run with the
 * same seed. A truncated checkpoint makes the resume fail naming the file, and the file is left
 * as it was.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../src/ppl/mcmc/checkpoint.js';

const ENTRY = join(__dirname, 'mcmc_entry.ts');

interface Proc {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Spawn the entry with `args`; SIGKILL it once it reports checkpoint write `killAt`. */
function child(args: string[], killAt = Infinity): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DEEPPROB_BACKEND: 'wasm' },
    });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const writes = [...stderr.matchAll(/wrote (\d+)/g)].map((m) => Number(m[1]));
      if (writes.length > 0 && Math.max(...writes) >= killAt && p.exitCode === null) {
        p.kill('SIGKILL');
      }
    });
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('MCMC checkpoint survives SIGKILL', () => {
  it('killed twice, resumed: the draws of the uninterrupted run; a truncated file is named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcmc-kill-'));
    const ck = join(dir, 'nuts.ckpt');
    const [ref, first] = await Promise.all([
      child([join(dir, 'ref.json')]),
      child([join(dir, 'a.json'), ck, '0', '40'], 5),
    ]);
    expect(ref.code, ref.stderr).toBe(0);
    expect(first.signal, first.stderr).toBe('SIGKILL');
    const saved1 = decodeCheckpoint(readFileSync(ck), ck);
    const it1 = saved1.chains[0]?.state?.iteration ?? 0;
    expect(it1).toBeGreaterThanOrEqual(50);
    expect(it1).toBeLessThan(150); // killed in chain 0's warmup
    expect(saved1.chains[0]?.kept.length).toBe(0);

    // a truncated copy: the resume fails naming the file and leaves it as it was
    const bad = join(dir, 'bad.ckpt');
    copyFileSync(ck, bad);
    truncateSync(bad, readFileSync(ck).length - 7);
    const badBytes = readFileSync(bad);
    const refused = await child([join(dir, 'bad.json'), bad, '1', '0']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`MCMC checkpoint ${bad}: the file is truncated`);
    expect(readFileSync(bad)).toEqual(badBytes);
    // resumed, killed again in chain 1 (chain 0 complete by then)
    const second = await child([join(dir, 'b.json'), ck, '1', '40'], 28);
    expect(second.signal, second.stderr).toBe('SIGKILL');
    const saved2 = decodeCheckpoint(readFileSync(ck), ck);
    expect(saved2.chains[0]?.done).toBe(true);
    expect(saved2.chains[0]?.kept.length).toBe(150);
    expect(saved2.chains[1]?.state?.iteration).toBeGreaterThan(0);

    const last = await child([join(dir, 'c.json'), ck, '1', '0']);
    expect(last.code, last.stderr).toBe(0);
    const want = JSON.parse(readFileSync(join(dir, 'ref.json'), 'utf8')) as unknown;
    const got = JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8')) as unknown;
    expect(got).toEqual(want);
  }, 240_000);
});
