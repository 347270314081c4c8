/**
 * Poison messages fail at once (audit 16): a message whose data can never pass its checks
 * (`requestOf` in the worker, `checkJob` in the job process) used every one of its attempts, with
 * backoff between them; it now fails on its first attempt as BullMQ's `UnrecoverableError` does,
 * while a failure of the run itself (a dataset folder without the files) keeps its retries. A
 * submitter whose flow holds such a job exits naming it after that one attempt. Against a real
 * `redis-server` (skipped, with the reason printed, where it is not installed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queue } from '../../src/node.js';
import {
  deepprob,
  redisMissing,
  startRedis,
  waitFor,
  type CliProcess,
  type RedisServer,
} from './procs.js';

const missing = redisMissing();
if (missing !== undefined) console.log(`SKIPPED Redis poison tests: ${missing}`);

const env = { DEEPPROB_BACKEND: 'wasm' };
const tinyBase = { model: 'lenet5', epochs: 1, limit: 32, testLimit: 16, batchSize: 32 };

describe.skipIf(missing !== undefined)('poison messages fail at once', () => {
  let redis: RedisServer;
  let worker: CliProcess | undefined;
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'deepprob-a16p-'));
    dirs.push(d);
    return d;
  };
  const name = 'poison16';
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    if (worker !== undefined && worker.proc.exitCode === null) worker.proc.kill('SIGKILL');
    await redis?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('one attempt for a poison message (worker or job checks); all attempts for a failed run; the submitter stops at once', async () => {
    const store = tmp();
    const flow = queue.sweepFlow(
      queue.parseSweepGrid({ base: tinyBase, grid: { lr: [0.002] } }),
      store,
    );
    const valid = flow.jobs[0] as queue.SweepJob;
    const q = new Queue(name, { connection: { url: redis.url, maxRetriesPerRequest: null } });
    // a long backoff: had the poison messages been retried, they would still be delayed
    const slow = { attempts: 5, backoff: { type: 'fixed', delay: 60_000 } };
    try {
      await q.add('p', { job: valid }, { ...slow, jobId: 'no-store' }); // requestOf refuses
      await q.add('p', { job: { ...valid, kind: 'bogus' }, store }, { ...slow, jobId: 'kind' }); // checkJob
      // a run that fails (no dataset files in dataDir) is not poison: both attempts are used
      const noData = tmp();
      await q.add(
        'r',
        {
          job: { ...valid, key: 'r/nodata', config: { ...valid.config, dataDir: noData } },
          store,
        },
        { attempts: 2, backoff: { type: 'fixed', delay: 100 }, jobId: 'nodata' },
      );
      worker = deepprob(
        ['worker', '--redis', redis.url, '--queue', name, '--concurrency', '3'],
        env,
      );
      const w = worker;
      await waitFor(
        async () => ((await q.getJobCounts('failed')).failed ?? 0) >= 3,
        90_000,
        'the three jobs failed',
      );
      for (const id of ['no-store', 'kind']) {
        const j = await q.getJob(id);
        expect(await j?.getState(), id).toBe('failed');
        expect(j?.attemptsMade, `${id}\n${w.output()}`).toBe(1);
      }
      expect((await q.getJob('no-store'))?.failedReason).toMatch(/^data\.store: expected/);
      expect((await q.getJob('kind'))?.failedReason).toMatch(/^job\.kind: .*bogus/);
      const nodata = await q.getJob('nodata');
      expect(nodata?.attemptsMade, w.output()).toBe(2);
      expect(nodata?.failedReason).toMatch(/train-images/);
      expect(w.output()).toMatch(
        /job kind failed \(attempt 1\/5\): job\.kind: .*; a poison message \(no attempt can succeed\): failed now without retries/,
      );
      expect(w.output()).toMatch(/job nodata failed \(attempt 1\/2\): .*it will be retried/);
      // queue failed lists them with one attempt made of five
      const list = await queue.failedJobs(redis.url, name);
      expect(list.find((f) => f.id === 'kind')).toMatchObject({ attemptsMade: 1, attempts: 5 });

      // a submitter whose flow holds a poison job: exits after its one attempt, naming it
      const bad = { ...flow, key: `${flow.key}-bad`, jobs: [{ ...valid, kind: 'bogus' }] };
      const ex = new queue.BullExecutor(redis.url, {
        queue: name,
        attempts: 3,
        backoffMs: 60_000,
        pollMs: 100,
        log: () => {},
      });
      const t0 = Date.now();
      try {
        await expect(ex.run(bad as typeof flow)).rejects.toThrow(
          /job sweep-.* failed after 1 attempt: job\.kind: expected member \| sweep \| shard/,
        );
      } finally {
        await ex.close();
      }
      expect(Date.now() - t0).toBeLessThan(50_000); // not the 60 s backoff
      expect(w.proc.exitCode).toBeNull(); // still serving
      w.proc.kill('SIGTERM');
      expect(await w.exited).toBe(0);
    } finally {
      await q.obliterate({ force: true }).catch(() => {});
      await q.close();
    }
  }, 150_000);
});
