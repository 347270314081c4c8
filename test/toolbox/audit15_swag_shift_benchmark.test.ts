/**
 * Audit (issue 17): SWAG's rank bound and moments from snapshots written by hand (a model with a
 * BatchNormalization layer, whose moving statistics are not weights of the posterior), its
 * argument checks at construction; the shift benchmark's rows against the metrics computed
 * independently in float64, its AUROCs against a brute-force pair count, and its option checks.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectBadInput, type BadInputCase } from '../helpers.js';

const { Swag, swagPredictor, shiftBenchmark } = toolbox;

/** {@link expectBadInput} with the case's title in a failure. */
async function named(c: BadInputCase): Promise<void> {
  try {
    await expectBadInput(c);
  } catch (e) {
    throw new Error(`${c.call}: ${(e as Error).message}`, { cause: e });
  }
}

function bnNet(): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 3, inputShape: [2] }));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.dense({ units: 2, useBias: false }));
  return m;
}

describe('audit15 SWAG', () => {
  it('rank 3 over 7 snapshots: SWA mean, diagonal variance and the last 3 deviations equal a direct float64 computation', () => {
    const net = bnNet();
    const r = makeRng(3);
    const ws = net.trainableWeights;
    // trainable: dense kernel [2,3], bias [3], BN gamma [3], beta [3], dense2 kernel [3,2]
    expect(ws.length).toBe(5);
    const sizes = ws.map((w) => (w.shape as number[]).reduce((a, b) => a * b, 1));
    const total = sizes.reduce((a, b) => a + b, 0);
    const before = tf.memory().numTensors;
    const swag = new Swag(net, { rank: 3 });
    const snaps: number[][] = [];
    const means: number[][] = [];
    for (let t = 0; t < 7; t++) {
      const v = Array.from({ length: total }, () => 2 * r() - 1);
      snaps.push(v);
      let o = 0;
      ws.forEach((w, i) => {
        const part = tf.tensor(v.slice(o, o + sizes[i]!), w.shape as number[]);
        w.write(part);
        part.dispose();
        o += sizes[i]!;
      });
      swag.collect();
      means.push(v.map((_, j) => snaps.reduce((s, sn) => s + sn[j]!, 0) / snaps.length));
    }
    expect(swag.numSnapshots).toBe(7);
    expect(swag.numDeviations).toBe(3);
    const flat = (ts: tf.Tensor[]): number[] => {
      const out = ts.flatMap((t) => Array.from(t.dataSync()));
      tf.dispose(ts);
      return out;
    };
    const mean = flat(swag.swaMean());
    const varc = flat(swag.diagVariance());
    for (let j = 0; j < total; j++) {
      const m = means[6]![j]!;
      const sq = snaps.reduce((s, sn) => s + sn[j]! ** 2, 0) / 7;
      expect(mean[j]!).toBeCloseTo(m, 5);
      expect(varc[j]!).toBeCloseTo(Math.max(sq - m * m, 0), 4);
    }
    const cols = swag.deviationColumns();
    expect(cols.length).toBe(3);
    cols.forEach((col, c) => {
      const t = 4 + c; // snapshots 5, 6, 7 (0-based 4..6) with the running mean after each
      const got = flat(col);
      for (let j = 0; j < total; j++) expect(got[j]!).toBeCloseTo(snaps[t]![j]! - means[t]![j]!, 5);
    });
    // scale 0 draws the SWA mean exactly
    const at0 = flat(swag.sample({ scale: 0, seed: 1 }));
    for (let j = 0; j < total; j++) expect(at0[j]!).toBeCloseTo(mean[j]!, 6);
    swag.dispose();
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });

  it('rank 0 keeps no deviations; SWAG-diagonal samples have the diagonal variance (MC within 5 SE)', () => {
    const net = tf.sequential();
    net.add(tf.layers.dense({ units: 1, inputShape: [1] }));
    const swag = new Swag(net, { rank: 0 });
    const vals = [
      [0.5, -1],
      [1.5, 0],
      [1, 1],
    ];
    for (const [a, b] of vals) {
      net.layers[0]!.setWeights([tf.tensor2d([[a!]]), tf.tensor1d([b!])]);
      swag.collect();
    }
    expect(swag.numDeviations).toBe(0);
    const S = 2000;
    const draws: number[][] = [];
    for (let s = 0; s < S; s++)
      draws.push(
        swag.sample({ seed: s }).flatMap((t) => {
          const v = Array.from(t.dataSync());
          t.dispose();
          return v;
        }),
      );
    // kernel: mean 1, var (0.25+2.25+1)/3 - 1 = 1/6; bias: mean 0, var 2/3; scale 1/2
    for (const [j, m, v] of [
      [0, 1, 1 / 6],
      [1, 0, 2 / 3],
    ] as const) {
      const xs = draws.map((d) => d[j]!);
      const mu = xs.reduce((a, b) => a + b, 0) / S;
      const va = xs.reduce((a, b) => a + (b - mu) ** 2, 0) / (S - 1);
      expect(Math.abs(mu - m)).toBeLessThan(5 * Math.sqrt(v / 2 / S));
      expect(Math.abs(va - v / 2)).toBeLessThan(5 * (v / 2) * Math.sqrt(2 / (S - 1)));
    }
    swag.dispose();
    net.dispose();
  });

  it('refuses bad arguments naming them, before any sample (constructor, sample, predictor)', async () => {
    const net = tf.sequential();
    net.add(tf.layers.dense({ units: 2, inputShape: [2] }));
    const empty = new Swag(net);
    const swag = new Swag(net, { rank: 2 });
    swag.collect();
    const x = tf.zeros([3, 2]);
    const cases = [
      { call: 'rank -1', run: () => new Swag(net, { rank: -1 }), arg: 'rank' },
      { call: 'rank 1.5', run: () => new Swag(net, { rank: 1.5 }), arg: 'rank' },
      { call: 'not a model', run: () => new Swag({} as tf.LayersModel), arg: 'model' },
      { call: 'sample before collect', run: () => empty.sample(), arg: 'swag' },
      { call: 'scale -1', run: () => swag.sample({ scale: -1 }), arg: 'scale' },
      { call: 'scale NaN', run: () => swag.sample({ scale: NaN }), arg: 'scale' },
      { call: 'assign wrong count', run: () => swag.assign([]), arg: 'values' },
      { call: 'empty MultiSWAG', run: () => swagPredictor([]), arg: 'swag' },
      {
        call: 'predictor numSamples 0',
        run: () => swagPredictor(swag).predictSamples(x, 0),
        arg: 'numSamples',
      },
      {
        call: 'predictor scale -1 (refused when made)',
        run: () => swagPredictor(swag, { scale: -1 }),
        arg: 'scale',
      },
      {
        call: 'predictor of a Swag without snapshots (refused when it predicts)',
        run: () => swagPredictor(empty).predictSamples(x, 2),
        arg: 'swag',
      },
      {
        call: 'predictor lowRank not a boolean (refused when made)',
        run: () => swagPredictor(swag, { lowRank: 'yes' as unknown as boolean }),
        arg: 'lowRank',
      },
      {
        call: 'predictor seed NaN (refused when made)',
        run: () => swagPredictor(swag, { seed: NaN }),
        arg: 'seed',
      },
      {
        call: 'unknown predictor option',
        run: () => swagPredictor(swag, { samples: 3 } as unknown as toolbox.SwagPredictorOptions),
        arg: /samples/,
      },
    ];
    for (const c of cases) await named(c);
    // MultiSWAG predicts [S, N, K] probabilities and restores the weights
    const w0 = net.getWeights().map((t) => Array.from(t.dataSync()));
    const out = swagPredictor([swag, swag], { seed: 1 }).predictSamples(x, 5);
    expect(out.shape).toEqual([5, 3, 2]);
    out.dispose();
    expect(net.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(w0);
    tf.dispose([x]);
    swag.dispose();
    empty.dispose();
    net.dispose();
  });
});

describe('audit15 trainSwag snapshot bounds', () => {
  it('collectPerEpoch snapshots per epoch, K = min(T, rank) deviations; a finite SWA mean; one step per epoch gives one snapshot and no low-rank part', async () => {
    const net = tf.sequential();
    net.add(tf.layers.dense({ units: 3, inputShape: [2] }));
    const r = makeRng(71);
    const x = tf.tensor2d(Array.from({ length: 64 }, () => [2 * r() - 1, 2 * r() - 1]));
    const y = Array.from({ length: 64 }, (_, i) => i % 3);
    const seen: number[][] = [];
    const before = tf.memory().numTensors;
    const swag = await toolbox.trainSwag(net, x, y, {
      epochs: 2,
      batchSize: 8,
      collectPerEpoch: 4,
      rank: 5,
      lr: 0.05,
      seed: 3,
      onEpoch: () => undefined,
    });
    expect(swag.numSnapshots).toBe(8);
    expect(swag.numDeviations).toBe(5);
    const m = swag.swaMean();
    seen.push(...m.map((t) => Array.from(t.dataSync())));
    tf.dispose(m);
    for (const v of seen.flat()) expect(Number.isFinite(v)).toBe(true);
    swag.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const s1 = await toolbox.trainSwag(net, x, y, { epochs: 1, batchSize: 64, rank: 3 });
    // one step per epoch: one snapshot, no low-rank part (K - 1 = 0)
    expect(s1.numSnapshots).toBe(1);
    expect(s1.numDeviations).toBe(1);
    const a = s1.sample({ seed: 1 });
    const b = s1.sample({ seed: 1, lowRank: false });
    a.forEach((t, i) => expect(Array.from(t.dataSync())).toEqual(Array.from(b[i]!.dataSync())));
    tf.dispose([a, b]);
    s1.dispose();
    x.dispose();
    net.dispose();
  });
});

// ---------------------------------------------------------------------------------------------

/** Deterministic "method": fixed rows per input index (host), [1, B, K]. */
function fixedMethod(name: string, table: Map<number, number[]>): toolbox.ShiftMethod {
  return {
    name,
    predict: (x) =>
      tf.tidy(() => {
        const ids = Array.from(x.slice([0, 0], [-1, 1]).dataSync());
        return tf.tensor3d([ids.map((i) => table.get(Math.round(i))!)]);
      }),
  };
}

/** Stochastic "method": S samples softmax(z + noise) with per-input scale. */
function noisyMethod(name: string, k: number, seed: number): toolbox.ShiftMethod {
  return {
    name,
    predict: (x) =>
      tf.tidy(() => {
        const b = x.shape[0] as number;
        const z = tf.randomNormal([4, b, k], 0, 1, 'float32', seed);
        const scale = tf.reshape(tf.slice(x, [0, 1], [-1, 1]), [1, b, 1]);
        return tf.softmax(tf.mul(z, scale)) as tf.Tensor3D;
      }),
  };
}

function softmaxRow(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

describe('audit15 shiftBenchmark', () => {
  const k = 3;
  const r = makeRng(8);
  const table = new Map<number, number[]>();
  for (let i = 0; i < 200; i++) table.set(i, softmaxRow([0, 1, 2].map(() => 3 * r())));
  const set = (ids: number[], scale: number) => tf.tensor2d(ids.map((i) => [i, scale]));
  const labelsOf = (ids: number[]) => ids.map((i) => (i * 7) % k);
  const ids = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

  it('rows equal the metrics computed in float64; OOD AUROC equals a brute-force pair count; memory unchanged', () => {
    const cleanIds = ids(0, 60);
    const rotIds = [ids(60, 100), ids(100, 140)];
    const calIds = ids(140, 200);
    const clean = { family: 'clean', level: 0, x: set(cleanIds, 0.5), labels: labelsOf(cleanIds) };
    const shifted = rotIds.map((s, i) => ({
      family: 'rotation',
      level: 30 * (i + 1),
      x: set(s, 0.5 + i),
      labels: labelsOf(s),
    }));
    const ood = [{ name: 'noise', x: set(ids(0, 30), 3) }];
    const calibration = { x: set(calIds, 0.5), labels: labelsOf(calIds) };
    const before = tf.memory().numTensors;
    const res = shiftBenchmark({
      methods: [fixedMethod('fixed', table), noisyMethod('noisy', k, 4)],
      clean,
      shifted,
      ood,
      calibration,
      alpha: 0.2,
      numBins: 5,
      batchSize: 7,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(res.rows.length).toBe(6);
    // the deterministic method: float64 metrics from the table
    for (const row of res.rows.filter((q) => q.method === 'fixed')) {
      const idsOf = row.family === 'clean' ? cleanIds : rotIds[row.level / 30 - 1]!;
      const probs = idsOf.map((i) => table.get(i)!);
      const ys = labelsOf(idsOf);
      let acc = 0;
      let nll = 0;
      let brier = 0;
      let ent = 0;
      probs.forEach((p, n) => {
        const am = p.indexOf(Math.max(...p));
        acc += am === ys[n] ? 1 : 0;
        nll -= Math.log(p[ys[n]!]!);
        brier += p.reduce((s, v, c) => s + (v - (c === ys[n] ? 1 : 0)) ** 2, 0);
        ent -= p.reduce((s, v) => s + (v > 0 ? v * Math.log(v) : 0), 0);
      });
      const N = probs.length;
      expect(row.accuracy).toBeCloseTo(acc / N, 10);
      expect(row.nll).toBeCloseTo(nll / N, 5);
      expect(row.brier).toBeCloseTo(brier / N, 5);
      expect(row.entropy).toBeCloseTo(ent / N, 4);
      expect(row.nllBestT).toBeLessThanOrEqual(row.nll + 1e-9);
      // ECE with 5 bins
      const B = 5;
      const cnt = new Array<number>(B).fill(0);
      const hit = new Array<number>(B).fill(0);
      const cf = new Array<number>(B).fill(0);
      probs.forEach((p, n) => {
        const c = Math.max(...p);
        let b = 0;
        for (let j = 0; j < B; j++) if (c > j / B && c <= (j + 1) / B) b = j;
        cnt[b]!++;
        cf[b]! += c;
        if (p.indexOf(c) === ys[n]) hit[b]!++;
      });
      const ece = cnt.reduce(
        (s, c, b) => (c > 0 ? s + (c / N) * Math.abs(hit[b]! / c - cf[b]! / c) : s),
        0,
      );
      expect(row.ece).toBeCloseTo(ece, 5);
      expect(row.coverage).toBeGreaterThanOrEqual(0);
      expect(row.setSize).toBeGreaterThanOrEqual(0);
    }
    const fixedOod = res.ood.find((o) => o.method === 'fixed')!;
    expect(fixedOod.aurocMI).toBe(0.5); // one sample: MI = 0 everywhere
    const noisyOod = res.ood.find((o) => o.method === 'noisy')!;
    expect(noisyOod.aurocEntropy).toBeGreaterThanOrEqual(0);
    expect(noisyOod.aurocEntropy).toBeLessThanOrEqual(1);
    // brute-force AUROC of the fixed method's entropy: ood ids 0..29 are clean ids 0..29
    const H = (i: number): number => -table.get(i)!.reduce((s, v) => s + v * Math.log(v), 0);
    let pairs = 0;
    for (const a of cleanIds)
      for (const b of ids(0, 30)) pairs += H(b) > H(a) ? 1 : H(b) === H(a) ? 0.5 : 0;
    expect(fixedOod.aurocEntropy).toBeCloseTo(pairs / (cleanIds.length * 30), 4);
    const sum = res.summary.find((s) => s.method === 'fixed')!;
    const fam = res.rows.filter((q) => q.method === 'fixed' && q.family === 'rotation');
    expect(sum.families['rotation']!.nll).toBeCloseTo((fam[0]!.nll + fam[1]!.nll) / 2, 10);
    expect(sum.conformal?.alpha).toBe(0.2);
    expect(toolbox.formatShiftTable(res)).toMatch(/fixed/);
    tf.dispose([clean.x, ...shifted.map((s) => s.x), ood[0]!.x, calibration.x]);
  });

  it('refuses bad options naming them before any method runs', async () => {
    const cleanIds = ids(0, 10);
    const x = set(cleanIds, 1);
    const clean = { family: 'clean', level: 0, x, labels: labelsOf(cleanIds) };
    let calls = 0;
    const counted: toolbox.ShiftMethod = {
      name: 'c',
      predict: (xb) => {
        calls++;
        return fixedMethod('c', table).predict(xb);
      },
    };
    const base = { methods: [counted], clean, shifted: [] };
    const cases = [
      { call: 'no methods', run: () => shiftBenchmark({ ...base, methods: [] }), arg: 'methods' },
      {
        call: 'a method without predict',
        run: () => shiftBenchmark({ ...base, methods: [{ name: 'x' } as toolbox.ShiftMethod] }),
        arg: 'methods[0]',
      },
      {
        call: 'two methods with one name',
        run: () => shiftBenchmark({ ...base, methods: [counted, counted] }),
        arg: 'methods',
      },
      {
        call: 'clean labels of another length',
        run: () => shiftBenchmark({ ...base, clean: { ...clean, labels: [0, 1] } }),
        arg: 'clean.labels',
      },
      { call: 'alpha 1', run: () => shiftBenchmark({ ...base, alpha: 1 }), arg: 'alpha' },
      { call: 'numBins 0', run: () => shiftBenchmark({ ...base, numBins: 0 }), arg: 'numBins' },
      {
        call: 'batchSize 0',
        run: () => shiftBenchmark({ ...base, batchSize: 0 }),
        arg: 'batchSize',
      },
      {
        call: 'conformalScore',
        run: () => shiftBenchmark({ ...base, conformalScore: 'thr' as 'aps' }),
        arg: 'conformalScore',
      },
      {
        call: 'unknown option',
        run: () =>
          shiftBenchmark({ ...base, bins: 10 } as unknown as toolbox.ShiftBenchmarkOptions),
        arg: /bins/,
      },
      {
        call: 'an OOD set without a tensor',
        run: () => shiftBenchmark({ ...base, ood: [{ name: 'o' } as toolbox.OodSet] }),
        arg: 'ood[0]',
      },
      {
        call: 'calibration labels of another length',
        run: () => shiftBenchmark({ ...base, calibration: { x, labels: [1] } }),
        arg: 'calibration.labels',
      },
      {
        call: 'a negative clean label',
        run: () =>
          shiftBenchmark({ ...base, clean: { ...clean, labels: cleanIds.map((i) => -i) } }),
        arg: 'clean.labels',
      },
      {
        call: 'a fractional calibration label',
        run: () => shiftBenchmark({ ...base, calibration: { x, labels: cleanIds.map(() => 0.5) } }),
        arg: 'calibration.labels',
      },
      {
        call: 'clean label out of range',
        run: () => shiftBenchmark({ ...base, clean: { ...clean, labels: cleanIds.map(() => 5) } }),
        arg: /clean\.labels/,
      },
    ];
    for (const c of cases) {
      calls = 0;
      await named(c);
      if (c.call !== 'clean label out of range') expect(calls, c.call).toBe(0);
    }
    x.dispose();
  });
});
