/**
 * The queue without Redis: sufficient statistics of scoring against the toolbox's metrics, the
 * checksummed result store, idempotent jobs, corrupt results re-run, sharded scoring equal to one
 * pass, grid validation and option errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTraining } from '../../src/app/train.js';
import { TRAIN_DEFAULTS } from '../../src/app/run_config.js';
import { classificationMetrics } from '../../src/toolbox/metrics.js';
import { LocalExecutor } from '../../src/queue/executor.js';
import { scoreFlow } from '../../src/queue/flows.js';
import { redactedUrl, redisDbOf, redisUrlOf } from '../../src/queue/redis_url.js';
import { CorruptResultError, DirResultStore } from '../../src/queue/result_store.js';
import { runJob } from '../../src/queue/run_job.js';
import type { ScoreAggregate } from '../../src/queue/aggregate.js';
import { blockStats, mergeBlockStats, type BlockStats } from '../../src/queue/score_stats.js';
import { gridPoints, parseSweepGrid } from '../../src/queue/sweep_grid.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectNoLeakAsync } from '../helpers.js';

const made: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'deepprob-queue-'));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** Random probability vectors `[S, B, K]` (Dirichlet-like from exponentials). */
function randomSamples(s: number, b: number, k: number, seed: number): Float64Array {
  const rng = makeRng(seed);
  const out = new Float64Array(s * b * k);
  for (let i = 0; i < s * b; i++) {
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const v = (-Math.log(1 - rng())) ** 2;
      out[i * k + j] = Math.abs(v);
      sum += Math.abs(v);
    }
    for (let j = 0; j < k; j++) out[i * k + j] = (out[i * k + j] as number) / sum;
  }
  return out;
}

describe('scoring statistics', () => {
  const S = 4;
  const K = 5;
  const sizes = [7, 11, 3, 9];
  const blocks = sizes.map((b, i) => ({
    samples: randomSamples(S, b, K, 10 + i),
    labels: Uint8Array.from({ length: b }, (_, n) => (n * 7 + i) % K),
  }));

  it('merged statistics equal the toolbox metrics and entropies of the whole set', () => {
    const stats = blocks.map((b, i) => blockStats(i, b.samples, b.labels, S, K));
    const m = mergeBlockStats(stats);
    // reference: the predictive mean of every image, then the toolbox's metrics and float64 entropies
    const mean: number[][] = [];
    const labels: number[] = [];
    let h = 0;
    let eh = 0;
    for (const b of blocks) {
      const n = b.labels.length;
      for (let i = 0; i < n; i++) {
        const p = new Array<number>(K).fill(0);
        for (let s = 0; s < S; s++) {
          let hs = 0;
          for (let j = 0; j < K; j++) {
            const v = b.samples[(s * n + i) * K + j] as number;
            p[j] = (p[j] as number) + v / S;
            hs -= v * Math.log(v);
          }
          eh += hs / S;
        }
        h -= p.reduce((a, v) => a + v * Math.log(v), 0);
        mean.push(p);
        labels.push(b.labels[i] as number);
      }
    }
    const ref = classificationMetrics(mean, labels, 15);
    const n = labels.length;
    expect(m.count).toBe(n);
    expect(m.accuracy).toBeCloseTo(ref.accuracy, 12);
    expect(m.nll).toBeCloseTo(ref.nll, 10);
    expect(m.brier).toBeCloseTo(ref.brier, 10);
    expect(m.ece).toBeCloseTo(ref.ece, 10);
    expect(m.mce).toBeCloseTo(ref.mce, 10);
    expect(m.predictiveEntropy).toBeCloseTo(h / n, 10);
    expect(m.expectedEntropy).toBeCloseTo(eh / n, 10);
    expect(m.mutualInformation).toBeCloseTo((h - eh) / n, 10);
    expect(m.mutualInformation).toBeGreaterThan(0);
  });

  it('merging is bitwise independent of the order and the grouping of blocks', () => {
    const stats = blocks.map((b, i) => blockStats(i, b.samples, b.labels, S, K));
    const a = mergeBlockStats(stats);
    const shuffled: BlockStats[] = [stats[2], stats[0], stats[3], stats[1]] as BlockStats[];
    expect(mergeBlockStats(shuffled)).toEqual(a);
    // stats that went through JSON (the store) merge the same
    expect(mergeBlockStats(JSON.parse(JSON.stringify(shuffled)) as BlockStats[])).toEqual(a);
    expect(() => mergeBlockStats([...stats, stats[1] as BlockStats])).toThrow(
      /block 1 was counted twice/,
    );
    expect(() => mergeBlockStats([])).toThrow(/no scoring statistics/);
    expect(() => blockStats(0, new Float64Array(3), new Uint8Array(2), 2, 2)).toThrow(/samples/);
  });
});

describe('result store', () => {
  it('stores, verifies and reports a corrupt result naming the file', () => {
    const store = new DirResultStore(tmp());
    expect(store.check('a/b').state).toBe('missing');
    store.put('a/b', { x: 1 }, { 'p.bin': new Uint8Array([1, 2, 3]) });
    expect(store.get('a/b')).toEqual({ key: 'a/b', value: { x: 1 }, blobs: ['p.bin'] });
    expect(Array.from(store.blob('a/b', 'p.bin'))).toEqual([1, 2, 3]);
    // a second writer of a valid result leaves the first
    store.put('a/b', { x: 2 });
    expect(store.get('a/b')?.value).toEqual({ x: 1 });
    expect(store.keys()).toEqual(['a/b']);
    writeFileSync(join(store.location, 'results/a/b/p.bin'), new Uint8Array([1, 2, 4]));
    const s = store.check('a/b');
    expect(s.state).toBe('corrupt');
    expect(() => store.get('a/b')).toThrow(CorruptResultError);
    expect(() => store.get('a/b')).toThrow(/p\.bin: SHA-256 differs/);
    // a corrupt result is replaced by the next put
    store.put('a/b', { x: 3 });
    expect(store.get('a/b')?.value).toEqual({ x: 3 });
    expect(() => store.check('../x')).toThrow(/key/);
    expect(() => store.put('c', {}, { 'result.json': new Uint8Array() })).toThrow(/blobs/);
  });
});

describe('sharded scoring (in-process)', () => {
  let run = '';
  beforeAll(async () => {
    run = tmp();
    const r = await runTraining(
      {
        ...TRAIN_DEFAULTS,
        model: 'bayes-lenet5',
        out: run,
        epochs: 1,
        limit: 64,
        testLimit: 20,
        batchSize: 64,
        mcSamples: 2,
        seed: 4,
      },
      { quiet: true },
    );
    r.model.dispose();
  });

  it('8 shards give the metrics of 1 shard; jobs are idempotent and a corrupt result is re-run', async () => {
    const store = tmp();
    const base = {
      checkpoint: run,
      dataset: 'mnist',
      limit: 240,
      blockSize: 30,
      mcSamples: 3,
      seed: 7,
      store,
    };
    const exec = new LocalExecutor(() => {});
    const one = scoreFlow({ ...base, shards: 1 });
    const eight = scoreFlow({ ...base, shards: 8 });
    expect(eight.jobs.map((j) => (j.kind === 'shard' ? [j.blockStart, j.blockEnd] : []))).toEqual(
      Array.from({ length: 8 }, (_, i) => [i, i + 1]),
    );
    const a = (await expectNoLeakAsync(() => exec.run(one))) as ScoreAggregate;
    const b = (await exec.run(eight)) as ScoreAggregate;
    expect(b.metrics).toEqual(a.metrics);
    expect(a.metrics.count).toBe(240);
    expect(a.metrics.mutualInformation).toBeGreaterThan(0);
    // idempotent: a finished job does not run again
    const job = eight.jobs[3] as (typeof eight.jobs)[number];
    const st = new DirResultStore(store);
    const again = await runJob(
      job,
      st,
      () => {},
      () => {},
    );
    expect(again.skipped).toBe(true);
    // corrupt result: clear message naming the file, the job runs again and the result is valid
    const file = join(st.location, 'results', job.key, 'result.json');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, good.replace('"images": 30', '"images": 31'));
    const lines: string[] = [];
    const redo = await runJob(
      job,
      st,
      () => {},
      (l) => lines.push(l),
    );
    expect(redo.skipped).toBe(false);
    expect(lines.join('\n')).toMatch(
      /is corrupt .*result\.json: SHA-256 differs.*running the job again/,
    );
    const noTime = (t: string): unknown => ({ ...(JSON.parse(t) as object), seconds: 0 });
    expect(noTime(readFileSync(file, 'utf8'))).toEqual(noTime(good));
    expect(st.check(job.key).state).toBe('valid');
  });

  it('rejects bad options before any work, naming them', () => {
    const store = tmp();
    const base = {
      checkpoint: run,
      dataset: 'mnist',
      limit: 100,
      blockSize: 50,
      mcSamples: 2,
      store,
    };
    expect(() => scoreFlow({ ...base, shards: 3 })).toThrow(/--shards: expected at most 2/);
    expect(() => scoreFlow({ ...base, shards: 0 })).toThrow(/--shards/);
    expect(() => scoreFlow({ ...base, shards: 1, mcSamples: 1.5 })).toThrow(/--mc-samples/);
    expect(() => scoreFlow({ ...base, shards: 1, checkpoint: join(store, 'nope') })).toThrow(
      /--checkpoint/,
    );
  });
});

describe('sweep grid and options', () => {
  it('expands the grid last key fastest', () => {
    const g = parseSweepGrid({
      base: { epochs: 1 },
      grid: { priorSigma: [0.05, 0.1], estimator: ['reparam', 'flipout', 'local'] },
    });
    const pts = gridPoints(g);
    expect(pts).toHaveLength(6);
    expect(pts[1]?.params).toEqual({ priorSigma: 0.05, estimator: 'flipout' });
    expect(pts[3]?.config).toMatchObject({
      priorSigma: 0.1,
      estimator: 'reparam',
      epochs: 1,
      model: 'bayes-lenet5',
    });
    expect(g.metric).toEqual({ name: 'testNll', goal: 'min' });
    expect(parseSweepGrid({ grid: { lr: [1e-3] }, metric: 'testAccuracy' }).metric.goal).toBe(
      'max',
    );
  });

  it('names the bad field and the file', () => {
    const bad = (doc: unknown): string => {
      try {
        parseSweepGrid(doc, 'spec.json');
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(bad([])).toMatch(/--grid: expected a JSON object \(in spec\.json\)/);
    expect(bad({ grid: { lr: [1e-3, 'x'] } })).toMatch(/grid\.lr\[1\]: expected a number, got "x"/);
    expect(bad({ grid: { lr: [] } })).toMatch(/grid\.lr: expected a non-empty list/);
    expect(bad({ grid: { out: ['a'] } })).toMatch(/grid\.out: cannot be swept/);
    expect(bad({ grid: { lr: [1, 1] } })).toMatch(/grid\.lr\[1\]: duplicate/);
    expect(bad({ base: { epocs: 1 }, grid: { lr: [1] } })).toMatch(
      /base\.epocs: unknown training option/,
    );
    expect(bad({ grid: { estimator: ['nope'] } })).toMatch(/grid point 0 .*estimator/);
    expect(bad({ grid: { lr: [1] }, metric: 'acc' })).toMatch(/metric: expected one of testNll/);
    expect(bad({ grid: {} })).toMatch(/grid: expected at least one swept option/);
    expect(bad({ grid: { lr: [1] }, extra: 1 })).toMatch(/extra: unknown field/);
  });

  it('reads --redis or DEEPPROB_REDIS_URL and checks the URL', () => {
    expect(redisUrlOf(undefined, {})).toBeUndefined();
    expect(redisUrlOf(undefined, { DEEPPROB_REDIS_URL: 'redis://h:1' })).toBe('redis://h:1');
    expect(redisUrlOf('redis://a:2', { DEEPPROB_REDIS_URL: 'redis://h:1' })).toBe('redis://a:2');
    expect(() => redisUrlOf('http://x', {})).toThrow(
      /--redis: expected a redis:\/\/ or rediss:\/\/ URL/,
    );
    expect(() => redisUrlOf('nope', {})).toThrow(/--redis: expected a URL/);
    // a URL that does not parse (port out of range) is quoted without its password
    expect(() => redisUrlOf('redis://:s3cret@h:99999', {})).toThrow(
      '--redis: expected a URL such as redis://127.0.0.1:6379, got "redis://:***@h:99999"',
    );
  });

  it('reads the database index of the URL; a path that is not one is refused at once', () => {
    expect(redisDbOf('redis://h:1')).toBe(0);
    expect(redisDbOf('redis://h:1/')).toBe(0);
    expect(redisDbOf('rediss://u:pw@h:1/7')).toBe(7);
    let message = '';
    try {
      redisUrlOf('redis://:s3cret@h:1/db1', {});
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe(
      "--redis: expected a database index (an integer) after the port, got 'db1' in redis://:***@h:1/db1",
    );
  });

  it('keeps Redis passwords out of logs and messages', () => {
    expect(redactedUrl('redis://:s3cretPW@127.0.0.1:16400')).toBe('redis://:***@127.0.0.1:16400');
    expect(redactedUrl('rediss://user:pw@h:6380/2')).toBe('rediss://user:***@h:6380/2');
    expect(redactedUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactedUrl('redis://user@h:1')).toBe('redis://user@h:1');
  });
});
