/**
 * Audit of the job queue on a real Redis (issue 21), off the seed paths: poison messages
 * (malformed JSON, a string, null, an unknown kind, missing fields, no or a relative store, a flow
 * without its fields) recorded as clear failures after their attempts while the worker keeps
 * serving; `queue failed`, `queue retry --all` and `queue status` with such messages in the queue.
 * Skips (with the reason printed) where redis-server is not installed.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
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
if (missing !== undefined) console.log(`SKIPPED Redis audit tests: ${missing}`);

const env = { DEEPPROB_BACKEND: 'wasm' };
const root = resolve(import.meta.dirname, '..', '..');
const tinyBase = { model: 'lenet5', epochs: 1, limit: 32, testLimit: 16, batchSize: 32 };

describe.skipIf(missing !== undefined)('job queue audit on Redis', () => {
  let redis: RedisServer;
  const procs: CliProcess[] = [];
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'deepprob-a15r-'));
    dirs.push(d);
    return d;
  };
  const run = (args: string[], e: NodeJS.ProcessEnv = env): CliProcess => {
    const p = deepprob(args, e);
    procs.push(p);
    return p;
  };
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const p of procs) if (p.proc.exitCode === null) p.proc.kill('SIGKILL');
    await redis?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('poison messages fail on their first attempt (of 2) with a clear reason; the worker keeps serving', async () => {
    const name = 'audit';
    const store = tmp();
    const flow = queue.sweepFlow(
      queue.parseSweepGrid({ base: tinyBase, grid: { lr: [0.002] } }),
      store,
    );
    const valid = flow.jobs[0];
    const q = new Queue(name, { connection: { url: redis.url, maxRetriesPerRequest: null } });
    const opts = { attempts: 2, backoff: { type: 'fixed', delay: 100 } };
    try {
      const poison: [string, unknown, RegExp][] = [
        ['string', 'not a job', /^data: expected a queue message/],
        ['null', null, /^data: expected a queue message/],
        ['kind', { job: { key: 'p/1', index: 0, kind: 'bogus' }, store }, /^job\.kind: .*bogus/],
        ['store', { job: { ...valid, key: 'p/3' } }, /^data\.store: expected the absolute path/],
        ['relative', { job: { ...valid, key: 'p/4' }, store: 'rel' }, /^data\.store: /],
        ['flow', { flow: { kind: 'sweep' } }, /^data\.flow: expected a flow/],
        ['json', { x: 1 }, /^data: the message's data is not JSON/],
      ];
      for (const [label, data] of poison) {
        await q.add(label, data, { ...opts, jobId: `poison-${label}` });
      }
      // a message whose data is not JSON at all (written past BullMQ)
      const client = new Redis(redis.url);
      try {
        await client.hset(`bull:${name}:poison-json`, 'data', '{"job": {"key": ');
      } finally {
        client.disconnect();
      }
      await q.add('valid', { job: valid, store }, { ...opts, jobId: 'valid' });
      const worker = run(['worker', '--redis', redis.url, '--queue', name, '--lock-ms', '8000']);
      await waitFor(
        async () => {
          const c = await q.getJobCounts('completed', 'failed');
          return (c.completed ?? 0) + (c.failed ?? 0) >= poison.length + 1;
        },
        120_000,
        'every job settled',
      );
      for (const [label] of poison) {
        expect(await q.getJobState(`poison-${label}`), label).toBe('failed');
      }
      // queue failed lists each with both attempts and its reason (one unreadable message
      // made the whole listing fail with 'Unexpected end of JSON input')
      const list = await queue.failedJobs(redis.url, name);
      expect(list).toHaveLength(poison.length);
      for (const [label, , re] of poison) {
        const j = list.find((f) => f.id === `poison-${label}`);
        expect(j?.attemptsMade, label).toBe(1); // a poison message fails at once (audit 16)
        expect(j?.attempts, label).toBe(2);
        expect(j?.reason, label).toMatch(re);
      }
      // --all re-queues flows only: these messages are in none, nothing is re-queued
      expect(await queue.retryFailed(redis.url, name, 'all')).toEqual([]);
      await expect(queue.retryFailed(redis.url, name, ['poison-flow'])).rejects.toThrow(
        /job poison-flow is in no deepprob flow/,
      );
      const status = await queue.queueStatus(redis.url, name);
      expect(status.counts.failed).toBe(poison.length);
      expect(status.counts.completed).toBe(1);
      expect(await q.getJobState('valid'), worker.output()).toBe('completed');
      expect(new queue.DirResultStore(store).check(valid?.key as string).state).toBe('valid');
      // every failed attempt logged with its attempt number; no 'undefined' store made in the cwd
      expect(worker.output()).toMatch(/job poison-kind failed \(attempt 1\/2\): job\.kind/);
      expect(worker.output()).toContain('a poison message (no attempt can succeed)');
      expect(existsSync(join(root, 'undefined'))).toBe(false);
      // the worker is still serving
      expect(worker.proc.exitCode).toBeNull();
      worker.proc.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    } finally {
      await q.obliterate({ force: true }).catch(() => {});
      await q.close();
    }
  }, 180_000);
});
