/**
 * Audit of the job queue's public API without Redis (issue 21), as a user of `deepprob/node`'s
 * `queue` namespace reads it: sweep grids (Cartesian product counts and order, duplicate keys,
 * empty lists, bad values), flows and their options, poison jobs, the scoring statistics against
 * float64 references, and flows run by the in-process executor against the same jobs run by hand.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTraining } from '../../src/app/train.js';
import { TRAIN_DEFAULTS, type TrainConfig } from '../../src/app/run_config.js';
import { queue } from '../../src/node.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectNoLeakAsync } from '../helpers.js';

const made: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'deepprob-audit15-'));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** `fn()` throws an ArgumentError whose message matches `re`. */
function argError(fn: () => unknown, re: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected an ArgumentError matching ${String(re)}`).toBeInstanceOf(ArgumentError);
  expect((err as Error).message).toMatch(re);
}

/** `p` rejects with an ArgumentError whose message matches `re`. */
async function argErrorAsync(p: Promise<unknown>, re: RegExp): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, `expected an ArgumentError matching ${String(re)}`).toBeInstanceOf(ArgumentError);
  expect((err as Error).message).toMatch(re);
}

describe('sweep grids', () => {
  it('a grid of 3 x 2 x 2 values has the 12 points of the Cartesian product, last key fastest', () => {
    const axes: [string, (string | number)[]][] = [
      ['priorSigma', [0.05, 0.1, 0.3]],
      ['klWeight', [1, 'blundell']],
      ['estimator', ['reparam', 'flipout']],
    ];
    const g = queue.parseSweepGrid({ base: { epochs: 1 }, grid: Object.fromEntries(axes) });
    const pts = queue.gridPoints(g);
    // reference: nested loops, outermost axis first
    const ref: Record<string, string | number>[] = [];
    for (const a of axes[0]?.[1] ?? [])
      for (const b of axes[1]?.[1] ?? [])
        for (const c of axes[2]?.[1] ?? []) ref.push({ priorSigma: a, klWeight: b, estimator: c });
    expect(pts.map((p) => p.params)).toEqual(ref);
    expect(pts.map((p) => p.index)).toEqual(ref.map((_, i) => i));
    for (const p of pts) expect(p.config).toMatchObject({ ...p.params, epochs: 1 });
    const flow = queue.sweepFlow(g, tmp());
    expect(flow.jobs).toHaveLength(12);
    expect(new Set(flow.jobs.map((j) => j.key)).size).toBe(12);
  });

  it('one axis of one value is one point; the flow key depends on content, not key order', () => {
    const a = queue.parseSweepGrid({ base: { epochs: 1, limit: 64 }, grid: { lr: [0.01] } });
    const b = queue.parseSweepGrid({ base: { limit: 64, epochs: 1 }, grid: { lr: [0.01] } });
    expect(queue.gridPoints(a)).toHaveLength(1);
    const store = tmp();
    expect(queue.sweepFlow(a, store).key).toBe(queue.sweepFlow(b, store).key);
    const c = queue.parseSweepGrid({ base: { epochs: 1, limit: 64 }, grid: { lr: [0.02] } });
    expect(queue.sweepFlow(c, store).key).not.toBe(queue.sweepFlow(a, store).key);
  });

  it('empty lists, an empty grid and non-list axes are ArgumentErrors naming the field', () => {
    argError(() => queue.parseSweepGrid({ grid: { lr: [] } }), /^grid\.lr: .*non-empty list/);
    argError(() => queue.parseSweepGrid({ grid: {} }), /^grid: expected at least one/);
    argError(() => queue.parseSweepGrid({ grid: { lr: 0.1 } }), /^grid\.lr: .*non-empty list/);
    argError(() => queue.parseSweepGrid({ grid: [['lr', [0.1]]] }), /^grid: expected an object/);
    argError(() => queue.parseSweepGrid({}), /^grid: expected an object/);
    argError(() => queue.parseSweepGrid({ base: [], grid: { lr: [0.1] } }), /^base: /);
    argError(() => queue.parseSweepGrid('lr=0.1'), /^--grid: expected a JSON object/);
  });

  it('bad values are ArgumentErrors naming the field or the grid point', () => {
    const bad: [unknown, RegExp][] = [
      [{ grid: { lr: [0.1, true] } }, /^grid\.lr\[1\]: expected a number, got true/],
      [{ grid: { lr: [0.1, null] } }, /^grid\.lr\[1\]: expected a number/],
      [{ grid: { lr: [JSON.parse('1e400') as number] } }, /^grid\.lr\[0\]: expected a number/],
      [{ grid: { lr: [-0.1] } }, /^grid point 0 \{"lr":-0\.1\}: .*lr/],
      [{ grid: { epochs: [0] } }, /^grid point 0 .*epochs/],
      [{ grid: { batchSize: [2.5] } }, /^grid point 0 .*batch/i],
      [{ grid: { model: ['lenet5', 'resnet'] } }, /^grid point 1 .*resnet/],
      [{ grid: { klWeight: ['sometimes'] } }, /^grid point 0 .*sometimes/],
      [{ grid: { estimator: ['reparam', 'reparam'] } }, /^grid\.estimator\[1\]: duplicate/],
      [{ grid: { lr: [0.1, 1e-1] } }, /^grid\.lr\[1\]: duplicate value 0\.1/],
      [{ grid: { lr: [0.1] }, goal: 'up' }, /^goal: expected min or max/],
      [{ grid: { lr: [0.1] }, metric: 3 }, /^metric: expected one of/],
      [{ base: { epochs: '2' }, grid: { lr: [0.1] } }, /^base\.epochs: expected a number/],
      [{ base: { out: 'x' }, grid: { lr: [0.1] } }, /^base\.out: unknown training option/],
    ];
    for (const [doc, re] of bad) argError(() => queue.parseSweepGrid(doc, 'g.json'), re);
  });

  it('a key written twice in the grid file is refused naming it (JSON.parse would keep the last)', () => {
    const dir = tmp();
    const cases: [string, RegExp][] = [
      ['{"grid": {"lr": [0.1], "lr": [0.2]}}', /grid\.lr: .*twice/],
      ['{"base": {"epochs": 1, "epochs": 2}, "grid": {"lr": [0.1]}}', /base\.epochs: .*twice/],
      ['{"grid": {"lr": [0.1]}, "grid": {"seed": [1, 2]}}', /grid: .*twice/],
    ];
    for (const [text, re] of cases) {
      const path = join(dir, 'dup.json');
      writeFileSync(path, text);
      argError(() => queue.readSweepGrid(path), re);
      argError(() => queue.readSweepGrid(path), /dup\.json/);
    }
    // the same key in two different objects is fine
    const ok = join(dir, 'ok.json');
    writeFileSync(ok, '{"base": {"seed": 3}, "grid": {"seed": [1, 2]}}');
    expect(queue.gridPoints(queue.readSweepGrid(ok))).toHaveLength(2);
  });

  it('a missing or non-JSON grid file names --grid and the file', () => {
    const dir = tmp();
    argError(
      () => queue.readSweepGrid(join(dir, 'none.json')),
      /^--grid: cannot read .*none\.json/,
    );
    const path = join(dir, 'bad.json');
    writeFileSync(path, '{"grid": {"lr": [0.1,]}}');
    argError(() => queue.readSweepGrid(path), /^--grid: .*bad\.json is not valid JSON/);
  });
});

const tinyConfig = (over: Partial<TrainConfig> = {}): Omit<TrainConfig, 'out'> => {
  const { out: _out, ...rest } = {
    ...TRAIN_DEFAULTS,
    model: 'lenet5',
    epochs: 1,
    limit: 64,
    testLimit: 20,
    batchSize: 32,
    mcSamples: 2,
    seed: 21,
    ...over,
  } as TrainConfig;
  return rest;
};

describe('flows and their options', () => {
  it('ensembleFlow: member i is seeded seed + i, keys unique, bad member counts refused', () => {
    const f = queue.ensembleFlow({ config: tinyConfig(), members: 4, store: tmp() });
    expect(f.jobs.map((j) => (j.kind === 'member' ? j.config.seed : -1))).toEqual([21, 22, 23, 24]);
    expect(f.jobs.map((j) => j.index)).toEqual([0, 1, 2, 3]);
    expect(new Set(f.jobs.map((j) => j.key)).size).toBe(4);
    for (const m of [1, 0, -2, 2.5, Number.NaN]) {
      argError(
        () => queue.ensembleFlow({ config: tinyConfig(), members: m, store: tmp() }),
        /^--members: /,
      );
    }
    argError(
      () => queue.ensembleFlow({ config: tinyConfig({ lr: -1 }), members: 2, store: tmp() }),
      /lr/,
    );
  });

  it('ensembleFlow and scoreFlow refuse an empty store and unknown option keys', () => {
    argError(() => queue.ensembleFlow({ config: tinyConfig(), members: 2, store: '' }), /store/);
    argError(
      () =>
        queue.ensembleFlow({
          config: tinyConfig(),
          members: 2,
          store: tmp(),
          numMembers: 3,
        } as never),
      /numMembers/,
    );
    argError(
      () =>
        queue.scoreFlow({
          checkpoint: tmp(),
          dataset: 'mnist',
          shards: 1,
          mcSamples: 2,
          store: tmp(),
          num_samples: 3,
        } as never),
      /num_samples/,
    );
    argError(
      () =>
        queue.scoreFlow({
          checkpoint: tmp(),
          dataset: 'mnist',
          shards: 1,
          mcSamples: 2,
          store: '',
        }),
      /store/,
    );
  });

  it('ensembleFlow: numBins and evalLimit are checked before anything runs', () => {
    for (const numBins of [0, -1, 1.5]) {
      argError(
        () => queue.ensembleFlow({ config: tinyConfig(), members: 2, store: tmp(), numBins }),
        /numBins|--num-bins|bins/,
      );
    }
    argError(
      () => queue.ensembleFlow({ config: tinyConfig(), members: 2, store: tmp(), evalLimit: 0 }),
      /--eval-limit/,
    );
    argError(
      () => queue.ensembleFlow({ config: tinyConfig(), members: 2, store: tmp(), ood: 'nope' }),
      /ood|nope/,
    );
  });
});

describe('poison jobs', () => {
  const store = (): InstanceType<typeof queue.DirResultStore> => new queue.DirResultStore(tmp());

  it('checkJob: a job that is not one is an ArgumentError naming what is missing', () => {
    argError(() => queue.checkJob(null), /^job: /);
    argError(() => queue.checkJob('{"kind":"member"'), /^job: /);
    argError(() => queue.checkJob([]), /^job: /);
    argError(() => queue.checkJob({ key: 'a/0', index: 0, kind: 'bogus' }), /^job\.kind: .*bogus/);
    argError(() => queue.checkJob({ key: 'a/0', index: 0.5, kind: 'sweep' }), /^job: /);
    argError(() => queue.checkJob({ key: '../x', index: 0, kind: 'sweep' }), /key/);
    argError(() => queue.checkJob({ key: 'a/0', index: 0, kind: 'member' }), /^job\.config: /);
    argError(() => queue.checkJob({ key: 'a/0', index: 0, kind: 'sweep' }), /^job\.config: /);
    argError(
      () => queue.checkJob({ key: 'a/0', index: 0, kind: 'sweep', config: { epochs: 1 } }),
      /^job\.config: /,
    );
    argError(
      () =>
        queue.checkJob({
          key: 'a/0',
          index: 0,
          kind: 'sweep',
          config: { ...tinyConfig(), lr: 'fast', out: '.' },
          params: {},
        }),
      /^job\.config: lr/,
    );
    argError(
      () =>
        queue.checkJob({
          key: 'a/0',
          index: 0,
          kind: 'sweep',
          config: { ...tinyConfig(), out: '.' },
        }),
      /^job\.params: /,
    );
    argError(() => queue.checkJob({ key: 'a/0', index: 0, kind: 'shard' }), /^job\.checkpoint: /);
    argError(
      () =>
        queue.checkJob({
          key: 'a/0',
          index: 0,
          kind: 'member',
          config: { ...tinyConfig(), out: '.' },
        }),
      /^job\.ood: /,
    );
  });

  it('runJob refuses a poison job before any work: nothing written in the store', async () => {
    const s = store();
    const jobs: unknown[] = [
      { key: 'p/0', index: 0, kind: 'member' },
      { key: 'p/1', index: 1, kind: 'sweep', params: {} },
      { key: 'p/2', index: 2, kind: 'sweep', params: {}, config: { epochs: 'x' } },
      { key: 'p/3', index: 3, kind: 'shard', checkpoint: '/nope', dataset: 'mnist' },
    ];
    for (const j of jobs) {
      await argErrorAsync(
        queue.runJob(
          j as never,
          s,
          () => {},
          () => {},
        ),
        /^job\./,
      );
    }
    expect(s.keys()).toEqual([]);
    expect(existsSync(join(s.location, 'work'))).toBe(false);
  });
});

describe('scoring statistics', () => {
  function dirichletSamples(s: number, b: number, k: number, seed: number): Float64Array {
    const rng = makeRng(seed);
    const out = new Float64Array(s * b * k);
    for (let i = 0; i < s * b; i++) {
      let sum = 0;
      for (let j = 0; j < k; j++) {
        const v = -Math.log(1 - rng()) + 1e-9;
        out[i * k + j] = v;
        sum += v;
      }
      for (let j = 0; j < k; j++) out[i * k + j] = (out[i * k + j] as number) / sum;
    }
    return out;
  }

  it('10 bins, 3 classes, blocks of 1 and 13 images: every metric against a float64 loop', () => {
    const S = 5;
    const K = 3;
    const bins = 10;
    const sizes = [1, 13, 6];
    const blocks = sizes.map((b, i) => ({
      p: dirichletSamples(S, b, K, 100 + i),
      y: Int32Array.from({ length: b }, (_, n) => (n + 2 * i) % K),
    }));
    const stats = blocks.map((b, i) => queue.blockStats(i, b.p, b.y, S, K, bins));
    const m = queue.mergeBlockStats([stats[2], stats[0], stats[1]] as never);
    let n = 0;
    let correct = 0;
    let nll = 0;
    let brier = 0;
    let h = 0;
    let eh = 0;
    let variance = 0;
    const cnt = new Float64Array(bins);
    const conf = new Float64Array(bins);
    const hit = new Float64Array(bins);
    for (const b of blocks) {
      const nb = b.y.length;
      for (let i = 0; i < nb; i++) {
        const mean = [0, 0, 0];
        const sq = [0, 0, 0];
        for (let s = 0; s < S; s++) {
          let hs = 0;
          for (let j = 0; j < K; j++) {
            const v = b.p[(s * nb + i) * K + j] as number;
            mean[j] = (mean[j] as number) + v / S;
            sq[j] = (sq[j] as number) + (v * v) / S;
            hs -= v * Math.log(v);
          }
          eh += hs / S;
        }
        const y = b.y[i] as number;
        const arg = mean.indexOf(Math.max(...mean));
        if (arg === y) correct++;
        nll -= Math.log(mean[y] as number);
        for (let j = 0; j < K; j++) {
          brier += ((mean[j] as number) - (j === y ? 1 : 0)) ** 2;
          variance += (sq[j] as number) - (mean[j] as number) ** 2;
          h -= (mean[j] as number) * Math.log(mean[j] as number);
        }
        const c = mean[arg] as number;
        const bin = Math.min(bins - 1, Math.floor(c * bins - 1e-12));
        cnt[bin] = (cnt[bin] as number) + 1;
        conf[bin] = (conf[bin] as number) + c;
        if (arg === y) hit[bin] = (hit[bin] as number) + 1;
        n++;
      }
    }
    let ece = 0;
    for (let i = 0; i < bins; i++) {
      const c = cnt[i] as number;
      if (c > 0) ece += (c / n) * Math.abs((hit[i] as number) / c - (conf[i] as number) / c);
    }
    expect(m.count).toBe(20);
    expect(m.blocks).toBe(3);
    expect(m.accuracy).toBe(correct / n);
    expect(m.nll).toBeCloseTo(nll / n, 12);
    expect(m.brier).toBeCloseTo(brier / n, 12);
    expect(m.predictiveEntropy).toBeCloseTo(h / n, 12);
    expect(m.expectedEntropy).toBeCloseTo(eh / n, 12);
    expect(m.mutualInformation).toBeCloseTo((h - eh) / n, 12);
    expect(m.variance).toBeCloseTo(variance / n, 12);
    expect(m.ece).toBeCloseTo(ece, 12);
    expect(m.meanP.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 12);
  });

  it('bad statistics inputs are ArgumentErrors, never NaN metrics', () => {
    const p = new Float64Array([0.5, 0.5, 0.2, 0.8]);
    argError(() => queue.blockStats(0, new Float64Array(0), [0, 1], 0, 2), /numSamples/);
    argError(() => queue.blockStats(0, p, [0, 2], 1, 2), /labels/);
    argError(() => queue.blockStats(0, p, [0, -1], 1, 2), /labels/);
    argError(() => queue.blockStats(0, p, [0, 0.5], 1, 2), /labels/);
    argError(() => queue.blockStats(0, p, [0, 1], 1, 2, 0), /numBins/);
    argError(() => queue.blockStats(0, [0.5, Number.NaN, 0.2, 0.8], [0, 1], 1, 2), /samples/);
    argError(() => queue.blockStats(0, [0.5, -0.5, 0.2, 0.8], [0, 1], 1, 2), /samples/);
    argError(() => queue.blockStats(-1, p, [0, 1], 1, 2), /block/);
    // a block of other classes or bins cannot be merged
    const a = queue.blockStats(0, p, [0, 1], 1, 2);
    const b = queue.blockStats(1, [0.2, 0.3, 0.5], [2], 1, 3);
    expect(() => queue.mergeBlockStats([a, b])).toThrow(/class sums|classes/);
  });
});

describe('block partition of scoring shards', () => {
  it('every (images, block size, shards) covers each block once, contiguously', () => {
    // pure property of the partition formula, checked on flows over a fake checkpoint is costly;
    // the formula's image: shards of whole blocks, sizes differing by at most one block
    for (const [blocks, shards] of [
      [1, 1],
      [7, 3],
      [8, 8],
      [120, 8],
      [5, 2],
    ] as const) {
      const ranges = Array.from({ length: shards }, (_, i) => [
        Math.floor((i * blocks) / shards),
        Math.floor(((i + 1) * blocks) / shards),
      ]);
      expect(ranges[0]?.[0]).toBe(0);
      expect(ranges.at(-1)?.[1]).toBe(blocks);
      for (let i = 1; i < shards; i++) expect(ranges[i]?.[0]).toBe(ranges[i - 1]?.[1]);
      const sizes = ranges.map(([a, b]) => (b as number) - (a as number));
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      expect(Math.min(...sizes)).toBeGreaterThan(0);
    }
  });
});

describe('flows run in-process against the same jobs run by hand', () => {
  it('a sweep: each row equals runTraining of its configuration, bit for bit; a rerun runs nothing', async () => {
    const store = tmp();
    const grid = queue.parseSweepGrid({
      base: { model: 'lenet5', epochs: 1, limit: 64, testLimit: 20, batchSize: 32, seed: 5 },
      grid: { lr: [0.001, 0.003] },
      metric: 'testAccuracy',
    });
    const flow = queue.sweepFlow(grid, store);
    const logs: string[] = [];
    const exec = new queue.LocalExecutor((l) => logs.push(l));
    const agg = (await expectNoLeakAsync(() => exec.run(flow))) as queue.SweepAggregate;
    expect(agg.kind).toBe('sweep');
    expect(agg.rows).toHaveLength(2);
    expect(agg.metric).toEqual({ name: 'testAccuracy', goal: 'max' });
    // ranked best first (max accuracy), ties by index
    const acc = agg.rows.map((r) => r.metrics.testAccuracy as number);
    expect(acc[0]).toBeGreaterThanOrEqual(acc[1] as number);
    expect(agg.best).toEqual(agg.rows[0]);
    for (const row of agg.rows) {
      const out = tmp();
      const r = await runTraining(
        { ...(grid.base as TrainConfig), ...row.params, out } as TrainConfig,
        { quiet: true },
      );
      r.model.dispose();
      const last = r.records.at(-1) as unknown as Record<string, unknown>;
      for (const k of ['trainLoss', 'testNll', 'testAccuracy']) {
        expect(row.metrics[k], `${k} of point ${row.index}`).toBe(last[k]);
      }
    }
    // idempotent: the same flow again reads every result, trains nothing
    const t0 = performance.now();
    const again = (await exec.run(queue.sweepFlow(grid, store))) as queue.SweepAggregate;
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(again).toEqual(agg);
  }, 60_000);

  it('an ensemble: members as train --ensemble (seed + i), the aggregate as a float64 loop over the members', async () => {
    const store = tmp();
    const config = tinyConfig({ seed: 8 });
    const flow = queue.ensembleFlow({
      config,
      members: 2,
      store,
      ood: 'mnist',
      evalLimit: 20,
      numBins: 10,
    });
    const agg = (await new queue.LocalExecutor(() => {}).run(flow)) as queue.EnsembleAggregate;
    expect(agg.kind).toBe('ensemble');
    expect(agg.members).toBe(2);
    // the members' weights equal runs of `train --ensemble 2` (member i seeded seed + i - 1)
    const weightsOf = (dir: string): Buffer[] => {
      const found: Buffer[] = [];
      const walk = (d: string): void => {
        for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) =>
          a.name.localeCompare(b.name),
        )) {
          if (e.isDirectory()) walk(join(d, e.name));
          else if (e.name.endsWith('.bin') && !e.name.includes('optimizer'))
            found.push(readFileSync(join(d, e.name)));
        }
      };
      walk(dir);
      return found;
    };
    for (let i = 0; i < 2; i++) {
      const out = tmp();
      const r = await runTraining({ ...config, seed: config.seed + i, out } as TrainConfig, {
        quiet: true,
      });
      r.model.dispose();
      const mine = weightsOf(out);
      const queued = weightsOf(join(store, 'work', flow.key, `member-${i}`));
      expect(mine.length).toBeGreaterThan(0);
      expect(queued.length).toBe(mine.length);
      mine.forEach((b, j) => expect(Buffer.compare(b, queued[j] as Buffer), `member ${i}`).toBe(0));
    }
    // the aggregate against the members' stored probabilities, reduced in float64
    const st = new queue.DirResultStore(store);
    const probs = [0, 1].map((m) => {
      const b = st.blob(`${flow.key}/member-${m}`, 'in.f32');
      return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    });
    const { loadSplit } = await import('../../src/app/run_data.js');
    const labels = loadSplit({ ...config, out: '.' } as TrainConfig, 'test', 20).labels;
    const K = 10;
    let correct = 0;
    let nll = 0;
    let mi = 0;
    for (let n = 0; n < 20; n++) {
      const mean = new Float64Array(K);
      let eh = 0;
      for (const p of probs) {
        let hm = 0;
        for (let j = 0; j < K; j++) {
          const v = p[n * K + j] as number;
          mean[j] = (mean[j] as number) + v / 2;
          if (v > 0) hm -= v * Math.log(v);
        }
        eh += hm / 2;
      }
      let h = 0;
      let arg = 0;
      for (let j = 0; j < K; j++) {
        const v = mean[j] as number;
        if (v > 0) h -= v * Math.log(v);
        if (v > (mean[arg] as number)) arg = j;
      }
      if (arg === labels[n]) correct++;
      nll -= Math.log(mean[labels[n] as number] as number);
      mi += h - eh;
    }
    const metrics = agg.metrics as unknown as Record<string, number>;
    expect(metrics.accuracy).toBeCloseTo(correct / 20, 10);
    expect(metrics.nll).toBeCloseTo(nll / 20, 4);
    if (metrics.mutualInformation !== undefined) {
      expect(metrics.mutualInformation).toBeCloseTo(mi / 20, 4);
    }
    expect(agg.memberAccuracy).toHaveLength(2);
  }, 90_000);
});

describe('sharded scoring reassembles in block order', () => {
  it('70 images in blocks of 20 (a partial last block): 1, 3 and 4 shards give the same metrics, bit for bit', async () => {
    const run = tmp();
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
        seed: 9,
      },
      { quiet: true },
    );
    r.model.dispose();
    const store = tmp();
    const base = {
      checkpoint: run,
      dataset: 'mnist',
      limit: 70,
      blockSize: 20,
      mcSamples: 3,
      seed: 12,
      numBins: 10,
      store,
    };
    const exec = new queue.LocalExecutor(() => {});
    const one = (await expectNoLeakAsync(() =>
      exec.run(queue.scoreFlow({ ...base, shards: 1 })),
    )) as queue.ScoreAggregate;
    expect(one.metrics.count).toBe(70);
    expect(one.metrics.blocks).toBe(4);
    for (const shards of [3, 4]) {
      const flow = queue.scoreFlow({ ...base, shards });
      expect(flow.key).not.toBe(queue.scoreFlow({ ...base, shards: 1 }).key);
      const agg = (await exec.run(flow)) as queue.ScoreAggregate;
      expect(agg.shards).toBe(shards);
      expect(agg.metrics).toEqual(one.metrics);
    }
    // the stored shard statistics merged in reverse order give the same metrics
    const st = new queue.DirResultStore(store);
    const flow = queue.scoreFlow({ ...base, shards: 4 });
    const blocks = flow.jobs
      .map((j) => (st.get(j.key)?.value as { blocks: queue.BlockStats[] }).blocks)
      .flat()
      .reverse();
    expect(blocks.map((b) => b.count)).toEqual([10, 20, 20, 20]);
    expect(queue.mergeBlockStats(blocks)).toEqual(one.metrics);
    // another seed draws other weights
    const other = (await exec.run(
      queue.scoreFlow({ ...base, seed: 13, shards: 1 }),
    )) as queue.ScoreAggregate;
    expect(other.metrics.nll).not.toBe(one.metrics.nll);
  }, 60_000);
});

describe('keys, seeds and the store', () => {
  it('contentKey ignores object key order, not array order or values', () => {
    const a = queue.contentKey('x', { b: 1, a: [1, 2], c: { y: 1, x: 2 } });
    expect(a).toMatch(/^x-[0-9a-f]{12}$/);
    expect(queue.contentKey('x', { c: { x: 2, y: 1 }, a: [1, 2], b: 1 })).toBe(a);
    expect(queue.contentKey('x', { b: 1, a: [2, 1], c: { y: 1, x: 2 } })).not.toBe(a);
    expect(queue.contentKey('x', { b: 2, a: [1, 2], c: { y: 1, x: 2 } })).not.toBe(a);
    expect(queue.contentKey('y', { b: 1, a: [1, 2], c: { y: 1, x: 2 } })).not.toBe(a);
  });

  it('blockSeed: unsigned 32-bit, distinct over 2,000 (seed, block) pairs', () => {
    const seen = new Set<number>();
    for (const seed of [0, 1, 2, 4_294_967_295]) {
      for (let b = 0; b < 500; b++) {
        const s = queue.blockSeed(seed, b);
        expect(Number.isInteger(s) && s >= 0 && s <= 4_294_967_295).toBe(true);
        seen.add(s);
      }
    }
    expect(seen.size).toBe(2000);
  });

  it('aggregating a flow with a missing child names the job and the store', async () => {
    const store = tmp();
    const flow = queue.sweepFlow(
      queue.parseSweepGrid({ base: { epochs: 1 }, grid: { lr: [0.1, 0.2] } }),
      store,
    );
    const st = new queue.DirResultStore(store);
    st.put(flow.jobs[0]?.key as string, {
      index: 0,
      params: { lr: 0.1 },
      last: undefined,
      seconds: 0,
    });
    await expect(queue.aggregateFlow(flow, st)).rejects.toThrow(
      new RegExp(`job ${flow.jobs[1]?.key as string} has no result in ${st.location}`),
    );
  });

  it('a second writer of a key keeps the first result; a damaged one is named and replaced', () => {
    const st = new queue.DirResultStore(tmp());
    st.put('f/0', { v: 1 }, { 'p.f32': new Uint8Array([1, 2, 3, 4]) });
    st.put('f/0', { v: 2 }, { 'p.f32': new Uint8Array([9, 9, 9, 9]) });
    expect(st.get('f/0')?.value).toEqual({ v: 1 });
    writeFileSync(join(st.location, 'results/f/0/p.f32'), new Uint8Array([1, 2, 3]));
    const c = st.check('f/0');
    expect(c.state).toBe('corrupt');
    expect(c.state === 'corrupt' && c.problem).toMatch(/p\.f32/);
    st.put('f/0', { v: 3 });
    expect(st.get('f/0')?.value).toEqual({ v: 3 });
    argError(() => st.put('f/1', {}, { '../x': new Uint8Array(1) }), /^blobs: /);
    argError(() => st.check('a//b'), /^key: /);
    argError(() => new queue.DirResultStore(''), /^store: /);
  });
});
