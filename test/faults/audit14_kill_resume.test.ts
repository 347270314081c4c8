/**
 * Audit (#16, fresh eyes): `deepprob train` killed with SIGKILL at seeded random moments (in
 * the middle of an epoch, or while a checkpoint is being written: the epochs here are a few
 * batches, so a good part of the run is spent saving), twice in a row, then resumed with
 * `--resume-or-start` until it finishes (one seeded trial: each spawn costs seconds of imports). Nothing trained may be lost: the finished run has every
 * epoch exactly once in `metrics.jsonl`, the step count of an uninterrupted run, the same
 * per-epoch losses as the uninterrupted run with the same seed (each resumed epoch restarts from
 * the last complete checkpoint with the epoch's own seed), no lock and no temporary debris.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeRng } from '../../src/utils/seed.js';
import { idxDataset } from '../idx_fixture.js';

const ENTRY = join(__dirname, 'cli_entry.ts');
const EPOCHS = 5;
const BATCHES = 6; // 96 images, batch 16

interface Proc {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  killed: boolean;
  /** ms from the start of training to the exit. */
  trainMs: number;
}

/**
 * Spawn `deepprob train <args>`; with `killAfterMs`, SIGKILL it that long after it reports the
 * start of training (the imports before it take seconds and vary with the machine's load).
 */
function train(args: string[], killAfterMs?: number): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'train', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEEPPROB_BACKEND: 'wasm', DEEPPROB_PROGRESS_INTERVAL_MS: '20' },
    });
    let stderr = '';
    let armed = false;
    let startedAt = Number.NaN;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (Number.isNaN(startedAt) && /deepprob: training /.test(stderr)) startedAt = Date.now();
      if (killAfterMs !== undefined && !armed && /deepprob: training /.test(stderr)) {
        armed = true;
        setTimeout(() => {
          if (child.exitCode === null) child.kill('SIGKILL');
        }, killAfterMs);
      }
    });
    child.stdout.resume();
    child.on('error', reject);
    // killed is what the exit says: a run that ended on its own just before the kill (the signal
    // then reaches an exited process; `kill` still returns true) exited 0 and was not killed
    child.on('close', (code, signal) =>
      resolve({
        code,
        signal,
        stderr,
        killed: signal === 'SIGKILL',
        trainMs: Date.now() - startedAt,
      }),
    );
  });
}

interface Row {
  epoch: number;
  step: number;
  trainLoss: number;
  testAccuracy: number;
}

function metrics(out: string): Row[] {
  return readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Row);
}

describe('train killed with SIGKILL at random moments, twice in a row, then resumed', () => {
  it('loses nothing: every epoch once, the uninterrupted run’s steps and losses, no debris', async () => {
    const data = idxDataset({ count: 96 }, { count: 32 });
    const args = (out: string): string[] => [
      '--model',
      'lenet5',
      '--dataset',
      'mnist',
      '--data-dir',
      data,
      '--epochs',
      String(EPOCHS),
      '--batch-size',
      '16',
      '--mc-samples',
      '1',
      '--seed',
      '7',
      '--out',
      out,
    ];
    const ref = mkdtempSync(join(tmpdir(), 'deepprob-audit14-ref-'));
    const r0 = await train(args(ref));
    expect(r0.code, r0.stderr).toBe(0);
    const want = metrics(ref);
    expect(want.map((r) => r.epoch)).toEqual([1, 2, 3, 4, 5]);

    const rng = makeRng(1416);
    let kills = 0;
    for (let trial = 0; trial < 1; trial++) {
      // a moment within the training, scaled to this machine's speed (the reference run's); on a
      // loaded machine a run can be faster than the reference and finish before its kill, so a
      // pair of attempts that killed nothing is restarted in a fresh folder with half the delays
      let out = '';
      let scale = 0.8;
      for (let attempt = 0; attempt < 4 && kills === 0; attempt++, scale /= 2) {
        out = join(mkdtempSync(join(tmpdir(), 'deepprob-audit14-kill-')), 'run');
        // two kills in a row (the second one in the resumed run), then a run to the end
        for (let k = 0; k < 2; k++) {
          const p = await train(
            [...args(out), '--resume-or-start'],
            Math.floor(rng() * scale * (Number.isFinite(r0.trainMs) ? r0.trainMs : 900)),
          );
          if (p.killed) kills += 1;
          else expect(p.code, p.stderr).toBe(0);
        }
      }
      const last = await train([...args(out), '--resume-or-start']);
      expect(last.code, last.stderr).toBe(0);
      const got = metrics(out);
      expect(
        got.map((r) => r.epoch),
        `trial ${trial}`,
      ).toEqual([1, 2, 3, 4, 5]);
      expect(got.map((r) => r.step)).toEqual(want.map((r) => r.step));
      expect(got[EPOCHS - 1]?.step).toBe(EPOCHS * BATCHES);
      for (const [i, r] of got.entries()) {
        const w = want[i] as Row;
        expect(Math.abs(r.trainLoss - w.trainLoss), `epoch ${r.epoch} loss`).toBeLessThan(
          1e-3 * Math.max(1, Math.abs(w.trainLoss)),
        );
        expect(r.testAccuracy).toBeCloseTo(w.testAccuracy, 5);
      }
      const state = JSON.parse(
        readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8'),
      ) as Row & { batchInEpoch?: number };
      expect(state.epoch).toBe(EPOCHS);
      expect(state.step).toBe(EPOCHS * BATCHES);
      expect(readdirSync(out).sort()).toEqual(['checkpoint', 'metrics.csv', 'metrics.jsonl']);
      expect(readdirSync(join(out, 'checkpoint')).sort()).toEqual([
        'manifest.json',
        'model.json',
        'optimizer.bin',
        'state.json',
        'weights.bin',
      ]);
    }
    // the seeded delays do kill (else the test would prove nothing)
    expect(kills).toBeGreaterThanOrEqual(1);
  });
});
