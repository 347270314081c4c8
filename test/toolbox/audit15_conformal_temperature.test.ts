/**
 * Audit (issue 17): split conformal (LAC / APS / RAPS) coverage on synthetic data within its
 * binomial band at several levels, sets against a brute-force float64 implementation of the
 * scores (ties included), nesting in `alpha`; temperature scaling recovering a known temperature;
 * ECE bins at exact edges; bad inputs named before any work.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import { toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectBadInput } from '../helpers.js';

const { calibrateConformal, conformalSets, fitTemperature, temperatureScale, calibration } =
  toolbox;

/** Random calibrated classifier: rows softmax(3 g), labels drawn from the rows (seeded). */
function synthetic(n: number, k: number, seed: number): { probs: number[][]; labels: number[] } {
  const rng = makeRng(seed);
  const probs: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const z = Array.from(
      { length: k },
      () => 3 * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()),
    );
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    const p = e.map((v) => v / s);
    probs.push(p);
    let u = rng();
    let y = k - 1;
    for (let c = 0; c < k; c++) {
      u -= p[c]!;
      if (u < 0) {
        y = c;
        break;
      }
    }
    labels.push(y);
  }
  return { probs, labels };
}

/** Brute-force APS/RAPS/LAC score of class y in a row (stable ranking: lower index first on ties). */
function bruteScore(
  p: number[],
  y: number,
  u: number,
  score: 'lac' | 'aps' | 'raps',
  lambda: number,
  kReg: number,
): number {
  if (score === 'lac') return 1 - p[y]!;
  let above = 0;
  let rank = 1;
  for (let c = 0; c < p.length; c++) {
    if (p[c]! > p[y]! || (p[c] === p[y] && c < y)) {
      above += p[c]!;
      rank++;
    }
  }
  return above + u * p[y]! + (score === 'raps' ? lambda * Math.max(0, rank - kReg) : 0);
}

describe('audit15 split conformal', () => {
  for (const score of ['lac', 'aps', 'raps'] as const) {
    it(`${score}: coverage over 24 random calibration/test splits is within the band at alpha 0.05, 0.1, 0.2`, () => {
      const k = 6;
      for (const alpha of [0.05, 0.1, 0.2]) {
        const covs: number[] = [];
        for (let r = 0; r < 24; r++) {
          const cal = synthetic(200, k, 1000 * r + 7);
          const test = synthetic(300, k, 1000 * r + 8);
          const c = calibrateConformal(cal.probs, cal.labels, {
            alpha,
            score,
            seed: r,
            lambda: 0.05,
            kReg: 2,
          });
          const { coverage } = conformalSets(test.probs, c, test.labels, r + 100);
          covs.push(coverage as number);
        }
        const mean = covs.reduce((a, b) => a + b, 0) / covs.length;
        const sd = Math.sqrt(covs.reduce((a, b) => a + (b - mean) ** 2, 0) / (covs.length - 1));
        const se = sd / Math.sqrt(covs.length);
        // E[coverage] in [1 - alpha, 1 - alpha + 1/(n+1)] (randomised scores: exact; LAC's
        // continuous scores likewise)
        expect(mean).toBeGreaterThan(1 - alpha - 4 * se);
        expect(mean).toBeLessThan(1 - alpha + 1 / 201 + 4 * se);
      }
    });
  }

  it('non-randomised APS/RAPS over-cover (never below 1 - alpha) and are never empty', () => {
    const k = 6;
    for (const score of ['aps', 'raps'] as const) {
      const covs: number[] = [];
      for (let r = 0; r < 16; r++) {
        const cal = synthetic(200, k, 77 * r + 1);
        const test = synthetic(300, k, 77 * r + 2);
        const c = calibrateConformal(cal.probs, cal.labels, {
          alpha: 0.1,
          score,
          randomized: false,
        });
        const out = conformalSets(test.probs, c, test.labels);
        expect(out.sets.every((s) => s.length >= 1)).toBe(true);
        covs.push(out.coverage as number);
      }
      const mean = covs.reduce((a, b) => a + b, 0) / covs.length;
      expect(mean).toBeGreaterThan(0.9 - 0.01);
    }
  });

  it('sets equal the brute-force {y : E(x, y, u) <= qhat}; qhat is the ceil((n+1)(1-alpha))-th score', () => {
    const k = 5;
    const cal = synthetic(57, k, 3);
    // ties: a few uniform rows and rows with two equal top classes
    cal.probs[0] = [0.2, 0.2, 0.2, 0.2, 0.2];
    cal.probs[1] = [0.4, 0.1, 0.4, 0.05, 0.05];
    const test = synthetic(40, k, 4);
    test.probs[0] = [0.2, 0.2, 0.2, 0.2, 0.2];
    test.probs[1] = [0.05, 0.4, 0.1, 0.4, 0.05];
    for (const score of ['lac', 'aps', 'raps'] as const) {
      for (const alpha of [0.1, 0.3]) {
        const c = calibrateConformal(cal.probs, cal.labels, {
          alpha,
          score,
          seed: 5,
          lambda: 0.1,
          kReg: 1,
        });
        const rng = makeRng(5);
        const scores = cal.probs.map((p, i) => bruteScore(p, cal.labels[i]!, rng(), score, 0.1, 1));
        scores.sort((a, b) => a - b);
        const kq = Math.ceil((57 + 1) * (1 - alpha));
        expect(c.qhat).toBeCloseTo(scores[kq - 1]!, 12);
        const out = conformalSets(test.probs, c, undefined, 9);
        const rt = makeRng(9);
        test.probs.forEach((p, i) => {
          const u = rt();
          const want = p
            .map((_, y) => y)
            .filter((y) => bruteScore(p, y, u, score, 0.1, 1) <= c.qhat)
            .sort((a, b) => a - b);
          expect([...out.sets[i]!].sort((a, b) => a - b)).toEqual(want);
        });
      }
    }
  });

  it('set sizes shrink as alpha grows (same seed: sets nested); tiny n gives qhat = Infinity, all classes', () => {
    const k = 8;
    const cal = synthetic(300, k, 41);
    const test = synthetic(200, k, 42);
    for (const score of ['lac', 'aps', 'raps'] as const) {
      let prev: number[][] | undefined;
      let prevSize = Infinity;
      for (const alpha of [0.02, 0.05, 0.1, 0.2, 0.4]) {
        const c = calibrateConformal(cal.probs, cal.labels, { alpha, score, seed: 1 });
        const out = conformalSets(test.probs, c, test.labels, 2);
        expect(out.meanSize).toBeLessThanOrEqual(prevSize + 1e-12);
        if (prev !== undefined) {
          out.sets.forEach((s, i) => {
            for (const y of s) expect(prev![i]).toContain(y);
          });
        }
        prev = out.sets;
        prevSize = out.meanSize;
      }
    }
    const small = calibrateConformal(cal.probs.slice(0, 5), cal.labels.slice(0, 5), { alpha: 0.1 });
    expect(small.qhat).toBe(Infinity);
    const back = JSON.parse(JSON.stringify(small)) as toolbox.ConformalCalibration;
    const out = conformalSets(test.probs.slice(0, 4), back, test.labels.slice(0, 4));
    expect(out.meanSize).toBe(k);
    expect(out.coverage).toBe(1);
  });

  it('accepts tensors: a [N, K] probability tensor and an int32 label tensor, leaking nothing', () => {
    const cal = synthetic(100, 4, 51);
    const p = tf.tensor2d(cal.probs);
    const y = tf.tensor1d(cal.labels, 'int32');
    const before = tf.memory().numTensors;
    const c1 = calibrateConformal(p, y, { alpha: 0.1, seed: 3 });
    const o1 = conformalSets(p, c1, y, 4);
    expect(tf.memory().numTensors).toBe(before);
    const c2 = calibrateConformal(cal.probs, cal.labels, { alpha: 0.1, seed: 3 });
    const o2 = conformalSets(cal.probs, c2, cal.labels, 4);
    expect(c1.qhat).toBeCloseTo(c2.qhat, 6); // the tensor holds float32 probabilities
    expect(o1.sets).toEqual(o2.sets);
    tf.dispose([p, y]);
  });

  it('refuses bad inputs naming them before any work', async () => {
    const cal = synthetic(20, 3, 61);
    const c = calibrateConformal(cal.probs, cal.labels, { alpha: 0.2 });
    const cases = [
      ...[0, 1, -0.1, 1.5, NaN].map((alpha) => ({
        call: `alpha ${alpha}`,
        run: () => calibrateConformal(cal.probs, cal.labels, { alpha }),
        arg: 'alpha',
      })),
      {
        call: 'a label out of range',
        run: () => calibrateConformal(cal.probs, [...cal.labels.slice(1), 3]),
        arg: 'labels',
      },
      {
        call: 'a fractional label',
        run: () => calibrateConformal(cal.probs, [...cal.labels.slice(1), 0.5]),
        arg: 'labels',
      },
      {
        call: 'a negative label',
        run: () => calibrateConformal(cal.probs, [...cal.labels.slice(1), -1]),
        arg: 'labels',
      },
      {
        call: 'fewer labels than rows',
        run: () => calibrateConformal(cal.probs, cal.labels.slice(1)),
        arg: 'labels',
      },
      { call: 'empty calibration set', run: () => calibrateConformal([], []), arg: 'probs' },
      {
        call: 'a NaN probability',
        run: () => calibrateConformal([[NaN, 0.5, 0.5], ...cal.probs.slice(1)], cal.labels),
        arg: 'probs',
      },
      {
        call: 'logits instead of probabilities',
        run: () => calibrateConformal([[2, -1, 0.5], ...cal.probs.slice(1)], cal.labels),
        arg: 'probs',
      },
      {
        call: "randomized 'false' (a string)",
        run: () =>
          calibrateConformal(cal.probs, cal.labels, { randomized: 'false' as unknown as boolean }),
        arg: 'randomized',
      },
      {
        call: "alpha '0.1' (a string)",
        run: () => calibrateConformal(cal.probs, cal.labels, { alpha: '0.1' as unknown as number }),
        arg: 'alpha',
      },
      {
        call: 'unknown score',
        run: () => calibrateConformal(cal.probs, cal.labels, { score: 'thr' as 'lac' }),
        arg: 'score',
      },
      {
        call: 'negative lambda',
        run: () => calibrateConformal(cal.probs, cal.labels, { score: 'raps', lambda: -1 }),
        arg: 'lambda',
      },
      {
        call: 'fractional kReg',
        run: () => calibrateConformal(cal.probs, cal.labels, { score: 'raps', kReg: 1.5 }),
        arg: 'kReg',
      },
      {
        call: 'unknown option',
        run: () =>
          calibrateConformal(cal.probs, cal.labels, {
            k_reg: 2,
          } as unknown as toolbox.ConformalOptions),
        arg: /k_reg/,
      },
      {
        call: 'test rows with another K',
        run: () => conformalSets([[0.5, 0.5]], c, [0]),
        arg: /probs|labels|calibration/,
      },
      {
        call: 'not a calibration',
        run: () => conformalSets(cal.probs, {} as toolbox.ConformalCalibration),
        arg: 'calibration',
      },
      {
        call: 'test labels out of range',
        run: () =>
          conformalSets(
            cal.probs,
            c,
            cal.labels.map(() => 7),
          ),
        arg: 'labels',
      },
    ];
    for (const bc of cases) await expectBadInput(bc);
  });
});

describe('audit15 temperature scaling', () => {
  /** Logits l and labels drawn from softmax(l / T0) (float64). */
  function miscalibrated(n: number, k: number, t0: number, seed: number) {
    const rng = makeRng(seed);
    const logits: number[][] = [];
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const l = Array.from({ length: k }, () => 4 * (rng() - 0.5) + (rng() < 0.3 ? 3 : 0));
      logits.push(l);
      const m = Math.max(...l);
      const e = l.map((v) => Math.exp((v - m) / t0));
      const s = e.reduce((a, b) => a + b, 0);
      let u = rng() * s;
      let y = k - 1;
      for (let c = 0; c < k; c++) {
        u -= e[c]!;
        if (u < 0) {
          y = c;
          break;
        }
      }
      labels.push(y);
    }
    return { logits, labels };
  }

  function meanNll(logits: number[][], labels: number[], t: number): number {
    let s = 0;
    logits.forEach((l, i) => {
      const m = Math.max(...l.map((v) => v / t));
      const lse = m + Math.log(l.reduce((a, v) => a + Math.exp(v / t - m), 0));
      s += lse - l[labels[i]!]! / t;
    });
    return s / logits.length;
  }

  for (const t0 of [0.5, 2.5]) {
    it(`recovers T = ${t0} from labels generated at that temperature; NLL after = float64 NLL at T, a minimum`, () => {
      const { logits, labels } = miscalibrated(3000, 5, t0, Math.round(t0 * 10));
      const fit = fitTemperature(logits, labels);
      expect(Math.abs(fit.temperature / t0 - 1)).toBeLessThan(0.12);
      expect(fit.nllAfter).toBeLessThan(fit.nllBefore);
      expect(fit.nllBefore).toBeCloseTo(meanNll(logits, labels, 1), 8);
      expect(fit.nllAfter).toBeCloseTo(meanNll(logits, labels, fit.temperature), 8);
      for (const f of [0.97, 1.03]) {
        expect(meanNll(logits, labels, fit.temperature * f)).toBeGreaterThan(fit.nllAfter);
      }
      expect(fit.warning).toBeUndefined();
    });
  }

  it('logits no better than uniform on the labels (anti-correlated, or all equal): T at the upper bound with a warning', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const anti = fitTemperature(
        [
          [2, 0, 0],
          [0, 3, 0],
          [0, 0, 1],
          [1, 0, 0],
        ],
        [1, 2, 0, 2],
      );
      expect(anti.temperature).toBe(100);
      expect(anti.warning).toMatch(/upper bound T = 100.*no better than uniform/);
      expect(anti.nllAfter).toBeLessThan(anti.nllBefore);
      expect(anti.nllAfter).toBeGreaterThan(Math.log(3));
      expect(anti.nllAfter - Math.log(3)).toBeLessThan(0.05);
      const flat = fitTemperature(
        [
          [1, 1],
          [2, 2],
        ],
        [0, 1],
      );
      expect(flat.temperature).toBe(100);
      expect(flat.warning).toMatch(/upper bound/);
      expect(flat.nllAfter).toBeCloseTo(Math.log(2), 12);
      expect(warn).toHaveBeenCalledTimes(2);
      // a good model is fitted as before, without a warning
      expect(
        fitTemperature(
          [
            [2, 0],
            [0, 2],
            [1, 0],
            [0, 1],
            [0, 1],
          ],
          [0, 1, 0, 1, 0],
        ).warning,
      ).toBeUndefined();
    } finally {
      warn.mockRestore();
    }
  });

  it('temperatureScale divides the logits, keeps the argmax, leaks nothing; bad inputs refused by name', async () => {
    const z = tf.tensor2d([
      [1, 2, -3],
      [0.5, 0, 4],
    ]);
    const before = tf.memory().numTensors;
    const s = temperatureScale(z, 2);
    expect(Array.from(s.dataSync())).toEqual([0.5, 1, -1.5, 0.25, 0, 2]);
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const ok = [
      [1, 2, -3],
      [0.5, 0, 4],
    ];
    const cases = [
      { call: 'T = 0', run: () => temperatureScale(z, 0), arg: 'temperature' },
      { call: 'T = NaN', run: () => temperatureScale(z, NaN), arg: 'temperature' },
      {
        call: 'NaN logits',
        run: () => fitTemperature([[NaN, 1, 2], ok[1]!], [0, 1]),
        arg: 'logits',
      },
      {
        call: 'Infinity logits',
        run: () => fitTemperature([[Infinity, 1, 2], ok[1]!], [0, 1]),
        arg: 'logits',
      },
      { call: 'label out of range', run: () => fitTemperature(ok, [0, 3]), arg: 'labels' },
      { call: 'label count mismatch', run: () => fitTemperature(ok, [0]), arg: 'labels' },
      { call: 'empty set', run: () => fitTemperature([], []), arg: 'logits' },
      {
        call: 'probabilities instead of logits',
        run: () =>
          fitTemperature(
            [
              [0.2, 0.3, 0.5],
              [0.1, 0.1, 0.8],
            ],
            [2, 2],
          ),
        arg: 'logits',
      },
    ];
    for (const c of cases) await expectBadInput(c);
    z.dispose();
  });
});

describe('audit15 ECE bins', () => {
  it('a confidence exactly on an edge b/B falls in (b-1)/B .. b/B, as documented (float64 reference)', () => {
    // confidences 7/25 = 0.28 and 14/25 = 0.56 on 25 bins: 0.28 * 25 = 7.000000000000001 in
    // float64, so ceil(c B) - 1 put them one bin too high
    for (const [bins, edges] of [
      [25, [7, 14, 21]],
      [41, [7, 14, 23, 28]],
      [10, [3, 6, 7]],
    ] as const) {
      const probs = edges.map((e) => {
        const c = e / bins;
        return [c, ...new Array<number>(4).fill((1 - c) / 4)];
      });
      probs.push([0.1, 0.3, 0.3, 0.3, 0]);
      const labels = probs.map((_, i) => i % 2);
      const cal = calibration(probs, labels, bins);
      // reference: bin b holds b/B < c <= (b+1)/B with the edges as numbers b/B
      const count = new Array<number>(bins).fill(0);
      for (const p of probs) {
        const c = Math.max(...p);
        for (let b = 0; b < bins; b++) if (c > b / bins && c <= (b + 1) / bins) count[b]!++;
      }
      expect(cal.bins.map((b) => b.count)).toEqual(count);
    }
  });
});

describe('audit15 metrics against float64 loops', () => {
  it('NLL (with the 1e-12 clamp), Brier, accuracy, ECE/MCE; AUROC with heavy ties vs a pair count', () => {
    const r = makeRng(81);
    const k = 4;
    const probs = Array.from({ length: 300 }, () => {
      const z = Array.from({ length: k }, () => Math.round(4 * r()) / 2); // ties in the rows
      const e = z.map((v) => Math.exp(v));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    });
    probs[0] = [1, 0, 0, 0]; // the label gets probability 0 below: NLL clamped at 1e-12
    const labels = probs.map((_, i) => (i === 0 ? 2 : Math.floor(r() * k)));
    let nll = 0;
    let brier = 0;
    let acc = 0;
    probs.forEach((p, i) => {
      nll -= Math.log(Math.max(p[labels[i]!]!, 1e-12));
      brier += p.reduce((s, v, c) => s + (v - (c === labels[i] ? 1 : 0)) ** 2, 0);
      // argmax: the first of tied maxima
      acc += p.indexOf(Math.max(...p)) === labels[i] ? 1 : 0;
    });
    const n = probs.length;
    expect(toolbox.nll(probs, labels)).toBeCloseTo(nll / n, 10);
    expect(toolbox.brierScore(probs, labels)).toBeCloseTo(brier / n, 10);
    expect(toolbox.accuracy(probs, labels)).toBeCloseTo(acc / n, 12);
    for (const B of [1, 7, 15]) {
      const cnt = new Array<number>(B).fill(0);
      const hit = new Array<number>(B).fill(0);
      const cf = new Array<number>(B).fill(0);
      probs.forEach((p, i) => {
        const c = Math.max(...p);
        let b = 0;
        for (let j = 0; j < B; j++) if (c > j / B && c <= (j + 1) / B) b = j;
        cnt[b]! += 1;
        cf[b]! += c;
        if (p.indexOf(c) === labels[i]) hit[b]! += 1;
      });
      let ece = 0;
      let mce = 0;
      cnt.forEach((c, b) => {
        if (c === 0) return;
        const gap = Math.abs(hit[b]! / c - cf[b]! / c);
        ece += (c / n) * gap;
        mce = Math.max(mce, gap);
      });
      const got = toolbox.calibration(probs, labels, B);
      expect(got.ece).toBeCloseTo(ece, 10);
      expect(got.mce).toBeCloseTo(mce, 10);
      expect(got.bins.reduce((s, b) => s + b.count, 0)).toBe(n);
    }
    // AUROC with ties: scores on a coarse grid
    const ins = Array.from({ length: 80 }, () => Math.floor(5 * r()));
    const outs = Array.from({ length: 60 }, () => Math.floor(5 * r()) + 1);
    let pairs = 0;
    for (const a of ins) for (const b of outs) pairs += b > a ? 1 : b === a ? 0.5 : 0;
    expect(toolbox.auroc(ins, outs)).toBeCloseTo(pairs / (80 * 60), 12);
    // AP: mean over positives of the precision at their threshold (ties crossed together)
    let ap = 0;
    for (const t of [...new Set(outs)].sort((a, b) => b - a)) {
      const tp = outs.filter((v) => v >= t).length;
      const fp = ins.filter((v) => v >= t).length;
      const newPos = outs.filter((v) => v === t).length;
      ap += (newPos / outs.length) * (tp / (tp + fp));
    }
    expect(toolbox.aupr(ins, outs)).toBeCloseTo(ap, 12);
  });
});
