/**
 * The submitter's bounded wait for Redis (`--redis-timeout`, `redisTimeoutMs`): a server that
 * takes the connection but never answers, a port where nothing listens, and a Redis killed
 * while the submitter follows its flow (it used to print that it waits, and wait forever).
 * The Redis parts skip (with the reason printed) where redis-server is not installed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { queue } from '../../src/node.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { runCli } from '../faults/cli_runner.js';
import { deepprob, freePort, redisMissing, startRedis, waitFor, type CliProcess } from './procs.js';

const tinyBase = { model: 'lenet5', epochs: 1, limit: 32, testLimit: 16, batchSize: 32 };
const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'deepprob-a16t-'));
  dirs.push(d);
  return d;
};
const procs: CliProcess[] = [];
afterAll(() => {
  for (const p of procs) if (p.proc.exitCode === null) p.proc.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const flowIn = (store: string): ReturnType<typeof queue.sweepFlow> =>
  queue.sweepFlow(queue.parseSweepGrid({ base: tinyBase, grid: { lr: [0.002] } }), store);

/** A TCP server on a loopback port that accepts connections and never answers (a black hole). */
async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  return {
    url: `redis://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('BullExecutor redisTimeoutMs', () => {
  it('refuses a bad redisTimeoutMs naming it, before any connection', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(
        () => new queue.BullExecutor('redis://127.0.0.1:1', { redisTimeoutMs: bad }),
        String(bad),
      ).toThrow(ArgumentError);
      expect(() => new queue.BullExecutor('redis://127.0.0.1:1', { redisTimeoutMs: bad })).toThrow(
        /redisTimeoutMs: expected a positive finite number of milliseconds/,
      );
    }
    expect(queue.DEFAULT_REDIS_TIMEOUT_MS).toBe(60_000);
  });

  it('a server that never answers: rejects after the timeout naming the URL and the option', async () => {
    const silent = await silentServer();
    const ex = new queue.BullExecutor(silent.url, { redisTimeoutMs: 700, log: () => {} });
    try {
      const t0 = Date.now();
      const err = await ex.run(flowIn(tmp())).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      const took = Date.now() - t0;
      expect(err?.message).toContain(`Redis at ${silent.url} did not answer for 0.7 s`);
      expect(err?.message).toContain('--redis-timeout 0.7');
      expect(err?.message).toContain('redisTimeoutMs 700');
      expect(took).toBeGreaterThanOrEqual(650);
      expect(took).toBeLessThan(6000);
    } finally {
      await ex.close();
      await silent.close();
    }
  });

  it('a port where nothing listens: fails at once naming the URL', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const ex = new queue.BullExecutor(url, { log: () => {} }); // the default 60 s is not waited
    const t0 = Date.now();
    await expect(ex.run(flowIn(tmp()))).rejects.toThrow(`cannot reach Redis at ${url} (--redis)`);
    expect(Date.now() - t0).toBeLessThan(10_000);
    await ex.close();
  });

  it('CLI: --redis-timeout refuses a bad value naming the flag', async () => {
    for (const bad of ['0', '-2', 'soon']) {
      const r = await runCli(['sweep', '--grid', 'g.json', '--redis-timeout', bad]);
      expect(r.code, bad).not.toBe(0);
      expect(r.stderr).toMatch(/option '--redis-timeout <s>' argument '.*' is invalid/);
    }
  });

  it('CLI: a silent server gives up after --redis-timeout with exit code 1', async () => {
    const silent = await silentServer();
    const grid = join(tmp(), 'grid.json');
    writeFileSync(grid, JSON.stringify({ base: tinyBase, grid: { lr: [0.002] } }));
    try {
      const p = deepprob([
        'sweep',
        '--grid',
        grid,
        '--redis',
        silent.url,
        '--store',
        tmp(),
        '--redis-timeout',
        '1',
        '--quiet',
      ]);
      procs.push(p);
      expect(await p.exited, p.output()).toBe(1);
      expect(p.output()).toContain(`Redis at ${silent.url} did not answer for 1 s at the start`);
      expect(p.output()).toContain('--redis-timeout 1');
    } finally {
      await silent.close();
    }
  }, 60_000);
});

const missing = redisMissing();
if (missing !== undefined) console.log(`SKIPPED Redis timeout tests: ${missing}`);

describe.skipIf(missing !== undefined)('submitter on a Redis that dies and stays down', () => {
  it('says it waits for the timeout, then exits 1 naming the URL and --redis-timeout', async () => {
    const redis = await startRedis();
    try {
      const grid = join(tmp(), 'grid.json');
      writeFileSync(grid, JSON.stringify({ base: tinyBase, grid: { lr: [0.002] } }));
      const store = tmp();
      // no worker: the flow stays queued while the submitter follows it
      const s = deepprob([
        'sweep',
        '--grid',
        grid,
        '--redis',
        redis.url,
        '--queue',
        'timeout',
        '--store',
        store,
        '--redis-timeout',
        '3',
        '--quiet',
      ]);
      procs.push(s);
      const q = new Queue('timeout', {
        connection: { url: redis.url, maxRetriesPerRequest: null },
      });
      try {
        await waitFor(
          async () => ((await q.getJobCounts('waiting')).waiting ?? 0) >= 1,
          40_000,
          'the flow queued',
        );
      } finally {
        await q.close();
      }
      await new Promise((r) => setTimeout(r, 1000)); // a few polls answered
      await redis.kill();
      const t0 = Date.now();
      const code = await Promise.race([
        s.exited,
        new Promise((r) => setTimeout(() => r(`still running: ${s.output()}`), 40_000)),
      ]);
      const waited = Date.now() - t0;
      expect(code, s.output()).toBe(1);
      expect(s.output()).toContain(`lost the connection to Redis at ${redis.url}`);
      expect(s.output()).toContain('for up to 3 s (--redis-timeout');
      expect(s.output()).toContain(
        `Redis at ${redis.url} did not answer for 3 s while following the flow (--redis-timeout 3`,
      );
      expect(s.output()).toContain(`the results in ${store} are kept`);
      expect(waited).toBeGreaterThanOrEqual(2500);
      expect(waited).toBeLessThan(20_000);
    } finally {
      await redis.stop();
    }
  }, 90_000);
});
