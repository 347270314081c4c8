// Session 17: quantiles (icdf) of Gamma, Chi2, InverseGamma, Beta, BetaProportion, StudentT and
// FisherSnedecor, checked against @stdlib's float64 quantiles (Boost's inverses), round trips
// cdf(icdf(p)) = p, gradients against central differences of the float64 reference, memory, and
// the bad-probability handling shared with the closed-form families.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import gammaQ from '@stdlib/stats-base-dists-gamma-quantile';
import betaQ from '@stdlib/stats-base-dists-beta-quantile';
import tQ from '@stdlib/stats-base-dists-t-quantile';
import invgammaQ from '@stdlib/stats-base-dists-invgamma-quantile';
import { ArgumentError, distributions as d } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

const F = Math.fround;
const PS = [1e-30, 1e-10, 1e-4, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 1 - 1e-4, F(1 - 6e-8)];

/** `|got - want| <= rtol |want| + atol` elementwise (atol covers float32 underflow). */
function expectClose(got: number[], want: number[], rtol: number, atol = 1e-37, what = ''): void {
  got.forEach((g, i) => {
    const w = want[i] as number;
    if (!Number.isFinite(w)) {
      expect(g, `${what} [${i}]`).toBe(w);
      return;
    }
    expect(Math.abs(g - w), `${what} [${i}]: got ${g}, want ${w}`).toBeLessThanOrEqual(
      rtol * Math.abs(w) + atol,
    );
  });
}

function icdfValues(dist: d.Distribution, ps: number[]): number[] {
  const out = expectNoLeak(() => dist.icdf(ps));
  dist.dispose();
  return out;
}

/**
 * `P^{-1}(1000, p)` and `Q^{-1}(1000, p)` at the float32 `PS` from scipy's `gammaincinv` /
 * `gammainccinv` (Boost; `P(1000, 1001) = 0.51681145292978622` agrees with mpmath to 16 digits).
 * @stdlib's `gammainc` is 2% off near the mode there (`P(1000, 1001)` = 0.5047, so its quantile
 * of 0.7 is 1016.88 for 1016.338): not a reference at this shape.
 */
const GAMMA1000_P = [
  679.6306546331151, 811.7987627739192, 886.648261228893, 927.9081595443756, 959.6939329900658,
  983.1784478299398, 999.6666864269652, 1016.3382502826546, 1040.7343036018492, 1075.0328439595594,
  1121.9027468145844, 1176.5392949858183,
];
const GAMMA1000_Q = [
  1407.1886401466727, 1214.4995562500792, 1121.9041777161578, 1075.0328323647113, 1040.73430773795,
  1016.3382502826546, 999.6666864269652, 983.1784478299398, 959.693936908553, 927.9081490332501,
  886.6494843174225, 841.4770332297194,
];

describe('Gamma / Chi2 / InverseGamma quantiles against @stdlib', () => {
  const shapes = [0.01, 0.1, 0.5, 1, 2.5, 30];
  for (const rate of [1, 3.5]) {
    it(`Gamma(1000, ${rate}) against scipy's values`, () => {
      const got = icdfValues(new d.Gamma(1000, rate), PS);
      expectClose(
        got,
        GAMMA1000_P.map((x) => x / rate),
        2e-6,
      );
    });
  }
  it('InverseGamma(1000, 2) against scipy', () => {
    const got = icdfValues(new d.InverseGamma(1000, 2), PS);
    expectClose(
      got,
      GAMMA1000_Q.map((x) => 2 / x),
      2e-6,
    );
  });
  for (const a of shapes) {
    for (const rate of [1, 3.5]) {
      it(`Gamma(${a}, ${rate})`, () => {
        const got = icdfValues(new d.Gamma(a, rate), PS);
        const want = PS.map((p) => gammaQ(F(p), a, rate));
        expectClose(got, want, 2e-6, 1e-37, `Gamma(${a})`);
      });
    }
    it(`InverseGamma(${a}, 2)`, () => {
      const got = icdfValues(new d.InverseGamma(a, 2), PS);
      const want = PS.map((p) => invgammaQ(F(p), a, 2));
      // float32 overflow of the largest quantiles (a = 0.01: 1e30 at p = 0.5) is Infinity
      const want32 = want.map((w) => (w > 3.4e38 ? Infinity : w));
      expectClose(got, want32, 2e-6, 1e-37, `InverseGamma(${a})`);
    });
  }
  it('Chi2(k) is Gamma(k/2, 1/2): a batch of degrees of freedom', () => {
    const ks = [0.3, 1, 7, 200];
    const chi = new d.Chi2(ks);
    const got = expectNoLeak(() => chi.icdf(0.95));
    chi.dispose();
    expectClose(
      got,
      ks.map((k) => gammaQ(F(0.95), k / 2, 0.5)),
      2e-6,
    );
  });
  it('broadcasts p [3, 1] against a batch [2]: shape [3, 2]', () => {
    const g = new d.Gamma([0.7, 4], [1, 2]);
    const out = g.icdf([[0.1], [0.5], [0.9]]);
    expect(out.shape).toEqual([3, 2]);
    const want = [0.1, 0.5, 0.9].flatMap((p) => [gammaQ(F(p), 0.7, 1), gammaQ(F(p), 4, 2)]);
    expectClose(Array.from(out.dataSync()), want, 2e-6);
    out.dispose();
    g.dispose();
  });
  it('shapes beyond 1e8 (Wilson–Hilferty) stay accurate', () => {
    const got = icdfValues(new d.Gamma(1e9, 1e9), [0.01, 0.5, 0.99]);
    const want = [0.01, 0.5, 0.99].map((p) => gammaQ(F(p), 1e9, 1e9));
    expectClose(got, want, 2e-6);
  });
});

describe('Beta / BetaProportion / StudentT / FisherSnedecor quantiles', () => {
  const pairs: [number, number][] = [
    [0.05, 0.05],
    [0.01, 2],
    [0.5, 0.5],
    [1, 1],
    [2, 5],
    [30, 0.2],
    [1000, 3],
    [300, 500],
  ];
  for (const [a, b] of pairs) {
    it(`Beta(${a}, ${b})`, () => {
      const got = icdfValues(new d.Beta(a, b), PS);
      const want = PS.map((p) => betaQ(F(p), a, b));
      // x within a float32 ulp of 1 rounds to 1
      expectClose(got, want, 2e-6, 1e-37, `Beta(${a}, ${b})`);
    });
  }
  it('BetaProportion(0.3, 4) is Beta(1.2, 2.8)', () => {
    const got = icdfValues(new d.BetaProportion(0.3, 4), [0.05, 0.5, 0.95]);
    const want = [0.05, 0.5, 0.95].map((p) => betaQ(F(p), F(0.3) * 4, 4 - F(0.3) * 4));
    expectClose(got, want, 1e-5);
  });
  for (const nu of [0.5, 1, 2, 3.5, 30, 1e4, 1e6, 1e9]) {
    it(`StudentT(${nu}, 1.5, 2)`, () => {
      const ps = PS.filter((p) => nu > 0.6 || p >= 1e-10);
      const got = icdfValues(new d.StudentT(nu, 1.5, 2), ps);
      const want = ps.map((p) => F(1.5 + 2 * tQ(F(p), nu)));
      const w32 = want.map((w) => (Math.abs(w) > 3.4e38 ? Math.sign(w) * Infinity : w));
      expectClose(got, w32, 2e-6, 2e-7, `StudentT(${nu})`);
    });
  }
  it('StudentT(0.5): p = 1e-30 is beyond float32 (-Infinity), as the float64 value 1e60 would be', () => {
    const got = icdfValues(new d.StudentT(0.5), [1e-30, 1 - 6e-8]);
    expect(got[0]).toBe(-Infinity);
    const want = tQ(F(1 - 6e-8), 0.5);
    expect(Math.abs((got[1] as number) - want)).toBeLessThan(2e-6 * want);
  });
  it('FisherSnedecor(d1, d2) quantile: (d2/d1) x/(1-x) of the Beta(d1/2, d2/2) quantile', () => {
    for (const [d1, d2] of [
      [3, 5],
      [0.4, 12],
      [50, 0.7],
    ] as const) {
      const got = icdfValues(new d.FisherSnedecor(d1, d2), PS.slice(1, -1));
      // 1 - x as the quantile of 1 - p under Beta(d2/2, d1/2): no cancellation near x = 1
      const want = PS.slice(1, -1).map((p) => {
        const x = betaQ(F(p), d1 / 2, d2 / 2);
        return ((d2 / d1) * x) / betaQ(1 - F(p), d2 / 2, d1 / 2);
      });
      expectClose(got, want, 2e-6, 1e-37, `F(${d1}, ${d2})`);
    }
  });
});

describe('quantile ends, round trips and bad probabilities', () => {
  it('p = 0 and p = 1 give the ends of the support', () => {
    expect(icdfValues(new d.Gamma(2, 1), [0, 1])).toEqual([0, Infinity]);
    expect(icdfValues(new d.InverseGamma(2, 1), [0, 1])).toEqual([0, Infinity]);
    expect(icdfValues(new d.Beta(0.3, 4), [0, 1])).toEqual([0, 1]);
    expect(icdfValues(new d.StudentT(3, 1, 2), [0, 1])).toEqual([-Infinity, Infinity]);
    expect(icdfValues(new d.FisherSnedecor(3, 4), [0, 1])).toEqual([0, Infinity]);
  });
  it('cdf(icdf(p)) = p', () => {
    const ps = [0.001, 0.02, 0.25, 0.5, 0.75, 0.98, 0.999];
    for (const dist of [
      new d.Gamma([0.2, 3, 400], 2),
      new d.Beta([0.5, 2, 200], [0.8, 7, 90]),
      new d.StudentT([0.7, 4, 5e3], 1, 3),
      new d.InverseGamma([0.6, 5, 80], 1.5),
      new d.FisherSnedecor([1, 6, 30], [2, 9, 40]),
    ]) {
      const p = tf.tensor(ps).reshape([7, 1]);
      const back = expectNoLeak(() => tf.tidy(() => dist.cdf(dist.icdf(p))));
      back.forEach((v, i) => {
        const want = ps[Math.floor(i / 3)] as number;
        expect(Math.abs(v - want), `${dist.name} [${i}]`).toBeLessThan(2e-5 + 2e-4 * want);
      });
      p.dispose();
      dist.dispose();
    }
  });
  it('a probability outside [0, 1] is an ArgumentError naming value, NaN without validation (as Normal)', () => {
    for (const make of [
      (v: boolean) => new d.Gamma(2, 1, { validateArgs: v }),
      (v: boolean) => new d.Beta(2, 1, { validateArgs: v }),
      (v: boolean) => new d.StudentT(2, 0, 1, { validateArgs: v }),
      (v: boolean) => new d.Normal(0, 1, { validateArgs: v }),
    ]) {
      const checked = make(true);
      expect(() => checked.icdf([0.5, 1.5])).toThrow(ArgumentError);
      expect(() => checked.icdf([-0.1])).toThrow(/value/);
      checked.dispose();
      const free = make(false);
      const out = expectNoLeak(() => free.icdf([1.5, -0.5, NaN]));
      expect(out.every((v) => Number.isNaN(v))).toBe(true);
      free.dispose();
    }
  });
});

/** Central difference of a float64 function. */
function fd(f: (x: number) => number, x: number, h: number): number {
  return (f(x + h) - f(x - h)) / (2 * h);
}

describe('quantile gradients against central differences of the float64 reference', () => {
  it('Gamma: d/dp, d/dalpha, d/dbeta', () => {
    for (const [a, rate, p] of [
      [0.3, 1.5, 0.2],
      [2.5, 0.7, 0.9],
      [40, 2, 0.05],
      [0.05, 1, 0.6],
    ] as const) {
      const pt = tf.scalar(p);
      const at = tf.scalar(a);
      const bt = tf.scalar(rate);
      const before = tf.memory().numTensors;
      const grads = tf.grads((pp: tf.Tensor, aa: tf.Tensor, bb: tf.Tensor) => {
        const g = new d.Gamma(aa, bb);
        const x = g.icdf(pp);
        g.dispose();
        return x;
      })([pt, at, bt]);
      const [gp, ga, gb] = grads.map((g) => g.dataSync()[0] as number);
      grads.forEach((g) => g.dispose());
      expect(tf.memory().numTensors).toBe(before);
      const pf = F(p);
      const af = F(a);
      const bf = F(rate);
      const wp = fd((q) => gammaQ(q, af, bf), pf, 1e-6 * Math.min(pf, 1 - pf));
      const wa = fd((s) => gammaQ(pf, s, bf), af, 1e-5 * af);
      const wb = fd((r) => gammaQ(pf, af, r), bf, 1e-5 * bf);
      expect(Math.abs((gp as number) - wp)).toBeLessThan(1e-4 * Math.abs(wp));
      expect(Math.abs((ga as number) - wa)).toBeLessThan(1e-4 * Math.abs(wa) + 1e-30);
      expect(Math.abs((gb as number) - wb)).toBeLessThan(1e-4 * Math.abs(wb) + 1e-30);
      tf.dispose([pt, at, bt]);
    }
  });
  it('Beta: d/dp, d/da, d/db; StudentT: d/dp, d/dnu, d/dloc, d/dscale; InverseGamma: d/dalpha', () => {
    for (const [a, b, p] of [
      [0.5, 0.5, 0.3],
      [2, 5, 0.9],
      [0.1, 3, 0.7],
      [80, 20, 0.02],
    ] as const) {
      const [gp, ga, gb] = tf
        .grads((pp: tf.Tensor, aa: tf.Tensor, bb: tf.Tensor) => {
          const dist = new d.Beta(aa, bb);
          const x = dist.icdf(pp);
          dist.dispose();
          return x;
        })([tf.scalar(p), tf.scalar(a), tf.scalar(b)])
        .map((g) => g.dataSync()[0] as number);
      const [pf, af, bf] = [F(p), F(a), F(b)];
      const wp = fd((q) => betaQ(q, af, bf), pf, 1e-6 * Math.min(pf, 1 - pf));
      const wa = fd((s) => betaQ(pf, s, bf), af, 1e-5 * af);
      const wb = fd((s) => betaQ(pf, af, s), bf, 1e-5 * bf);
      expect(Math.abs((gp as number) - wp), `Beta(${a}, ${b}) dp`).toBeLessThan(
        1e-4 * Math.abs(wp),
      );
      expect(Math.abs((ga as number) - wa), `Beta(${a}, ${b}) da`).toBeLessThan(
        1e-4 * Math.abs(wa),
      );
      expect(Math.abs((gb as number) - wb), `Beta(${a}, ${b}) db`).toBeLessThan(
        1e-4 * Math.abs(wb),
      );
    }
    for (const [nu, p] of [
      [0.8, 0.1],
      [3, 0.3],
      [3, 0.8],
      [25, 0.999],
      [3e7, 0.9],
    ] as const) {
      const [gp, gn, gl, gs] = tf
        .grads((pp: tf.Tensor, nn: tf.Tensor, ll: tf.Tensor, ss: tf.Tensor) => {
          const dist = new d.StudentT(nn, ll, ss);
          const x = dist.icdf(pp);
          dist.dispose();
          return x;
        })([tf.scalar(p), tf.scalar(nu), tf.scalar(0.5), tf.scalar(2)])
        .map((g) => g.dataSync()[0] as number);
      const [pf, nf] = [F(p), F(nu)];
      const wp = 2 * fd((q) => tQ(q, nf), pf, 1e-6 * Math.min(pf, 1 - pf));
      const wn = 2 * fd((s) => tQ(pf, s), nf, 1e-4 * nf);
      expect(Math.abs((gp as number) - wp), `t(${nu}) dp`).toBeLessThan(1e-4 * Math.abs(wp));
      expect(Math.abs((gn as number) - wn), `t(${nu}) dnu`).toBeLessThan(
        1e-3 * Math.abs(wn) + 1e-12,
      );
      expect(gl).toBeCloseTo(1, 6);
      expect(Math.abs((gs as number) - tQ(pf, nf))).toBeLessThan(1e-5 * Math.abs(tQ(pf, nf)));
    }
    const ga = tf
      .grad((aa: tf.Tensor) => {
        const dist = new d.InverseGamma(aa, 2);
        const x = dist.icdf(0.3);
        dist.dispose();
        return x;
      })(tf.scalar(3))
      .dataSync()[0] as number;
    const wa = fd((s) => invgammaQ(F(0.3), s, 2), 3, 1e-5);
    expect(Math.abs(ga - wa)).toBeLessThan(1e-4 * Math.abs(wa));
  });
  it('a zero upstream at a support end gives a zero gradient, not NaN', () => {
    const g = tf.grad((pp: tf.Tensor) => {
      const dist = new d.Gamma(3, 1);
      const x = tf.sum(tf.where(tf.isFinite(dist.icdf(pp)), dist.icdf(pp), tf.zerosLike(pp)));
      dist.dispose();
      return x;
    })(tf.tensor([0, 0.5, 1]));
    const v = Array.from(g.dataSync());
    expect(v.every((x) => !Number.isNaN(x))).toBe(true);
    expect(v[2]).toBe(0);
    g.dispose();
  });
});

describe('the public quantile ops', () => {
  it('free what they make outside any tidy, match the families, and name a bad broadcast', () => {
    const a = tf.tensor([0.5, 3]);
    const b = tf.tensor([[2], [7]]);
    const p = tf.tensor([0.25, 0.75]);
    const before = tf.memory().numTensors;
    const g = d.gammaQuantile(a, p);
    const bq = d.betaQuantile(a, b, p);
    const odds = d.betaQuantile(a, b, p, 'odds');
    const t = d.studentTQuantile(a, p);
    const gu = d.gammaQuantile(a, p, true);
    expect(tf.memory().numTensors).toBe(before + 5);
    expect(bq.shape).toEqual([2, 2]);
    expectClose(Array.from(g.dataSync()), [gammaQ(0.25, 0.5, 1), gammaQ(0.75, 3, 1)], 2e-6);
    expectClose(Array.from(gu.dataSync()), [gammaQ(0.75, 0.5, 1), gammaQ(0.25, 3, 1)], 2e-6);
    expectClose(Array.from(t.dataSync()), [tQ(0.25, 0.5), tQ(0.75, 3)], 2e-6);
    const x = Array.from(bq.dataSync());
    expectClose(
      Array.from(odds.dataSync()),
      x.map((v) => v / (1 - v)),
      1e-5,
    );
    expectClose(
      x,
      [betaQ(0.25, 0.5, 2), betaQ(0.75, 3, 2), betaQ(0.25, 0.5, 7), betaQ(0.75, 3, 7)],
      2e-6,
    );
    tf.dispose([g, bq, odds, t, gu]);
    expect(tf.memory().numTensors).toBe(before);
    const bad = tf.tensor([0.1, 0.2, 0.3]);
    expect(() => d.gammaQuantile(a, bad)).toThrow(ArgumentError);
    expect(() => d.gammaQuantile(a, bad)).toThrow(/\bp\b/);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([a, b, p, bad]);
  });
});

describe('FisherSnedecor quantile gradients', () => {
  it('d/dp, d/dd1, d/dd2 against central differences of the float64 Beta-odds reference', () => {
    const ref = (p: number, d1: number, d2: number): number => {
      const x = betaQ(p, d1 / 2, d2 / 2);
      return ((d2 / d1) * x) / betaQ(1 - p, d2 / 2, d1 / 2);
    };
    for (const [p, d1, d2] of [
      [0.2, 3, 7],
      [0.9, 5, 2.5],
    ] as const) {
      const inputs = [tf.scalar(p), tf.scalar(d1), tf.scalar(d2)];
      const grads = tf.grads((pp: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => {
        const dist = new d.FisherSnedecor(a, b);
        const x = dist.icdf(pp);
        dist.dispose();
        return x;
      })(inputs);
      const [gp, g1, g2] = grads.map((g) => g.dataSync()[0] as number);
      tf.dispose([...grads, ...inputs]);
      const pf = F(p);
      const wp = fd((q) => ref(q, d1, d2), pf, 1e-6);
      const w1 = fd((s) => ref(pf, s, d2), d1, 1e-5 * d1);
      const w2 = fd((s) => ref(pf, d1, s), d2, 1e-5 * d2);
      expect(Math.abs((gp as number) - wp), 'dp').toBeLessThan(1e-4 * Math.abs(wp));
      expect(Math.abs((g1 as number) - w1), 'dd1').toBeLessThan(1e-4 * Math.abs(w1));
      expect(Math.abs((g2 as number) - w2), 'dd2').toBeLessThan(1e-4 * Math.abs(w2));
    }
  });
});
