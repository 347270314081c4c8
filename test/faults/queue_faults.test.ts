/**
 * Faults of the job queue with real components (Debian's redis-server, append-only with fsync on
 * every write; worker processes): a worker killed with SIGKILL mid-job (the job is taken by the
 * other worker and the results are complete), Redis killed and restarted mid-sweep (no job lost
 * or duplicated), a corrupt result file (a message naming the file, the job runs again), and
 * SIGTERM mid-job (the worker finishes the job, then exits 0). Skips where redis-server is missing.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirResultStore } from '../../src/queue/result_store.js';
import {
  deepprob,
  redisMissing,
  startRedis,
  waitFor,
  type CliProcess,
  type RedisServer,
  lastJson,
} from '../queue/procs.js';

const missing = redisMissing();
if (missing !== undefined) console.log(`SKIPPED queue fault tests: ${missing}`);

const env = { DEEPPROB_BACKEND: 'wasm' };

describe.skipIf(missing !== undefined)('queue faults', () => {
  let redis: RedisServer;
  let queue: Queue;
  let dir: string;
  const workers: CliProcess[] = [];
  const startWorker = (): CliProcess => {
    const w = deepprob(['worker', '--redis', redis.url, '--lock-ms', '4000'], env);
    workers.push(w);
    return w;
  };
  const grid = (
    name: string,
    base: Record<string, unknown>,
    axes: Record<string, unknown[]>,
  ): string => {
    const path = join(dir, `${name}.json`);
    writeFileSync(
      path,
      JSON.stringify({
        base: {
          model: 'bayes-lenet5',
          epochs: 1,
          batchSize: 64,
          testLimit: 40,
          mcSamples: 2,
          ...base,
        },
        grid: axes,
      }),
    );
    return path;
  };
  const sweep = (spec: string): CliProcess =>
    deepprob(
      [
        'sweep',
        '--grid',
        spec,
        '--redis',
        redis.url,
        '--store',
        join(dir, 'store'),
        '--quiet',
        '--json',
      ],
      env,
    );
  /** The active job with progress and the pid of its worker, once there is one. */
  const activeJob = async (): Promise<{ id: string; worker: number } | undefined> => {
    for (const j of await queue.getJobs(['active'])) {
      const p = j.progress as { fraction?: number; worker?: number } | number;
      if (typeof p === 'object' && (p.fraction ?? 0) > 0.05 && p.worker !== undefined) {
        return { id: String(j.id), worker: p.worker };
      }
    }
    return undefined;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deepprob-qf-'));
    redis = await startRedis({ appendOnly: true });
    queue = new Queue('deepprob', { connection: { url: redis.url, maxRetriesPerRequest: null } });
    queue.on('error', () => {}); // refused connections while Redis restarts
    startWorker();
    startWorker();
  });
  afterAll(async () => {
    await queue?.close();
    for (const w of workers) w.proc.kill('SIGKILL');
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a worker killed with SIGKILL mid-job: the other worker runs the job, the results are complete', async () => {
    const s = sweep(grid('kill', { limit: 3072, epochs: 2 }, { lr: [0.001, 0.002] }));
    let active: { id: string; worker: number } | undefined;
    await waitFor(async () => (active = await activeJob()) !== undefined, 240_000, 'an active job');
    const victim = workers.find((w) => w.proc.pid === active?.worker) as CliProcess;
    expect(victim).toBeDefined();
    victim.proc.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');
    expect(await s.exited, s.output()).toBe(0);
    const agg = lastJson(s) as { rows: { index: number }[] };
    expect(agg.rows.map((r) => r.index).sort()).toEqual([0, 1]);
    const survivor = workers.find((w) => w !== victim && w.proc.exitCode === null) as CliProcess;
    expect(survivor.output()).toContain(`job ${active?.id} (attempt`);
    workers.splice(workers.indexOf(victim), 1);
    startWorker();
  }, 300_000);

  it('Redis killed and restarted mid-sweep (append-only): no job lost or duplicated', async () => {
    const spec = grid('restart', { limit: 128 }, { lr: [0.001, 0.002], priorSigma: [0.05, 0.1] });
    const s = sweep(spec);
    const store = new DirResultStore(join(dir, 'store'));
    const before = store.keys().length;
    await waitFor(() => store.keys().length > before, 240_000, 'a first result');
    await redis.kill();
    await new Promise((r) => setTimeout(r, 1500));
    await redis.start();
    expect(await s.exited, s.output()).toBe(0);
    const agg = lastJson(s) as { key: string; rows: { index: number }[] };
    expect(agg.rows.map((r) => r.index).sort()).toEqual([0, 1, 2, 3]);
    const results = store.keys(agg.key);
    expect(results).toEqual(
      [...[0, 1, 2, 3].map((i) => `${agg.key}/point-${i}`), `${agg.key}/aggregate`].sort(),
    );
    for (const k of results) expect(store.check(k).state).toBe('valid');
    const counts = await queue.getJobCounts('failed', 'waiting', 'active');
    expect(counts).toEqual({ failed: 0, waiting: 0, active: 0 });

    // a corrupt result file: the job runs again (a message names the file), the sweep is whole
    const file = join(store.location, 'results', agg.key, 'point-2', 'result.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"index": 2', '"index": 7'));
    expect(store.check(`${agg.key}/point-2`).state).toBe('corrupt');
    const again = sweep(spec);
    expect(await again.exited, again.output()).toBe(0);
    const logs = workers.map((w) => w.output()).join('\n');
    expect(logs).toMatch(
      /point-2 is corrupt \(.*point-2\/result\.json: SHA-256 differs.*running the job again/,
    );
    expect(store.check(`${agg.key}/point-2`).state).toBe('valid');
    expect(store.get<{ index: number }>(`${agg.key}/point-2`)?.value?.index).toBe(2);
    expect(readdirSync(join(store.location, 'results', agg.key)).sort()).toEqual([
      'aggregate',
      'point-0',
      'point-1',
      'point-2',
      'point-3',
    ]);
  }, 300_000);

  it('SIGTERM mid-job: the worker finishes its job, then exits 0', async () => {
    const s = sweep(grid('term', { limit: 3072, epochs: 2, seed: 5 }, { lr: [0.001] }));
    let active: { id: string; worker: number } | undefined;
    await waitFor(async () => (active = await activeJob()) !== undefined, 240_000, 'an active job');
    const w = workers.find((x) => x.proc.pid === active?.worker) as CliProcess;
    w.proc.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    expect(w.output()).toContain(`done job ${active?.id}`);
    expect(await s.exited, s.output()).toBe(0);
  }, 300_000);
});
