/**
 * PSIS-LOO against an independent float64 port of ArviZ's algorithm (`psislw`, `_gpdfit`,
 * `_gpinv`, `loo`) on a fixed log-likelihood matrix with heavy-tailed importance ratios, so
 * that the tails are smoothed and some Pareto `k` are large. The reference is written from the
 * papers' description (Zhang & Stephens 2009 with the weakly informative prior; Vehtari et al.
 * 2024), vectorized differently from `src/ppl/infer/psis.ts`: the grid weights through a
 * log-sum-exp, the tail sorted once over all draws.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { ppl } from '../../src/index.js';
import { clearSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';
import { logsumexp, refGpdFit, refLoo, refPsislw, rng } from './fixtures/loo_arviz_reference.js';

afterEach(() => clearSeed());

/** `log N(y_i; θ_s, 1)`, `θ_s ~ N(0, 0.6²)`, one outlying datum: `[S, N]`. */
function fixedMatrix(S: number, N: number): number[][] {
  const u = rng(19);
  const normal = (): number => Math.sqrt(-2 * Math.log(u() + 1e-300)) * Math.cos(2 * Math.PI * u());
  const theta = Array.from({ length: S }, () => 0.6 * normal());
  const y = Array.from({ length: N }, (_, i) => (i === N - 1 ? 4 : normal()));
  return theta.map((t) => y.map((yi) => -0.5 * Math.log(2 * Math.PI) - 0.5 * (yi - t) ** 2));
}

describe('PSIS-LOO vs a float64 port of ArviZ', () => {
  it('paretoK, pointwise elpd, elpd, pLoo, se, goodK and warning on a fixed matrix', () => {
    const S = 400;
    const N = 12;
    const L = fixedMatrix(S, N);
    for (const reff of [1, 0.6]) {
      const { pointwise: refPw, k: refK, lppd, elpd } = refLoo(L, reff);
      const t = tf.tensor2d(L);
      const r = ppl.loo(t, { reff });
      t.dispose();
      // the matrix reaches the interesting regimes: smoothed tails with large and small k
      expect(Math.max(...refK)).toBeGreaterThan(0.7);
      expect(Math.min(...refK)).toBeLessThan(0.5);
      // float32 storage of the matrix: agreement to ~1e-5 relative
      r.paretoK.forEach((k, i) => expect(Math.abs(k - refK[i]!)).toBeLessThan(1e-3));
      r.pointwise.forEach((p, i) => expect(Math.abs(p - refPw[i]!)).toBeLessThan(1e-3));
      expect(Math.abs(r.elpd - elpd)).toBeLessThan(5e-3);
      expect(Math.abs(r.pLoo - (lppd - elpd))).toBeLessThan(5e-3);
      expect(r.looic).toBeCloseTo(-2 * r.elpd, 10);
      // ArviZ: good_k = min(1 - 1/log10 S, 0.7), warning when some k exceeds it
      const goodK = Math.min(1 - 1 / Math.log10(S), 0.7);
      expect(r.goodK).toBeCloseTo(goodK, 12);
      expect(r.warning).toBe(refK.some((k) => k > goodK));
      // ArviZ: se = sqrt(N np.var(loo_i)), divisor N
      const mean = elpd / N;
      const ss = refPw.reduce((a, v) => a + (v - mean) ** 2, 0);
      expect(Math.abs(r.se - Math.sqrt(ss))).toBeLessThan(5e-3);
    }
  });

  it('WAIC (p_waic: variance over draws of divisor S; se of divisor N) and compare dse as ArviZ', () => {
    const S = 300;
    const N = 9;
    const L = fixedMatrix(S, N);
    const pw: number[] = [];
    let pw2 = 0;
    for (let i = 0; i < N; i++) {
      const col = L.map((r) => r[i]!);
      const m = col.reduce((a, v) => a + v, 0) / S;
      const v = col.reduce((a, x) => a + (x - m) ** 2, 0) / S; // xarray's var: ddof 0
      pw2 += v;
      pw.push(logsumexp(col) - Math.log(S) - v);
    }
    const elpd = pw.reduce((a, v) => a + v, 0);
    const mean = elpd / N;
    const se = Math.sqrt(pw.reduce((a, v) => a + (v - mean) ** 2, 0));
    const t = tf.tensor2d(L);
    const r = ppl.waic(t);
    expect(Math.abs(r.pWaic - pw2)).toBeLessThan(1e-4);
    expect(Math.abs(r.elpd - elpd)).toBeLessThan(1e-3);
    expect(Math.abs(r.se - se)).toBeLessThan(1e-3);
    // a second model, shifted per datum: compare's dse = sqrt(N np.var(elpd_best,i - elpd_i))
    const shift = Array.from({ length: N }, (_, i) => 0.05 * (i - 4) ** 2);
    const t2 = tf.tensor2d(L.map((row) => row.map((v, i) => v - shift[i]!)));
    const rows = ppl.compare({ a: t, b: t2 }, { ic: 'waic' });
    expect(rows.map((x) => x.name)).toEqual(['a', 'b']);
    const r2 = ppl.waic(t2);
    const d = Array.from(r.pointwise, (v, i) => v - r2.pointwise[i]!);
    const dm = d.reduce((a, v) => a + v, 0) / N;
    const dse = Math.sqrt(d.reduce((a, v) => a + (v - dm) ** 2, 0));
    expect(rows[1]!.dse).toBeCloseTo(dse, 8);
    expect(rows[1]!.dse).toBeGreaterThan(0);
    tf.dispose([t, t2]);
  });

  it('gpdFit and psis equal the reference on exact GPD exceedances and leak nothing', () => {
    const u = rng(7);
    const x = Array.from(
      { length: 60 },
      () => (1.5 * Math.expm1(-0.6 * Math.log1p(-u()))) / 0.6,
    ).sort((a, b) => a - b);
    const fit = ppl.gpdFit(x);
    const ref = refGpdFit(x);
    expect(fit.k).toBeCloseTo(ref.k, 12);
    expect(fit.sigma).toBeCloseTo(ref.sigma, 12);
    const lr = Array.from({ length: 300 }, () => 2 * Math.log(u()) - Math.log(-Math.log(u())));
    const a = ppl.psis(lr, 0.8);
    const b = refPsislw(lr, 0.8);
    expect(a.k).toBeCloseTo(b.k, 12);
    a.logWeights.forEach((w, i) => expect(w).toBeCloseTo(b.lw[i]!, 12));
    const t = tf.tensor2d(fixedMatrix(50, 3));
    expectNoLeak(() => {
      ppl.loo(t);
      ppl.waic(t);
    });
    t.dispose();
  });

  it('refuses a log-likelihood of -Infinity (a datum impossible under a draw) naming logLik, not NaN', () => {
    const t = tf.tensor2d([
      [-1, -2],
      [-Infinity, -1.5],
      [-0.5, -1],
      [-1.2, -0.7],
      [-0.9, -1.1],
      [-1, -1],
    ]);
    expect(() => ppl.waic(t)).toThrow(/^logLik:.*-Infinity at draw 1, datum 0/);
    expect(() => ppl.loo(t)).toThrow(/^logLik:.*-Infinity at draw 1, datum 0/);
    expect(() => ppl.compare({ a: t, b: t })).toThrow(/^logLik:/);
    t.dispose();
  });
});
