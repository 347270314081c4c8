/**
 * `loo(ll, {batchNdims: 2, reff: 'chains'})`: the relative efficiency from the chains,
 * `r_eff = mean_i ESS_mean(exp ℓ_{·i}) / S`, against a float64 port of ArviZ's `_ess` of the
 * split chains (`ess(method="mean")`) written here, on AR(1) draws (so `r_eff < 1`); then the
 * PSIS-LOO with that `r_eff` against the shared float64 ArviZ port.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { ppl } from '../../src/index.js';
import { clearSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';
import { refLoo, rng } from './fixtures/loo_arviz_reference.js';

afterEach(() => clearSeed());

/** ArviZ's `_ess` of `[chains][draws]` (biased autocovariance, Geyer's monotone sequence). */
function refEss(ary: number[][]): number {
  const m = ary.length;
  const n = ary[0]!.length;
  const all = ary.flat();
  if (Math.max(...all) - Math.min(...all) < 1e-15) return m * n;
  const means = ary.map((c) => c.reduce((a, v) => a + v, 0) / n);
  const acov = ary.map((c, j) =>
    Array.from({ length: n }, (_, lag) => {
      let s = 0;
      for (let t = 0; t + lag < n; t++) s += (c[t]! - means[j]!) * (c[t + lag]! - means[j]!);
      return s / n;
    }),
  );
  const meanAcov = (lag: number): number => acov.reduce((a, r) => a + r[lag]!, 0) / m;
  const meanVar = (meanAcov(0) * n) / (n - 1);
  let varPlus = (meanVar * (n - 1)) / n;
  if (m > 1) {
    const mu = means.reduce((a, v) => a + v, 0) / m;
    varPlus += means.reduce((a, v) => a + (v - mu) ** 2, 0) / (m - 1);
  }
  const rho = new Array<number>(n).fill(0);
  let even = 1;
  rho[0] = even;
  let odd = 1 - (meanVar - meanAcov(1)) / varPlus;
  rho[1] = odd;
  let t = 1;
  while (t < n - 3 && even + odd > 0) {
    even = 1 - (meanVar - meanAcov(t + 1)) / varPlus;
    odd = 1 - (meanVar - meanAcov(t + 2)) / varPlus;
    if (even + odd >= 0) {
      rho[t + 1] = even;
      rho[t + 2] = odd;
    }
    t += 2;
  }
  const maxT = t - 2;
  if (even > 0) rho[maxT + 1] = even;
  for (t = 1; t <= maxT - 2; t += 2) {
    if (rho[t + 1]! + rho[t + 2]! > rho[t - 1]! + rho[t]!) {
      rho[t + 1] = (rho[t - 1]! + rho[t]!) / 2;
      rho[t + 2] = rho[t + 1]!;
    }
  }
  let tau = -1 + 2 * rho.slice(0, maxT + 1).reduce((a, v) => a + v, 0) + (rho[maxT + 1] ?? 0);
  tau = Math.max(tau, 1 / Math.log10(m * n));
  return (m * n) / tau;
}

/** ArviZ's `_split_chains`: the first halves of all chains, then their last halves. */
function refSplit(ary: number[][]): number[][] {
  const h = Math.floor(ary[0]!.length / 2);
  return [...ary.map((c) => c.slice(0, h)), ...ary.map((c) => c.slice(c.length - h))];
}

/** `ℓ[c][d][i] = log N(y_i; θ_{cd}, 1)`, θ an AR(1) of coefficient 0.9 per chain (float32). */
function chainMatrix(C: number, D: number, N: number): number[][][] {
  const u = rng(20);
  const normal = (): number => Math.sqrt(-2 * Math.log(u() + 1e-300)) * Math.cos(2 * Math.PI * u());
  const y = Array.from({ length: N }, (_, i) => (i === N - 1 ? 3 : normal()));
  return Array.from({ length: C }, () => {
    let th = 0.6 * normal();
    return Array.from({ length: D }, () => {
      th = 0.9 * th + Math.sqrt(1 - 0.81) * 0.6 * normal();
      return y.map((yi) => Math.fround(-0.5 * Math.log(2 * Math.PI) - 0.5 * (yi - th) ** 2));
    });
  });
}

function refReff(L: number[][][]): number {
  const C = L.length;
  const D = L[0]!.length;
  const N = L[0]![0]!.length;
  let total = 0;
  for (let i = 0; i < N; i++) {
    total += refEss(refSplit(L.map((ch) => ch.map((r) => Math.exp(r[i]!)))));
  }
  return total / N / (C * D);
}

describe("loo's relative efficiency from the chains (reff: 'chains')", () => {
  const C = 4;
  const D = 100;
  const N = 8;
  const L = chainMatrix(C, D, N);

  it('r_eff, elpd, pLoo, se and paretoK vs float64 ArviZ ports', () => {
    const reff = refReff(L);
    expect(reff).toBeLessThan(0.6);
    expect(reff).toBeGreaterThan(0.01);
    const { pointwise: refPw, k: refK, lppd, elpd } = refLoo(L.flat(), reff);
    const mean = elpd / N;
    const se = Math.sqrt(refPw.reduce((a, v) => a + (v - mean) ** 2, 0));
    expectNoLeak(() => {
      const t = tf.tensor3d(L);
      const r = ppl.loo(t, { batchNdims: 2, reff: 'chains' });
      // the same as the numeric reff (the chains' value is what loo smooths with)
      const byNumber = ppl.loo(t, { batchNdims: 2, reff });
      t.dispose();
      expect(Math.abs(r.elpd - byNumber.elpd)).toBeLessThan(1e-9);
      r.paretoK.forEach((k, i) => expect(Math.abs(k - refK[i]!)).toBeLessThan(1e-6));
      r.pointwise.forEach((p, i) => expect(Math.abs(p - refPw[i]!)).toBeLessThan(1e-6));
      expect(Math.abs(r.elpd - elpd)).toBeLessThan(1e-6);
      expect(Math.abs(r.pLoo - (lppd - elpd))).toBeLessThan(1e-6);
      expect(Math.abs(r.se - se)).toBeLessThan(1e-6);
      // reff < 1 changes the tail length, so the result differs from reff = 1
      const t1 = tf.tensor3d(L);
      expect(ppl.loo(t1, { batchNdims: 2 }).paretoK).not.toEqual(r.paretoK);
      t1.dispose();
    });
  });

  it('one chain: r_eff = 1 (ArviZ); compare passes reff through to loo', () => {
    expectNoLeak(() => {
      const one = tf.tensor3d([L.flat()]);
      const flat = tf.tensor2d(L.flat());
      expect(ppl.loo(one, { batchNdims: 2, reff: 'chains' }).elpd).toBeCloseTo(
        ppl.loo(flat).elpd,
        10,
      );
      one.dispose();
      flat.dispose();
      const a = tf.tensor3d(L);
      const b = tf.tensor3d(L.map((ch) => ch.map((r) => r.map((v) => v - 0.1))));
      const rows = ppl.compare({ a, b }, { batchNdims: 2, reff: 'chains' });
      const la = ppl.loo(a, { batchNdims: 2, reff: 'chains' });
      expect(rows.find((r) => r.name === 'a')!.elpd).toBeCloseTo(la.elpd, 10);
      a.dispose();
      b.dispose();
    });
  });

  it('bad reff, shapes and options: ArgumentError naming the argument, no leak', () => {
    expectNoLeak(() => {
      const g = tf.tensor3d(L);
      const f = tf.tensor2d(L.flat());
      const short = tf.zeros([3, 3, 2]);
      expect(() => ppl.loo(f, { reff: 'chains' })).toThrow(/^reff:/);
      expect(() => ppl.loo(g, { batchNdims: 2, reff: 'chain' as never })).toThrow(/^reff:/);
      expect(() => ppl.loo(g, { batchNdims: 2, reff: 0 })).toThrow(/^reff:/);
      expect(() => ppl.loo(short, { batchNdims: 2, reff: 'chains' })).toThrow(/^logLik:/);
      expect(() => ppl.compare({ a: g, b: g }, { reff: 'chains' })).toThrow(/^reff:/);
      expect(() => ppl.compare({ a: g, b: g }, { batchNdims: 2, reff: -1 })).toThrow(/^reff:/);
      expect(() =>
        ppl.compare({ a: g, b: g }, { ic: 'waic', batchNdims: 2, reff: 'chains' }),
      ).toThrow(/^reff:/);
      g.dispose();
      f.dispose();
      short.dispose();
    });
  });
});
