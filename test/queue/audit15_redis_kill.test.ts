/**
 * Audit of the job queue on a real Redis (issue 21, append-only), off the seed paths: Redis down
 * mid-flow (submitter and worker say so once, naming the address; the flow finishes once it is
 * back); a worker killed with SIGKILL mid-job: the job is re-delivered to another worker once
 * and its result stored once. Skips (with the reason printed) where redis-server is not installed.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queue } from '../../src/node.js';
import {
  deepprob,
  lastJson,
  redisMissing,
  startRedis,
  waitFor,
  type CliProcess,
  type RedisServer,
} from './procs.js';

const missing = redisMissing();
if (missing !== undefined) console.log(`SKIPPED Redis audit tests: ${missing}`);

const env = { DEEPPROB_BACKEND: 'wasm' };
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
    redis = await startRedis({ appendOnly: true });
  });
  afterAll(async () => {
    for (const p of procs) if (p.proc.exitCode === null) p.proc.kill('SIGKILL');
    await redis?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const gridFile = (grid: Record<string, unknown[]>, base = tinyBase): string => {
    const dir = tmp();
    const path = join(dir, 'grid.json');
    writeFileSync(path, JSON.stringify({ base, grid }));
    return path;
  };

  it('a worker killed with SIGKILL mid-job: the job is re-delivered once, its result stored once', async () => {
    const store = tmp();
    const name = 'kill';
    const lock = ['--lock-ms', '3000'];
    const first = run(['worker', '--redis', redis.url, '--queue', name, ...lock], env);
    await waitFor(() => /deepprob worker \d+ on redis/.test(first.output()), 60_000, 'worker up');
    const s = run(
      [
        'sweep',
        '--grid',
        gridFile({ seed: [4] }, { ...tinyBase, epochs: 3, limit: 256 }),
        '--redis',
        redis.url,
        '--queue',
        name,
        '--store',
        store,
        '--json',
        '--quiet',
      ],
      env,
    );
    await waitFor(() => /: job sweep-.*\(attempt 1\//.test(first.output()), 60_000, 'job started');
    // kill it once training reports progress (mid-job on any machine's speed)
    await waitFor(
      async () =>
        (await queue.queueStatus(redis.url, name)).jobs.some(
          (j) => j.state === 'active' && j.progress > 0 && j.progress < 0.9,
        ),
      60_000,
      'training under way',
    );
    first.proc.kill('SIGKILL');
    await first.exited;
    const second = run(['worker', '--redis', redis.url, '--queue', name, ...lock], env);
    expect(await s.exited, `${s.output()}\n${second.output()}`).toBe(0);
    const key = String(lastJson(s).key);
    const done = new RegExp(`done job ${key}\\.[0-9a-f]{8}\\.0`, 'g');
    expect(first.output()).not.toMatch(done);
    expect(second.output().match(done) ?? [], second.output()).toHaveLength(1);
    expect(readdirSync(join(store, 'results', key)).sort()).toEqual(['aggregate', 'point-0']);
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 150_000);

  it('Redis down mid-flow: the submitter says so naming the address, then finishes once it is back', async () => {
    const store = tmp();
    const name = 'outage';
    const w = run(['worker', '--redis', redis.url, '--queue', name, '--lock-ms', '8000'], env);
    const s = run(
      [
        'sweep',
        '--grid',
        gridFile({ seed: [1, 2] }, { ...tinyBase, epochs: 2, limit: 128 }),
        '--redis',
        redis.url,
        '--queue',
        name,
        '--store',
        store,
        '--json',
        '--quiet',
      ],
      env,
    );
    await waitFor(() => /: job sweep-.*\(attempt 1\//.test(w.output()), 60_000, 'job started');
    await redis.kill();
    const lost = `lost the connection to Redis at ${redis.url}`;
    await waitFor(() => s.output().includes(lost), 30_000, 'the submitter to report the outage');
    await waitFor(
      () => w.output().includes(`cannot reach Redis at ${redis.url}`),
      30_000,
      'the worker to report the outage',
    );
    await redis.start();
    expect(await s.exited, `${s.output()}\n${w.output()}`).toBe(0);
    expect(s.output()).toContain(`Redis at ${redis.url} is back`);
    expect(s.output().split(lost).length - 1).toBe(1); // said once, not per retry
    const agg = lastJson(s) as { rows: { params: { seed: number } }[] };
    expect(agg.rows.map((r) => r.params.seed).sort()).toEqual([1, 2]);
    const key = String(lastJson(s).key);
    expect(readdirSync(join(store, 'results', key)).sort()).toEqual([
      'aggregate',
      'point-0',
      'point-1',
    ]);
    w.proc.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  }, 150_000);
});
