// Session 17: the closed-form quantiles scipy and TFP define that were missing here: Kumaraswamy,
// Pareto, AsymmetricLaplace. Values against a float64 bisection of each family's CDF, round
// trips, ends, gradients against central differences of the float64 closed form, memory.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as d } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

const F = Math.fround;
const PS = [1e-20, 1e-6, 0.01, 0.2, 0.5, 0.8, 0.99, 1 - 1e-5];

/** The x in [lo, hi] with cdf(x) = p, by 200 bisection steps in float64. */
function bisect(cdf: (x: number) => number, p: number, lo: number, hi: number): number {
  for (let i = 0; i < 200; i++) {
    const m = 0.5 * (lo + hi);
    if (cdf(m) < p) lo = m;
    else hi = m;
  }
  return 0.5 * (lo + hi);
}

const kumaCdf = (a: number, b: number) => (x: number) => -Math.expm1(b * Math.log1p(-(x ** a)));
const paretoCdf = (s: number, al: number) => (x: number) =>
  x <= s ? 0 : -Math.expm1(al * Math.log(s / x));
const alCdf = (m: number, s: number, k: number) => (x: number) => {
  const z = (x - m) / s;
  return z < 0 ? ((k * k) / (1 + k * k)) * Math.exp(z / k) : 1 - Math.exp(-k * z) / (1 + k * k);
};

function values(dist: d.Distribution, ps: number[]): number[] {
  const out = expectNoLeak(() => dist.icdf(ps));
  dist.dispose();
  return out;
}

function close(got: number[], want: number[], rtol: number, atol: number, what: string): void {
  got.forEach((g, i) => {
    const w = want[i] as number;
    expect(Math.abs(g - w), `${what} [${i}]: ${g} vs ${w}`).toBeLessThanOrEqual(
      rtol * Math.abs(w) + atol,
    );
  });
}

describe('closed-form quantiles against a float64 bisection of the CDF', () => {
  for (const [a, b] of [
    [0.3, 0.5],
    [2, 5],
    [7, 0.8],
  ] as const) {
    it(`Kumaraswamy(${a}, ${b})`, () => {
      const got = values(new d.Kumaraswamy(a, b), PS);
      const want = PS.map((p) => bisect(kumaCdf(a, b), F(p), 0, 1));
      close(got, want, 2e-6, 1e-40, 'Kumaraswamy');
    });
  }
  for (const [s, al] of [
    [1, 0.5],
    [2.5, 3],
  ] as const) {
    it(`Pareto(${s}, ${al})`, () => {
      const got = values(new d.Pareto(s, al), PS);
      const want = PS.map((p) => bisect(paretoCdf(s, al), F(p), s, 1e30));
      close(got, want, 2e-6, 0, 'Pareto');
    });
  }
  for (const k of [0.3, 1, 4]) {
    it(`AsymmetricLaplace(1, 2, ${k})`, () => {
      const got = values(new d.AsymmetricLaplace(1, 2, k), PS);
      const want = PS.map((p) => bisect(alCdf(1, 2, k), F(p), -1e4, 1e4));
      close(got, want, 2e-6, 1e-5, `AL(${k})`);
    });
  }
  it('ends of the support and a batch broadcast', () => {
    expect(values(new d.Kumaraswamy(2, 3), [0, 1])).toEqual([0, 1]);
    expect(values(new d.Pareto(2, 3), [0, 1])).toEqual([2, Infinity]);
    expect(values(new d.AsymmetricLaplace(0, 1, 2), [0, 1])).toEqual([-Infinity, Infinity]);
    const al = new d.AsymmetricLaplace([0, 1], 1, [0.5, 2]);
    const out = al.icdf([[0.1], [0.9]]);
    expect(out.shape).toEqual([2, 2]);
    out.dispose();
    al.dispose();
  });
  it('cdf(icdf(p)) = p', () => {
    for (const dist of [
      new d.Kumaraswamy(2, 5),
      new d.Pareto(1, 2),
      new d.AsymmetricLaplace(0, 1, 3),
    ]) {
      const ps = [0.01, 0.3, 0.5, 0.7, 0.99];
      const back = expectNoLeak(() => tf.tidy(() => dist.cdf(dist.icdf(ps))));
      close(back, ps, 1e-5, 1e-6, dist.name);
      dist.dispose();
    }
  });
});

describe('closed-form quantile gradients against central differences in float64', () => {
  const fd = (f: (x: number) => number, x: number, h: number): number =>
    (f(x + h) - f(x - h)) / (2 * h);
  it('Kumaraswamy d/dp, d/da, d/db', () => {
    const q = (p: number, a: number, b: number): number => (1 - (1 - p) ** (1 / b)) ** (1 / a);
    const [gp, ga, gb] = tf
      .grads((pp: tf.Tensor, aa: tf.Tensor, bb: tf.Tensor) => {
        const k = new d.Kumaraswamy(aa, bb);
        const x = k.icdf(pp);
        k.dispose();
        return x;
      })([tf.scalar(0.3), tf.scalar(2), tf.scalar(5)])
      .map((g) => g.dataSync()[0] as number);
    const p = F(0.3);
    close([gp as number], [fd((x) => q(x, 2, 5), p, 1e-6)], 1e-3, 0, 'dp');
    close([ga as number], [fd((x) => q(p, x, 5), 2, 1e-6)], 1e-3, 0, 'da');
    close([gb as number], [fd((x) => q(p, 2, x), 5, 1e-6)], 1e-3, 0, 'db');
  });
  it('AsymmetricLaplace d/dp, d/dkappa on both sides of the mode', () => {
    for (const pv of [0.1, 0.9]) {
      const q = (p: number, k: number): number => bisect(alCdf(1, 2, k), p, -1e3, 1e3);
      const [gp, gk] = tf
        .grads((pp: tf.Tensor, kk: tf.Tensor) => {
          const dist = new d.AsymmetricLaplace(1, 2, kk);
          const x = dist.icdf(pp);
          dist.dispose();
          return x;
        })([tf.scalar(pv), tf.scalar(1.7)])
        .map((g) => g.dataSync()[0] as number);
      const p = F(pv);
      const k = F(1.7);
      close([gp as number], [fd((x) => q(x, k), p, 1e-5)], 1e-3, 0, `dp ${pv}`);
      close([gk as number], [fd((x) => q(p, x), k, 1e-5)], 1e-3, 0, `dk ${pv}`);
    }
  });
});
