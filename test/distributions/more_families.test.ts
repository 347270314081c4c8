/**
 * SoftLaplace, LogUniform, ContinuousBernoulli, FisherSnedecor, LogisticNormal, ZeroSumNormal
 * and Empirical against float64 references: closed forms written here, @stdlib's beta CDF and
 * log-gamma, Simpson quadrature of the densities, Monte Carlo moments with tolerances from their
 * standard errors, and finite differences of reparameterized draws.
 */
import * as tf from '@tensorflow/tfjs';
import betaRef from '@stdlib/stats-base-dists-beta';
import gammalnRef from '@stdlib/math-base-special-gammaln';
import { describe, expect, it } from 'vitest';
import { bijectors, distributions } from '../../src/index.js';
import { expectBadInput, expectNoLeak } from '../helpers.js';

const d = distributions;
type Dist = distributions.Distribution;

function read(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
const variance = (v: number[]): number => {
  const m = mean(v);
  return v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1);
};

/** Simpson's rule of `f` on `[a, b]` with `n` (even) intervals, float64. */
function simpson(f: (x: number) => number, a: number, b: number, n = 2000): number {
  const h = (b - a) / n;
  let s = f(a) + f(b);
  for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * f(a + i * h);
  return (s * h) / 3;
}
/** The library's density on a grid, as a float64 function by linear interpolation. */
function densityOf(dist: Dist, a: number, b: number, n = 4000): (x: number) => number {
  const h = (b - a) / n;
  const grid = Array.from({ length: n + 1 }, (_, i) => a + i * h);
  const p = read(dist.logProb(grid)).map(Math.exp);
  return (x) => {
    const i = Math.min(n - 1, Math.max(0, Math.floor((x - a) / h)));
    const t = (x - a) / h - i;
    return (1 - t) * p[i]! + t * p[i + 1]!;
  };
}

describe('SoftLaplace', () => {
  it('density, cdf/icdf, far-tail logCdf, moments and draws', () => {
    const s = new d.SoftLaplace(0.5, 2);
    const ref = (x: number) => {
      const z = (x - 0.5) / 2;
      return 2 / Math.PI / 2 / (Math.exp(z) + Math.exp(-z));
    };
    const xs = [-40, -3, 0.5, 2, 9];
    expect(expectNoLeak(() => s.logProb(xs))).toBeAllclose(
      xs.map((x) => Math.log(ref(x))),
      {
        rtol: 1e-5,
      },
    );
    const cdfRef = (x: number) => (2 / Math.PI) * Math.atan(Math.exp((x - 0.5) / 2));
    expect(expectNoLeak(() => s.cdf([-3, 0.5, 4]))).toBeAllclose([-3, 0.5, 4].map(cdfRef), {
      atol: 1e-6,
    });
    const q = expectNoLeak(() => s.icdf([0.05, 0.5, 0.95]));
    expect(q.map(cdfRef)).toBeAllclose([0.05, 0.5, 0.95], { atol: 1e-5 });
    // logCdf 200 scales below the mode: log(2/pi) + z (atan(e^z) underflows as a product)
    expect(expectNoLeak(() => s.logCdf([-399.5]))).toBeAllclose([Math.log(2 / Math.PI) - 200], {
      rtol: 1e-6,
    });
    expect(simpson(ref, -60, 60, 4000)).toBeCloseTo(1, 6);
    expect(simpson((x) => Math.exp(read(s.logProb([x]))[0]!), -40, 40, 400)).toBeCloseTo(1, 3);
    expect(expectNoLeak(() => s.variance())).toBeAllclose([(Math.PI / 2) ** 2 * 4], { rtol: 1e-6 });
    expect(expectNoLeak(() => s.mean())).toBeAllclose([0.5]);
    const x = read(s.sample([20000], 2));
    const v = (Math.PI / 2) ** 2 * 4;
    expect(Math.abs(mean(x) - 0.5)).toBeLessThan(5 * Math.sqrt(v / x.length));
    s.dispose();
  });
});

describe('LogUniform', () => {
  it('density, cdf, icdf, moments and entropy against closed forms and quadrature', () => {
    const l = new d.LogUniform(0.1, 20);
    const w = Math.log(200);
    const xs = [0.1, 0.5, 3, 20];
    expect(expectNoLeak(() => l.logProb(xs))).toBeAllclose(
      xs.map((x) => -Math.log(x * w)),
      {
        rtol: 1e-6,
      },
    );
    expect(read(l.logProb([0.05, 21]))).toEqual([-Infinity, -Infinity]);
    expect(expectNoLeak(() => l.cdf([0.05, 1, 20, 30]))).toBeAllclose([0, Math.log(10) / w, 1, 1], {
      atol: 1e-6,
    });
    expect(expectNoLeak(() => l.icdf([0, 0.5, 1]))).toBeAllclose([0.1, Math.sqrt(2), 20], {
      rtol: 1e-5,
    });
    const pdf = (x: number) => 1 / (x * w);
    const m = simpson((x) => x * pdf(x), 0.1, 20, 20000);
    const m2 = simpson((x) => x * x * pdf(x), 0.1, 20, 20000);
    const h = simpson((x) => -pdf(x) * Math.log(pdf(x)), 0.1, 20, 20000);
    expect(expectNoLeak(() => l.mean())).toBeAllclose([m], { rtol: 1e-5 });
    expect(expectNoLeak(() => l.variance())).toBeAllclose([m2 - m * m], { rtol: 1e-4 });
    expect(expectNoLeak(() => l.entropy())).toBeAllclose([h], { rtol: 1e-5 });
    expect(expectNoLeak(() => l.mode())).toBeAllclose([0.1]);
    const x = read(l.sample([20000], 3));
    expect(Math.min(...x)).toBeGreaterThanOrEqual(0.1);
    expect(Math.max(...x)).toBeLessThanOrEqual(20);
    expect(Math.abs(mean(x) - m)).toBeLessThan(5 * Math.sqrt((m2 - m * m) / x.length));
    l.dispose();
  });

  it('rsample is differentiable in both ends (finite differences, same seed)', () => {
    const f = (lo: number, hi: number) => {
      const l = new d.LogUniform(lo, hi);
      const v = mean(read(l.rsample([5], 4)));
      l.dispose();
      return v;
    };
    const lo = tf.scalar(0.5);
    const hi = tf.scalar(4);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.mean(new d.LogUniform(a, b).rsample([5], 4)),
    )([lo, hi]);
    const h = 1e-3;
    expect(g.map((t) => read(t)[0]!)).toBeAllclose(
      [(f(0.5 + h, 4) - f(0.5 - h, 4)) / (2 * h), (f(0.5, 4 + h) - f(0.5, 4 - h)) / (2 * h)],
      { rtol: 1e-2, atol: 1e-3 },
    );
    tf.dispose([lo, hi]);
  });

  it('refuses low >= high and low <= 0, naming the argument', async () => {
    await expectBadInput({ call: 'low >= high', run: () => new d.LogUniform(2, 1), arg: 'high' });
    await expectBadInput({ call: 'low = 0', run: () => new d.LogUniform(0, 1), arg: 'low' });
  });
});

/** float64 continuous Bernoulli with logits l: log density, mean, variance, cdf. */
function cbRef(l: number) {
  const g = Math.abs(l) < 1e-12 ? 0 : Math.log(Math.expm1(l) / l);
  return {
    logPdf: (x: number) => x * l - g,
    cdf: (x: number) => (Math.abs(l) < 1e-12 ? x : Math.expm1(l * x) / Math.expm1(l)),
  };
}

describe('ContinuousBernoulli', () => {
  const lambdas = [0.01, 0.3, 0.4999, 0.5, 0.5003, 0.7, 0.999];
  it('log density against the float64 normalizer, across lambda = 1/2 (torch switches to series there)', () => {
    const cb = new d.ContinuousBernoulli({ probs: lambdas });
    const xs = [0, 0.25, 0.5, 0.9, 1];
    for (const x of xs) {
      const got = expectNoLeak(() => cb.logProb(lambdas.map(() => x)));
      const want = lambdas.map((p) => cbRef(Math.log(p / (1 - p))).logPdf(x));
      expect(got).toBeAllclose(want, { atol: 2e-6, rtol: 2e-6 });
    }
    cb.dispose();
    const big = new d.ContinuousBernoulli({ logits: [60, -60, 1e-4, 0.999, -1.001] });
    const ls = [60, -60, 1e-4, 0.999, -1.001];
    const got = expectNoLeak(() => big.logProb([0.9, 0.9, 0.9, 0.9, 0.9]));
    expect(got).toBeAllclose(
      ls.map((l) => cbRef(l).logPdf(0.9)),
      { atol: 1e-5, rtol: 1e-6 },
    );
    big.dispose();
  });

  it('mean, variance and entropy against quadrature; cdf and icdf against the float64 forms', () => {
    const ls = [-30, -2.5, -1, -0.3, 0, 1e-3, 0.9, 1.2, 7];
    const cb = new d.ContinuousBernoulli({ logits: ls });
    const m = expectNoLeak(() => cb.mean());
    const v = expectNoLeak(() => cb.variance());
    const h = expectNoLeak(() => cb.entropy());
    ls.forEach((l, i) => {
      const r = cbRef(l);
      const p = (x: number) => Math.exp(r.logPdf(x));
      const m1 = simpson((x) => x * p(x), 0, 1, 4000);
      const m2 = simpson((x) => x * x * p(x), 0, 1, 4000);
      expect(m[i]).toBeCloseTo(m1, 6);
      expect(v[i]! / (m2 - m1 * m1)).toBeCloseTo(1, 4);
      expect(h[i]).toBeCloseTo(
        simpson((x) => -p(x) * r.logPdf(x), 0, 1, 4000),
        5,
      );
    });
    const xs = ls.map((_, i) => (i + 0.5) / ls.length);
    expect(expectNoLeak(() => cb.cdf(xs))).toBeAllclose(
      ls.map((l, i) => cbRef(l).cdf(xs[i]!)),
      { atol: 2e-6 },
    );
    const q = expectNoLeak(() => cb.icdf(xs));
    expect(q.map((x, i) => cbRef(ls[i]!).cdf(x))).toBeAllclose(xs, { atol: 1e-5 });
    cb.dispose();
  });

  it('KL against Monte Carlo, draws match the mean, rsample differentiable; bad probs refused', async () => {
    const p = new d.ContinuousBernoulli({ probs: 0.2 });
    const q = new d.ContinuousBernoulli({ logits: 1.5 });
    const kl = expectNoLeak(() => d.klDivergence(p, q))[0]!;
    const x = p.sample([20000], 6);
    const diff = read(tf.tidy(() => tf.sub(p.logProb(x), q.logProb(x))));
    const xv = read(x);
    expect(Math.abs(kl - mean(diff))).toBeLessThan(5 * Math.sqrt(variance(diff) / diff.length));
    const pm = read(p.mean())[0]!;
    expect(Math.abs(mean(xv) - pm)).toBeLessThan(5 * Math.sqrt(variance(xv) / xv.length));
    p.dispose();
    q.dispose();
    const f = (pr: number) => {
      const c = new d.ContinuousBernoulli({ probs: pr });
      const v = mean(read(c.rsample([6], 8)));
      c.dispose();
      return v;
    };
    const pt = tf.scalar(0.35);
    const g = tf.grad((t: tf.Tensor) =>
      tf.mean(new d.ContinuousBernoulli({ probs: t }).rsample([6], 8)),
    )(pt);
    expect(read(g)).toBeAllclose([(f(0.351) - f(0.349)) / 0.002], { rtol: 1e-2, atol: 1e-3 });
    pt.dispose();
    await expectBadInput({
      call: 'probs 0',
      run: () => new d.ContinuousBernoulli({ probs: [0.2, 0] }),
      arg: 'probs',
    });
    await expectBadInput({
      call: 'probs > 1',
      run: () => new d.ContinuousBernoulli(1.2),
      arg: 'probs',
    });
    await expectBadInput({
      call: 'both',
      run: () => new d.ContinuousBernoulli({ probs: 0.2, logits: 0.1 }),
      arg: 'probs/logits',
    });
  });
});

describe('FisherSnedecor', () => {
  const fRef = (x: number, d1: number, d2: number) =>
    (d1 / 2) * Math.log(d1 / d2) +
    (d1 / 2 - 1) * Math.log(x) -
    ((d1 + d2) / 2) * Math.log1p((d1 * x) / d2) -
    (gammalnRef(d1 / 2) + gammalnRef(d2 / 2) - gammalnRef((d1 + d2) / 2));
  it('density and cdf against float64 references; moments and their Infinity/NaN cases', () => {
    const f = new d.FisherSnedecor([3, 5, 1.5, 40], [10, 2, 3.5, 60]);
    const pars: [number, number][] = [
      [3, 10],
      [5, 2],
      [1.5, 3.5],
      [40, 60],
    ];
    const xs = [0.4, 1.3, 0.05, 2.2];
    expect(expectNoLeak(() => f.logProb(xs))).toBeAllclose(
      pars.map(([a, b], i) => fRef(xs[i]!, a, b)),
      { atol: 2e-5, rtol: 2e-5 },
    );
    expect(expectNoLeak(() => f.cdf(xs))).toBeAllclose(
      pars.map(([a, b], i) => betaRef.cdf((a * xs[i]!) / (a * xs[i]! + b), a / 2, b / 2)),
      { atol: 2e-6 },
    );
    expect(read(f.logProb([-1, 1, 1, 1]))[0]).toBe(-Infinity);
    const m = expectNoLeak(() => f.mean());
    expect(m[0]).toBeCloseTo(10 / 8, 6);
    expect(m[1]).toBe(Infinity);
    const v = expectNoLeak(() => f.variance());
    expect(v[0]).toBeCloseTo((2 * 100 * 11) / (3 * 64 * 6), 5);
    expect(v[1]).toBeNaN();
    expect(v[2]).toBe(Infinity);
    const mo = expectNoLeak(() => f.mode());
    expect(mo).toBeAllclose([(1 / 3) * (10 / 12), 0.6 * (2 / 4), 0, (38 / 40) * (60 / 62)], {
      rtol: 1e-6,
    });
    // the density integrates to 1 (d1 = 3, d2 = 10 on [0, 200]: tail 1 - I(...) ~ 1e-6)
    const p = densityOf(new d.FisherSnedecor(3, 10), 0, 200, 40000);
    expect(simpson(p, 0, 200, 40000)).toBeCloseTo(1 - (1 - betaRef.cdf(600 / 610, 1.5, 5)), 3);
    f.dispose();
  });

  it('draws match the mean and variance; the draw gradient in df2 matches d mean / d df2', () => {
    const f = new d.FisherSnedecor(6, 20);
    const x = read(f.sample([40000], 12));
    const m = 20 / 18;
    const v = (2 * 400 * 24) / (6 * 18 * 18 * 16);
    expect(Math.abs(mean(x) - m)).toBeLessThan(5 * Math.sqrt(v / x.length));
    expect(Math.abs(variance(x) / v - 1)).toBeLessThan(0.1);
    f.dispose();
    const d2 = tf.scalar(20);
    const g = read(
      tf.grad((t: tf.Tensor) => tf.mean(new d.FisherSnedecor(6, t).rsample([40000], 3)))(d2),
    )[0]!;
    // d/d d2 of d2 / (d2 - 2) = -2 / (d2 - 2)^2 = -0.00617
    expect(Math.abs(g + 2 / 324)).toBeLessThan(3e-3);
    d2.dispose();
  });
});

describe('LogisticNormal', () => {
  /** float64 stick-breaking inverse: x_k = log y_k - log(sum_{j>k} y_j) + log(K - k). */
  function sbInverse(y: number[]): number[] {
    const k = y.length;
    return y.slice(0, -1).map((v, i) => {
      const tail = y.slice(i + 1).reduce((a, b) => a + b, 0);
      return Math.log(v) - Math.log(tail) + Math.log(k - 1 - i);
    });
  }
  function refLogProb(y: number[], loc: number[], scale: number[]): number {
    const x = sbInverse(y);
    const k = y.length;
    let lp = 0;
    let logR = 0;
    x.forEach((xi, i) => {
      lp +=
        -0.5 * ((xi - loc[i]!) / scale[i]!) ** 2 -
        Math.log(scale[i]!) -
        0.5 * Math.log(2 * Math.PI);
      const xs = xi - Math.log(k - 1 - i);
      const logZ = -Math.log1p(Math.exp(-xs));
      const log1mZ = -Math.log1p(Math.exp(xs));
      lp -= logZ + log1mZ + logR;
      logR += log1mZ;
    });
    return lp;
  }
  it('logProb = normal log density of the stick-breaking inverse minus log|det J| (torch)', () => {
    const loc = [0.3, -0.5, 1];
    const scale = [1, 0.7, 1.5];
    const ln = new d.LogisticNormal(loc, scale);
    expect(ln.eventShape).toEqual([4]);
    expect(ln.support.kind).toBe('simplex');
    const ys = [
      [0.1, 0.2, 0.3, 0.4],
      [0.7, 0.1, 0.15, 0.05],
    ];
    expect(expectNoLeak(() => ln.logProb(ys))).toBeAllclose(
      ys.map((y) => refLogProb(y, loc, scale)),
      { atol: 1e-4, rtol: 1e-5 },
    );
    const draws = ln.sample([5000], 5);
    const sums = read(tf.sum(draws, -1));
    expect(sums).toBeAllclose(new Array(5000).fill(1), { atol: 1e-5 });
    // the stick-breaking inverse of the draws is N(loc, scale)
    const back = read(new bijectors.StickBreaking().inverse(draws));
    draws.dispose();
    for (let j = 0; j < 3; j++) {
      const col = back.filter((_, i) => i % 3 === j);
      expect(Math.abs(mean(col) - loc[j]!)).toBeLessThan((5 * scale[j]!) / Math.sqrt(col.length));
      expect(Math.sqrt(variance(col)) / scale[j]!).toBeCloseTo(1, 1);
    }
    const before = tf.memory().numTensors;
    const tmp = new d.LogisticNormal(0, 1);
    expect(tmp.eventShape).toEqual([2]); // torch: a scalar pair is K = 2
    tmp.dispose();
    expect(tf.memory().numTensors).toBe(before);
    ln.dispose();
  });
});

describe('ZeroSumNormal', () => {
  it('draws sum to zero with covariance sigma^2 (I - J/n); logProb is the isotropic normal on the subspace', () => {
    const z = new d.ZeroSumNormal(2, [4]);
    expect(z.eventShape).toEqual([4]);
    expect(z.support.kind).toBe('zeroSum');
    const x = z.sample([20000], 7);
    const sums = read(tf.sum(x, -1));
    expect(Math.max(...sums.map(Math.abs))).toBeLessThan(1e-5);
    const xv = read(x);
    const col = (j: number) => xv.filter((_, i) => i % 4 === j);
    const c0 = col(0);
    const c1 = col(1);
    expect(variance(c0)).toBeCloseTo(4 * 0.75, 0);
    expect(Math.abs(variance(c0) / 3 - 1)).toBeLessThan(0.05);
    const cov = mean(c0.map((v, i) => v * c1[i]!));
    expect(Math.abs(cov + 1)).toBeLessThan(0.1); // -sigma^2 / n = -1
    expect(expectNoLeak(() => z.variance())).toBeAllclose([3, 3, 3, 3], { rtol: 1e-6 });
    expect(expectNoLeak(() => z.mean())).toBeAllclose([0, 0, 0, 0]);
    // |x|^2 = |T^{-1} x|^2 (isometry): log p = -(n-1)/2 log(2 pi sigma^2) - |x|^2 / (2 sigma^2)
    const pts = [
      [1, -0.5, -0.25, -0.25],
      [3, -1, -1, -1],
    ];
    expect(expectNoLeak(() => z.logProb(pts))).toBeAllclose(
      pts.map((p) => -1.5 * Math.log(2 * Math.PI * 4) - p.reduce((a, b) => a + b * b, 0) / 8),
      { atol: 1e-5 },
    );
    x.dispose();
    z.dispose();
  });

  it('two zero-sum axes and a batch of scales; the bijector and the constraint', () => {
    const z = new d.ZeroSumNormal([1, 0.5], [3, 2]);
    expect(z.batchShape).toEqual([2]);
    expect(z.eventShape).toEqual([3, 2]);
    const x = z.sample([50], 1);
    expect(x.shape).toEqual([50, 2, 3, 2]);
    expect(Math.max(...read(tf.abs(tf.sum(x, -1))))).toBeLessThan(1e-5);
    expect(Math.max(...read(tf.abs(tf.sum(x, -2))))).toBeLessThan(1e-5);
    const pt = tf.tensor([0.4, -0.4, -0.1, 0.1, -0.3, 0.3], [3, 2]);
    const sq = 0.16 * 2 + 0.01 * 2 + 0.09 * 2;
    expect(expectNoLeak(() => z.logProb(pt))).toBeAllclose(
      [1, 0.5].map((s) => -1 * Math.log(2 * Math.PI * s * s) - sq / (2 * s * s)),
      { atol: 1e-5 },
    );
    expect(expectNoLeak(() => z.variance())).toBeAllclose(
      [...new Array(6).fill((2 / 3) * 0.5), ...new Array(6).fill((2 / 3) * 0.5 * 0.25)],
      { rtol: 1e-6 },
    );
    const c = d.constraints.zeroSum(2);
    expect(read(c.check(pt))).toEqual([1]);
    const bad = tf.tensor([0.4, -0.3, -0.1, 0.1, -0.3, 0.3], [3, 2]);
    expect(read(c.check(bad))).toEqual([0]);
    const b = d.bijectTo(c);
    const u = tf.tensor([0.3, -1.2], [2, 1]);
    const { y, logDet } = b.forwardAndLogDet(u);
    expect(y.shape).toEqual([3, 2]);
    expect(read(c.check(y))).toEqual([1]);
    expect(read(logDet)).toEqual([0]);
    expect(read(b.inverse(y))).toBeAllclose([0.3, -1.2], { atol: 1e-6 });
    // an isometry: |y| = |u|
    expect(Math.sqrt(read(tf.sum(tf.square(y)))[0]!)).toBeCloseTo(Math.hypot(0.3, 1.2), 5);
    tf.dispose([x, pt, bad, u, y]);
    b.dispose();
    z.dispose();
  });

  it('refuses bad event shapes and scales, naming the argument, without leaks', async () => {
    await expectBadInput({
      call: 'axis of 1',
      run: () => new d.ZeroSumNormal(1, [1]),
      arg: 'eventShape',
    });
    await expectBadInput({
      call: 'no axis',
      run: () => new d.ZeroSumNormal(1, []),
      arg: 'eventShape',
    });
    await expectBadInput({
      call: 'scale <= 0',
      run: () => new d.ZeroSumNormal(-1, [3]),
      arg: 'scale',
    });
  });
});

describe('Empirical', () => {
  it('weighted masses, moments and draws (scalar events, a duplicate sample)', () => {
    const e = new d.Empirical([0, 1, 2, 1], [0, Math.log(2), 0, Math.log(0.5)]);
    // weights 1, 2, 1, 0.5 over 4.5; the value 1 appears twice: 2.5 / 4.5
    expect(expectNoLeak(() => e.logProb([0, 1, 2, 3]))).toBeAllclose(
      [Math.log(1 / 4.5), Math.log(2.5 / 4.5), Math.log(1 / 4.5), -Infinity],
      { atol: 1e-6 },
    );
    const m = (0 + 2 + 2 + 0.5) / 4.5;
    expect(expectNoLeak(() => e.mean())).toBeAllclose([m], { atol: 1e-6 });
    const v = (m * m + 2 * (1 - m) ** 2 + (2 - m) ** 2 + 0.5 * (1 - m) ** 2) / 4.5;
    expect(expectNoLeak(() => e.variance())).toBeAllclose([v], { atol: 1e-6 });
    const x = read(e.sample([9000], 3));
    const freq = [0, 1, 2].map((k) => x.filter((t) => t === k).length / x.length);
    [1 / 4.5, 2.5 / 4.5, 1 / 4.5].forEach((p, i) =>
      expect(Math.abs(freq[i]! - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / x.length)),
    );
    expect(e.sampleSize).toBe(4);
    e.dispose();
  });

  it('batches of vector events: shapes, logProb by whole events, means', () => {
    const samples = tf.tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]); // [batch 2, N 2, event 2]
    const lw = tf.tensor([
      [0, 0],
      [Math.log(3), 0],
    ]);
    const e = new d.Empirical(samples, lw);
    expect(e.batchShape).toEqual([2]);
    expect(e.eventShape).toEqual([2]);
    const lp = expectNoLeak(() =>
      e.logProb([
        [3, 4],
        [5, 6],
      ]),
    );
    expect(lp).toBeAllclose([Math.log(0.5), Math.log(0.75)], { atol: 1e-6 });
    // a partial match of the event is no match
    expect(
      read(
        e.logProb([
          [1, 4],
          [5, 8],
        ]),
      ),
    ).toEqual([-Infinity, -Infinity]);
    expect(expectNoLeak(() => e.mean())).toBeAllclose([2, 3, 5.5, 6.5], { atol: 1e-6 });
    const s = e.sample([3], 1);
    expect(s.shape).toEqual([3, 2, 2]);
    s.dispose();
    e.dispose();
    tf.dispose([samples, lw]);
  });

  it('refuses mismatched shapes and bad weights, naming the argument', async () => {
    await expectBadInput({
      call: 'shape',
      run: () => new d.Empirical([[1, 2]], [0, 0, 0]),
      arg: 'samples',
    });
    await expectBadInput({
      call: 'all -inf',
      run: () => new d.Empirical([1, 2], [-Infinity, -Infinity]),
      arg: 'logWeights',
    });
    await expectBadInput({
      call: 'NaN',
      run: () => new d.Empirical([1, 2], [0, NaN]),
      arg: 'logWeights',
    });
  });
});

describe('the zeroSum constraint in the parameter store', () => {
  it('a zeroSum(2) constraint is saved with its axes and read back', async () => {
    const { constraintFromSpec, constraintToSpec } =
      await import('../../src/ppl/constraint_spec.js');
    const spec = constraintToSpec(d.constraints.zeroSum(2));
    expect(spec).toEqual({ kind: 'zeroSum', eventDim: 2 });
    const back = constraintFromSpec(JSON.parse(JSON.stringify(spec)) as typeof spec);
    expect(back.kind).toBe('zeroSum');
    expect(back.eventDim).toBe(2);
  });
});
