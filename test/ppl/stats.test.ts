/**
 * `ppl.stats` (Pyro's `pyro.ops.stats`) against independent references: brute-force sums,
 * closed forms (the CRPS of a Normal, the autocorrelation ρ^k of an AR(1)), Pyro's published
 * example of `weighed_quantile`, and the scalar diagnostics of `ppl.mcmc`.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ppl } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';
import { essPyroRef } from '../fixtures/diagnostics.js';

const { stats } = ppl;

/** A seeded stream of standard normals (Box–Muller). */
function normals(n: number, seed: number): number[] {
  let a = seed >>> 0;
  const u = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return Array.from(
    { length: n },
    () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()),
  );
}

function ar1(n: number, phi: number, seed: number): number[] {
  const e = normals(n, seed);
  const x = new Array<number>(n);
  x[0] = (e[0] as number) / Math.sqrt(1 - phi * phi);
  for (let t = 1; t < n; t++) x[t] = phi * (x[t - 1] as number) + (e[t] as number);
  return x;
}

/**
 * Pyro's autocovariance by its definition, O(N^2): each lag's sum over the `N - k` products it
 * has (session 17; it was the biased `/ N` before, which Pyro's is not).
 */
function bruteAcov(x: number[]): number[] {
  const n = x.length;
  const m = x.reduce((a, b) => a + b, 0) / n;
  return Array.from({ length: n }, (_, k) => {
    let s = 0;
    for (let t = 0; t + k < n; t++) s += ((x[t] as number) - m) * ((x[t + k] as number) - m);
    return s / (n - k);
  });
}

const arr = (t: tf.Tensor): number[] => Array.from(t.dataSync());

describe('autocorrelation and autocovariance', () => {
  it('equal the definition (brute force) along any dim', () => {
    const rows = [normals(37, 1), normals(37, 2)];
    const x = tf.tensor2d(rows);
    const cov = stats.autocovariance(x, 1);
    const cor = stats.autocorrelation(x, -1);
    expect(cov.shape).toEqual([2, 37]);
    const c = cov.arraySync() as number[][];
    const r = cor.arraySync() as number[][];
    rows.forEach((row, i) => {
      const ref = bruteAcov(row);
      ref.forEach((v, k) => {
        expect(c[i]?.[k]).toBeCloseTo(v, 5);
        expect(r[i]?.[k]).toBeCloseTo(v / (ref[0] as number), 5);
      });
    });
    // along dim 0 of the transpose: the same numbers
    const xt = tf.transpose(x);
    const cort = stats.autocorrelation(xt);
    const back = tf.transpose(cort);
    expect(arr(back)).toEqual(arr(cor));
    tf.dispose([x, cov, cor, xt, cort, back]);
  });

  it('of an AR(1) with φ = 0.7 is φ^k within 5 Bartlett standard errors', () => {
    const n = 20000;
    const phi = 0.7;
    const x = tf.tensor1d(ar1(n, phi, 7));
    const rho = arr(stats.autocorrelation(x));
    expect(rho[0]).toBeCloseTo(1, 6);
    for (let k = 1; k <= 6; k++) {
      const p2 = phi ** (2 * k);
      const se =
        Math.sqrt(((1 + phi ** 2) * (1 - p2)) / (1 - phi ** 2) - 2 * k * p2) / Math.sqrt(n);
      expect(Math.abs((rho[k] as number) - phi ** k)).toBeLessThan(5 * se);
    }
    x.dispose();
  });

  it('a constant sequence has no autocorrelation (NaN, as Pyro) and zero autocovariance', () => {
    const x = tf.fill([5], 2);
    expect(arr(stats.autocorrelation(x)).every(Number.isNaN)).toBe(true);
    expect(arr(stats.autocovariance(x))).toEqual([0, 0, 0, 0, 0]);
    x.dispose();
  });
});

describe('chain diagnostics in tensor form', () => {
  const chains = [normals(200, 3), normals(200, 4).map((v) => v + 0.5)];
  it('gelmanRubin is sqrt(((N-1)/N W + var of means) / W) per element', () => {
    const n = 200;
    const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
    const svar = (v: number[]): number => {
      const m = mean(v);
      return v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1);
    };
    const W = mean(chains.map(svar));
    const ref = Math.sqrt((((n - 1) / n) * W + svar(chains.map(mean))) / W);
    // [chains, draws, 2]: the second element is the first scaled by 3 (same R-hat)
    const x = tf.tensor3d(chains.map((c) => c.map((v) => [v, 3 * v])));
    const r = arr(stats.gelmanRubin(x));
    expect(r[0]).toBeCloseTo(ref, 5);
    expect(r[1]).toBeCloseTo(ref, 5);
    // dims given explicitly: [2, draws, chains]
    const xt = tf.transpose(x, [2, 1, 0]);
    expect(arr(stats.gelmanRubin(xt, 2, 1))).toEqual(r);
    // split: R-hat of four half-chains; equal to mcmc.rhat(splitChains)
    const split = arr(stats.splitGelmanRubin(x));
    expect(split[0]).toBeCloseTo(ppl.mcmc.rhat(ppl.mcmc.splitChains(chains)), 5);
    tf.dispose([x, xt]);
  });

  it("effectiveSampleSize is Pyro's per element: ~M N for iid draws, N (1-φ)/(1+φ) for an AR(1)", () => {
    const same = [normals(200, 13), normals(200, 14)];
    const iid = tf.tensor2d(same);
    const e = arr(stats.effectiveSampleSize(iid))[0] as number;
    // Pyro's effective_sample_size (session 17; it was mcmc.ess, ArviZ's, before)
    const same32 = same.map((c) => Array.from(Float32Array.from(c)));
    expect(e / essPyroRef(same32)).toBeCloseTo(1, 5);
    expect(Math.abs(e - 400)).toBeLessThan(0.25 * 400);
    const n = 20000;
    const a = tf.tensor2d([ar1(n, 0.8, 9)]);
    const ea = arr(stats.effectiveSampleSize(a))[0] as number;
    const ref = (n * 0.2) / 1.8;
    expect(Math.abs(ea - ref) / ref).toBeLessThan(0.2);
    tf.dispose([iid, a]);
  });

  it('refuse inputs without two axes, the same axis twice and too few draws', () => {
    const x = tf.zeros([2, 3]);
    const v = tf.zeros([4]);
    expect(() => stats.gelmanRubin(v)).toThrow(
      /^input: expected a live numeric tensor with at least 2/,
    );
    expect(() => stats.gelmanRubin(x, 1, 1)).toThrow(
      /^sampleDim: expected a dim other than chainDim/,
    );
    expect(() => stats.splitGelmanRubin(x)).toThrow(
      /^input: expected at least 1 chain and 4 draws/,
    );
    expect(() => stats.effectiveSampleSize(x, 0, 5)).toThrow(
      /^sampleDim: expected an integer in \[-2, 2\)/,
    );
    tf.dispose([x, v]);
  });
});

describe('scoring rules', () => {
  /** E|X - y| - E|X - X'|/2 by the double sum. */
  const bruteCrps = (x: number[], y: number): number => {
    const n = x.length;
    let a = 0;
    let b = 0;
    for (const xi of x) {
      a += Math.abs(xi - y);
      for (const xj of x) b += Math.abs(xi - xj);
    }
    return a / n - b / (2 * n * n);
  };

  it('crpsEmpirical equals the double sum, per element of the truth', () => {
    const d = [normals(25, 5), normals(25, 6).map((v) => 2 * v + 1)];
    const pred = tf.tidy(() => tf.transpose(tf.tensor2d(d))); // [25, 2]
    const truth = tf.tensor1d([0.3, -1]);
    const s = arr(stats.crpsEmpirical(pred, truth));
    expect(s[0]).toBeCloseTo(bruteCrps(d[0] as number[], 0.3), 5);
    expect(s[1]).toBeCloseTo(bruteCrps(d[1] as number[], -1), 5);
    tf.dispose([pred, truth]);
  });

  it('crpsEmpirical of many Normal draws approaches the closed form of Gneiting & Raftery', () => {
    // CRPS(N(m, s), y) = s (z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi)), z = (y - m)/s
    const n = 20000;
    const m = 1;
    const sd = 2;
    const y = 2.5;
    const z = (y - m) / sd;
    const phi = Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
    // Phi(z) = 1/2 + integral_0^z phi (Simpson's rule, 2000 panels)
    const k = 2000;
    const h = z / k;
    let area = 0;
    for (let i = 0; i <= k; i++) {
      const w = i === 0 || i === k ? 1 : i % 2 === 1 ? 4 : 2;
      area += w * Math.exp(-0.5 * (i * h) ** 2);
    }
    const Phi = 0.5 + (area * h) / 3 / Math.sqrt(2 * Math.PI);
    const ref = sd * (z * (2 * Phi - 1) + 2 * phi - 1 / Math.sqrt(Math.PI));
    const pred = tf.tensor1d(normals(n, 8).map((v) => m + sd * v));
    const truth = tf.scalar(y);
    const s = arr(stats.crpsEmpirical(pred, truth))[0] as number;
    // the Monte Carlo error is below sd / sqrt(n) (|X - y| has sd <= that of X)
    expect(Math.abs(s - ref)).toBeLessThan((5 * sd) / Math.sqrt(n));
    tf.dispose([pred, truth]);
  });

  it('energyScoreEmpirical equals the double sum of norms, and the CRPS for D = 1', () => {
    const n = 12;
    const raw = normals(n * 2 * 3, 10);
    const pred = tf.tensor3d(raw, [n, 2, 3]);
    const truth = tf.tensor2d([
      [0, 1, -1],
      [2, 0, 0.5],
    ]);
    const s = arr(stats.energyScoreEmpirical(pred, truth));
    expect(s.length).toBe(2);
    const p = pred.arraySync() as number[][][];
    const t = truth.arraySync() as number[][];
    const norm = (a: number[], b: number[]): number =>
      Math.sqrt(a.reduce((q, v, i) => q + (v - (b[i] as number)) ** 2, 0));
    for (let e = 0; e < 2; e++) {
      let a = 0;
      let b = 0;
      for (let i = 0; i < n; i++) {
        a += norm(p[i]?.[e] as number[], t[e] as number[]);
        for (let j = 0; j < n; j++) b += norm(p[i]?.[e] as number[], p[j]?.[e] as number[]);
      }
      expect(s[e]).toBeCloseTo(a / n - b / (2 * n * n), 5);
    }
    const one = tf.tensor2d(raw.slice(0, 30), [30, 1]);
    const flat = tf.tensor1d(raw.slice(0, 30));
    const y = tf.tensor1d([0.4]);
    const y0 = tf.scalar(0.4);
    expect(arr(stats.energyScoreEmpirical(one, y))[0]).toBeCloseTo(
      arr(stats.crpsEmpirical(flat, y0))[0] as number,
      5,
    );
    tf.dispose([pred, truth, one, flat, y, y0]);
  });

  it('refuse a truth of the wrong shape naming it', () => {
    const pred = tf.zeros([10, 3]);
    const bad = tf.zeros([4]);
    expect(() => stats.crpsEmpirical(pred, bad)).toThrow(/^truth: expected shape \[3\]/);
    expect(() => stats.energyScoreEmpirical(pred, bad)).toThrow(/^truth: expected shape \[3\]/);
    tf.dispose([pred, bad]);
  });
});

describe('quantiles, intervals, resampling, the Pareto fit', () => {
  it('weighedQuantile reproduces Pyro`s published example and, with equal weights, quantile', () => {
    const x = tf.tensor2d([
      [10, 50, 40],
      [20, 30, 0],
    ]);
    const q = stats.weighedQuantile(x, [0.2, 0.8], [0.4, 0.5, 0.1].map(Math.log), -1);
    const v = q.arraySync() as number[][];
    expect(v[0]?.[0]).toBeCloseTo(40.4, 4);
    expect(v[0]?.[1]).toBeCloseTo(47.6, 4);
    expect(v[1]?.[0]).toBeCloseTo(9, 4);
    expect(v[1]?.[1]).toBeCloseTo(26.4, 4);
    const d = tf.tensor1d(normals(101, 11));
    const lw = tf.zeros([101]);
    const probs = [0, 0.1, 0.5, 0.93, 1];
    const eq = arr(stats.weighedQuantile(d, probs, lw));
    const ref = arr(stats.quantile(d, probs));
    eq.forEach((e, i) => expect(e).toBeCloseTo(ref[i] as number, 5));
    tf.dispose([x, q, d, lw]);
  });

  it('pi is the pair of quantiles (1 -+ prob)/2', () => {
    const d = tf.tensor2d(Array.from({ length: 50 }, (_, i) => [i, -2 * i]));
    const p = stats.pi(d, 0.9);
    expect(p.shape).toEqual([2, 2]);
    const ref = stats.quantile(d, [0.05, 0.95]);
    expect(arr(p)).toEqual(arr(ref));
    expect(arr(p)[0]).toBeCloseTo(0.05 * 49, 5);
    expect(() => stats.pi(d, 1)).toThrow(/^prob: expected a number in \(0, 1\)/);
    tf.dispose([d, p, ref]);
  });

  it('resample draws distinct rows without replacement, any with it; seeded', () => {
    const x = tf.tensor2d(Array.from({ length: 20 }, (_, i) => [i, 10 * i]));
    const r = stats.resample(x, 8, { seed: 3 });
    expect(r.shape).toEqual([8, 2]);
    const rows = r.arraySync() as number[][];
    const ids = rows.map((row) => row[0] as number);
    expect(new Set(ids).size).toBe(8);
    rows.forEach((row) => expect(row[1]).toBe(10 * (row[0] as number)));
    const again = stats.resample(x, 8, { seed: 3 });
    expect(arr(again)).toEqual(arr(r));
    const w = stats.resample(x, 50, { replacement: true, dim: 0 });
    expect(w.shape).toEqual([50, 2]);
    const cols = stats.resample(x, 1, { dim: 1, seed: 1 });
    expect(cols.shape).toEqual([20, 1]);
    expect(() => stats.resample(x, 21)).toThrow(/^numSamples: expected an integer in \[1, 20\]/);
    tf.dispose([x, r, again, w, cols]);
  });

  it('takes Pyro`s call forms: resample(x, n, dim, replacement), quantile at one level, crps', () => {
    const x = tf.tensor2d(Array.from({ length: 6 }, (_, i) => [i, i + 10, i + 20]));
    const r = stats.resample(x, 2, 1, false);
    expect(r.shape).toEqual([6, 2]);
    const cols = (r.arraySync() as number[][])[0] as number[];
    expect(new Set(cols).size).toBe(2);
    const w = stats.resample(x, 9, 0, true);
    expect(w.shape).toEqual([9, 3]);
    expect(() => stats.resample(x, 2, { replacement: 'yes' as never })).toThrow(
      /^replacement: expected a boolean/,
    );
    const med = stats.quantile(x, 0.5);
    expect(med.shape).toEqual([3]);
    expect(arr(med)).toEqual([2.5, 12.5, 22.5]);
    const both = stats.quantile(x, [0.5], 1);
    expect(both.shape).toEqual([6, 1]);
    const t = tf.tensor1d([0, 1, 2]);
    expect(arr(stats.crps(x, t))).toEqual(arr(stats.crpsEmpirical(x, t)));
    tf.dispose([x, r, w, med, both, t]);
  });

  it('fitGeneralizedPareto recovers k and sigma of generalized Pareto draws', () => {
    // inverse CDF at evenly spread levels: x = sigma / k ((1 - u)^(-k) - 1)
    const k = 0.3;
    const sigma = 2;
    const n = 20000;
    const x = Array.from({ length: n }, (_, r) => (sigma / k) * ((1 - (r + 0.5) / n) ** -k - 1));
    const fit = stats.fitGeneralizedPareto(x.reverse());
    expect(Math.abs(fit.k - k)).toBeLessThan(0.05);
    expect(Math.abs(fit.sigma - sigma) / sigma).toBeLessThan(0.05);
    expect(() => stats.fitGeneralizedPareto([1, 2, 3])).toThrow(/^x: expected at least 5/);
    expect(() => stats.fitGeneralizedPareto([1, 2, -3, 4, 5])).toThrow(
      /^x: expected finite values > 0/,
    );
  });

  it('leave no tensor behind', () => {
    const x = tf.tensor2d(Array.from({ length: 30 }, (_, i) => [Math.sin(i), Math.cos(i)]));
    const c = tf.reshape(x, [2, 15, 2]);
    const lw = tf.zeros([30]);
    const y = tf.zeros([2]);
    expectNoLeak(() => stats.autocorrelation(x));
    expectNoLeak(() => stats.gelmanRubin(c));
    expectNoLeak(() => stats.weighedQuantile(x, [0.5], lw));
    expectNoLeak(() => stats.resample(x, 3));
    expectNoLeak(() => stats.crpsEmpirical(x, y));
    expectNoLeak(() => {
      expect(() => stats.weighedQuantile(x, [0.5], y)).toThrow(
        /^logWeights: expected a 1-D tensor \[30\]|^logWeights: expected 30 log-weights/,
      );
    });
    tf.dispose([x, c, lw, y]);
  });
});
