/**
 * A worker killed (SIGKILL) on one host mid-job: a worker on another host (`DEEPPROB_HOST_ID`
 * tells them apart, as two pods) retries the job, finds the work directory locked by the dead
 * host, waits out its lease (`DEEPPROB_LOCK_LEASE_MS`), takes it over and finishes the sweep.
 * Before leases, a lock written on another host was never stale: every retry was refused and the
 * flow failed. Skips where redis-server is missing.
 *
 * The victim is killed only while its job process provably holds the work-directory lock (the
 * `.lock` names the job process's pid) with at least a third of an epoch left: a kill after the
 * training had ended and released the lock (a slow poll on a loaded machine) left nothing to take
 * over, and the test failed although the code was right.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
        base: { model: 'lenet5', epochs: 3, batchSize: 64, limit: 1024, testLimit: 64 },
        grid: { lr: [0.001] },
      }),
    );
    const store = join(dir, 'store');
    const s = deepprob(
      ['sweep', '--grid', spec, '--redis', redis.url, '--store', store, '--quiet', '--json'],
      { DEEPPROB_BACKEND: 'wasm' },
    );
    // kill the worker that runs the job once a checkpoint exists (past the first of three
    // epochs) and well before its training ends, while its job process holds the lock
    const lockHolder = (): number | undefined => {
      const work = join(store, 'work');
      if (!existsSync(work)) return undefined;
      for (const sweep of readdirSync(work)) {
        const lock = join(work, sweep, 'point-0', '.lock');
        try {
          return (JSON.parse(readFileSync(lock, 'utf8')) as { pid?: number }).pid;
        } catch {
          // not there yet, or being renewed: the next poll reads it
        }
      }
      return undefined;
    };
    let victim: CliProcess | undefined;
    await waitFor(
      async () => {
        for (const j of await queue.getJobs(['active'])) {
          const p = j.progress as { fraction?: number; worker?: number; pid?: number } | number;
          if (typeof p !== 'object') continue;
          const f = p.fraction ?? 0;
          if (f > 0.4 && f < 0.9 && p.pid !== undefined && lockHolder() === p.pid) {
            victim = workers.find((w) => w.proc.pid === p.worker);
          }
        }
        if (victim !== undefined) victim.proc.kill('SIGKILL');
        return victim !== undefined;
      },
      120_000,
      'the job in its second epoch, its job process holding the lock',
    );
    const dead = victim as CliProcess;
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
