/**
 * A worker killed (SIGKILL) on one host mid-job: a worker on another host (`DEEPPROB_HOST_ID`
 * tells them apart, as two pods) retries the job, finds the work directory locked by the dead
 * host, waits out its lease (`DEEPPROB_LOCK_LEASE_MS`), takes it over and finishes the sweep.
 * Before leases, a lock written on another host was never stale: every retry was refused and the
 * flow failed. Skips where redis-server is missing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deepprob,
  lastJson,
  redisMissing,
  startRedis,
  waitFor,
  type CliProcess,
  type RedisServer,
} from '../queue/procs.js';

const missing = redisMissing();
if (missing !== undefined) console.log(`SKIPPED queue takeover test: ${missing}`);

describe.skipIf(missing !== undefined)('queue: cross-host takeover', () => {
  let redis: RedisServer;
  let queue: Queue;
  let dir: string;
  const workers: CliProcess[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deepprob-qt-'));
    redis = await startRedis();
    queue = new Queue('deepprob', { connection: { url: redis.url, maxRetriesPerRequest: null } });
  });
  afterAll(async () => {
    await queue?.close();
    for (const w of workers) w.proc.kill('SIGKILL');
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a job whose worker died on another host is taken over and finished', async () => {
    for (const host of ['host-a', 'host-b']) {
      workers.push(
        deepprob(['worker', '--redis', redis.url, '--lock-ms', '3000'], {
          DEEPPROB_BACKEND: 'wasm',
          DEEPPROB_HOST_ID: host,
          DEEPPROB_LOCK_LEASE_MS: '3000',
        }),
      );
    }
    const spec = join(dir, 'grid.json');
    writeFileSync(
      spec,
      JSON.stringify({
        base: { model: 'lenet5', epochs: 2, batchSize: 64, limit: 1024, testLimit: 64 },
        grid: { lr: [0.001] },
      }),
    );
    const store = join(dir, 'store');
    const s = deepprob(
      ['sweep', '--grid', spec, '--redis', redis.url, '--store', store, '--quiet', '--json'],
      { DEEPPROB_BACKEND: 'wasm' },
    );
    // kill the worker that runs the job once it is in its second epoch (a checkpoint exists)
    let victim: CliProcess | undefined;
    await waitFor(
      async () => {
        for (const j of await queue.getJobs(['active'])) {
          const p = j.progress as { fraction?: number; worker?: number } | number;
          if (typeof p === 'object' && (p.fraction ?? 0) > 0.55) {
            victim = workers.find((w) => w.proc.pid === p.worker);
          }
        }
        return victim !== undefined;
      },
      120_000,
      'the job in its second epoch',
    );
    const dead = victim as CliProcess;
    dead.proc.kill('SIGKILL');
    expect(await dead.exited).toBe('SIGKILL');
    const survivor = workers.find((w) => w !== dead) as CliProcess;
    expect(await s.exited, `${s.output()}\n--- survivor:\n${survivor.output()}`).toBe(0);
    const deadHost = dead === workers[0] ? 'host-a' : 'host-b';
    expect(survivor.output()).toMatch(
      new RegExp(`took over .*/work/sweep-[0-9a-f]+/point-0 from process \\d+ on ${deadHost}`),
    );
    const agg = lastJson(s) as { rows: { index: number }[] };
    expect(agg.rows.map((r) => r.index)).toEqual([0]);
  }, 180_000);
});
