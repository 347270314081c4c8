/**
 * Graceful stop of `deepprob eval`, `uncertainty` and `shift` (as `train`'s in
 * graceful_stop.test.ts): the first signal lets the command finish the current batch (or, for
 * `shift`, the current set), then it prints what it had done and exits 130 (SIGINT) or 143
 * (SIGTERM). `eval` prints no result, `uncertainty` writes no report (a report already in `--out`
 * stays as it was), `shift` writes the sets done as a partial report marked as such. Each command
 * is spawned on a tiny checkpoint and sent the signal when its first line after the handlers are
 * in place shows on stderr.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTraining, TRAIN_DEFAULTS } from '../../src/app/index.js';
import { idxDataset } from '../idx_fixture.js';

const ENTRY = join(__dirname, 'cli_entry.ts');

interface Proc {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawn `deepprob <args>` and send `signal` once stderr matches `when`. */
function spawnStop(args: string[], signal: NodeJS.Signals, when: RegExp): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEEPPROB_BACKEND: 'wasm' },
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => void (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && when.test(stderr)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let run: string;
let data: string;

beforeAll(async () => {
  // 3,000 test images: evaluated in batches of 10 with 20 weight samples, many seconds of work
  data = idxDataset({ count: 64 }, { count: 3000 });
  run = join(mkdtempSync(join(tmpdir(), 'deepprob-stop-runners-')), 'bnn');
  const r = await runTraining(
    {
      ...TRAIN_DEFAULTS,
      model: 'bayes-lenet5',
      dataset: 'mnist',
      dataDir: data,
      out: run,
      epochs: 1,
      batchSize: 32,
      testLimit: 8,
      mcSamples: 1,
    },
    { quiet: true },
  );
  r.model.dispose();
}, 120_000);

describe('graceful stop of eval, uncertainty and shift', () => {
  it('eval: SIGINT stops after the current batch, prints no result, exits 130', async () => {
    const r = await spawnStop(
      ['eval', '--checkpoint', run, '--batch-size', '10', '--mc-samples', '20', '--json'],
      'SIGINT',
      /deepprob: evaluating bayes-lenet5/,
    );
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/SIGINT received: finishing the current batch/);
    expect(r.stderr).toMatch(
      /stopped by SIGINT after \d+ of 3000 test images of .*checkpoint; no result printed/,
    );
    expect(r.stdout.trim()).toBe('');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('uncertainty: SIGTERM writes no report, keeps an earlier one, exits 143', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'deepprob-stop-unc-')), 'report');
    mkdirSync(out);
    writeFileSync(join(out, 'report.json'), '{"earlier":true}');
    const r = await spawnStop(
      [
        'uncertainty',
        '--checkpoint',
        run,
        '--ood',
        `mnist:${idxDataset({ count: 8 }, { count: 300 })}`,
        '--batch-size',
        '10',
        '--mc-samples',
        '20',
        '--out',
        out,
      ],
      'SIGTERM',
      /deepprob: bayes-lenet5 \(bayesian, 20 MC samples\)/,
    );
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toMatch(
      /stopped by SIGTERM after \d+ of 3000 images of mnist\/test; no report written/,
    );
    expect(readFileSync(join(out, 'report.json'), 'utf8')).toBe('{"earlier":true}');
    expect(existsSync(join(out, 'report.html'))).toBe(false);
    expect(r.stdout.trim()).toBe('');
  });

  it('shift: SIGINT writes the sets done as a partial report, exits 130', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'deepprob-stop-shift-')), 'shift');
    const r = await spawnStop(
      [
        'shift',
        '--methods',
        `bayes:${run}`,
        `plain:${run}`,
        '--limit',
        '100',
        '--calibration',
        '50',
        '--mc-samples',
        '50',
        '--ood',
        'uniform-noise',
        '--severities',
        '1',
        '--out',
        out,
      ],
      'SIGINT',
      /\nbayes rotation 15:/,
    );
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/SIGINT received: finishing the current set/);
    expect(r.stderr).toMatch(
      /stopped by SIGINT during method bayes \(\d+ sets done; complete methods: none\); wrote the partial report/,
    );
    const j = JSON.parse(readFileSync(join(out, 'shift.json'), 'utf8')) as {
      meta: { partial?: { signal: string; complete: string[]; stoppedIn?: string } };
      rows: { method: string }[];
      summary: unknown[];
    };
    expect(j.meta.partial).toMatchObject({ signal: 'SIGINT', complete: [], stoppedIn: 'bayes' });
    expect(j.rows.length).toBeGreaterThanOrEqual(2);
    expect(j.rows.every((row) => row.method === 'bayes')).toBe(true);
    expect(j.summary).toEqual([]);
    expect(readFileSync(join(out, 'shift.html'), 'utf8')).toMatch(/Partial report\./);
    expect(r.stdout.trim()).toBe('');
  });
});
