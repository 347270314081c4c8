/**
 * Graceful stop (`npm run test:faults`, #16): `deepprob train` is spawned on a synthetic IDX
 * dataset the test writes and sent a signal in the middle of an epoch. The first SIGTERM/SIGINT
 * finishes the step, writes a checkpoint with the batcher's position (epoch, batch, the
 * weight-sampling stream, the epoch's totals), prints what it saved and how to resume, and exits
 * 143/130; `--resume` continues the epoch there and ends with the same weights and metrics as an
 * uninterrupted run with the same seed. A second signal exits at once, and the run folder still
 * holds a complete, loadable checkpoint.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { idxDataset } from '../idx_fixture.js';

const ENTRY = join(__dirname, 'cli_entry.ts');

interface Proc {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Spawn `deepprob train <args>`; `signals` are sent (by pid), each further one `gapMs` after the
 * process reported the one before, the first once stderr shows a
 * progress line of epoch 2 at batch `atBatch` or later (the progress lines come every 100 ms, so
 * the signal lands mid-epoch whatever the machine's speed).
 */
function train(
  args: string[],
  signals: NodeJS.Signals[] = [],
  atBatch = 10,
  gapMs = 0,
): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'train', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEEPPROB_BACKEND: 'wasm', DEEPPROB_PROGRESS_INTERVAL_MS: '100' },
    });
    let stderr = '';
    let armed = false;
    const reached = (): boolean =>
      [...stderr.matchAll(/epoch 2\/2 \|[^|]*\| (\d+)\/150/g)].some(
        (m) => Number(m[1]) >= atBatch && Number(m[1]) < 150,
      );
    let sent = 0;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!armed && signals.length > 0 && reached()) {
        armed = true;
        child.kill(signals[sent++] as NodeJS.Signals);
      }
      // each further signal once the process has reported the one before (two signals sent
      // 1 ms apart could be handled in either order)
      const prev = signals[sent - 1];
      if (armed && sent < signals.length && stderr.includes(`${prev} received`)) {
        const sig = signals[sent++] as NodeJS.Signals;
        setTimeout(() => child.kill(sig), gapMs);
      }
    });
    child.stdout.resume();
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

const run = (data: string, out: string, epochs: number, extra: string[] = []): string[] => [
  '--model',
  'bayes-lenet5',
  '--dataset',
  'mnist',
  '--data-dir',
  data,
  '--epochs',
  String(epochs),
  '--batch-size',
  '8',
  '--mc-samples',
  '2',
  '--seed',
  '7',
  '--out',
  out,
  ...extra,
];

/** The comparable part of a metrics record (no timings). */
function metrics(out: string): Record<string, unknown>[] {
  return readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .map(({ imagesPerSec, trainSeconds, evalSeconds, ...rest }) => {
      void imagesPerSec;
      void trainSeconds;
      void evalSeconds;
      return rest;
    });
}

describe('graceful stop of deepprob train', () => {
  it('SIGTERM mid-epoch saves the position; --resume gives the uninterrupted result', async () => {
    const data = idxDataset({ count: 1200 }, { count: 48 });
    const base = mkdtempSync(join(tmpdir(), 'deepprob-stop-'));
    // one shared first epoch (tfjs initialisers are not seeded), then two copies of epoch 2
    const first = await train(run(data, join(base, 's'), 1));
    expect(first.code, first.stderr).toBe(0);
    const [a, b] = [join(base, 'a'), join(base, 'b')];
    cpSync(join(base, 's'), a, { recursive: true });
    cpSync(join(base, 's'), b, { recursive: true });
    const [full, stopped] = await Promise.all([
      train(run(data, a, 2, ['--resume'])),
      train(run(data, b, 2, ['--resume']), ['SIGTERM'], 20),
    ]);
    expect(full.code, full.stderr).toBe(0);
    expect(stopped.code, stopped.stderr).toBe(143);
    expect(stopped.stderr).toMatch(
      /SIGTERM received: finishing the current step and saving a checkpoint/,
    );
    expect(stopped.stderr).toMatch(
      new RegExp(
        `stopped by SIGTERM at epoch 2, after batch \\d+ of 150 \\(step \\d+\\); saved .*${b}/checkpoint\\. Resume with: deepprob train --out ${b} --resume`,
      ),
    );
    expect(stopped.stderr).not.toMatch(/\n\s+at /);
    const st = JSON.parse(readFileSync(join(b, 'checkpoint', 'state.json'), 'utf8')) as Record<
      string,
      number
    >;
    expect(st.epoch).toBe(1);
    expect(st.batchInEpoch).toBeGreaterThan(0);
    expect(st.batchInEpoch).toBeLessThan(150);
    expect(st.step).toBe(150 + (st.batchInEpoch as number));
    expect(typeof st.seedState).toBe('number');

    const resumed = await train(run(data, b, 2, ['--resume']));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(
      new RegExp(
        `resuming bayes-lenet5 .* after epoch 1 and ${st.batchInEpoch} batches of epoch 2`,
      ),
    );
    // the same weights, optimizer state and metrics as the uninterrupted run (same backend): the
    // fused Adam restores beta^t as its running product (backend/kernels/adam.ts), so the resumed
    // run continues bit for bit; the tolerance covers the threaded kernels' summation order
    for (const f of ['weights.bin', 'optimizer.bin']) {
      const [wa, wb] = [a, b].map((d) => {
        const buf = readFileSync(join(d, 'checkpoint', f));
        return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
      }) as [Float32Array, Float32Array];
      expect(wb.length, f).toBe(wa.length);
      let worst = 0;
      for (let i = 0; i < wa.length; i++) {
        const d = Math.abs((wa[i] as number) - (wb[i] as number));
        worst = Math.max(worst, d / (1e-5 + 1e-3 * Math.abs(wa[i] as number)));
      }
      // |a - b| <= 1e-5 + 1e-3 |a|: a wrong batch or noise stream moves weights by ~1e-3
      expect(worst, `${f}: worst difference / tolerance`).toBeLessThan(1);
    }
    const [ma, mb] = [metrics(a), metrics(b)];
    expect(mb).toHaveLength(2);
    for (let i = 0; i < 2; i++) {
      for (const [k, v] of Object.entries(ma[i] as Record<string, unknown>)) {
        const w = (mb[i] as Record<string, unknown>)[k];
        if (typeof v === 'number') {
          expect(Math.abs((w as number) - v), `epoch ${i + 1} ${k}`).toBeLessThanOrEqual(
            1e-5 * Math.max(1, Math.abs(v)),
          );
        } else expect(w, k).toEqual(v);
      }
    }
  });

  it('a second signal exits at once and the run keeps a complete checkpoint', async () => {
    const data = idxDataset({ count: 1200 }, { count: 48 });
    const out = join(mkdtempSync(join(tmpdir(), 'deepprob-stop-')), 'run');
    // SIGHUP then SIGINT 1 ms later, in epoch 2 (after the first epoch's checkpoint)
    const r = await train(run(data, out, 2), ['SIGHUP', 'SIGINT'], 10, 1);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/SIGHUP received: finishing the current step/);
    expect(r.stderr).toMatch(/second signal \(SIGINT\): exiting at once/);
    const ck = await loadCheckpoint(out);
    expect(ck.state?.epoch).toBe(1);
    ck.model.dispose();
  });
});
