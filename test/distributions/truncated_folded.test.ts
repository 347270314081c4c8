/**
 * `TruncatedDistribution` (NumPyro's generic truncation) over Normal, Laplace, Cauchy, Logistic,
 * Exponential and SoftLaplace bases, against float64 references (@stdlib densities and CDFs,
 * `p(x) / (F(high) - F(low))`), including the far tail `Normal(0, 1)` on `[8, inf)`; and
 * `FoldedDistribution` (Pyro's), against `p(x) + p(-x)`.
 */
import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import laplaceRef from '@stdlib/stats-base-dists-laplace';
import cauchyRef from '@stdlib/stats-base-dists-cauchy';
import logisticRef from '@stdlib/stats-base-dists-logistic';
import exponentialRef from '@stdlib/stats-base-dists-exponential';
import { describe, expect, it } from 'vitest';
import { distributions, ArgumentError } from '../../src/index.js';
import { expectBadInput, expectNoLeak } from '../helpers.js';

const d = distributions;
type Dist = distributions.Distribution;

function read(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}

/** A float64 reference: density, CDF and bounds. */
interface Ref {
  pdf: (x: number) => number;
  cdf: (x: number) => number;
}

const refs: Array<[string, () => Dist, Ref, { low?: number; high?: number }, number[]]> = [
  [
    'Normal(0.5, 2) on [-1, 3]',
    () => new d.Normal(0.5, 2),
    { pdf: (x) => normalRef.pdf(x, 0.5, 2), cdf: (x) => normalRef.cdf(x, 0.5, 2) },
    { low: -1, high: 3 },
    [-1, -0.3, 0.5, 2.2, 3],
  ],
  [
    'Laplace(0, 1) on [-1, 2]',
    () => new d.Laplace(0, 1),
    { pdf: (x) => laplaceRef.pdf(x, 0, 1), cdf: (x) => laplaceRef.cdf(x, 0, 1) },
    { low: -1, high: 2 },
    [-0.9, 0, 0.4, 1.9],
  ],
  [
    'Cauchy(1, 2) below 0',
    () => new d.Cauchy(1, 2),
    { pdf: (x) => cauchyRef.pdf(x, 1, 2), cdf: (x) => cauchyRef.cdf(x, 1, 2) },
    { high: 0 },
    [-30, -2, -0.5, 0],
  ],
  [
    'Logistic(0, 1) above 2 (upper-tail form)',
    () => new d.Logistic(0, 1),
    { pdf: (x) => logisticRef.pdf(x, 0, 1), cdf: (x) => logisticRef.cdf(x, 0, 1) },
    { low: 2 },
    [2, 2.5, 4, 9],
  ],
  [
    'Exponential(1.5) on [0.5, 3]',
    () => new d.Exponential(1.5),
    { pdf: (x) => exponentialRef.pdf(x, 1.5), cdf: (x) => exponentialRef.cdf(x, 1.5) },
    { low: 0.5, high: 3 },
    [0.5, 1, 2.9],
  ],
  [
    'Exponential(2) above 4 (asymmetric upper tail)',
    () => new d.Exponential(2),
    { pdf: (x) => exponentialRef.pdf(x, 2), cdf: (x) => exponentialRef.cdf(x, 2) },
    { low: 4 },
    [4, 4.3, 6],
  ],
];

function truncRef(r: Ref, b: { low?: number; high?: number }) {
  const fl = b.low === undefined ? 0 : r.cdf(b.low);
  const fh = b.high === undefined ? 1 : r.cdf(b.high);
  const z = fh - fl;
  return {
    logPdf: (x: number) => Math.log(r.pdf(x) / z),
    cdf: (x: number) => (r.cdf(x) - fl) / z,
  };
}

describe('TruncatedDistribution against float64 references', () => {
  for (const [name, make, ref, bounds, xs] of refs) {
    it(`${name}: logProb, cdf and the icdf round trip`, () => {
      const base = make();
      const t = new d.TruncatedDistribution(base, bounds);
      const tr = truncRef(ref, bounds);
      const lp = expectNoLeak(() => t.logProb(xs));
      expect(lp).toBeAllclose(
        xs.map((x) => tr.logPdf(x)),
        { atol: 2e-5, rtol: 2e-5 },
      );
      const c = expectNoLeak(() => t.cdf(xs));
      expect(c).toBeAllclose(
        xs.map((x) => tr.cdf(x)),
        { atol: 2e-5 },
      );
      const ps = [0.01, 0.3, 0.5, 0.9, 0.999];
      const q = expectNoLeak(() => t.icdf(ps));
      expect(q.map((x) => tr.cdf(x))).toBeAllclose(ps, { atol: 5e-5 });
      // outside the bounds: -Infinity
      const outside = [bounds.low === undefined ? undefined : bounds.low - 0.1]
        .concat(bounds.high === undefined ? [] : [bounds.high + 0.1])
        .filter((v): v is number => v !== undefined);
      for (const v of expectNoLeak(() => t.logProb(outside))) expect(v).toBe(-Infinity);
      t.dispose();
      base.dispose();
    });
  }

  it('the density integrates to 1 (Simpson on [-1, 2], Laplace base) and draws stay inside', () => {
    const base = new d.Laplace(0.3, 0.8);
    const t = new d.TruncatedDistribution(base, { low: -1, high: 2 });
    const n = 2000;
    const h = 3 / n;
    const grid = Array.from({ length: n + 1 }, (_, i) => -1 + i * h);
    const p = read(t.logProb(grid)).map(Math.exp);
    let s = p[0]! + p[n]!;
    for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * p[i]!;
    expect((s * h) / 3).toBeCloseTo(1, 4);
    const x = read(t.sample([4000], 3));
    expect(Math.min(...x)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...x)).toBeLessThanOrEqual(2);
    // Monte Carlo mean against the quadrature mean, 5 standard errors
    let m = 0;
    let m2 = 0;
    for (let i = 0; i <= n; i++) {
      const w = ((i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2) * h) / 3;
      m += w * grid[i]! * p[i]!;
      m2 += w * grid[i]! ** 2 * p[i]!;
    }
    const sd = Math.sqrt(m2 - m * m);
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    expect(Math.abs(mean - m)).toBeLessThan((5 * sd) / Math.sqrt(x.length));
    t.dispose();
    base.dispose();
  });

  it('far tail: Normal(0, 1) on [8, inf) and [8, 9] and (-inf, -8] give finite, exact values', () => {
    const base = new d.Normal(0, 1);
    const s8 = normalRef.cdf(-8, 0, 1); // 6.22e-16: 1 - F(8) = 0 in float32
    const logPhi = (x: number) => -0.5 * x * x - 0.5 * Math.log(2 * Math.PI);
    const up = new d.TruncatedDistribution(base, { low: 8 });
    const xs = [8, 8.05, 8.5, 10];
    expect(expectNoLeak(() => up.logProb(xs))).toBeAllclose(
      xs.map((x) => logPhi(x) - Math.log(s8)),
      { rtol: 1e-5 },
    );
    const cdfRef = (x: number) => 1 - normalRef.cdf(-x, 0, 1) / s8;
    expect(expectNoLeak(() => up.cdf([8.05, 8.2]))).toBeAllclose([8.05, 8.2].map(cdfRef), {
      atol: 1e-4,
    });
    const draws = read(up.sample([4000], 7));
    for (const v of draws) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(8);
    }
    // E[X | X > 8] = phi(8) / S(8) (the inverse Mills ratio), Var from its closed form
    const mills = Math.exp(logPhi(8)) / s8;
    const variance = 1 + 8 * mills - mills * mills;
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    expect(Math.abs(mean - mills)).toBeLessThan(5 * Math.sqrt(variance / draws.length));
    const two = new d.TruncatedDistribution(base, { low: 8, high: 9 });
    const z2 = s8 - normalRef.cdf(-9, 0, 1);
    expect(expectNoLeak(() => two.logProb([8.5]))).toBeAllclose([logPhi(8.5) - Math.log(z2)], {
      rtol: 1e-5,
    });
    const low = new d.TruncatedDistribution(base, { high: -8 });
    expect(expectNoLeak(() => low.logProb([-8.5]))).toBeAllclose([logPhi(-8.5) - Math.log(s8)], {
      rtol: 1e-5,
    });
    const lowDraws = read(low.sample([500], 2));
    for (const v of lowDraws) expect(v).toBeLessThanOrEqual(-8);
    expect(lowDraws.every(Number.isFinite)).toBe(true);
    for (const t of [up, two, low]) t.dispose();
    base.dispose();
  });

  it('batches broadcast the base with tensor bounds; support and bijectTo', () => {
    const base = new d.Normal([0, 1, 2], 1);
    const t = new d.TruncatedDistribution(base, { low: [-1, 0, 1], high: 3 });
    expect(t.batchShape).toEqual([3]);
    const x = expectNoLeak(() => t.sample([5]));
    expect(x.length).toBe(15);
    const lp = read(t.logProb([0, 0.5, 2.5]));
    const ref = [0, 1, 2].map((mu, i) => {
      const xv = [0, 0.5, 2.5][i]!;
      const z = normalRef.cdf(3, mu, 1) - normalRef.cdf([-1, 0, 1][i]!, mu, 1);
      return Math.log(normalRef.pdf(xv, mu, 1) / z);
    });
    expect(lp).toBeAllclose(ref, { atol: 2e-5 });
    expect(t.support.kind).toBe('interval');
    const b = d.bijectTo(t.support);
    const y = read(b.forward(tf.tensor1d([-20, 0, 20])));
    expect(y[0]).toBeGreaterThanOrEqual(-1);
    expect(y[2]).toBeLessThanOrEqual(3);
    b.dispose();
    const one = new d.TruncatedDistribution(base, { low: 0 });
    expect(one.support.kind).toBe('greaterThan');
    const other = new d.TruncatedDistribution(base, { high: 0 });
    expect(other.support.kind).toBe('lessThan');
    for (const v of [t, one, other]) v.dispose();
    base.dispose();
  });

  it('rsample and logProb are differentiable: gradients match finite differences', () => {
    // d x / d loc of a reparameterized draw (same seed on both sides), and d logProb / d(loc, low)
    const draw = (loc: number, low: number): number => {
      const base = new d.Normal(loc, 1.3);
      const t = new d.TruncatedDistribution(base, { low, high: 2.5 });
      const v = read(t.rsample([3], 17));
      t.dispose();
      base.dispose();
      return v.reduce((a, b) => a + b, 0);
    };
    const logp = (loc: number, low: number): number => {
      const base = new d.Normal(loc, 1.3);
      const t = new d.TruncatedDistribution(base, { low, high: 2.5 });
      const v = read(t.logProb([0.2, 1.1]));
      t.dispose();
      base.dispose();
      return v.reduce((a, b) => a + b, 0);
    };
    const loc = tf.scalar(0.4);
    const low = tf.scalar(-0.5);
    const before = tf.memory().numTensors;
    const g = tf.grads((l: tf.Tensor, lo: tf.Tensor) => {
      const base = new d.Normal(l, 1.3);
      const t = new d.TruncatedDistribution(base, { low: lo, high: 2.5 });
      return tf.add(tf.sum(t.rsample([3], 17)), tf.sum(t.logProb([0.2, 1.1])));
    })([loc, low]);
    const got = g.map((t) => read(t)[0] as number);
    expect(tf.memory().numTensors).toBe(before);
    const h = 1e-2;
    const f = (a: number, b: number): number => draw(a, b) + logp(a, b);
    const fdLoc = (f(0.4 + h, -0.5) - f(0.4 - h, -0.5)) / (2 * h);
    const fdLow = (f(0.4, -0.5 + h) - f(0.4, -0.5 - h)) / (2 * h);
    expect(got).toBeAllclose([fdLoc, fdLow], { atol: 2e-2, rtol: 2e-2 });
    tf.dispose([loc, low]);
  });

  it('upper-tail forms (mirrored Normal, Newton-refined Exponential) are differentiable too', () => {
    const cases: Array<
      [string, (p: tf.Tensor | number) => Dist, number, { low: number; high?: number }]
    > = [
      ['Normal', (p) => new d.Normal(p, 1), 0.4, { low: 1.5, high: 4 }],
      ['Exponential', (p) => new d.Exponential(p), 1.3, { low: 4 }],
    ];
    for (const [name, make, p0, bounds] of cases) {
      const f = (p: number): number => {
        const base = make(p);
        const t = new d.TruncatedDistribution(base, bounds);
        const v = read(
          tf.tidy(() =>
            tf.add(
              tf.sum(t.rsample([4], 5)),
              tf.sum(t.logProb([bounds.low + 0.2, bounds.low + 0.5])),
            ),
          ),
        );
        t.dispose();
        base.dispose();
        return v[0] as number;
      };
      const pt = tf.scalar(p0);
      const g = tf.grad((p: tf.Tensor) => {
        const t = new d.TruncatedDistribution(make(p), bounds);
        return tf.add(
          tf.sum(t.rsample([4], 5)),
          tf.sum(t.logProb([bounds.low + 0.2, bounds.low + 0.5])),
        );
      })(pt);
      const h = 1e-2;
      expect(read(g), name).toBeAllclose([(f(p0 + h) - f(p0 - h)) / (2 * h)], {
        atol: 2e-2,
        rtol: 2e-2,
      });
      pt.dispose();
    }
  });

  it('SoftLaplace base (symmetric: mirrored upper tail) is supported', () => {
    const base = new d.SoftLaplace(0, 1);
    const t = new d.TruncatedDistribution(base, { low: 6 });
    // S(x) = (2/pi) atan(e^{-x}); p(x) = (2/pi) / (e^x + e^-x)
    const s6 = (2 / Math.PI) * Math.atan(Math.exp(-6));
    const lp = (x: number) => Math.log(2 / Math.PI / (Math.exp(x) + Math.exp(-x)) / s6);
    expect(expectNoLeak(() => t.logProb([6, 7]))).toBeAllclose([lp(6), lp(7)], { rtol: 1e-5 });
    const x = read(t.sample([200], 1));
    expect(x.every((v) => v >= 6 && Number.isFinite(v))).toBe(true);
    t.dispose();
    base.dispose();
  });

  it('refuses bad bases and bounds, naming the argument, before any work and without leaks', async () => {
    const n = new d.Normal(0, 1);
    // (TruncatedNormal, used here before, has an icdf since session 17: a Normal whose quantile
    // hook is the base class's stands for a continuous family with a CDF but no icdf)
    const noIcdf = new d.Normal(0, 1);
    (noIcdf as unknown as { _icdf: unknown })._icdf = (
      distributions.Distribution.prototype as unknown as { _icdf: unknown }
    )._icdf;
    expect(() => noIcdf.icdf(0.5)).toThrow(/icdf/);
    const vonMises = new d.VonMises(0, 1);
    const mvn = new d.MultivariateNormalDiag([0, 0], [1, 1]);
    const poisson = new d.Poisson(2);
    const expo = new d.Exponential(1);
    const cases = [
      {
        call: 'no icdf (a Normal with its quantile withheld)',
        run: () => new d.TruncatedDistribution(noIcdf, { low: 0 }),
        arg: 'base',
        message: /no icdf/,
      },
      {
        call: 'no cdf, no icdf (VonMises)',
        run: () => new d.TruncatedDistribution(vonMises, { low: 0 }),
        arg: 'base',
        message: /no cdf/,
      },
      {
        call: 'not univariate',
        run: () => new d.TruncatedDistribution(mvn, { low: 0 }),
        arg: 'base',
        message: /univariate/,
      },
      {
        call: 'discrete base',
        run: () => new d.TruncatedDistribution(poisson, { low: 1 }),
        arg: 'base',
      },
      {
        call: 'not a distribution',
        run: () => new d.TruncatedDistribution({} as Dist, { low: 1 }),
        arg: 'base',
      },
      {
        call: 'low >= high',
        run: () => new d.TruncatedDistribution(n, { low: 2, high: 1 }),
        arg: 'high',
        message: /high > low/,
      },
      { call: 'no bound', run: () => new d.TruncatedDistribution(n, {}), arg: 'bounds' },
      {
        call: 'unknown bound key',
        run: () => new d.TruncatedDistribution(n, { lo: 1 } as never),
        arg: 'lo',
      },
      { call: 'NaN bound', run: () => new d.TruncatedDistribution(n, { low: NaN }), arg: 'low' },
      {
        call: 'no mass inside',
        run: () => new d.TruncatedDistribution(expo, { low: -3, high: -1 }),
        arg: 'bounds',
        message: /no probability/,
      },
    ];
    for (const c of cases) await expectBadInput(c);
    for (const b of [n, noIcdf, vonMises, mvn, poisson, expo]) b.dispose();
    expect(ArgumentError).toBeDefined();
  });
});

describe('FoldedDistribution', () => {
  it('logProb = log(p(x) + p(-x)) and cdf = F(x) - F(-x) for a Normal base; draws are |x|', () => {
    const base = new d.Normal(1, 2);
    const f = new d.FoldedDistribution(base);
    const xs = [0, 0.3, 1, 4.5];
    expect(expectNoLeak(() => f.logProb(xs))).toBeAllclose(
      xs.map((x) => Math.log(normalRef.pdf(x, 1, 2) + normalRef.pdf(-x, 1, 2))),
      { atol: 2e-5 },
    );
    expect(expectNoLeak(() => f.cdf([-1, 0.5, 3]))).toBeAllclose(
      [
        0,
        normalRef.cdf(0.5, 1, 2) - normalRef.cdf(-0.5, 1, 2),
        normalRef.cdf(3, 1, 2) - normalRef.cdf(-3, 1, 2),
      ],
      { atol: 2e-6 },
    );
    expect(read(f.logProb([-0.5]))[0]).toBe(-Infinity);
    expect(f.support.kind).toBe('positive');
    const x = read(f.sample([6000], 4));
    expect(Math.min(...x)).toBeGreaterThanOrEqual(0);
    // folded-normal mean sigma sqrt(2/pi) e^{-mu^2/2sigma^2} + mu (1 - 2 Phi(-mu/sigma))
    const mean =
      2 * Math.sqrt(2 / Math.PI) * Math.exp(-1 / 8) + 1 * (1 - 2 * normalRef.cdf(-0.5, 0, 1));
    const variance = 1 + 4 - mean * mean;
    const m = x.reduce((a, b) => a + b, 0) / x.length;
    expect(Math.abs(m - mean)).toBeLessThan(5 * Math.sqrt(variance / x.length));
    f.dispose();
    base.dispose();
  });

  it('a base without negative mass folds to itself; rsample carries gradients; bad bases are refused', async () => {
    const e = new d.Exponential(1.5);
    const f = new d.FoldedDistribution(e);
    expect(expectNoLeak(() => f.logProb([0.2, 2]))).toBeAllclose(
      [0.2, 2].map((x) => Math.log(1.5) - 1.5 * x),
      { atol: 1e-6 },
    );
    f.dispose();
    e.dispose();
    const loc = tf.scalar(-0.7);
    const g = tf.grad((l: tf.Tensor) => {
      const b = new d.Normal(l, 1);
      return tf.sum(new d.FoldedDistribution(b).rsample([4], 9));
    })(loc);
    // d|l + eps|/dl = sign(l + eps), summed over the same draws
    const b = new d.Normal(-0.7, 1);
    const fwd = read(b.rsample([4], 9));
    b.dispose();
    expect(read(g)[0]).toBeCloseTo(
      fwd.reduce((a, v) => a + Math.sign(v), 0),
      5,
    );
    loc.dispose();
    const mvn = new d.MultivariateNormalDiag([0, 0], [1, 1]);
    await expectBadInput({
      call: 'vector base',
      run: () => new d.FoldedDistribution(mvn),
      arg: 'base',
      message: /univariate/,
    });
    mvn.dispose();
  });
});
