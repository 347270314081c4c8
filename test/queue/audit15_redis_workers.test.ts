/**
 * Audit of the job queue on a real Redis (issue 21), off the seed paths: two idle workers racing
 * for one job (it runs once, one result) then scoring 3 shards as one in-process pass does (bit
 * for bit), Redis restarted under idle workers (they reconnect and serve the next flow). Skips (with the reason printed) where redis-server is not installed.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTraining } from '../../src/app/train.js';
import { TRAIN_DEFAULTS } from '../../src/app/run_config.js';
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
    redis = await startRedis();
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

  it('two idle workers race for a one-job flow: it runs once, one result', async () => {
    const store = tmp();
    const name = 'race';
    const ws = [0, 1].map(() =>
      run(['worker', '--redis', redis.url, '--queue', name, '--lock-ms', '8000'], env),
    );
    await waitFor(
      () => ws.every((w) => /deepprob worker \d+ on redis/.test(w.output())),
      60_000,
      'both workers up',
    );
    const s = run(
      [
        'sweep',
        '--grid',
        gridFile({ seed: [3] }),
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
    expect(await s.exited, s.output()).toBe(0);
    const key = String(lastJson(s).key);
    const logs = ws.map((w) => w.output()).join('\n');
    const done = new RegExp(`done job ${key}\\.[0-9a-f]{8}\\.0`, 'g');
    expect(logs.match(done) ?? [], logs).toHaveLength(1);
    expect(logs.split(`aggregation of ${key}`).length - 1).toBeGreaterThanOrEqual(1);
    expect(readdirSync(join(store, 'results', key)).sort()).toEqual(['aggregate', 'point-0']);
    // the same two workers score 3 shards: the metrics of one in-process pass, bit for bit
    const ckpt = tmp();
    const trained = await runTraining(
      {
        ...TRAIN_DEFAULTS,
        model: 'bayes-lenet5',
        out: ckpt,
        epochs: 1,
        limit: 32,
        testLimit: 16,
        batchSize: 32,
        mcSamples: 2,
        seed: 2,
      },
      { quiet: true },
    );
    trained.model.dispose();
    const scoring = { limit: 50, blockSize: 20, mcSamples: 2, seed: 5 };
    const sc = run(
      [
        'score',
        '--checkpoint',
        ckpt,
        '--data',
        'mnist',
        '--limit',
        '50',
        '--block-size',
        '20',
        '--mc-samples',
        '2',
        '--seed',
        '5',
        '--shards',
        '3',
        '--redis',
        redis.url,
        '--queue',
        name,
        '--store',
        tmp(),
        '--json',
        '--quiet',
      ],
      env,
    );
    const local = (await new queue.LocalExecutor(() => {}).run(
      queue.scoreFlow({ checkpoint: ckpt, dataset: 'mnist', shards: 1, store: tmp(), ...scoring }),
    )) as queue.ScoreAggregate;
    expect(await sc.exited, sc.output()).toBe(0);
    const viaQueue = lastJson(sc) as { shards: number; metrics: queue.ScoreAggregate['metrics'] };
    expect(viaQueue.shards).toBe(3);
    expect(viaQueue.metrics).toEqual(local.metrics);
    expect(local.metrics.count).toBe(50);
    for (const w of ws) w.proc.kill('SIGTERM');
    expect(await Promise.all(ws.map((w) => w.exited))).toEqual([0, 0]);
  }, 180_000);

  it('Redis restarted under idle workers: they reconnect and serve the next flow', async () => {
    const name = 'restart';
    const w = run(['worker', '--redis', redis.url, '--queue', name, '--lock-ms', '8000'], env);
    await waitFor(() => /deepprob worker \d+ on redis/.test(w.output()), 60_000, 'worker up');
    await redis.kill();
    await new Promise((r) => setTimeout(r, 1500));
    await redis.start();
    const store = tmp();
    const s = run(
      [
        'sweep',
        '--grid',
        gridFile({ seed: [6, 7] }),
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
    expect(await s.exited, `${s.output()}\n${w.output()}`).toBe(0);
    const agg = lastJson(s) as { rows: unknown[] };
    expect(agg.rows).toHaveLength(2);
    expect(w.proc.exitCode).toBeNull();
    w.proc.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  }, 150_000);
});
