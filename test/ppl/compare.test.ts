/**
 * `ppl.compare` (ArviZ's `compare`) on synthetic pointwise log-likelihoods. References in float64:
 * the pointwise `elpd` from `loo`/`waic` (tested in loo.test.ts), the stacking objective
 * `Σ_i log(w e_{1i} + (1 - w) e_{2i})` maximized over `w` by a golden-section search (two models)
 * and by a fine simplex grid (three models), pseudo-BMA weights `∝ exp(elpd_k)`, the paired
 * standard error of the differences.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';

/** `S` draws x `N` data of log-likelihoods `-(y_i - mu_s)^2 / (2 v) - log(2 pi v) / 2`. */
function logLik(S: number, ys: number[], muMean: number, muSd: number, v: number): tf.Tensor2D {
  const vals: number[][] = [];
  for (let s = 0; s < S; s++) {
    // deterministic quantile draws of mu (Gaussian), spread evenly
    const u = (s + 0.5) / S;
    const z = Math.sqrt(2) * erfinv(2 * u - 1);
    const mu = muMean + muSd * z;
    vals.push(ys.map((y) => -((y - mu) ** 2) / (2 * v) - 0.5 * Math.log(2 * Math.PI * v)));
  }
  return tf.tensor2d(vals);
}

/** Inverse error function (Giles 2010, single precision is plenty for spreading draws). */
function erfinv(x: number): number {
  let w = -Math.log((1 - x) * (1 + x));
  let p: number;
  if (w < 5) {
    w -= 2.5;
    p = 2.81022636e-8;
    for (const c of [
      3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164,
      0.246640727, 1.50140941,
    ])
      p = c + p * w;
  } else {
    w = Math.sqrt(w) - 3;
    p = -0.000200214257;
    for (const c of [
      0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
      1.00167406, 2.83297682,
    ])
      p = c + p * w;
  }
  return p * x;
}

const ys = Array.from({ length: 30 }, (_, i) => 1 + 1.5 * Math.sin(2.3 * i + 0.4) + 0.02 * i);

/** The stacking objective for weights `w` over pointwise elpds. */
function stackObj(pw: Float64Array[], w: number[]): number {
  let s = 0;
  for (let i = 0; i < pw[0]!.length; i++) {
    s += Math.log(pw.reduce((a, p, k) => a + w[k]! * Math.exp(p[i]!), 0));
  }
  return s;
}

describe('compare (ArviZ)', () => {
  it('ranks three models by elpd_loo; elpdDiff, dse and stacking weights against float64 references', () => {
    const good = logLik(400, ys, 1.05, 0.25, 1.2);
    const wide = logLik(400, ys, 1.0, 0.3, 4);
    const off = logLik(400, ys, -0.5, 0.2, 1.0);
    const before = tf.memory().numTensors;
    const rows = ppl.compare({ off, good, wide });
    expect(tf.memory().numTensors).toBe(before);
    const ref = { good: ppl.loo(good), wide: ppl.loo(wide), off: ppl.loo(off) };
    const byElpd = (Object.keys(ref) as (keyof typeof ref)[]).sort(
      (a, b) => ref[b].elpd - ref[a].elpd,
    );
    expect(rows.map((r) => r.name)).toEqual(byElpd);
    expect(rows.map((r) => r.rank)).toEqual([0, 1, 2]);
    const best = ref[byElpd[0]!];
    for (const r of rows) {
      const l = ref[r.name as keyof typeof ref];
      expect(r.elpd).toBeCloseTo(l.elpd, 10);
      expect(r.p).toBeCloseTo(l.pLoo, 10);
      expect(r.se).toBeCloseTo(l.se, 10);
      expect(r.elpdDiff).toBeCloseTo(best.elpd - l.elpd, 10);
      const d = Array.from(best.pointwise, (v, i) => v - l.pointwise[i]!);
      const m = d.reduce((a, b) => a + b, 0) / d.length;
      // ArviZ: sqrt(N np.var(diff)), the variance of divisor N
      const dse = Math.sqrt(d.reduce((a, x) => a + (x - m) ** 2, 0));
      expect(r.dse).toBeCloseTo(dse, 10);
    }
    expect(rows[0]!.dse).toBe(0);
    expect(rows[0]!.elpdDiff).toBe(0);
    // stacking weights: the best point of a fine simplex grid (step 1/400) is within a grid step
    const pws = rows.map((r) => ref[r.name as keyof typeof ref].pointwise);
    let bestObj = -Infinity;
    let bestW = [0, 0, 0];
    const G = 400;
    for (let a = 0; a <= G; a++) {
      for (let b = 0; a + b <= G; b++) {
        const w = [a / G, b / G, (G - a - b) / G];
        const o = stackObj(pws, w);
        if (o > bestObj) [bestObj, bestW] = [o, w];
      }
    }
    const got = rows.map((r) => r.weight);
    expect(got.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(stackObj(pws, got)).toBeGreaterThanOrEqual(bestObj - 1e-9);
    got.forEach((w, k) => expect(Math.abs(w - bestW[k]!)).toBeLessThan(0.01));
    tf.dispose([good, wide, off]);
  });

  it('two models with WAIC: stacking weights match a golden-section search; pseudo-BMA is exp(elpd) normalized', () => {
    // two models each better on half of the data: stacking gives an interior weight
    const half = ys.map((y, i) => (i % 2 === 0 ? y + 1.5 : y - 1.5));
    const a = logLik(300, half, 2.5, 0.2, 0.6);
    const b = logLik(300, half, -0.5, 0.2, 0.6);
    const rows = ppl.compare({ a, b }, { ic: 'waic' });
    const wa = ppl.waic(a);
    const wb = ppl.waic(b);
    const r = Object.fromEntries(rows.map((x) => [x.name, x]));
    expect(r.a!.elpd).toBeCloseTo(wa.elpd, 10);
    expect(r.b!.p).toBeCloseTo(wb.pWaic, 10);
    const f = (w: number): number => stackObj([wa.pointwise, wb.pointwise], [w, 1 - w]);
    let lo = 0;
    let hi = 1;
    const g = (Math.sqrt(5) - 1) / 2;
    for (let it = 0; it < 200; it++) {
      const x1 = hi - g * (hi - lo);
      const x2 = lo + g * (hi - lo);
      if (f(x1) < f(x2)) lo = x1;
      else hi = x2;
    }
    const wStar = (lo + hi) / 2;
    expect(wStar).toBeGreaterThan(0.05);
    expect(wStar).toBeLessThan(0.95);
    expect(r.a!.weight).toBeCloseTo(wStar, 5);
    expect(r.b!.weight).toBeCloseTo(1 - wStar, 5);
    const bma = ppl.compare({ a, b }, { ic: 'waic', method: 'pseudo-BMA' });
    const m = Math.max(wa.elpd, wb.elpd);
    const ea = Math.exp(wa.elpd - m);
    const eb = Math.exp(wb.elpd - m);
    const rb = Object.fromEntries(bma.map((x) => [x.name, x]));
    expect(rb.a!.weight).toBeCloseTo(ea / (ea + eb), 10);
    expect(rb.b!.weight).toBeCloseTo(eb / (ea + eb), 10);
    tf.dispose([a, b]);
  });

  it('BB-pseudo-BMA: weights against a Monte Carlo reference (exponential draws), se against the closed-form bootstrap sd', () => {
    const a = logLik(300, ys, 1.1, 0.25, 1.3);
    const b = logLik(300, ys, 0.9, 0.25, 1.3);
    const B = 4000;
    const rows = ppl.compare({ a, b }, { method: 'BB-pseudo-BMA', bSamples: B, seed: 5 });
    const again = ppl.compare({ a, b }, { method: 'BB-pseudo-BMA', bSamples: B, seed: 5 });
    expect(again.map((r) => r.weight)).toEqual(rows.map((r) => r.weight));
    const pa = ppl.loo(a).pointwise;
    const pb = ppl.loo(b).pointwise;
    const N = pa.length;
    // Dirichlet(1, ..., 1) as normalized exponentials -log U (a stream of its own)
    let st = 12345;
    const unif = (): number => ((st = (st * 16807) % 2147483647) + 0.5) / 2147483647;
    const R = 20000;
    const wa: number[] = [];
    for (let r = 0; r < R; r++) {
      const e = Array.from({ length: N }, () => -Math.log(unif()));
      const tot = e.reduce((x, v) => x + v, 0);
      const za = N * e.reduce((x, v, i) => x + (v / tot) * pa[i]!, 0);
      const zb = N * e.reduce((x, v, i) => x + (v / tot) * pb[i]!, 0);
      wa.push(1 / (1 + Math.exp(zb - za)));
    }
    const mean = wa.reduce((x, v) => x + v, 0) / R;
    const sd = Math.sqrt(wa.reduce((x, v) => x + (v - mean) ** 2, 0) / (R - 1));
    expect(mean).toBeGreaterThan(0.1);
    expect(mean).toBeLessThan(0.9);
    const got = rows.find((r) => r.name === 'a')!;
    expect(Math.abs(got.weight - mean)).toBeLessThan(
      4 * sd * (1 / Math.sqrt(B) + 1 / Math.sqrt(R)),
    );
    expect(got.weight + rows.find((r) => r.name === 'b')!.weight).toBeCloseTo(1, 12);
    // Var(N sum_i alpha_i x_i) = N sum_i (x_i - mean x)^2 / (N + 1) for alpha ~ Dirichlet(1)
    for (const r of rows) {
      const x = r.name === 'a' ? pa : pb;
      const m = x.reduce((acc, v) => acc + v, 0) / N;
      const want = Math.sqrt((N * x.reduce((acc, v) => acc + (v - m) ** 2, 0)) / (N + 1));
      expect(Math.abs(r.se / want - 1)).toBeLessThan(0.08);
    }
    expect(() => ppl.compare({ a, b }, { method: 'BB-pseudo-BMA', bSamples: 0 })).toThrow(
      /bSamples/,
    );
    expect(() => ppl.compare({ a, b }, { method: 'BB-pseudo-BMA', alpha: -1 })).toThrow(/alpha/);
    expect(() => ppl.compare({ a, b }, { method: 'BB-pseudo-BMA', seed: 0.5 })).toThrow(/seed/);
    tf.dispose([a, b]);
  });

  it('chain-grouped draws (batchNdims 2) give the flat result', () => {
    const a = logLik(200, ys, 1.05, 0.25, 1.2);
    const b = logLik(200, ys, 0.5, 0.25, 1.2);
    const a2 = tf.reshape(a, [2, 100, ys.length]);
    const b2 = tf.reshape(b, [2, 100, ys.length]);
    const flat = ppl.compare({ a, b });
    const grouped = ppl.compare({ a: a2, b: b2 }, { batchNdims: 2 });
    grouped.forEach((r, k) => {
      expect(r.name).toBe(flat[k]!.name);
      expect(r.elpd).toBeCloseTo(flat[k]!.elpd, 10);
      expect(r.weight).toBeCloseTo(flat[k]!.weight, 10);
    });
    tf.dispose([a, b, a2, b2]);
  });

  it('refuses bad input naming the argument, before any work', () => {
    const a = logLik(50, ys, 1, 0.2, 1);
    const short = logLik(50, ys.slice(0, 10), 1, 0.2, 1);
    const dead = logLik(50, ys, 1, 0.2, 1);
    dead.dispose();
    const before = tf.memory().numTensors;
    const bad: [() => unknown, RegExp][] = [
      [() => ppl.compare({ a }), /logLiks.*at least two/],
      [() => ppl.compare({ a, short }), /logLiks.*short.*data shape/],
      [() => ppl.compare({ a, dead }), /logLiks.*dead.*live tensor/],
      [() => ppl.compare({ a, b: 3 as unknown as tf.Tensor }), /logLiks.*'b'/],
      [() => ppl.compare({ a, b: a }, { ic: 'aic' as 'loo' }), /ic/],
      [() => ppl.compare({ a, b: a }, { method: 'BB' as 'stacking' }), /method/],
      [() => ppl.compare({ a, b: a }, { batchNdims: 3 as 1 }), /batchNdims/],
      [() => ppl.compare({ a, b: a }, { scale: 'log' } as ppl.CompareOptions), /scale/],
    ];
    for (const [f, msg] of bad) {
      expect(f).toThrow(ArgumentError);
      expect(f).toThrow(msg);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, short]);
  });
});
