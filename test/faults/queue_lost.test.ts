/**
 * A submitter never hangs on a Redis that cannot hold its flow: a Redis restarted without
 * persistence (the flow vanished: an error naming the job and that Redis lost it), and a database
 * index beyond the server's `databases` (an error at connect naming the index and the count).
 * Both exit non-zero within seconds; passwords stay redacted. Skips where redis-server is missing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deepprob,
  redisMissing,
  startRedis,
  waitFor,
  type CliProcess,
  type RedisServer,
} from '../queue/procs.js';

const missing = redisMissing();
if (missing !== undefined) console.log(`SKIPPED queue lost-flow tests: ${missing}`);

describe.skipIf(missing !== undefined)('queue: a Redis that lost the flow', () => {
  let redis: RedisServer;
  let dir: string;
  let spec: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deepprob-ql-'));
    redis = await startRedis(); // no persistence
    spec = join(dir, 'grid.json');
    writeFileSync(
      spec,
      JSON.stringify({ base: { model: 'lenet5', epochs: 1, limit: 64 }, grid: { lr: [0.001] } }),
    );
  });
  const procs: CliProcess[] = [];
  afterAll(async () => {
    for (const p of procs) p.proc.kill('SIGKILL'); // a submitter that hung (the old behaviour)
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  // no worker runs here: the flow waits in Redis
  const sweep = (url: string): CliProcess => {
    const p = deepprob(
      ['sweep', '--grid', spec, '--redis', url, '--store', join(dir, 'store'), '--quiet'],
      { DEEPPROB_BACKEND: 'wasm' },
    );
    procs.push(p);
    return p;
  };

  it('Redis restarted without persistence: the submitter exits naming the lost job', async () => {
    const s = sweep(redis.url);
    const queue = new Queue('deepprob', {
      connection: { url: redis.url, maxRetriesPerRequest: null },
    });
    queue.on('error', () => {});
    try {
      await waitFor(
        async () => (await queue.getJobCounts('waiting-children'))['waiting-children'] === 1,
        60_000,
        'the flow in Redis',
      );
    } finally {
      await queue.close();
    }
    await redis.kill();
    await redis.start();
    const t0 = Date.now();
    expect(await s.exited, s.output()).toBe(1);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(s.output()).toMatch(
      /job sweep-[0-9a-f]+\.[0-9a-z]+\.aggregate \(the flow sweep-[0-9a-f]+\) is no longer in Redis at redis:\/\/127\.0\.0\.1:\d+: Redis lost it \(restarted without persistence/,
    );
  }, 90_000);

  it("a database index beyond the server's: an error at connect naming it and the count", async () => {
    const s = sweep(`redis://:s3cret@127.0.0.1:${redis.port}/99`);
    expect(await s.exited, s.output()).toBe(1);
    expect(s.output()).toContain(
      `Redis at redis://:***@127.0.0.1:${redis.port}/99 (--redis) has no database 99; it has 16 (0 to 15`,
    );
    expect(s.output()).not.toContain('s3cret');
    const w = deepprob(['worker', '--redis', `redis://127.0.0.1:${redis.port}/16`]);
    procs.push(w);
    expect(await w.exited, w.output()).toBe(1);
    expect(w.output()).toContain('has no database 16; it has 16');
  }, 60_000);
});
