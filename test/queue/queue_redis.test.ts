/**
 * The queue on a real Redis (Debian's redis-server on a free loopback port) with real worker
 * processes: a 5-member ensemble of Bayesian LeNet-5s trained by 2 workers predicts exactly as the
 * in-process path with the same seeds; `queue status` counts the jobs. Skips (with the reason
 * printed) where redis-server is not installed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { writeSplit } from '../idx_fixture.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deepprob,
  redisMissing,
  startRedis,
  type CliProcess,
  type RedisServer,
  lastJson,
  waitFor,
} from './procs.js';

const missing = redisMissing();
if (missing !== undefined) console.log(`SKIPPED Redis queue tests: ${missing}`);

const env = { DEEPPROB_BACKEND: 'wasm' };
const tiny = [
  '--members',
  '5',
  '--epochs',
  '1',
  '--limit',
  '64',
  '--batch-size',
  '64',
  '--test-limit',
  '20',
  '--mc-samples',
  '2',
  '--eval-limit',
  '100',
  '--seed',
  '11',
  '--quiet',
  '--json',
];

describe.skipIf(missing !== undefined)('job queue on Redis', () => {
  let redis: RedisServer;
  const workers: CliProcess[] = [];
  const dirs: string[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    for (let i = 0; i < 2; i++) {
      workers.push(deepprob(['worker', '--redis', redis.url, '--lock-ms', '15000'], env));
    }
  });
  afterAll(async () => {
    for (const w of workers) w.proc.kill('SIGKILL');
    await redis?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('an ensemble trained by 2 workers predicts as the in-process path with the same seeds', async () => {
    const queued = mkdtempSync(join(tmpdir(), 'deepprob-q-'));
    const local = mkdtempSync(join(tmpdir(), 'deepprob-l-'));
    dirs.push(queued, local);
    const viaQueue = deepprob(['ensemble', ...tiny, '--redis', redis.url, '--store', queued], env);
    const inProcess = deepprob(['ensemble', ...tiny, '--store', local], {
      ...env,
      DEEPPROB_REDIS_URL: '',
    });
    const [cq, cl] = await Promise.all([viaQueue.exited, inProcess.exited]);
    expect(cq, viaQueue.output()).toBe(0);
    expect(cl, inProcess.output()).toBe(0);
    const q = lastJson(viaQueue);
    const l = lastJson(inProcess);
    expect(q.key).toBe(l.key);
    expect(q.members).toBe(5);
    // the same member predictions, image by image, in the test set and the OOD set
    const key = String(q.key);
    let maxDiff = 0;
    for (let m = 0; m < 5; m++) {
      for (const blob of ['in.f32', 'out.f32']) {
        const read = (store: string): Float32Array => {
          const b = readFileSync(join(store, 'results', key, `member-${m}`, blob));
          return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
        };
        const a = read(queued);
        const b = read(local);
        expect(a.length).toBe(100 * 10);
        for (let i = 0; i < a.length; i++)
          maxDiff = Math.max(maxDiff, Math.abs((a[i] as number) - (b[i] as number)));
      }
    }
    expect(maxDiff).toBe(0); // bit for bit: same seeds, same kernels
    expect(q.memberAccuracy).toEqual(l.memberAccuracy);
    const mq = q.metrics as Record<string, number>;
    const ml = l.metrics as Record<string, number>;
    for (const k of ['accuracy', 'nll', 'ece', 'brier'])
      expect(mq[k]).toBeCloseTo(ml[k] as number, 6);
    // the members differ (seeds 11..15), so the ensemble has a positive mutual information
    const memberProbs = [0, 1].map((m) =>
      readFileSync(join(queued, 'results', key, `member-${m}`, 'in.f32')),
    );
    expect(Buffer.compare(memberProbs[0] as Buffer, memberProbs[1] as Buffer)).not.toBe(0);
    expect(
      readFileSync(join(queued, 'results', key, 'aggregate', 'report.html'), 'utf8'),
    ).toContain('<html');
    // queue status: 5 children and their parent completed
    const status = deepprob(['queue', 'status', '--redis', redis.url, '--json']);
    expect(await status.exited, status.output()).toBe(0);
    const s = lastJson(status) as { counts: Record<string, number> };
    expect(s.counts.completed).toBe(6);
    expect(s.counts.failed).toBe(0);
  }, 400_000);

  it('a flow submitted again while it runs is waited for, not queued twice', async () => {
    const store = mkdtempSync(join(tmpdir(), 'deepprob-twice-'));
    dirs.push(store);
    const spec = join(store, 'grid.json');
    writeFileSync(
      spec,
      JSON.stringify({
        base: { model: 'lenet5', epochs: 2, limit: 2048, testLimit: 32, batchSize: 64 },
        grid: { lr: [0.001] },
      }),
    );
    const submit = (): CliProcess =>
      deepprob(
        ['sweep', '--grid', spec, '--redis', redis.url, '--store', store, '--json', '--quiet'],
        env,
      );
    const first = submit();
    const queue = new Queue('deepprob', {
      connection: { url: redis.url, maxRetriesPerRequest: null },
    });
    try {
      await waitFor(
        async () => (await queue.getJobCounts('active')).active === 1,
        60_000,
        'the first run active',
      );
    } finally {
      await queue.close();
    }
    const second = submit();
    const [c1, c2] = await Promise.all([first.exited, second.exited]);
    expect(c1, first.output()).toBe(0);
    expect(c2, second.output()).toBe(0);
    expect(second.output()).toMatch(
      /this flow is already in queue deepprob \(job sweep-[0-9a-f]+\.[0-9a-f]{8}\.aggregate, submitted .*\): waiting for that run/,
    );
    expect(lastJson(second)).toEqual(lastJson(first));
    // the point ran once: one 'done' line for it among both workers, no refusal
    const logs = workers.map((w) => w.output()).join('\n');
    const key = String(lastJson(first).key);
    expect(logs.split(`done job ${key}.`).length - 1).toBe(1);
    expect(logs).not.toContain('is in use by');
  }, 180_000);

  it('a failed job: its worker logs why, queue failed lists it, queue retry re-queues its flow', async () => {
    const store = mkdtempSync(join(tmpdir(), 'deepprob-fail-'));
    const data = mkdtempSync(join(tmpdir(), 'deepprob-nodata-'));
    dirs.push(store, data);
    const spec = join(store, 'grid.json');
    writeFileSync(
      spec,
      JSON.stringify({
        base: { model: 'lenet5', dataset: 'mnist', dataDir: data, epochs: 1, limit: 32 },
        grid: { lr: [0.001] },
      }),
    );
    const args = ['sweep', '--grid', spec, '--redis', redis.url, '--store', store, '--json'];
    const s = deepprob([...args, '--attempts', '1'], env);
    expect(await s.exited, s.output()).toBe(1);
    const logs = workers.map((w) => w.output()).join('\n');
    expect(logs).toMatch(
      /job (sweep-[0-9a-f]+\.[0-9a-f]{8}\.0) failed \(attempt 1\/1\): .*train-images.*; no attempts left/,
    );
    const child = /job (sweep-[0-9a-f]+\.[0-9a-f]{8}\.0) failed/.exec(logs)?.[1] as string;
    const failed = deepprob(['queue', 'failed', '--redis', redis.url, '--json']);
    expect(await failed.exited, failed.output()).toBe(0);
    const list = (
      lastJson(failed).failed as {
        id: string;
        attemptsMade: number;
        attempts: number;
        reason: string;
      }[]
    ).sort((a, b) => a.id.localeCompare(b.id));
    const parent = child.replace(/\.0$/, '.aggregate');
    expect(list.map((j) => [j.id, j.attemptsMade, j.attempts])).toEqual([
      [child, 1, 1],
      [parent, 1, 1],
    ]);
    expect(list[0]?.reason).toMatch(/train-images/);
    expect(list[1]?.reason).not.toBe('');
    const text = deepprob(['queue', 'failed', '--redis', redis.url]);
    expect(await text.exited).toBe(0);
    expect(text.output()).toContain(`${child}  sweep  attempts 1/1`);
    // the data appears; the flow is re-queued, and the same command waits for it
    writeSplit(data, 'train', { count: 32 });
    writeSplit(data, 't10k', { count: 16 });
    const retry = deepprob(['queue', 'retry', '--all', '--redis', redis.url]);
    expect(await retry.exited, retry.output()).toBe(0);
    expect(retry.output()).toContain(`(1 jobs, parent ${parent}) for failed jobs`);
    const again = deepprob(args, env);
    expect(await again.exited, again.output()).toBe(0);
    const none = deepprob(['queue', 'failed', '--redis', redis.url]);
    expect(await none.exited).toBe(0);
    expect(none.output()).toContain('queue deepprob: no failed jobs');
    const bad = deepprob(['queue', 'retry', 'nope', '--redis', redis.url]);
    expect(await bad.exited).toBe(1);
    expect(bad.output()).toContain('id: no job nope in queue deepprob');
  }, 180_000);

  it('a submitter with --queue reaches the workers of that queue only', async () => {
    const store = mkdtempSync(join(tmpdir(), 'deepprob-side-'));
    dirs.push(store);
    const spec = join(store, 'grid.json');
    writeFileSync(
      spec,
      JSON.stringify({
        base: { model: 'lenet5', epochs: 1, limit: 64, testLimit: 32 },
        grid: { lr: [0.001] },
      }),
    );
    const side = deepprob(['worker', '--redis', redis.url, '--queue', 'side'], env);
    workers.push(side);
    const s = deepprob(
      [
        'sweep',
        '--grid',
        spec,
        '--redis',
        redis.url,
        '--queue',
        'side',
        '--store',
        store,
        '--json',
      ],
      env,
    );
    expect(await s.exited, s.output()).toBe(0);
    expect(s.output()).toMatch(/1 jobs on redis:\/\/127\.0\.0\.1:\d+ \(queue side\)/);
    expect(side.output()).toMatch(/done job sweep-[0-9a-f]+\./);
    const key = String(lastJson(s).key);
    expect(side.output()).toContain(`done job ${key}.`);
    for (const w of workers.slice(0, 2)) expect(w.output()).not.toContain(key);
    workers.splice(workers.indexOf(side), 1);
    side.proc.kill('SIGKILL');
  }, 120_000);

  it('SIGTERM stops an idle worker cleanly', async () => {
    const w = workers.pop() as CliProcess;
    w.proc.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  }, 60_000);
});
