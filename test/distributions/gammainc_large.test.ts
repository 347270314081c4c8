/**
 * The regularized incomplete gamma functions `P(a, x)`, `Q(a, x)` (the Gamma, InverseGamma, Chi2
 * and Poisson CDFs) at large shape, where the series and continued fraction need `O(sqrt a)`
 * terms: capped at 2000 they gave `Gamma(1e6, 2).cdf(5e5) = 0.4774` for `0.500133` (and @stdlib
 * is wrong there too). References independent of the code under test: values computed with
 * mpmath (`exp(a log x - x - loggamma(a + 1)) * hyp1f1(1, a + 1, x)`), a float64
 * series / continued fraction run to convergence with no cap on the terms (itself checked
 * against the mpmath values), the normal limit `P(a, a) = 1/2 + 1/(3 sqrt(2 pi a)) + O(1/a)` and
 * the density as the derivative of the CDF.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import gammaln from '@stdlib/math-base-special-gammaln';
import { gammaincPQ } from '../../src/distributions/special.js';
import { Chi2, Gamma, InverseGamma, Poisson } from '../../src/distributions/index.js';
import { expectNoLeak } from '../helpers.js';

/** `[a, x, P(a, x), Q(a, x)]` from mpmath (100 digits). */
const MPMATH: [number, number, number, number][] = [
  [1e6, 1e6, 0.5001329807608725, 0.4998670192391274],
  [1e7, 10010000, 0.9992147465653943, 0.0007852534346056279],
  [1e7, 9995000, 0.0569050707389934, 0.9430949292610066],
  [1e5, 99500, 0.05674182321279226, 0.9432581767872077],
  [2000, 2100, 0.9863525323166297, 0.013647467683370378],
  [20, 25, 0.8664251659143496, 0.1335748340856504],
  [1e4, 10600, 0.9999999980378075, 1.962192482133047e-9],
  [1e4, 9400, 4.64852460812127e-10, 0.9999999995351475],
  [3e6, 2997000, 0.04159797890219838, 0.9584020210978016],
];

/**
 * `[P, Q]` in float64 by the power series `P = x^a e^-x / Gamma(a+1) sum_n x^n / (a+1)_n` for
 * `x < a` and Legendre's continued fraction for `Q` otherwise, each run until its terms stop
 * changing the result (no cap: ~6 sqrt(a) terms near `x = a`), with @stdlib's float64 `gammaln`.
 */
function gammaincRef(a: number, x: number): [number, number] {
  const logPre = a * Math.log(x) - x - gammaln(a);
  if (x < a) {
    let ap = a;
    let del = 1 / a;
    let sum = del;
    while (del > 1e-17 * sum) {
      ap += 1;
      del *= x / ap;
      sum += del;
    }
    const p = sum * Math.exp(logPre);
    return [p, 1 - p];
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; ; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  const q = h * Math.exp(logPre);
  return [1 - q, q];
}

function pq(a: number[], x: number[]): [number[], number[]] {
  const before = tf.memory().numTensors;
  const [p, q] = tf.tidy(() => gammaincPQ(tf.tensor1d(a), tf.tensor1d(x)));
  const out: [number[], number[]] = [Array.from(p.dataSync()), Array.from(q.dataSync())];
  tf.dispose([p, q]);
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

/** `|got - want| <= atol + rtol |want|` for each entry, reporting the worst offender. */
function expectClose(got: number[], want: number[], rtol: number, atol: number, what: string[]) {
  const bad = got
    .map((g, i) => ({
      i,
      err: Math.abs(g - (want[i] as number)) / (atol + rtol * Math.abs(want[i] as number)),
    }))
    .filter((e) => !(e.err <= 1));
  expect(
    bad.slice(0, 5).map(({ i }) => `${what[i]}: got ${got[i]}, want ${want[i]}`),
    `${bad.length} of ${got.length} off`,
  ).toEqual([]);
}

describe('regularized incomplete gamma at large shape', () => {
  it('matches mpmath (and the float64 reference does to 1e-7)', () => {
    const a = MPMATH.map((r) => r[0]);
    const x = MPMATH.map((r) => r[1]);
    const [p, q] = pq(a, x);
    const what = MPMATH.map(([ai, xi]) => `P/Q(${ai}, ${xi})`);
    expectClose(
      p,
      MPMATH.map((r) => r[2]),
      2e-5,
      1e-7,
      what,
    );
    expectClose(
      q,
      MPMATH.map((r) => r[3]),
      2e-5,
      1e-30,
      what,
    );
    const ref = MPMATH.map(([ai, xi]) => gammaincRef(ai, xi));
    expectClose(
      ref.map((r) => r[0]),
      MPMATH.map((r) => r[2]),
      1e-7,
      0,
      what,
    );
    expectClose(
      ref.map((r) => r[1]),
      MPMATH.map((r) => r[3]),
      1e-7,
      0,
      what,
    );
  });

  it('matches the uncapped float64 reference over a in [1e-3, 1e7], x/a in [0.01, 100]', () => {
    const a: number[] = [];
    const x: number[] = [];
    for (let la = -3; la <= 7; la += 0.25) {
      for (let lr = -2; lr <= 2; lr += 0.05) {
        a.push(Math.fround(10 ** la));
        x.push(Math.fround(10 ** (la + lr)));
      }
    }
    // dense around x = a, across the edge |x/a - 1| = 0.3 of Temme's region
    for (const ai of [20, 21.5, 100, 1e4, 1e6, 1e7]) {
      for (let s = -0.35; s <= 0.35; s += 0.01) {
        a.push(Math.fround(ai));
        x.push(Math.fround(ai * (1 + s)));
      }
    }
    const [p, q] = pq(a, x);
    const ref = a.map((ai, i) => gammaincRef(ai, x[i] as number));
    const what = a.map((ai, i) => `(${ai}, ${x[i]})`);
    // float32: 1e-6 absolute (Q = 1 - P where P ~ 1), 2e-5 relative
    expectClose(
      p,
      ref.map((r) => r[0]),
      2e-5,
      1e-6,
      what,
    );
    expectClose(
      q,
      ref.map((r) => r[1]),
      2e-5,
      1e-6,
      what,
    );
  });

  it('tends to the normal limit P(a, a) = 1/2 + 1/(3 sqrt(2 pi a))', () => {
    const a = [1e5, 1e6, 1e7];
    const [p, q] = pq(a, a);
    const lim = a.map((ai) => 0.5 + 1 / (3 * Math.sqrt(2 * Math.PI * ai)));
    expect(p).toBeAllclose(lim, { rtol: 0, atol: 2e-6 });
    expect(q).toBeAllclose(
      lim.map((v) => 1 - v),
      { rtol: 0, atol: 2e-6 },
    );
  });

  it('Gamma, Chi2, InverseGamma and Poisson CDFs at large parameters', () => {
    const limit = 0.5 + 1 / (3 * Math.sqrt(2 * Math.PI * 1e6)); // P(1e6, 1e6)
    const g = new Gamma(1e6, 2);
    expect(expectNoLeak(() => g.cdf(5e5))[0]).toBeCloseTo(0.500133, 5);
    const c = new Chi2(2e6);
    expect(expectNoLeak(() => c.cdf(2e6))[0]).toBeCloseTo(limit, 5);
    const ig = new InverseGamma(1e6, 1e6);
    expect(expectNoLeak(() => ig.cdf(1))[0]).toBeCloseTo(1 - limit, 5);
    // Poisson(lambda).cdf(k) = Q(k + 1, lambda)
    const po = new Poisson(1e6);
    expect(expectNoLeak(() => po.cdf(1e6))[0]).toBeCloseTo(gammaincRef(1e6 + 1, 1e6)[1], 5);
    for (const d of [g, c, ig, po]) d.dispose();
  });

  it('d/dx Gamma cdf = the density, also in Temme region (autodiff)', () => {
    const conc = [25, 300, 1e4, 1e6, 1e6, 50];
    const xs = [22, 310, 1.01e4, 1e6, 1.001e6, 80];
    const g = expectNoLeak(() =>
      tf.tidy(() => {
        const d = new Gamma(tf.tensor1d(conc), 1);
        const out = tf.grad((x: tf.Tensor) => tf.sum(d.cdf(x)))(tf.tensor1d(xs));
        d.dispose();
        return out;
      }),
    );
    const pdf = conc.map((a, i) => {
      const x = xs[i] as number;
      return Math.exp((a - 1) * Math.log(x) - x - gammaln(a));
    });
    expect(g).toBeAllclose(pdf, { rtol: 2e-5, atol: 0 });
  });

  it('d/da P(a, x) matches central differences of the float64 reference', () => {
    const a = [25, 300, 1e4, 1e6];
    const x = [22, 310, 1.01e4, 1.0005e6];
    const g = expectNoLeak(() =>
      tf.tidy(() =>
        tf.grad((t: tf.Tensor) => tf.sum(gammaincPQ(t, tf.tensor1d(x))[0]))(tf.tensor1d(a)),
      ),
    );
    const fd = a.map((ai, i) => {
      const h = 1e-4 * ai;
      return (
        (gammaincRef(ai + h, x[i] as number)[0] - gammaincRef(ai - h, x[i] as number)[0]) / (2 * h)
      );
    });
    expect(g).toBeAllclose(fd, { rtol: 2e-3, atol: 0 });
  });
});
