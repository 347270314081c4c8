/**
 * Audit 16 (issue 17): SWAG / MultiSWAG (Maddox et al. 2019) against a direct float64 computation
 * of its moments and the covariance of its samples (Monte Carlo within its standard error), and
 * the uncertainty-baselines metrics (ECE with equal-width bins, Brier summed over classes, NLL,
 * AUROC with ties), split conformal APS/RAPS coverage within its binomial band and temperature
 * scaling against float64 references written here.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectBadInput } from '../helpers.js';

const { Swag, swagPredictor } = toolbox;

/** A Dense(2) on 2 inputs: weights `[W (4), b (2)]`. */
function tinyModel(): tf.Sequential {
  const net = tf.sequential();
  net.add(tf.layers.dense({ units: 2, inputShape: [2] }));
  return net;
}

function setFlat(net: tf.LayersModel, theta: number[]): void {
  const ws = [tf.tensor2d(theta.slice(0, 4), [2, 2]), tf.tensor1d(theta.slice(4, 6))];
  net.setWeights(ws);
  tf.dispose(ws);
}

function flatOf(ts: tf.Tensor[]): number[] {
  return ts.flatMap((t) => Array.from(t.dataSync()));
}

const SNAPS = (() => {
  const rng = makeRng(31);
  return Array.from({ length: 6 }, () => Array.from({ length: 6 }, () => 2 * rng() - 1));
})();

/** Reference SWAG moments in float64: mean, diag variance, last `rank` deviations (updated mean). */
function reference(snaps: number[][], rank: number) {
  const p = snaps[0]!.length;
  const mean = new Array<number>(p).fill(0);
  const sq = new Array<number>(p).fill(0);
  const devs: number[][] = [];
  snaps.forEach((th, t) => {
    for (let i = 0; i < p; i++) {
      mean[i] = (mean[i]! * t + th[i]!) / (t + 1);
      sq[i] = (sq[i]! * t + th[i]! ** 2) / (t + 1);
    }
    devs.push(th.map((v, i) => v - mean[i]!));
    if (devs.length > rank) devs.shift();
  });
  const variance = mean.map((m, i) => Math.max(sq[i]! - m * m, 0));
  return { mean, variance, devs };
}

function collectAll(net: tf.LayersModel, swag: InstanceType<typeof Swag>, snaps: number[][]): void {
  for (const th of snaps) {
    setFlat(net, th);
    swag.collect();
  }
}

describe('audit16 SWAG moments and samples', () => {
  it('SWA mean, clamped diagonal variance and the last K deviations equal the float64 computation', () => {
    const net = tinyModel();
    const swag = new Swag(net, { rank: 3 });
    collectAll(net, swag, SNAPS);
    const ref = reference(SNAPS, 3);
    const mean = swag.swaMean();
    const vr = swag.diagVariance();
    const cols = swag.deviationColumns();
    flatOf(mean).forEach((v, i) => expect(v).toBeCloseTo(ref.mean[i]!, 5));
    flatOf(vr).forEach((v, i) => {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeCloseTo(ref.variance[i]!, 5);
    });
    expect(swag.numSnapshots).toBe(6);
    expect(swag.numDeviations).toBe(3);
    cols.forEach((c, j) => flatOf(c).forEach((v, i) => expect(v).toBeCloseTo(ref.devs[j]![i]!, 5)));
    tf.dispose([mean, vr, cols.flat()]);
    swag.dispose();
  });

  it('identical snapshots: variance exactly 0 (never negative), every sample the mean', () => {
    const net = tinyModel();
    const swag = new Swag(net, { rank: 4 });
    const th = [0.1, 1e3, -7.3, 0.333, 1234.5, -0.002];
    collectAll(net, swag, [th, th, th, th, th]);
    const vr = swag.diagVariance();
    flatOf(vr).forEach((v) => expect(v).toBe(0));
    const s = swag.sample({ seed: 4 });
    const m = swag.swaMean();
    // float32: the mean of equal values is the value (to an ulp), the draw the mean
    flatOf(m).forEach((v, i) =>
      expect(Math.abs(v - th[i]!)).toBeLessThanOrEqual(2e-7 * Math.abs(th[i]!)),
    );
    flatOf(s).forEach((v, i) =>
      expect(Math.abs(v - th[i]!)).toBeLessThanOrEqual(2e-7 * Math.abs(th[i]!)),
    );
    tf.dispose([vr, s, m]);
    swag.dispose();
  });

  it('late SGD iterates (spread 1e-3 around weights of size 1..40): diag variance to 1 % of float64', () => {
    const net = tinyModel();
    const swag = new Swag(net, { rank: 2 });
    const rng = makeRng(77);
    const centre = [1, -2.5, 4, 40, -0.7, 12];
    const snaps = Array.from({ length: 30 }, () => centre.map((c) => c + 1e-3 * (2 * rng() - 1)));
    // the float32 values the model actually holds
    const held = snaps.map((th) => Array.from(Float32Array.from(th)));
    collectAll(net, swag, snaps);
    const ref = reference(held, 2);
    const vr = swag.diagVariance();
    const m = swag.swaMean();
    flatOf(vr).forEach((v, i) => {
      expect(
        Math.abs(v - ref.variance[i]!),
        `weight ${i}: ${v} vs ${ref.variance[i]}`,
      ).toBeLessThan(0.01 * ref.variance[i]!);
    });
    flatOf(m).forEach((v, i) => expect(v).toBeCloseTo(ref.mean[i]!, 5));
    tf.dispose([vr, m]);
    swag.dispose();
  });

  it('scale 0 draws the SWA mean; seeded draws repeat', () => {
    const net = tinyModel();
    const swag = new Swag(net, { rank: 3 });
    collectAll(net, swag, SNAPS);
    const m = swag.swaMean();
    const s0 = swag.sample({ scale: 0, seed: 1 });
    expect(flatOf(s0)).toEqual(flatOf(m));
    const a = swag.sample({ seed: 7 });
    const b = swag.sample({ seed: 7 });
    expect(flatOf(a)).toEqual(flatOf(b));
    tf.dispose([m, s0, a, b]);
    swag.dispose();
  });

  for (const mode of ['lowRank', 'diagonal', 'rank0'] as const) {
    it(`sample covariance = s (Sigma_diag + D D^T / (K - 1)) within 5 MC SE (${mode})`, () => {
      const net = tinyModel();
      const rank = mode === 'rank0' ? 0 : 3;
      const swag = new Swag(net, { rank });
      collectAll(net, swag, SNAPS);
      const ref = reference(SNAPS, 3);
      const scale = 0.5;
      const p = 6;
      const cov = Array.from({ length: p }, (_, i) =>
        Array.from({ length: p }, (_, j) => {
          let c = i === j ? ref.variance[i]! : 0;
          if (mode === 'lowRank') {
            for (const d of ref.devs) c += (d[i]! * d[j]!) / (ref.devs.length - 1);
          }
          return scale * c;
        }),
      );
      const S = 1500;
      const draws: number[][] = [];
      for (let s = 0; s < S; s++) {
        const w = swag.sample({ seed: 1000 + s, lowRank: mode === 'lowRank', scale });
        draws.push(flatOf(w));
        tf.dispose(w);
      }
      for (let i = 0; i < p; i++) {
        const mu = draws.reduce((a, d) => a + d[i]!, 0) / S;
        const seMean = Math.sqrt(cov[i]![i]! / S);
        expect(Math.abs(mu - ref.mean[i]!)).toBeLessThanOrEqual(5 * seMean + 1e-6);
        for (let j = 0; j < p; j++) {
          const c =
            draws.reduce((a, d) => a + (d[i]! - ref.mean[i]!) * (d[j]! - ref.mean[j]!), 0) / S;
          const se = Math.sqrt((cov[i]![i]! * cov[j]![j]! + cov[i]![j]! ** 2) / S);
          expect(Math.abs(c - cov[i]![j]!), `cov[${i}][${j}]`).toBeLessThanOrEqual(5 * se + 1e-6);
        }
      }
      swag.dispose();
    });
  }

  it('swagPredictor at scale 0 gives softmax of the SWA-mean net; weights restored; MultiSWAG alternates', () => {
    const netA = tinyModel();
    const netB = tinyModel();
    const a = new Swag(netA, { rank: 2 });
    const b = new Swag(netB, { rank: 2 });
    collectAll(netA, a, SNAPS.slice(0, 3));
    collectAll(netB, b, SNAPS.slice(3, 6));
    const before = flatOf(netA.getWeights());
    const x = tf.tensor2d([
      [0.5, -1],
      [2, 0.3],
    ]);
    const refA = reference(SNAPS.slice(0, 3), 2).mean;
    const refB = reference(SNAPS.slice(3, 6), 2).mean;
    const soft = (th: number[], r: number[]): number[] => {
      const z = [0, 1].map((k) => r[0]! * th[k]! + r[1]! * th[2 + k]! + th[4 + k]!);
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      return e.map((v) => v / (e[0]! + e[1]!));
    };
    const nBefore = tf.memory().numTensors;
    const out = swagPredictor([a, b], { scale: 0, seed: 2 }).predictSamples(x, 4);
    expect(out.shape).toEqual([4, 2, 2]);
    const v = out.arraySync();
    out.dispose();
    expect(tf.memory().numTensors).toBe(nBefore);
    [0, 1, 2, 3].forEach((s) => {
      const th = s % 2 === 0 ? refA : refB;
      [
        [0.5, -1],
        [2, 0.3],
      ].forEach((r, n) => {
        const want = soft(th, r);
        expect(v[s]![n]![0]!).toBeCloseTo(want[0]!, 5);
        expect(v[s]![n]![1]!).toBeCloseTo(want[1]!, 5);
      });
    });
    expect(flatOf(netA.getWeights())).toEqual(before);
    x.dispose();
    a.dispose();
    b.dispose();
  });

  it('regression output: predictSamples are the sampled nets outputs; their mean tends to the SWA-mean output', () => {
    const net = tinyModel();
    const swag = new Swag(net, { rank: 3 });
    collectAll(net, swag, SNAPS);
    const x = tf.tensor2d([[0.4, -0.2]]);
    const out = swagPredictor(swag, { output: 'regression', seed: 5 }).predictSamples(x, 800);
    expect(out.shape).toEqual([800, 1, 2]);
    const v = out.arraySync();
    out.dispose();
    const ref = reference(SNAPS, 3);
    // output k = x . W[:, k] + b_k is linear in theta: its variance is a^T Cov a with a the inputs
    for (let k = 0; k < 2; k++) {
      const a = [0, 0, 0, 0, 0, 0];
      a[k] = 0.4;
      a[2 + k] = -0.2;
      a[4 + k] = 1;
      const mu = a.reduce((s, ai, i) => s + ai * ref.mean[i]!, 0);
      let varO = 0;
      for (let i = 0; i < 6; i++)
        for (let j = 0; j < 6; j++) {
          let c = i === j ? ref.variance[i]! : 0;
          for (const d of ref.devs) c += (d[i]! * d[j]!) / 2;
          varO += 0.5 * a[i]! * a[j]! * c;
        }
      const m = v.reduce((s, r) => s + r[0]![k]!, 0) / 800;
      const sv = v.reduce((s, r) => s + (r[0]![k]! - mu) ** 2, 0) / 800;
      expect(Math.abs(m - mu)).toBeLessThan(5 * Math.sqrt(varO / 800));
      expect(Math.abs(sv - varO)).toBeLessThan(5 * varO * Math.sqrt(2 / 800));
    }
    x.dispose();
    swag.dispose();
  });

  it('bad options name themselves before any work', async () => {
    const net = tinyModel();
    const empty = new Swag(net, { rank: 2 });
    const full = new Swag(net, { rank: 2 });
    collectAll(net, full, SNAPS.slice(0, 2));
    const x = tf.tensor2d([[1, 2]]);
    const x3 = tf.tensor2d([[1, 2, 3]]);
    const cases: Array<[string, () => unknown]> = [
      ['rank', () => new Swag(net, { rank: -1 })],
      ['rank', () => new Swag(net, { rank: 1.5 })],
      ['model', () => new Swag({} as tf.LayersModel)],
      ['scale', () => full.sample({ scale: -1 })],
      ['scale', () => full.sample({ scale: Number.NaN })],
      ['lowRank', () => full.sample({ lowRank: 'yes' as never })],
      ['swag', () => empty.sample()],
      ['swag', () => empty.swaMean()],
      ['swag', () => swagPredictor([])],
      ['swag', () => swagPredictor(empty).predictSamples(x, 2)],
      ['numSamples', () => swagPredictor(full).predictSamples(x, 0)],
      ['output', () => swagPredictor(full, { output: 'mean' as never })],
      ['x', () => swagPredictor(full).predictSamples(x3, 2)],
    ];
    for (const [i, [arg, run]] of cases.entries()) {
      await expectBadInput({ call: `case ${i}`, arg, run });
    }
    expect(() => new Swag(net, { rank: 2, maxNumModels: 3 } as never)).toThrow(/maxNumModels/);
    tf.dispose([x, x3]);
    full.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
// Metrics

function randomProbs(n: number, k: number, seed: number, sharp = 2): number[][] {
  const rng = makeRng(seed);
  return Array.from({ length: n }, () => {
    const z = Array.from({ length: k }, () => sharp * (rng() + rng() + rng() - 1.5) * 2);
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
}

function sampleLabels(probs: number[][], seed: number): number[] {
  const rng = makeRng(seed);
  return probs.map((p) => {
    const u = rng();
    let c = 0;
    for (let k = 0; k < p.length; k++) {
      c += p[k]!;
      if (u < c) return k;
    }
    return p.length - 1;
  });
}

describe('audit16 metrics against float64 references', () => {
  const probs = randomProbs(300, 4, 41);
  // labels from a miscalibrated model: sharper than the probabilities say for half the rows
  const labels = sampleLabels(probs, 42).map((y, i) =>
    i % 2 === 0 ? probs[i]!.indexOf(Math.max(...probs[i]!)) : y,
  );

  it('ECE (equal-width bins, (b/B, (b+1)/B]) equals the uncertainty-baselines sum for B = 10, 15, 7', () => {
    for (const B of [10, 15, 7]) {
      const cnt = new Array<number>(B).fill(0);
      const acc = new Array<number>(B).fill(0);
      const conf = new Array<number>(B).fill(0);
      probs.forEach((p, i) => {
        const c = Math.max(...p);
        const pred = p.indexOf(c);
        const b = Math.min(B - 1, Math.max(0, Math.ceil(c * B) - 1));
        cnt[b]!++;
        acc[b]! += pred === labels[i] ? 1 : 0;
        conf[b]! += c;
      });
      let ece = 0;
      let mce = 0;
      for (let b = 0; b < B; b++) {
        if (cnt[b] === 0) continue;
        const gap = Math.abs(acc[b]! / cnt[b]! - conf[b]! / cnt[b]!);
        ece += (cnt[b]! / probs.length) * gap;
        mce = Math.max(mce, gap);
      }
      const got = toolbox.calibration(probs, labels, B);
      expect(got.ece).toBeCloseTo(ece, 6);
      expect(got.mce).toBeCloseTo(mce, 6);
      expect(got.bins.reduce((s, b) => s + b.count, 0)).toBe(probs.length);
    }
  });

  it('Brier sums over classes, NLL is the mean -log p_y, accuracy the argmax rate (tensor or arrays)', () => {
    let bs = 0;
    let nl = 0;
    let ac = 0;
    probs.forEach((p, i) => {
      p.forEach((v, k) => (bs += (v - (k === labels[i] ? 1 : 0)) ** 2));
      nl -= Math.log(p[labels[i]!]!);
      ac += p.indexOf(Math.max(...p)) === labels[i] ? 1 : 0;
    });
    const t = tf.tensor2d(probs);
    const y = tf.tensor1d(labels, 'int32');
    expect(toolbox.brierScore(t, y)).toBeCloseTo(bs / probs.length, 5);
    expect(toolbox.brierScore(probs, labels)).toBeCloseTo(bs / probs.length, 9);
    expect(toolbox.nll(probs, labels)).toBeCloseTo(nl / probs.length, 9);
    expect(toolbox.accuracy(probs, labels)).toBeCloseTo(ac / probs.length, 12);
    tf.dispose([t, y]);
  });

  it('AUROC with many ties equals the Mann-Whitney statistic (ties count 1/2)', () => {
    const rng = makeRng(7);
    const inS = Array.from({ length: 57 }, () => Math.floor(rng() * 5));
    const outS = Array.from({ length: 43 }, () => Math.floor(rng() * 5) + 1);
    let u = 0;
    for (const a of inS) for (const b of outS) u += b > a ? 1 : b === a ? 0.5 : 0;
    expect(toolbox.auroc(inS, outS)).toBeCloseTo(u / (inS.length * outS.length), 12);
    expect(toolbox.auroc([1, 1, 1], [1, 1])).toBeCloseTo(0.5, 12);
    expect(toolbox.auroc([3, 4], [1, 2])).toBe(0);
  });

  it('metric inputs are checked by name', async () => {
    const cases: Array<[string, () => unknown]> = [
      ['numBins', () => toolbox.calibration(probs, labels, 0)],
      ['numBins', () => toolbox.calibration(probs, labels, 2.5)],
      ['inScores', () => toolbox.auroc([], [1])],
      ['outScores', () => toolbox.auroc([1], [])],
    ];
    for (const [i, [arg, run]] of cases.entries()) {
      await expectBadInput({ call: `case ${i}`, arg, run });
    }
    // labels out of range / of the wrong count
    expect(() =>
      toolbox.nll(
        probs,
        labels.map(() => 4),
      ),
    ).toThrow(/label/);
    expect(() => toolbox.brierScore(probs, labels.slice(1))).toThrow();
  });
});

describe('audit16 conformal coverage and temperature scaling', () => {
  // exchangeable synthetic data: labels drawn from the probabilities themselves
  const all = randomProbs(3000, 6, 51, 1.5);
  const y = sampleLabels(all, 52);
  const cal = all.slice(0, 1000);
  const yCal = y.slice(0, 1000);
  const test = all.slice(1000);
  const yTest = y.slice(1000);

  for (const [score, randomized] of [
    ['aps', true],
    ['aps', false],
    ['raps', true],
    ['raps', false],
    ['lac', false],
  ] as const) {
    it(`${score}${randomized ? ' (randomised)' : ''}: coverage in the binomial band of 1 - alpha`, () => {
      const alpha = 0.1;
      const c = toolbox.calibrateConformal(cal, yCal, {
        alpha,
        score,
        randomized,
        seed: 3,
        ...(score === 'raps' ? { lambda: 0.05, kReg: 2 } : {}),
      });
      const sets = toolbox.conformalSets(test, c, yTest, 9);
      const n = test.length;
      const se = Math.sqrt((alpha * (1 - alpha)) / n);
      // plus the calibration quantile's own spread (beta with n_cal = 1000)
      const seCal = Math.sqrt((alpha * (1 - alpha)) / 1000);
      const tol = 4 * Math.sqrt(se * se + seCal * seCal);
      expect(sets.coverage).toBeGreaterThanOrEqual(1 - alpha - tol);
      // non-randomised APS/RAPS are conservative: only an upper bound loosely
      expect(sets.coverage).toBeLessThanOrEqual(
        randomized || score === 'lac' ? 1 - alpha + 1 / 1001 + tol : 1,
      );
      // coverage recomputed from the sets
      const cov = sets.sets.reduce((s, set, i) => s + (set.includes(yTest[i]!) ? 1 : 0), 0) / n;
      expect(sets.coverage).toBeCloseTo(cov, 12);
      const size = sets.sets.reduce((s, set) => s + set.length, 0) / n;
      expect(sets.meanSize).toBeCloseTo(size, 12);
    });
  }

  it('alpha, score, kReg and lambda are checked by name', async () => {
    const cases: Array<[string, () => unknown]> = [
      ['alpha', () => toolbox.calibrateConformal(cal, yCal, { alpha: 0 })],
      ['alpha', () => toolbox.calibrateConformal(cal, yCal, { alpha: 1 })],
      ['score', () => toolbox.calibrateConformal(cal, yCal, { score: 'thr' as never })],
      ['lambda', () => toolbox.calibrateConformal(cal, yCal, { score: 'raps', lambda: -1 })],
      ['kReg', () => toolbox.calibrateConformal(cal, yCal, { score: 'raps', kReg: -2 })],
    ];
    for (const [i, [arg, run]] of cases.entries()) {
      await expectBadInput({ call: `case ${i}`, arg, run });
    }
  });

  it('fitTemperature finds the float64 minimiser of the held-out NLL (over-confident logits)', () => {
    const logits = all.slice(0, 800).map((p) => p.map((v) => 3 * Math.log(v)));
    const labs = y.slice(0, 800);
    const nllAt = (T: number): number =>
      logits.reduce((s, z, i) => {
        const m = Math.max(...z.map((v) => v / T));
        const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v / T - m), 0));
        return s + lse - z[labs[i]!]! / T;
      }, 0) / logits.length;
    // golden-section on log T
    let lo = Math.log(0.05);
    let hi = Math.log(50);
    const g = (Math.sqrt(5) - 1) / 2;
    for (let it = 0; it < 200; it++) {
      const a = hi - g * (hi - lo);
      const b = lo + g * (hi - lo);
      if (nllAt(Math.exp(a)) < nllAt(Math.exp(b))) hi = b;
      else lo = a;
    }
    const tStar = Math.exp((lo + hi) / 2);
    const fit = toolbox.fitTemperature(logits, labs);
    expect(fit.temperature).toBeCloseTo(tStar, 3);
    expect(Math.abs(tStar - 3)).toBeLessThan(0.4); // the labels follow softmax(z / 3)
    expect(fit.nllAfter).toBeCloseTo(nllAt(tStar), 6);
    expect(fit.nllBefore).toBeCloseTo(nllAt(1), 6);
  });
});

describe('audit16 trainSwag for regression and the calibrators on odd inputs', () => {
  it('trainSwag regression from a near-trained net: the SWA mean is near least squares; one snapshot per collect', async () => {
    const rng = makeRng(61);
    const n = 64;
    const xs = Array.from({ length: n }, () => [2 * rng() - 1, 2 * rng() - 1]);
    const ys = xs.map((r) => 1.5 * r[0]! - 0.7 * r[1]! + 0.4 + 0.05 * (rng() - 0.5));
    // ordinary least squares in float64 (normal equations, 3 x 3)
    const A = [0, 1, 2].map((i) =>
      [0, 1, 2].map((j) => xs.reduce((s, r) => s + [...r, 1][i]! * [...r, 1][j]!, 0)),
    );
    const bv = [0, 1, 2].map((i) => xs.reduce((s, r, k) => s + [...r, 1][i]! * ys[k]!, 0));
    // Cramer's rule
    const det = (m: number[][]): number =>
      m[0]![0]! * (m[1]![1]! * m[2]![2]! - m[1]![2]! * m[2]![1]!) -
      m[0]![1]! * (m[1]![0]! * m[2]![2]! - m[1]![2]! * m[2]![0]!) +
      m[0]![2]! * (m[1]![0]! * m[2]![1]! - m[1]![1]! * m[2]![0]!);
    const d0 = det(A);
    const ols = [0, 1, 2].map(
      (c) => det(A.map((row, i) => row.map((v, j) => (j === c ? bv[i]! : v)))) / d0,
    );
    const net = tf.sequential();
    net.add(tf.layers.dense({ units: 1, inputShape: [2] }));
    // SWAG starts from a trained net (Maddox et al.): start at the optimum, a bit off
    const w0 = [tf.tensor2d([[ols[0]! + 0.05], [ols[1]! - 0.05]]), tf.tensor1d([ols[2]! + 0.05])];
    net.setWeights(w0);
    tf.dispose(w0);
    const x = tf.tensor2d(xs);
    const y = tf.tensor1d(ys);
    const before = tf.memory().numTensors;
    const swag = await toolbox.trainSwag(net, x, y, {
      likelihood: 'regression',
      epochs: 40,
      lr: 0.05,
      momentum: 0.5,
      batchSize: 16,
      collectPerEpoch: 2,
      rank: 5,
      seed: 1,
    });
    expect(swag.numSnapshots).toBe(80);
    expect(swag.numDeviations).toBe(5);
    const m = swag.swaMean();
    const got = flatOf(m);
    tf.dispose(m);
    [0, 1, 2].forEach((i) => expect(Math.abs(got[i]! - ols[i]!)).toBeLessThan(0.02));
    swag.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const y2 = tf.zeros([n, 2]);
    await expectBadInput({
      call: 'targets [N, 2] for one output',
      arg: 'y',
      run: () => toolbox.trainSwag(net, x, y2, { likelihood: 'regression' }),
    });
    tf.dispose([x, y, y2]);
  });

  it('fitTemperature refuses probability rows naming logits; conformal JSON round trip keeps q = Infinity', () => {
    const probs = randomProbs(20, 3, 5);
    const labs = sampleLabels(probs, 6);
    expect(() => toolbox.fitTemperature(probs, labs)).toThrow(/logits|probabilit/);
    // n = 5 calibration rows at alpha = 0.1: k = ceil(6 * 0.9) = 6 > 5, so every set is every class
    const cal = toolbox.calibrateConformal(probs.slice(0, 5), labs.slice(0, 5), {
      alpha: 0.1,
      score: 'aps',
    });
    expect(cal.qhat).toBe(Infinity);
    const back = JSON.parse(JSON.stringify(cal)) as typeof cal;
    const sets = toolbox.conformalSets(probs.slice(5), back, labs.slice(5));
    expect(sets.meanSize).toBe(3);
    expect(sets.coverage).toBe(1);
  });
});
