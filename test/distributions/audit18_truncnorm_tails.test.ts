/**
 * Audit 18: `TruncatedNormal` far in either tail (intervals at 40 to 60 standard deviations,
 * where `Phi(alpha)` underflows float32 and even float64). The reference is float64 Simpson
 * quadrature of the density shifted by its nearest bound, `exp(-(xi^2 - a0^2) / 2)` on
 * `[alpha, beta]` (no underflow), which gives the CDF for a Kolmogorov–Smirnov test, the
 * moments, and their derivatives in the four parameters by central differences.
 * Draws must stay inside `[low, high]`, follow the conditional law (KS at the 0.1% level; sample
 * moments within 5 standard errors), and their pathwise gradients, averaged over draws, must match
 * `dE[x]/dtheta` within 5 standard errors of the per-draw gradients.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as d } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

/** `[mu, sigma, low, high]` (an infinite bound: one-sided). */
type Params = [number, number, number, number];

/** Float64 quadrature of `f(x)` against the truncated density (unnormalized, shifted). */
function quad(p: Params, f: (x: number) => number, upTo = Infinity): number {
  const [mu, s, lo, hi] = p;
  let a = (lo - mu) / s;
  let b = (hi - mu) / s;
  // the standardized interval, cut where the shifted density is below exp(-60)
  const near = a > 0 ? a : b < 0 ? b : 0;
  const reach = (c: number): number => -Math.abs(c) + Math.sqrt(c * c + 120);
  if (a === -Infinity) a = near - reach(near);
  if (b === Infinity) b = near + reach(near);
  a = Math.max(a, near - reach(near) - 1e-9);
  b = Math.min(b, near + reach(near) + 1e-9);
  const top = Math.min(b, (upTo - mu) / s);
  if (top <= a) return 0;
  const n = 4000;
  const h = (top - a) / n;
  let acc = 0;
  for (let i = 0; i <= n; i++) {
    const z = a + i * h;
    const w = i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2;
    acc += w * Math.exp(-0.5 * (z * z - near * near)) * f(mu + s * z);
  }
  return (acc * h) / 3;
}

const cdfRef = (p: Params, x: number): number => quad(p, () => 1, x) / quad(p, () => 1);
const meanRef = (p: Params): number => quad(p, (x) => x) / quad(p, () => 1);
function varRef(p: Params): number {
  const m = meanRef(p);
  return quad(p, (x) => (x - m) * (x - m)) / quad(p, () => 1);
}

const CASES: Params[] = [
  [0, 1, 40, 41],
  [0, 1, -50, -49],
  [0, 1, 40, Infinity],
  [0, 1, -Infinity, -60],
  [2, 3, 2 + 3 * 45, 2 + 3 * 45.5],
  [0, 1, 8, 9],
];

const make = ([mu, s, lo, hi]: Params): d.TruncatedNormal => new d.TruncatedNormal(mu, s, lo, hi);

describe('audit18 TruncatedNormal draws far in the tails', () => {
  it('stay inside [low, high], spread out, and pass a KS test against the quadrature CDF', () => {
    const n = 2000;
    for (const p of CASES) {
      const t = make(p);
      const xs = expectNoLeak(() => t.rsample([n], 11));
      t.dispose();
      const [, , lo, hi] = p;
      expect(Math.min(...xs)).toBeGreaterThanOrEqual(Math.fround(lo));
      expect(Math.max(...xs)).toBeLessThanOrEqual(Math.fround(hi));
      // a collapsed sampler returns one value (the clamped bound)
      expect(new Set(xs).size).toBeGreaterThan(n / 4);
      const sorted = [...xs].sort((u, v) => u - v);
      let ks = 0;
      // every 5th order statistic (the quadrature CDF is costly); the bound is still valid
      for (let i = 0; i < n; i += 5) {
        const f = cdfRef(p, sorted[i]!);
        ks = Math.max(ks, Math.abs(f - i / n), Math.abs(f - (i + 1) / n));
      }
      // Kolmogorov's 0.1% critical value 1.95 / sqrt(n)
      expect(ks, `KS ${String(p)}`).toBeLessThan(1.95 / Math.sqrt(n));
    }
  });

  it('have sample mean and variance within 5 SE of the quadrature moments', () => {
    const n = 4000;
    for (const p of CASES) {
      const t = make(p);
      const xs = expectNoLeak(() => t.rsample([n], 5));
      t.dispose();
      const m = xs.reduce((s, x) => s + x, 0) / n;
      const v = xs.reduce((s, x) => s + (x - m) ** 2, 0) / (n - 1);
      const mu = meanRef(p);
      const sd = Math.sqrt(varRef(p));
      expect(Math.abs(m - mu), `mean ${String(p)}`).toBeLessThan((5 * sd) / Math.sqrt(n));
      const m4 = quad(p, (x) => (x - mu) ** 4) / quad(p, () => 1);
      const seVar = Math.sqrt((m4 - sd ** 4) / n);
      expect(Math.abs(v - sd * sd), `variance ${String(p)}`).toBeLessThan(5 * seVar);
    }
  });

  it('have finite pathwise gradients in loc, scale, low and high matching dE[x]/dtheta', () => {
    const n = 1500;
    const two: Params[] = [
      [0, 1, 40, 41],
      [0, 1, -50, -49],
      [1, 2, 1 + 2 * 30, 1 + 2 * 30.2],
      [0, 1, -0.5, 1.5],
    ];
    for (const p of two) {
      const before = tf.memory().numTensors;
      const ps = p.map((v) => tf.fill([n], v));
      const gs = tf.grads((loc: tf.Tensor, scale: tf.Tensor, low: tf.Tensor, high: tf.Tensor) =>
        tf.sum(new d.TruncatedNormal(loc, scale, low, high).rsample([], 3)),
      )(ps);
      const per = gs.map((g) => Array.from(g.dataSync()));
      tf.dispose([...gs, ...ps]);
      expect(tf.memory().numTensors).toBe(before);
      per.forEach((g, k) => {
        expect(g.every(Number.isFinite), `finite d/d${k} ${String(p)}`).toBe(true);
        const m = g.reduce((s, x) => s + x, 0) / n;
        const sd = Math.sqrt(g.reduce((s, x) => s + (x - m) ** 2, 0) / (n - 1));
        const h = 1e-4 * p[1];
        const up = p.map((v, i) => (i === k ? v + h : v)) as Params;
        const dn = p.map((v, i) => (i === k ? v - h : v)) as Params;
        const fd = (meanRef(up) - meanRef(dn)) / (2 * h);
        expect(Math.abs(m - fd), `d/d${k} ${String(p)}: ${m} vs ${fd}`).toBeLessThan(
          5 * (sd / Math.sqrt(n)) + 2e-3 * (1 + Math.abs(fd)),
        );
      });
    }
  });
});

/** Float64 entropy: `log sigma + log Zs + E[(xi^2 - a0^2) / 2]` with the shifted normalizer. */
function entropyRef(p: Params): number {
  const [mu, s, lo, hi] = p;
  const a = (lo - mu) / s;
  const b = (hi - mu) / s;
  const near = a > 0 ? a : b < 0 ? b : 0;
  const zs = quad(p, () => 1);
  const e = quad(p, (x) => 0.5 * (((x - mu) / s) ** 2 - near * near)) / quad(p, () => 1);
  return Math.log(s) + Math.log(zs) + e;
}

describe('audit18 TruncatedNormal moments, entropy and CDF far in the tails', () => {
  const more: Params[] = [
    ...CASES,
    [0, 1, 20, 20.01],
    [0, 1, 2.9, 3.5],
    [0, 1, 3, 3.5],
    [0, 1, -Infinity, -3.01],
    [0, 1, -1, 2],
    [1.5, 0.5, 1.5 + 0.5 * 100, 1.5 + 0.5 * 101],
  ];
  it('mean, variance and entropy are finite and match float64 quadrature', () => {
    for (const p of more) {
      const t = make(p);
      const [m] = expectNoLeak(() => t.mean());
      const [v] = expectNoLeak(() => t.variance());
      const [h] = expectNoLeak(() => t.entropy());
      t.dispose();
      const vr = varRef(p);
      expect(Math.abs(m! - meanRef(p)), `mean ${String(p)}`).toBeLessThan(
        3e-7 * Math.abs(meanRef(p)) + 1e-3 * Math.sqrt(vr),
      );
      expect(Math.abs(v! / vr - 1), `variance ${String(p)}`).toBeLessThan(2e-3);
      expect(Math.abs(h! - entropyRef(p)), `entropy ${String(p)}`).toBeLessThan(2e-3);
    }
  });

  it('cdf matches the quadrature CDF (no 0/0 where Z underflows)', () => {
    for (const p of more) {
      const m = meanRef(p);
      const sd = Math.sqrt(varRef(p));
      const xs = [m - sd, m, m + sd, m + 2 * sd].map((x) => Math.min(Math.max(x, p[2]), p[3]));
      const t = make(p);
      const x = tf.tensor(xs);
      const got = expectNoLeak(() => t.cdf(x));
      t.dispose();
      x.dispose();
      xs.forEach((x, i) => {
        // float32 x: the reference at the value the op sees
        const want = cdfRef(p, Math.fround(x));
        expect(Math.abs(got[i]! - want), `cdf ${String(p)} at ${x}`).toBeLessThan(2e-3);
      });
    }
  });

  it('the mean has finite gradients in the four parameters matching finite differences', () => {
    const two: Params[] = [
      [0, 1, 40, 41],
      [0, 1, -50, -49],
      [1, 2, 1 + 2 * 30, 1 + 2 * 30.2],
      [0, 1, 3.2, 4],
      [0, 1, -0.5, 1.5],
    ];
    for (const p of two) {
      const before = tf.memory().numTensors;
      const ps = p.map((v) => tf.scalar(v));
      const gs = tf.grads((loc: tf.Tensor, scale: tf.Tensor, low: tf.Tensor, high: tf.Tensor) =>
        new d.TruncatedNormal(loc, scale, low, high).mean(),
      )(ps);
      const got = gs.map((g) => g.dataSync()[0]!);
      tf.dispose([...gs, ...ps]);
      expect(tf.memory().numTensors).toBe(before);
      got.forEach((g, k) => {
        const h = 1e-4 * p[1];
        const up = p.map((v, i) => (i === k ? v + h : v)) as Params;
        const dn = p.map((v, i) => (i === k ? v - h : v)) as Params;
        const fd = (meanRef(up) - meanRef(dn)) / (2 * h);
        expect(Math.abs(g - fd), `dmean/d${k} ${String(p)}: ${g} vs ${fd}`).toBeLessThan(
          1e-2 * (1 + Math.abs(fd)),
        );
      });
    }
  });
});

/** Float64 CDF of an exponential-like tail `exp(rate (x - a))` on `[a, b]` (rate of either sign). */
const expTailCdf = (x: number, a: number, b: number, rate: number): number =>
  Math.expm1(rate * (x - a)) / Math.expm1(rate * (b - a));

describe('audit18 TruncatedDistribution far in a tail (the generic wrapper)', () => {
  const cases: [string, () => d.Distribution, number, number, (x: number) => number][] = [
    ['Normal [40, 41]', () => new d.Normal(0, 1), 40, 41, (x) => cdfRef([0, 1, 40, 41], x)],
    ['Normal [-50, -49]', () => new d.Normal(0, 1), -50, -49, (x) => cdfRef([0, 1, -50, -49], x)],
    [
      'Laplace [-120, -119]',
      () => new d.Laplace(0, 1),
      -120,
      -119,
      (x) => expTailCdf(x, -120, -119, 1),
    ],
    [
      'Logistic [100, 101]',
      () => new d.Logistic(0, 1),
      100,
      101,
      (x) => expTailCdf(x, 100, 101, -1),
    ],
  ];
  it('draws stay inside [low, high], spread out, and pass a KS test', () => {
    const n = 2000;
    for (const [name, base, low, high, cdf] of cases) {
      const b = base();
      const t = new d.TruncatedDistribution(b, { low, high });
      const xs = expectNoLeak(() => t.rsample([n], 17));
      t.dispose();
      b.dispose();
      expect(Math.min(...xs), name).toBeGreaterThanOrEqual(low);
      expect(Math.max(...xs), name).toBeLessThanOrEqual(high);
      expect(new Set(xs).size, name).toBeGreaterThan(n / 4);
      const sorted = [...xs].sort((u, v) => u - v);
      let ks = 0;
      for (let i = 0; i < n; i += 5) {
        const f = cdf(sorted[i]!);
        ks = Math.max(ks, Math.abs(f - i / n), Math.abs(f - (i + 1) / n));
      }
      expect(ks, `KS ${name}`).toBeLessThan(1.95 / Math.sqrt(n));
    }
  });

  it('pathwise gradients in the base parameters match dE[x]/dtheta (Normal on [40, 41] sd)', () => {
    const n = 1500;
    const p: Params = [0, 1, 40, 41];
    const before = tf.memory().numTensors;
    const ps = [tf.fill([n], 0), tf.fill([n], 1)];
    const gs = tf.grads((loc: tf.Tensor, scale: tf.Tensor) => {
      const b = new d.Normal(loc, scale);
      return tf.sum(new d.TruncatedDistribution(b, { low: 40, high: 41 }).rsample([], 3));
    })(ps);
    const per = gs.map((g) => Array.from(g.dataSync()));
    tf.dispose([...gs, ...ps]);
    expect(tf.memory().numTensors).toBe(before);
    per.forEach((g, k) => {
      expect(g.every(Number.isFinite), `finite d/d${k}`).toBe(true);
      const m = g.reduce((s, x) => s + x, 0) / n;
      const sd = Math.sqrt(g.reduce((s, x) => s + (x - m) ** 2, 0) / (n - 1));
      const h = 1e-4;
      const up = p.map((v, i) => (i === k ? v + h : v)) as Params;
      const dn = p.map((v, i) => (i === k ? v - h : v)) as Params;
      const fd = (meanRef(up) - meanRef(dn)) / (2 * h);
      expect(Math.abs(m - fd), `d/d${k}: ${m} vs ${fd}`).toBeLessThan(
        5 * (sd / Math.sqrt(n)) + 2e-3 * (1 + Math.abs(fd)),
      );
    });
  });
});

describe('audit18 TruncatedNormal.cdf gradients far in a tail', () => {
  it('are finite (no 0/0 from the closed form) and match finite differences of the quadrature CDF', () => {
    const pts: [Params, number][] = [
      [[0, 1, 40, 41], 40.02],
      [[0, 1, -50, -49], -49.02],
      [[0, 1, 40, 41], 40],
    ];
    for (const [p, x] of pts) {
      const before = tf.memory().numTensors;
      const ps = [...p.map((v) => tf.scalar(v)), tf.scalar(x)];
      const gs = tf.grads(
        (loc: tf.Tensor, scale: tf.Tensor, low: tf.Tensor, high: tf.Tensor, v: tf.Tensor) =>
          new d.TruncatedNormal(loc, scale, low, high).cdf(v),
      )(ps);
      const got = gs.map((g) => g.dataSync()[0]!);
      tf.dispose([...gs, ...ps]);
      expect(tf.memory().numTensors).toBe(before);
      const all = [...p, x];
      const f = (v: number[]): number =>
        cdfRef(v.slice(0, 4) as Params, Math.min(Math.max(v[4]!, v[2]!), v[3]!));
      got.forEach((g, k) => {
        expect(Number.isFinite(g), `d/d${k} at ${x} ${String(p)}`).toBe(true);
        // at the bound itself only finiteness is asked of d/dx (a one-sided derivative)
        if (x === p[2] && k === 4) return;
        // one-sided differences at the bound (the CDF is flat below it)
        const h = 1e-5;
        const up = all.map((v, i) => (i === k ? v + h : v));
        const mid = x === p[2] ? all : all.map((v, i) => (i === k ? v - h : v));
        const fd = (f(up) - f(mid)) / (x === p[2] ? h : 2 * h);
        expect(Math.abs(g - fd), `d/d${k} at ${x} ${String(p)}: ${g} vs ${fd}`).toBeLessThan(
          2e-2 * (1 + Math.abs(fd)),
        );
      });
    }
  });
});

/** Float64 truncated-normal log-density through the shifted quadrature normalizer. */
function logPdfRef(p: Params, x: number): number {
  const [mu, s, lo, hi] = p;
  const a = (lo - mu) / s;
  const b = (hi - mu) / s;
  const near = a > 0 ? a : b < 0 ? b : 0;
  const z = (x - mu) / s;
  return -0.5 * (z * z - near * near) - Math.log(s * quad(p, () => 1));
}

describe('audit18 TruncatedDistribution(Normal) gradients far in a tail', () => {
  it('logProb and cdf have finite gradients in loc, scale and x matching finite differences', () => {
    for (const [p, x] of [
      [[0, 1, 40, 41], 40.02],
      [[0, 1, -50, -49], -49.02],
    ] as [Params, number][]) {
      for (const [name, ref] of [
        ['logProb', logPdfRef],
        ['cdf', cdfRef],
      ] as const) {
        const before = tf.memory().numTensors;
        const ps = [tf.scalar(p[0]), tf.scalar(p[1]), tf.scalar(x)];
        const gs = tf.grads((loc: tf.Tensor, scale: tf.Tensor, v: tf.Tensor) => {
          const t = new d.TruncatedDistribution(new d.Normal(loc, scale), {
            low: p[2],
            high: p[3],
          });
          return name === 'cdf' ? t.cdf(v) : t.logProb(v);
        })(ps);
        const got = gs.map((g) => g.dataSync()[0]!);
        tf.dispose([...gs, ...ps]);
        expect(tf.memory().numTensors).toBe(before);
        const all = [p[0], p[1], x];
        const f = (v: number[]): number => ref([v[0]!, v[1]!, p[2], p[3]], v[2]!);
        got.forEach((g, k) => {
          const h = 1e-5;
          const fd =
            (f(all.map((v, i) => (i === k ? v + h : v))) -
              f(all.map((v, i) => (i === k ? v - h : v)))) /
            (2 * h);
          expect(Math.abs(g - fd), `${name} d/d${k} ${String(p)}: ${g} vs ${fd}`).toBeLessThan(
            2e-2 * (1 + Math.abs(fd)),
          );
        });
      }
    }
  });
});
