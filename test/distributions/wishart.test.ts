/**
 * Wishart (torch's parameterization) and InverseWishart: log-densities against the textbook
 * densities written here in float64, the three scale parameterizations against each other, the
 * inverse-Wishart change of variables, Monte Carlo means/variances/entropies/KLs of the
 * Bartlett draws within standard-error tolerances, the reparameterized gradient in `df`, and
 * argument errors.
 */
import * as tf from '@tensorflow/tfjs';
import gammaln from '@stdlib/math-base-special-gammaln';
import { describe, expect, it } from 'vitest';
import {
  InverseWishart,
  LKJ,
  Wishart,
  klDivergence,
  constraints,
} from '../../src/distributions/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { expectNoLeak } from '../helpers.js';
import { cholesky } from '../fixtures/float64.js';

type M = number[][];
const read = (t: tf.Tensor): number[] => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};
const mvlgamma = (a: number, p: number): number => {
  let s = (p * (p - 1) * Math.log(Math.PI)) / 4;
  for (let j = 1; j <= p; j++) s += gammaln(a + (1 - j) / 2);
  return s;
};
// small float64 linear algebra
const matmul = (a: M, b: M): M =>
  a.map((r) => b[0]!.map((_, j) => r.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
function inv(a: M): M {
  const n = a.length;
  const m = a.map((r, i) => [...r, ...r.map((_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[p], m[c]] = [m[c]!, m[p]!];
    const piv = m[c]![c]!;
    for (let k = 0; k < 2 * n; k++) m[c]![k]! /= piv;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]!;
      for (let k = 0; k < 2 * n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((r) => r.slice(n));
}
function det(a: M): number {
  if (a.length === 1) return a[0]![0]!;
  return a[0]!.reduce(
    (s, v, j) => s + (j % 2 ? -1 : 1) * v * det(a.slice(1).map((r) => r.filter((_, k) => k !== j))),
    0,
  );
}
const trace = (a: M): number => a.reduce((s, r, i) => s + r[i]!, 0);
/** Textbook Wishart log-density (Bishop 2.155). */
function wishartLogPdf(x: M, nu: number, s: M): number {
  const p = x.length;
  return (
    ((nu - p - 1) / 2) * Math.log(det(x)) -
    trace(matmul(inv(s), x)) / 2 -
    ((nu * p) / 2) * Math.LN2 -
    (nu / 2) * Math.log(det(s)) -
    mvlgamma(nu / 2, p)
  );
}
/** Textbook inverse-Wishart log-density. */
function invWishartLogPdf(x: M, nu: number, psi: M): number {
  const p = x.length;
  return (
    (nu / 2) * Math.log(det(psi)) -
    ((nu + p + 1) / 2) * Math.log(det(x)) -
    trace(matmul(psi, inv(x))) / 2 -
    ((nu * p) / 2) * Math.LN2 -
    mvlgamma(nu / 2, p)
  );
}
const SIGMA: M = [
  [2, 0.6, -0.3],
  [0.6, 1.5, 0.4],
  [-0.3, 0.4, 0.9],
];
const XS: M[] = [
  [
    [3, 1, 0.2],
    [1, 4, -0.5],
    [0.2, -0.5, 2],
  ],
  [
    [0.5, 0.1, 0],
    [0.1, 0.8, 0.3],
    [0, 0.3, 1.2],
  ],
];

/** Sample mean and its standard error per entry of draws `[n, p, p]`. */
function moments(
  v: number[],
  n: number,
  k: number,
): { mean: number[]; se: number[]; vari: number[]; seVar: number[] } {
  const mean = Array<number>(k).fill(0);
  const m2 = Array<number>(k).fill(0);
  const m4 = Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) mean[j]! += v[i * k + j]! / n;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < k; j++) {
      const d = v[i * k + j]! - mean[j]!;
      m2[j]! += (d * d) / n;
      m4[j]! += d ** 4 / n;
    }
  return {
    mean,
    se: m2.map((s) => Math.sqrt(s / n)),
    vari: m2,
    seVar: m4.map((q, j) => Math.sqrt((q - m2[j]! ** 2) / n)),
  };
}

describe('Wishart', () => {
  it('logProb equals the textbook density for each of covarianceMatrix / precisionMatrix / scaleTril, with a batch of df; no leaks', () => {
    const nus = [3.5, 7];
    const ds = [
      new Wishart(nus, { covarianceMatrix: SIGMA }),
      new Wishart(nus, { precisionMatrix: inv(SIGMA) }),
      new Wishart(nus, { scaleTril: cholesky(SIGMA) }),
    ];
    for (const d of ds) {
      expect(d.batchShape).toEqual([2]);
      expect(d.eventShape).toEqual([3, 3]);
      const lp = expectNoLeak(() => d.logProb(XS));
      nus.forEach((nu, i) => expect(lp[i]).toBeCloseTo(wishartLogPdf(XS[i]!, nu, SIGMA), 3));
      d.dispose();
    }
    // a sample dim in front of the batch
    const d = new Wishart(5, { covarianceMatrix: SIGMA });
    const lp = read(d.logProb([XS, XS]));
    expect(lp.length).toBe(4);
    expect(lp[3]).toBeCloseTo(wishartLogPdf(XS[1]!, 5, SIGMA), 3);
    d.dispose();
  });

  it('Bartlett draws: Monte Carlo mean nu Sigma and variance nu (S_ij^2 + S_ii S_jj) within 4.5 standard errors; mode, support', () => {
    const nu = 6.5;
    const d = new Wishart(nu, { covarianceMatrix: SIGMA });
    const n = 20000;
    const x = d.sample([n], 3);
    expect(constraints.positiveDefinite.checkAll(tf.slice(x, [0, 0, 0], [200, 3, 3]))).toBe(true);
    const { mean, se, vari, seVar } = moments(read(x), n, 9);
    const wantMean = expectNoLeak(() => d.mean());
    const wantVar = expectNoLeak(() => d.variance());
    for (let k = 0; k < 9; k++) {
      const [i, j] = [Math.floor(k / 3), k % 3];
      expect(wantMean[k]).toBeCloseTo(nu * SIGMA[i]![j]!, 4);
      expect(wantVar[k]).toBeCloseTo(nu * (SIGMA[i]![j]! ** 2 + SIGMA[i]![i]! * SIGMA[j]![j]!), 3);
      expect(Math.abs(mean[k]! - wantMean[k]!)).toBeLessThan(4.5 * se[k]!);
      expect(Math.abs(vari[k]! - wantVar[k]!)).toBeLessThan(4.5 * seVar[k]!);
    }
    const mode = expectNoLeak(() => d.mode());
    mode.forEach((v, k) => expect(v).toBeCloseTo((nu - 4) * SIGMA[Math.floor(k / 3)]![k % 3]!, 4));
    d.dispose();
    // mode undefined for nu <= p + 1 (torch: NaN)
    const low = new Wishart([3.5, 5], { covarianceMatrix: SIGMA });
    const m = read(low.mode());
    expect(m.slice(0, 9).every(Number.isNaN)).toBe(true);
    expect(m[9]).toBeCloseTo(SIGMA[0]![0]! * 1, 4);
    low.dispose();
  });

  it('entropy and KL(W || W) agree with Monte Carlo (5 standard errors)', () => {
    const p = new Wishart(5, { covarianceMatrix: SIGMA });
    const q = new Wishart(6.5, {
      covarianceMatrix: [
        [1.5, 0.2, 0],
        [0.2, 1, 0.1],
        [0, 0.1, 1.2],
      ],
    });
    const n = 20000;
    const x = p.sample([n], 9);
    const lp = read(p.logProb(x));
    const lq = read(q.logProb(x));
    x.dispose();
    const mc = (v: number[]): [number, number] => {
      const m = v.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
      return [m, sd / Math.sqrt(n)];
    };
    const [h, hse] = mc(lp.map((v) => -v));
    const [kl, klse] = mc(lp.map((v, i) => v - lq[i]!));
    expect(Math.abs(expectNoLeak(() => p.entropy())[0]! - h)).toBeLessThan(5 * hse);
    expect(Math.abs(expectNoLeak(() => klDivergence(p, q))[0]! - kl)).toBeLessThan(5 * klse);
    expect(expectNoLeak(() => klDivergence(p, p))[0]).toBeCloseTo(0, 4);
    p.dispose();
    q.dispose();
  });

  it('rsample is reparameterized: d E[tr X]/d df = tr Sigma and d E[tr X]/d L = 2 nu L (Monte Carlo, 5%)', () => {
    const l = tf.tensor2d(cholesky(SIGMA));
    const df = tf.scalar(5);
    const n = 4000;
    const [gDf, gL] = tf.tidy(() =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) => {
        const d = new Wishart(a, { scaleTril: b });
        const x = d.rsample([n], 4);
        return tf.div(tf.sum(tf.mul(x, tf.eye(3))), n);
      })([df, l]),
    ) as [tf.Tensor, tf.Tensor];
    const trS = SIGMA[0]![0]! + SIGMA[1]![1]! + SIGMA[2]![2]!;
    expect(Math.abs(read(gDf)[0]! / trS - 1)).toBeLessThan(0.05);
    const want = cholesky(SIGMA)
      .flat()
      .map((v) => 2 * 5 * v);
    read(gL).forEach((v, k) =>
      expect(Math.abs(v - want[k]!)).toBeLessThan(0.05 * Math.abs(want[0]!)),
    );
    tf.dispose([l, df]);
  });

  it('logProb is differentiable in df and the scale (finite differences of the textbook density)', () => {
    const nu = 5.5;
    const h = 1e-5;
    const x = XS[0]!;
    const dNu = (wishartLogPdf(x, nu + h, SIGMA) - wishartLogPdf(x, nu - h, SIGMA)) / (2 * h);
    const s01 = (d: number): M => SIGMA.map((r, i) => r.map((v, j) => (i + j === 1 ? v + d : v)));
    const dS = (wishartLogPdf(x, nu, s01(h)) - wishartLogPdf(x, nu, s01(-h))) / (2 * h);
    const g = expectNoLeak(() =>
      tf.tidy(() => {
        const [gNu, gS] = tf.grads((n: tf.Tensor, s: tf.Tensor) =>
          new Wishart(n, { covarianceMatrix: s }).logProb(x),
        )([tf.scalar(nu), tf.tensor2d(SIGMA)]);
        return tf.concat([tf.reshape(gNu as tf.Tensor, [1]), tf.reshape(gS as tf.Tensor, [9])]);
      }),
    );
    expect(g[0]).toBeCloseTo(dNu, 3);
    // the Cholesky reads the lower triangle: the symmetric perturbation's derivative is the (1, 0) entry's
    expect((g[1 + 3] as number) + (g[1 + 1] as number)).toBeCloseTo(dS, 3);
  });

  it('refuses df <= p - 1, non-square or non-PD scales, zero or two scale keys, naming the argument, without leaking', () => {
    const bad: Array<[() => unknown, RegExp]> = [
      [() => new Wishart(1.5, { covarianceMatrix: SIGMA }), /df.*> 2/],
      [() => new Wishart([4, 2], { covarianceMatrix: SIGMA }), /df/],
      [
        () =>
          new Wishart(4, {
            covarianceMatrix: [
              [1, 0, 0],
              [0, 1, 0],
            ],
          }),
        /covarianceMatrix.*square/,
      ],
      [() => new Wishart(4, { covarianceMatrix: [1, 2] }), /covarianceMatrix.*square/],
      [
        () =>
          new Wishart(4, {
            covarianceMatrix: [
              [1, 2],
              [2, 1],
            ],
          }),
        /covarianceMatrix.*positive-definite/,
      ],
      [
        () =>
          new Wishart(4, {
            scaleTril: [
              [1, 1],
              [0, 1],
            ],
          }),
        /scaleTril/,
      ],
      [() => new Wishart(4, {} as never), /scale.*exactly one/],
      [
        () => new Wishart(4, { covarianceMatrix: SIGMA, scaleTril: SIGMA } as never),
        /scale.*exactly one/,
      ],
      [() => new Wishart([4, 5, 6], { covarianceMatrix: [SIGMA, SIGMA] }), /df|covarianceMatrix/],
    ];
    for (const [make, re] of bad) {
      expectNoLeak(() => {
        expect(make).toThrow(ArgumentError);
        expect(make).toThrow(re);
      });
    }
    const d = new Wishart(4, { covarianceMatrix: SIGMA });
    expectNoLeak(() => {
      expect(() =>
        d.logProb([
          [1, 2, 0],
          [2, 1, 0],
          [0, 0, 1],
        ]),
      ).toThrow(/value.*positiveDefinite/);
    });
    d.dispose();
  });
});

describe('InverseWishart', () => {
  const PSI = SIGMA;
  it('logProb equals the textbook density and the Wishart of the inverse with the Jacobian |X|^{-(p+1)}; {scaleTril} gives the same; no leaks', () => {
    const nus = [3.5, 8];
    for (const d of [
      new InverseWishart(nus, PSI),
      new InverseWishart(nus, { scaleTril: cholesky(PSI) }),
    ]) {
      const lp = expectNoLeak(() => d.logProb(XS));
      nus.forEach((nu, i) => {
        expect(lp[i]).toBeCloseTo(invWishartLogPdf(XS[i]!, nu, PSI), 3);
        const viaW = wishartLogPdf(inv(XS[i]!), nu, inv(PSI)) - (3 + 1) * Math.log(det(XS[i]!));
        expect(lp[i]).toBeCloseTo(viaW, 3);
      });
      d.dispose();
    }
  });

  it('draws: Monte Carlo mean Psi/(nu - p - 1) and variance within 4.5 standard errors; mode Psi/(nu + p + 1); undefined moments', () => {
    const nu = 16;
    const d = new InverseWishart(nu, PSI);
    const n = 20000;
    const { mean, se, vari, seVar } = moments(read(d.sample([n], 8)), n, 9);
    const wantMean = expectNoLeak(() => d.mean());
    const wantVar = expectNoLeak(() => d.variance());
    for (let k = 0; k < 9; k++) {
      const [i, j] = [Math.floor(k / 3), k % 3];
      expect(wantMean[k]).toBeCloseTo(PSI[i]![j]! / (nu - 4), 5);
      const v =
        ((nu - 3 + 1) * PSI[i]![j]! ** 2 + (nu - 3 - 1) * PSI[i]![i]! * PSI[j]![j]!) /
        ((nu - 3) * (nu - 4) ** 2 * (nu - 6));
      expect(wantVar[k]).toBeCloseTo(v, 5);
      expect(Math.abs(mean[k]! - wantMean[k]!)).toBeLessThan(4.5 * se[k]!);
      expect(Math.abs(vari[k]! - wantVar[k]!)).toBeLessThan(4.5 * seVar[k]!);
    }
    expectNoLeak(() => d.mode()).forEach((v, k) =>
      expect(v).toBeCloseTo(PSI[Math.floor(k / 3)]![k % 3]! / (nu + 4), 5),
    );
    d.dispose();
    // nu = 3.5 <= p + 1: no mean (Inf on the diagonal, NaN off); nu = 5.5 in (p+1, p+3]: Inf variance
    const low = new InverseWishart([3.5, 5.5], PSI);
    const m = read(low.mean());
    expect(m[0]).toBe(Infinity);
    expect(m[1]).toBeNaN();
    expect(m[9]).toBeCloseTo(PSI[0]![0]! / 1.5, 5);
    const v = read(low.variance());
    expect(v[0]).toBe(Infinity);
    expect(v[1]).toBeNaN();
    expect(v.slice(9).every((x) => x === Infinity)).toBe(true);
    low.dispose();
  });

  it('entropy and KL(IW || IW) agree with Monte Carlo (5 standard errors)', () => {
    const p = new InverseWishart(7, PSI);
    const q = new InverseWishart(9, [
      [1.5, 0.2, 0],
      [0.2, 1, 0.1],
      [0, 0.1, 1.2],
    ]);
    const n = 20000;
    const x = p.sample([n], 12);
    const lp = read(p.logProb(x));
    const lq = read(q.logProb(x));
    x.dispose();
    const mc = (v: number[]): [number, number] => {
      const m = v.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
      return [m, sd / Math.sqrt(n)];
    };
    const [h, hse] = mc(lp.map((v) => -v));
    const [kl, klse] = mc(lp.map((v, i) => v - lq[i]!));
    expect(Math.abs(expectNoLeak(() => p.entropy())[0]! - h)).toBeLessThan(5 * hse);
    expect(Math.abs(expectNoLeak(() => klDivergence(p, q))[0]! - kl)).toBeLessThan(5 * klse);
    p.dispose();
    q.dispose();
  });

  it('refuses df <= p - 1 and non-square / non-PD scales, naming the argument, without leaking', () => {
    const bad: Array<[() => unknown, RegExp]> = [
      [() => new InverseWishart(2, PSI), /df/],
      [
        () =>
          new InverseWishart(4, [
            [1, 0, 0],
            [0, 1, 0],
          ]),
        /scale.*square/,
      ],
      [
        () =>
          new InverseWishart(4, [
            [1, 2],
            [2, 1],
          ]),
        /scale.*positive-definite/,
      ],
      [
        () =>
          new InverseWishart(4, {
            scaleTril: [
              [1, 1],
              [0, 1],
            ],
          }),
        /scaleTril/,
      ],
    ];
    for (const [make, re] of bad) {
      expectNoLeak(() => {
        expect(make).toThrow(ArgumentError);
        expect(make).toThrow(re);
      });
    }
  });
});

describe('empty draws', () => {
  it('sample([0]) is an empty tensor of the full shape for LKJ, Wishart and InverseWishart (tfjs wasm transposes of empty tensors crashed)', () => {
    for (const dist of [
      new LKJ(3, [1, 2]),
      new Wishart([4, 5], { covarianceMatrix: SIGMA }),
      new InverseWishart(5, SIGMA),
    ]) {
      const x = expectNoLeak(() => dist.sample([0]));
      expect(x).toEqual([]);
      const y = dist.sample([2, 0]);
      expect(y.shape).toEqual([2, 0, ...dist.batchShape, ...dist.eventShape]);
      y.dispose();
      dist.dispose();
    }
  });
});
