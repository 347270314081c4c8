/**
 * The lease lock of a run directory: a lock left by a worker that died on another host is taken
 * over once its lease expired (and the run resumes from its checkpoint); a live holder on another
 * host is refused with its host, pid and lease expiry; the holder renews its lease; of concurrent
 * takers exactly one wins; a taker that waits recognises an unrenewed lock whatever the clocks.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runTraining, TRAIN_DEFAULTS, type TrainConfig } from '../../src/app/index.js';
import {
  LOCK_FILE,
  lockHost,
  lockRun,
  lockRunWaiting,
  RunLockedError,
  type RunLock,
} from '../../src/app/run_lock.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'deepprob-lock-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const iso = (msAgo: number): string => new Date(Date.now() - msAgo).toISOString();
const writeLock = (dir: string, lock: Partial<RunLock>): void =>
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify(lock));
const readLock = (dir: string): RunLock =>
  JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as RunLock;
/** A pid that no process has (one that just exited). */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid as number;

describe('run directory lock (lease)', () => {
  it('takes over a lock from another host whose lease expired', () => {
    const dir = tempDir();
    writeLock(dir, {
      pid: 4242,
      host: 'node-b',
      startedAt: iso(3_600_000),
      heartbeatAt: iso(60_000),
      leaseMs: 30_000,
      token: 'dead',
    });
    const lines: string[] = [];
    const lock = lockRun(dir, { log: (l) => lines.push(l) });
    try {
      const held = readLock(dir);
      expect(held.pid).toBe(process.pid);
      expect(held.host).toBe(lockHost());
      expect(held.token).not.toBe('dead');
      expect(lines.join('\n')).toMatch(/took over .* lease expired at/);
    } finally {
      lock.release();
    }
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('refuses a live lock from another host, naming the dir, holder and lease expiry', () => {
    const dir = tempDir();
    writeLock(dir, {
      pid: 4242,
      host: 'node-b',
      startedAt: iso(3_600_000),
      heartbeatAt: iso(1000),
      leaseMs: 30_000,
      token: 'live',
    });
    let err: unknown;
    try {
      lockRun(dir).release();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RunLockedError);
    const m = (err as Error).message;
    expect(m).toContain(dir);
    expect(m).toContain('process 4242 on node-b');
    expect(m).toMatch(/lease expires at \d{4}-\d\d-\d\dT[\d:.]+Z \(in (29|30) s\)/);
    expect(readLock(dir).token).toBe('live'); // untouched
  });

  it('takes over at once a lock of this host whose process is gone', () => {
    const dir = tempDir();
    writeLock(dir, {
      pid: deadPid(),
      host: lockHost(),
      startedAt: iso(1000),
      heartbeatAt: iso(10),
      leaseMs: 30_000,
    });
    const lock = lockRun(dir);
    expect(readLock(dir).pid).toBe(process.pid);
    lock.release();
  });

  it('a lock of an older version (no lease) on this host is judged by its process', () => {
    const dir = tempDir();
    writeLock(dir, { pid: process.pid, host: hostname(), startedAt: iso(3_600_000) });
    expect(() => lockRun(dir, { host: hostname() })).toThrow(/in use by process/);
  });

  it('the holder renews its lease; a taker whose host differs is refused while it does', async () => {
    const dir = tempDir();
    const lock = lockRun(dir, { leaseMs: 300, heartbeatMs: 50, host: 'node-a' });
    const first = readLock(dir).heartbeatAt;
    await new Promise((r) => setTimeout(r, 600)); // two leases
    expect(readLock(dir).heartbeatAt).not.toBe(first);
    expect(() => lockRun(dir, { leaseMs: 300, host: 'node-b' })).toThrow(/on node-a/);
    // a waiting taker sees the renewals (the holder is alive) and is refused within a lease
    const t0 = Date.now();
    await expect(lockRunWaiting(dir, { leaseMs: 300, host: 'node-b' })).rejects.toThrow(
      /on node-a/,
    );
    expect(Date.now() - t0).toBeLessThan(300);
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('a holder whose lock was taken over notices, and its release leaves the new lock', async () => {
    const dir = tempDir();
    const lines: string[] = [];
    const lock = lockRun(dir, { leaseMs: 300, heartbeatMs: 30, log: (l) => lines.push(l) });
    writeLock(dir, { ...readLock(dir), pid: 777, host: 'node-c', token: 'new' });
    await new Promise((r) => setTimeout(r, 150));
    expect(lock.lost()).toMatch(/process 777 on node-c took it over/);
    expect(lines.join('\n')).toContain('lost the lock');
    lock.release();
    expect(readLock(dir).token).toBe('new');
  });

  it('a waiting taker takes over an unrenewed lock after one lease even when clocks disagree', async () => {
    const dir = tempDir();
    // written by a host whose clock is an hour ahead: by timestamps, its lease has not expired
    writeLock(dir, {
      pid: 4242,
      host: 'node-b',
      startedAt: iso(-3_600_000),
      heartbeatAt: iso(-3_600_000),
      leaseMs: 400,
      token: 'skewed',
    });
    expect(() => lockRun(dir)).toThrow(RunLockedError);
    const t0 = Date.now();
    const lock = await lockRunWaiting(dir, { pollMs: 50 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    expect(readLock(dir).pid).toBe(process.pid);
    lock.release();
  });

  it('of concurrent takers of a stale lock exactly one wins', async () => {
    const rounds = Array.from({ length: 12 }, () => tempDir());
    rounds.forEach((dir, i) =>
      writeLock(
        dir,
        i % 2 === 0
          ? { pid: deadPid(), host: lockHost(), startedAt: iso(5000) }
          : { pid: 4242, host: 'node-b', startedAt: iso(90_000), heartbeatAt: iso(60_000) },
      ),
    );
    const start = Date.now() + 4000; // after every racer has started
    const done = tempDir(); // each racer marks its end here and exits once all have
    const racers = Array.from({ length: 3 }, () =>
      spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          resolve(import.meta.dirname, 'lock_racer.ts'),
          JSON.stringify(rounds),
          String(start),
          '60',
          done,
          '3',
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      ),
    );
    const outputs = await Promise.all(
      racers.map(
        (p) =>
          new Promise<{ pid: number; results: string[] }>((res, rej) => {
            let out = '';
            p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
            p.on('exit', (code) =>
              code === 0
                ? res(JSON.parse(out) as { pid: number; results: string[] })
                : rej(new Error(`racer exited ${code}: ${out}`)),
            );
          }),
      ),
    );
    rounds.forEach((dir, i) => {
      const winners = outputs.filter((o) => o.results[i] === 'won');
      expect(
        winners.map((w) => w.pid),
        `round ${i}: ${JSON.stringify(outputs)}`,
      ).toHaveLength(1);
      expect(readLock(dir).pid).toBe(winners[0]?.pid);
      for (const o of outputs) {
        if (o.results[i] !== 'won') expect(o.results[i]).toMatch(/^refused: .*(in use|taken over)/);
      }
    });
  }, 60_000);

  it('a run whose lock another process took over stops without writing a checkpoint', async () => {
    const out = tempDir();
    let stolen = false;
    const config: TrainConfig = {
      ...TRAIN_DEFAULTS,
      model: 'lenet5',
      dataset: 'mnist',
      out,
      epochs: 1,
      batchSize: 32,
      limit: 64,
      testLimit: 32,
      mcSamples: 1,
    };
    const steal = (): void => {
      if (stolen) return;
      stolen = true; // as a taker on another host would, once this run's lease ran out
      writeLock(out, { pid: 4242, host: 'node-b', startedAt: iso(0), heartbeatAt: iso(0) });
    };
    await expect(
      runTraining(config, {
        quiet: true,
        log: () => {},
        progress: { start: steal, update() {}, stop() {}, log() {} },
      }),
    ).rejects.toThrow(
      /this run lost its lock \(process 4242 on node-b took it over\); stopped without writing a checkpoint/,
    );
    expect(existsSync(join(out, 'checkpoint'))).toBe(false);
    expect(readLock(out).host).toBe('node-b'); // the new holder's lock stays
  }, 120_000);

  it('a run whose trainer died on another host is taken over and resumes from its checkpoint', async () => {
    const out = tempDir();
    const config: TrainConfig = {
      ...TRAIN_DEFAULTS,
      model: 'lenet5',
      dataset: 'mnist',
      out,
      epochs: 1,
      batchSize: 32,
      limit: 64,
      testLimit: 32,
      mcSamples: 1,
    };
    const first = await runTraining(config, { quiet: true });
    first.model.dispose();
    writeLock(out, {
      pid: 4242,
      host: 'evicted-node',
      startedAt: iso(120_000),
      heartbeatAt: iso(45_000),
      leaseMs: 30_000,
    });
    const lines: string[] = [];
    const again = await runTraining(
      { ...config, epochs: 2 },
      { resumeOrStart: true, waitForLock: true, quiet: true, log: (l) => lines.push(l) },
    );
    again.model.dispose();
    expect(lines.join('\n')).toMatch(/took over .*evicted-node/);
    expect(again.records).toHaveLength(2);
    expect(again.records[0]).toEqual(first.records[0]); // epoch 1 kept, not trained again
    expect(existsSync(join(out, LOCK_FILE))).toBe(false);
  }, 120_000);
});
