/**
 * LKJ over correlation matrices: normalization by quadrature in 2-D and Monte Carlo over the
 * cube of correlations in 3-D, the log-density against `(eta - 1) log det C - log Z` with a
 * float64 normalizer, off-diagonal moments of the draws, the `corrMatrix` constraint and its
 * `bijectTo` whose log-Jacobian matches finite differences (and autodiff) on the unconstrained
 * coordinates, and argument errors.
 */
import * as tf from '@tensorflow/tfjs';
import gammaln from '@stdlib/math-base-special-gammaln';
import { describe, expect, it } from 'vitest';
import { LKJ, bijectTo, constraints } from '../../src/distributions/index.js';
import { CorrCholeskyOuter } from '../../src/bijectors/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { expectNoLeak } from '../helpers.js';

const read = (t: tf.Tensor): number[] => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};
/** float64 log Z of the LKJ density (Lewandowski et al. 2009, as in Pyro). */
function logZ(eta: number, d: number): number {
  let mvl = ((d - 1) * (d - 2) * Math.log(Math.PI)) / 4;
  for (let j = 1; j <= d - 1; j++) mvl += gammaln(eta + (d - 2) / 2 + (1 - j) / 2);
  return ((d - 1) / 2) * Math.log(Math.PI) + mvl - (d - 1) * gammaln(eta + (d - 1) / 2);
}
/** det of a 3x3 correlation matrix with off-diagonals a = r12, b = r13, c = r23. */
const det3 = (a: number, b: number, c: number): number => 1 - a * a - b * b - c * c + 2 * a * b * c;

describe('LKJ', () => {
  it('2-D: the density of r integrates to one over (-1, 1) (quadrature in r = tanh u) for eta = 0.5, 1, 2.5', () => {
    for (const eta of [0.5, 1, 2.5]) {
      const n = 4001;
      const lo = -10;
      const h = 20 / (n - 1);
      const rs: number[] = [];
      const w: number[] = [];
      for (let i = 0; i < n; i++) {
        const u = lo + i * h;
        const r = Math.tanh(u);
        if (Math.abs(r) >= 1 - 1e-7) continue;
        rs.push(r);
        w.push((1 - r * r) * h * (i === 0 || i === n - 1 ? 0.5 : 1)); // dr = sech^2 u du
      }
      const d = new LKJ(2, eta);
      const c = tf.tensor3d(
        rs.flatMap((r) => [1, r, r, 1]),
        [rs.length, 2, 2],
      );
      const lp = read(d.logProb(c));
      c.dispose();
      const total = lp.reduce((a, v, i) => a + Math.exp(v) * (w[i] as number), 0);
      expect(Math.abs(total - 1)).toBeLessThan(2e-3);
      d.dispose();
    }
  });

  it('3-D: Monte Carlo over the cube of correlations integrates the density to one (5 standard errors); logProb = (eta - 1) log det C - log Z', () => {
    let s = 12345;
    const u = (): number => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return (2 * s) / 2147483648 - 1;
    };
    for (const eta of [1, 2]) {
      const n = 20000;
      const mats: number[] = [];
      const dets: number[] = [];
      let inside = 0;
      for (let i = 0; i < n; i++) {
        const [a, b, c] = [u(), u(), u()];
        const dt = det3(a, b, c);
        if (dt <= 1e-6) continue;
        inside++;
        dets.push(dt);
        mats.push(1, a, b, a, 1, c, b, c, 1);
      }
      const d = new LKJ(3, eta);
      const x = tf.tensor3d(mats, [inside, 3, 3]);
      const lp = read(d.logProb(x));
      x.dispose();
      // against the closed form, point by point
      lp.slice(0, 50).forEach((v, i) =>
        expect(v).toBeCloseTo((eta - 1) * Math.log(dets[i] as number) - logZ(eta, 3), 3),
      );
      const f = lp.map((v) => 8 * Math.exp(v)); // volume of the cube
      const sum = f.reduce((a, v) => a + v, 0);
      const mean = sum / n;
      const sd = Math.sqrt((f.reduce((a, v) => a + v * v, 0) / n - mean * mean) / n);
      expect(Math.abs(mean - 1)).toBeLessThan(5 * sd);
      d.dispose();
    }
  });

  it('draws are correlation matrices whose off-diagonal entries have mean 0 and variance 1/(2 eta + D - 1) (mean()/variance()); no leaks', () => {
    const eta = 1.7;
    const dim = 4;
    const d = new LKJ(dim, eta);
    const n = 4000;
    const x = d.sample([n], 5);
    expect(x.shape).toEqual([n, dim, dim]);
    expect(constraints.corrMatrix.checkAll(x)).toBe(true);
    const v = read(x);
    const wantVar = 1 / (2 * eta + dim - 1);
    for (const [i, j] of [
      [1, 0],
      [3, 1],
      [3, 2],
    ] as const) {
      const r = Array.from({ length: n }, (_, k) => v[k * 16 + i * 4 + j] as number);
      const m = r.reduce((a, b) => a + b, 0) / n;
      const m2 = r.reduce((a, b) => a + b * b, 0) / n;
      expect(Math.abs(m)).toBeLessThan(4 * Math.sqrt(wantVar / n));
      // Var of r^2 is E r^4 - (E r^2)^2 <= E r^2 here
      expect(Math.abs(m2 - wantVar)).toBeLessThan(4 * Math.sqrt(wantVar / n));
    }
    const mean = expectNoLeak(() => d.mean());
    const variance = expectNoLeak(() => d.variance());
    expect(mean).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    variance.forEach((vv, k) => expect(vv).toBeCloseTo(k % (dim + 1) === 0 ? 0 : wantVar, 6));
    // batched concentration
    const b = new LKJ(3, [0.5, 4]);
    expect(b.batchShape).toEqual([2]);
    const xb = b.sample([7], 2);
    expect(xb.shape).toEqual([7, 2, 3, 3]);
    expect(b.logProb(xb).shape).toEqual([7, 2]);
    tf.dispose(xb);
    expectNoLeak(() => {
      const y = b.sample([3], 1);
      const lp = b.logProb(y);
      y.dispose();
      return lp;
    });
    b.dispose();
    d.dispose();
  });

  it('bijectTo(corrMatrix): forward lands on correlation matrices, inverse round-trips, and log|det J| matches the Jacobian of the strictly-lower entries by finite differences and by autodiff', () => {
    for (const dim of [2, 3, 4]) {
      const m = (dim * (dim - 1)) / 2;
      const b = bijectTo(constraints.corrMatrix);
      const x0 = Array.from({ length: m }, (_, k) => 0.7 * Math.sin(1.3 * k + dim) - 0.1);
      const lower: Array<[number, number]> = [];
      for (let i = 0; i < dim; i++) for (let j = 0; j < i; j++) lower.push([i, j]);
      const f = (x: number[]): number[] => {
        const v = read(tf.tidy(() => b.forward(tf.tensor1d(x))));
        return lower.map(([i, j]) => v[i * dim + j] as number);
      };
      const y = b.forward(tf.tensor1d(x0));
      expect(constraints.corrMatrix.checkAll(y)).toBe(true);
      const back = read(b.inverse(y));
      back.forEach((v, k) => expect(v).toBeCloseTo(x0[k] as number, 4));
      y.dispose();
      // central differences (float32 forward, h = 5e-3)
      const h = 5e-3;
      const jac: number[][] = lower.map(() => Array<number>(m).fill(0));
      for (let k = 0; k < m; k++) {
        const up = f(x0.map((v, i) => (i === k ? v + h : v)));
        const dn = f(x0.map((v, i) => (i === k ? v - h : v)));
        up.forEach((v, r) => ((jac[r] as number[])[k] = (v - (dn[r] as number)) / (2 * h)));
      }
      const logDet = read(tf.tidy(() => b.forwardLogDetJacobian(tf.tensor1d(x0))))[0] as number;
      expect(Math.abs(logDet - Math.log(Math.abs(detN(jac))))).toBeLessThan(5e-3);
      // autodiff Jacobian (exact in float32)
      const rows = lower.map(([i, j]) =>
        read(
          tf.tidy(() =>
            tf.grad((x: tf.Tensor) =>
              tf.sum(tf.slice(tf.reshape(b.forward(x), [dim * dim]), [i * dim + j], [1])),
            )(tf.tensor1d(x0)),
          ),
        ),
      );
      expect(Math.abs(logDet - Math.log(Math.abs(detN(rows))))).toBeLessThan(1e-4);
      b.dispose();
    }
    // CorrCholeskyOuter alone: L L^T and sum_j (D - j) log L_jj
    expectNoLeak(() => {
      const o = new CorrCholeskyOuter();
      const l = tf.tensor2d([
        [1, 0, 0],
        [0.6, 0.8, 0],
        [0.48, 0.36, 0.8],
      ]);
      const { y, logDet } = o.forwardAndLogDet(l);
      expect(read(logDet)[0]).toBeCloseTo(2 * Math.log(1) + Math.log(0.8), 5);
      expect(read(y)).toBeAllclose([1, 0.6, 0.48, 0.6, 1, 0.576, 0.48, 0.576, 1], { atol: 1e-6 });
      l.dispose();
      o.dispose();
    });
  });

  it('logProb is differentiable in the concentration and the value (finite differences of the float64 closed form)', () => {
    const eta = 1.8;
    const [a, b, c] = [0.3, -0.2, 0.45];
    const ref = (e: number, r: number[]): number =>
      (e - 1) * Math.log(det3(r[0]!, r[1]!, r[2]!)) - logZ(e, 3);
    const h = 1e-5;
    const dEta = (ref(eta + h, [a, b, c]) - ref(eta - h, [a, b, c])) / (2 * h);
    const g = expectNoLeak(() =>
      tf.tidy(() => {
        const g = tf.grads((e: tf.Tensor, m: tf.Tensor) => new LKJ(3, e).logProb(m))([
          tf.scalar(eta),
          tf.tensor2d([
            [1, a, b],
            [a, 1, c],
            [b, c, 1],
          ]),
        ]);
        return tf.concat([tf.reshape(g[0] as tf.Tensor, [1]), tf.reshape(g[1] as tf.Tensor, [9])]);
      }),
    );
    const [gEta, gC] = [g[0] as number, g.slice(1)];
    expect(gEta).toBeCloseTo(dEta, 3);
    // d/da of (eta - 1) log det C is the sum of the two symmetric entries' gradients
    const dA = (ref(eta, [a + h, b, c]) - ref(eta, [a - h, b, c])) / (2 * h);
    expect((gC[1] as number) + (gC[3] as number)).toBeCloseTo(dA, 3);
  });

  it('the corrMatrix constraint: symmetric, unit diagonal, positive definite', () => {
    const cases: Array<[number[], boolean]> = [
      [[1, 0.5, 0.5, 1], true],
      [[1, 0.5, 0.4, 1], false], // not symmetric
      [[1.1, 0.5, 0.5, 1], false], // diagonal not 1
      [[1, 1.2, 1.2, 1], false], // not positive definite
    ];
    for (const [v, ok] of cases) {
      const t = tf.tensor2d(v, [2, 2]);
      expect(constraints.corrMatrix.checkAll(t)).toBe(ok);
      t.dispose();
    }
  });

  it('refuses dim < 2, a non-integer dim, concentration <= 0 and non-correlation values, naming the argument, without leaking', () => {
    const bad: Array<[() => unknown, RegExp]> = [
      [() => new LKJ(1, 1), /dim.*integer >= 2/],
      [() => new LKJ(2.5, 1), /dim.*integer >= 2/],
      [() => new LKJ(3, 0), /concentration/],
      [() => new LKJ(3, [1, -2]), /concentration/],
    ];
    for (const [make, re] of bad) {
      expectNoLeak(() => {
        expect(make).toThrow(ArgumentError);
        expect(make).toThrow(re);
      });
    }
    const d = new LKJ(2, 2);
    expectNoLeak(() => {
      expect(() =>
        d.logProb([
          [1, 0.5],
          [0.5, 2],
        ]),
      ).toThrow(/value.*corrMatrix/);
      expect(() => d.logProb([1, 0.5])).toThrow(ArgumentError);
    });
    d.dispose();
  });
});

/** Determinant by Gaussian elimination with partial pivoting (float64). */
function detN(a: number[][]): number {
  const m = a.map((r) => [...r]);
  const n = m.length;
  let det = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    if (p !== c) {
      [m[p], m[c]] = [m[c]!, m[p]!];
      det = -det;
    }
    const piv = m[c]![c]!;
    det *= piv;
    for (let r = c + 1; r < n; r++) {
      const f = m[r]![c]! / piv;
      for (let k = c; k < n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return det;
}
