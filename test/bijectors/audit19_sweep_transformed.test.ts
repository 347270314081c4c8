/**
 * Audit 19: `TransformedDistribution` over a table of scalar bases and bijectors, against float64
 * references written here (@stdlib densities and CDFs of the base at the inverse point):
 *
 * - `logProb(y) = base.logProb(f⁻¹(y)) + log|det J_{f⁻¹}(y)|` and the closed form;
 * - its draws pass a Kolmogorov–Smirnov test against the float64 CDF (2000 seeded draws, the
 *   0.1 % critical value `1.95 / √n`);
 * - values outside the bijector's codomain score `-inf` (never NaN): the codomain of every
 *   bijector is the set its forward map lands in (GumbelCDF's unit interval, PowerTransform's
 *   positive half-line, `bijectTo(c)`'s `c`);
 * - nothing leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import normalRef from '@stdlib/stats-base-dists-normal';
import gammaRef from '@stdlib/stats-base-dists-gamma';
import { bijectors, distributions } from '../../src/index.js';

const b = bijectors;
const d = distributions;
const C = distributions.constraints;

const normalLogPdf = (x: number, m: number, s: number): number =>
  (normalRef.logpdf as (x: number, m: number, s: number) => number)(x, m, s);
const normalCdf = (x: number, m: number, s: number): number =>
  (normalRef.cdf as (x: number, m: number, s: number) => number)(x, m, s);
const gammaLogPdf = (x: number, a: number, r: number): number =>
  (gammaRef.logpdf as (x: number, a: number, r: number) => number)(x, a, r);
const gammaCdf = (x: number, a: number, r: number): number =>
  (gammaRef.cdf as (x: number, a: number, r: number) => number)(x, a, r);
const logit = (p: number): number => Math.log(p) - Math.log1p(-p);

interface Row {
  name: string;
  make: () => distributions.TransformedDistribution;
  /** float64 log-density and CDF of `Y = f(X)`. */
  logPdf: (y: number) => number;
  cdf: (y: number) => number;
  /** points inside the support and outside it */
  inside: number[];
  outside: number[];
}

const ROWS: Row[] = [
  {
    name: 'Normal(0.3, 0.8) through Exp (log-normal)',
    make: () => new d.TransformedDistribution(new d.Normal(0.3, 0.8), new b.Exp()),
    logPdf: (y) => normalLogPdf(Math.log(y), 0.3, 0.8) - Math.log(y),
    cdf: (y) => normalCdf(Math.log(y), 0.3, 0.8),
    inside: [0.05, 1, 3.5],
    outside: [-1, 0],
  },
  {
    name: 'Normal(0, 1) through GumbelCDF(0.5, 1.5)',
    make: () => new d.TransformedDistribution(new d.Normal(0, 1), new b.GumbelCDF(0.5, 1.5)),
    logPdf: (y) => {
      const x = 0.5 - 1.5 * Math.log(-Math.log(y));
      return normalLogPdf(x, 0, 1) + Math.log(1.5) - Math.log(y) - Math.log(-Math.log(y));
    },
    cdf: (y) => normalCdf(0.5 - 1.5 * Math.log(-Math.log(y)), 0, 1),
    inside: [0.05, 0.5, 0.9],
    outside: [-0.2, 1.5, 3],
  },
  {
    name: 'Uniform(-1.5, 3) through PowerTransform(0.5)',
    make: () => new d.TransformedDistribution(new d.Uniform(-1.5, 3), new b.PowerTransform(0.5)),
    // x = 2(√y - 1), dx/dy = y^(-1/2)
    logPdf: (y) => -Math.log(4.5) - 0.5 * Math.log(y),
    cdf: (y) => (2 * (Math.sqrt(y) - 1) + 1.5) / 4.5,
    inside: [0.1, 1, 6],
    outside: [-1, 0, 7],
  },
  {
    name: 'Normal(0, 1) through bijectTo(interval(2, 5))',
    make: () => new d.TransformedDistribution(new d.Normal(0, 1), d.bijectTo(C.interval(2, 5))),
    logPdf: (y) => {
      const u = (y - 2) / 3;
      return normalLogPdf(logit(u), 0, 1) - Math.log(3) - Math.log(u) - Math.log1p(-u);
    },
    cdf: (y) => normalCdf(logit((y - 2) / 3), 0, 1),
    inside: [2.1, 3.5, 4.9],
    outside: [1, 6],
  },
  {
    name: 'Normal(0.5, 1.2) through bijectTo(greaterThan(2))',
    make: () => new d.TransformedDistribution(new d.Normal(0.5, 1.2), d.bijectTo(C.greaterThan(2))),
    logPdf: (y) => normalLogPdf(Math.log(y - 2), 0.5, 1.2) - Math.log(y - 2),
    cdf: (y) => normalCdf(Math.log(y - 2), 0.5, 1.2),
    inside: [2.1, 3, 10],
    outside: [1, 2],
  },
  {
    name: 'Normal(0, 0.7) through bijectTo(lessThan(-1))',
    make: () => new d.TransformedDistribution(new d.Normal(0, 0.7), d.bijectTo(C.lessThan(-1))),
    logPdf: (y) => normalLogPdf(Math.log(-1 - y), 0, 0.7) - Math.log(-1 - y),
    // Y = -1 - e^X is decreasing in X: P(Y <= y) = P(X >= log(-1 - y))
    cdf: (y) => 1 - normalCdf(Math.log(-1 - y), 0, 0.7),
    inside: [-1.5, -2, -5],
    outside: [0, -1],
  },
  {
    name: 'Gamma(2, 1.5) through Invert(Exp) (log-gamma)',
    make: () => new d.TransformedDistribution(new d.Gamma(2, 1.5), new b.Invert(new b.Exp())),
    logPdf: (y) => gammaLogPdf(Math.exp(y), 2, 1.5) + y,
    cdf: (y) => gammaCdf(Math.exp(y), 2, 1.5),
    inside: [-2, 0, 1.5],
    outside: [],
  },
  {
    name: 'Normal(0, 1) through [Tanh, ScalarAffine(2, 1)] (Pyro list order)',
    make: () =>
      new d.TransformedDistribution(new d.Normal(0, 1), [new b.Tanh(), new b.ScalarAffine(2, 1)]),
    logPdf: (y) => {
      const t = (y - 1) / 2;
      return normalLogPdf(Math.atanh(t), 0, 1) - Math.log(2) - Math.log1p(-t * t);
    },
    cdf: (y) => normalCdf(Math.atanh((y - 1) / 2), 0, 1),
    inside: [-0.5, 1, 2.9],
    outside: [],
  },
];

const num = (t: tf.Tensor): number[] => Array.from(t.dataSync());

describe.each(ROWS)('$name', (row) => {
  it('logProb = base logProb(f⁻¹(y)) + log|det J_f⁻¹(y)| = the float64 closed form', () => {
    const td = row.make();
    const y = tf.tensor1d(row.inside);
    const before = tf.memory().numTensors;
    const lp = td.logProb(y);
    const { x, logDet } = td.bijector.inverseAndLogDet(y);
    const baseLp = td.distribution.logProb(x);
    expect(num(lp)).toBeAllclose(
      num(baseLp).map((v, i) => v + num(logDet)[i]!),
      { rtol: 1e-5, atol: 1e-5 },
    );
    expect(num(lp)).toBeAllclose(row.inside.map(row.logPdf), { rtol: 1e-4, atol: 1e-4 });
    tf.dispose([lp, x, logDet, baseLp]);
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
  });

  it('draws pass a Kolmogorov-Smirnov test against the float64 CDF', () => {
    const td = row.make();
    const n = 2000;
    const s = td.sample([n], 1919);
    const v = num(s).sort((p, q) => p - q);
    s.dispose();
    let dmax = 0;
    v.forEach((yv, i) => {
      const f = row.cdf(yv);
      dmax = Math.max(dmax, Math.abs(f - i / n), Math.abs(f - (i + 1) / n));
    });
    expect(dmax).toBeLessThan(1.95 / Math.sqrt(n));
  });

  it('values outside the support score -inf, never NaN', () => {
    const td = row.make();
    if (row.outside.length === 0) {
      // an unconstrained support: every real scores a finite value
      expect(td.support.checkAll(tf.tensor1d(row.inside))).toBe(true);
      return;
    }
    const y = tf.tensor1d(row.outside);
    expect(td.support.checkAll(y), 'outside points fail the support check').toBe(false);
    const before = tf.memory().numTensors;
    const lp = td.logProb(y);
    expect(num(lp)).toEqual(row.outside.map(() => -Infinity));
    lp.dispose();
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
  });
});

describe('the codomain of a bijector is the set its forward map lands in', () => {
  it('GumbelCDF: the unit interval; PowerTransform: the positive half-line', () => {
    const g = new b.GumbelCDF(0, 1);
    const p = new b.PowerTransform([0, 0.5]);
    const bad = tf.tensor1d([-0.5, 1.5]);
    expect(g.codomain.name).toBe('unitInterval');
    expect(p.codomain.name).toBe('positive');
    expect(num(g.codomain.check(bad))).toEqual([0, 0]);
    expect(num(p.codomain.check(bad))).toEqual([0, 1]);
    bad.dispose();
    g.dispose();
    p.dispose();
  });

  it('bijectTo(c).codomain is c for the half-lines and intervals', () => {
    const lo = tf.tensor1d([0, 1]);
    const cs = [
      C.greaterThan(2),
      C.greaterThanEq(-1),
      C.nonnegative,
      C.lessThan(3),
      C.interval(-1, 4),
      C.interval(lo, 5),
    ];
    for (const c of cs) {
      const bj = d.bijectTo(c);
      expect(bj.codomain, c.name).toBe(c);
      bj.dispose();
    }
    lo.dispose();
  });
});

describe('a bijector of a higher event rank reads the base batch dims as event dims (torch)', () => {
  it('Normal(zeros([2, 3]), 1) through StickBreaking is a batch [2] over the 4-simplex', () => {
    const loc = tf.tensor2d([
      [0.2, -0.5, 1],
      [0, 0.3, -0.4],
    ]);
    const base = new d.Normal(loc, 1);
    const td = new d.TransformedDistribution(base, new b.StickBreaking());
    const ref = new d.TransformedDistribution(base.toEvent(1), new b.StickBreaking());
    expect(td.batchShape).toEqual([2]);
    expect(td.eventShape).toEqual([4]);
    const y = td.sample([1500], 1920);
    expect(y.shape).toEqual([1500, 2, 4]);
    expect(td.support.checkAll(y)).toBe(true);
    const before = tf.memory().numTensors;
    const lp = td.logProb(y);
    const lpRef = ref.logProb(y);
    expect(lp.shape).toEqual([1500, 2]);
    expect(num(lp)).toBeAllclose(num(lpRef), { rtol: 1e-6, atol: 1e-6 });
    tf.dispose([lp, lpRef]);
    expect(tf.memory().numTensors).toBe(before);
    // y_0 = sigmoid(x_0 - log 3): P(y_0 <= v) = Φ(logit(v) + log 3 - loc_0), a KS test per batch
    const yv = y.arraySync() as number[][][];
    [0.2, 0].forEach((m, e) => {
      const v = yv.map((r) => r[e]![0]!).sort((p, q) => p - q);
      const n = v.length;
      let dmax = 0;
      v.forEach((yy, i) => {
        const f = normalCdf(logit(yy) + Math.log(3), m, 1);
        dmax = Math.max(dmax, Math.abs(f - i / n), Math.abs(f - (i + 1) / n));
      });
      expect(dmax).toBeLessThan(1.95 / Math.sqrt(n));
    });
    tf.dispose([y, loc]);
  });

  it('a base with too few batch dims is still refused, naming the bijector', () => {
    expect(() => new d.TransformedDistribution(new d.Normal(0, 1), new b.StickBreaking())).toThrow(
      /bijector: event rank 1 exceeds the event rank 0 .* too few dims/,
    );
  });
});

describe('moments through affine bijectors (constant Jacobian, as TFP)', () => {
  const base = (): distributions.Distribution => new d.Normal([1, -2, 0.5], [2, 0.5, 1]);
  const rows: [string, () => bijectors.Bijector, number[], number[]][] = [
    // [bijector, a, b] with f(x) = a x + b elementwise
    ['Affine(loc, scale)', () => new b.Affine([0, 1, 2], [3, -1, 0.5]), [3, -1, 0.5], [0, 1, 2]],
    ['Shift([1, 2, 3])', () => new b.Shift([1, 2, 3]), [1, 1, 1], [1, 2, 3]],
    ['Identity', () => new b.Identity(), [1, 1, 1], [0, 0, 0]],
    [
      'Chain([Shift(1), ScalarAffine(-2)])',
      () => new b.Chain([new b.Shift(1), new b.ScalarAffine(-2)]),
      [-2, -2, -2],
      [1, 1, 1],
    ],
    [
      'Invert(ScalarAffine(4, 2))',
      () => new b.Invert(new b.ScalarAffine(4, 2)),
      [0.25, 0.25, 0.25],
      [-0.5, -0.5, -0.5],
    ],
  ];
  const mu = [1, -2, 0.5];
  const sd = [2, 0.5, 1];
  it.each(rows)('%s: mean, mode, variance, stddev, entropy in closed form', (_n, make, a, c) => {
    const td = new d.TransformedDistribution(base(), make());
    const before = tf.memory().numTensors;
    const m = td.mean();
    const mo = td.mode();
    const v = td.variance();
    const s = td.stddev();
    const h = td.entropy();
    expect(num(m)).toBeAllclose(
      mu.map((x, i) => a[i]! * x + c[i]!),
      { rtol: 1e-5, atol: 1e-6 },
    );
    expect(num(mo)).toBeAllclose(num(m), { rtol: 1e-5, atol: 1e-6 });
    expect(num(v)).toBeAllclose(
      sd.map((x, i) => (a[i]! * x) ** 2),
      { rtol: 1e-5 },
    );
    expect(num(s)).toBeAllclose(
      sd.map((x, i) => Math.abs(a[i]! * x)),
      { rtol: 1e-5 },
    );
    // the entropy of N(a mu + b, |a| sd)
    expect(num(h)).toBeAllclose(
      sd.map((x, i) => 0.5 * Math.log(2 * Math.PI * Math.E) + Math.log(Math.abs(a[i]! * x))),
      { rtol: 1e-5, atol: 1e-6 },
    );
    tf.dispose([m, mo, v, s, h]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('an Affine over the event (eventDim 1) sums log|a| over the event in the entropy', () => {
    const td = new d.TransformedDistribution(
      base().toEvent(1),
      new b.Affine([0, 1, 2], [3, -1, 0.5], { eventDim: 1 }),
    );
    const h = num(td.entropy());
    const ref = sd.reduce(
      (t, x, i) =>
        t + 0.5 * Math.log(2 * Math.PI * Math.E) + Math.log(Math.abs([3, -1, 0.5][i]! * x)),
      0,
    );
    expect(h).toBeAllclose([ref], { rtol: 1e-5 });
  });

  it('a non-affine bijector has no closed-form moments', () => {
    const td = new d.TransformedDistribution(base(), new b.Chain([new b.Shift(1), new b.Exp()]));
    expect(() => td.mean()).toThrow(/mean has no closed form/);
    expect(() => td.entropy()).toThrow(/entropy has no closed form/);
  });
});
