/**
 * DiscreteCosineTransform and HaarTransform (Pyro's): against float64 DCT-II / Haar written in the
 * test, orthonormality, inverse round trips, along any dim, log-dets against a finite-difference
 * Jacobian (float64 LU), gradients, bad arguments named, no leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { bijectors } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { expectNoLeak, thrown } from '../helpers.js';
import { logAbsDet } from '../fixtures/float64.js';

const { DiscreteCosineTransform, HaarTransform } = bijectors;

/** Orthonormal DCT-II of a float64 vector, times Pyro's normalised weights (k + ½)^s. */
function dct64(x: number[], smooth = 0): number[] {
  const n = x.length;
  const logW = Array.from({ length: n }, (_, k) => smooth * Math.log(k + 0.5));
  const mean = logW.reduce((a, b) => a + b, 0) / n;
  return Array.from({ length: n }, (_, k) => {
    let s = 0;
    for (let j = 0; j < n; j++) s += x[j]! * Math.cos((Math.PI * (j + 0.5) * k) / n);
    return s * Math.sqrt((k === 0 ? 1 : 2) / n) * Math.exp(logW[k]! - mean);
  });
}

/** Pyro's haar_transform of a float64 vector: [H(lo), hi, end]. */
function haar64(x: number[]): number[] {
  const m = Math.floor(x.length / 2);
  if (m === 0) return [...x];
  const lo: number[] = [];
  const hi: number[] = [];
  for (let i = 0; i < m; i++) {
    lo.push((x[2 * i]! + x[2 * i + 1]!) / Math.SQRT2);
    hi.push((x[2 * i]! - x[2 * i + 1]!) / Math.SQRT2);
  }
  return [...(m >= 2 ? haar64(lo) : lo), ...hi, ...x.slice(2 * m)];
}

/** Jacobian of a vector map by central differences (columns), float64 on the outputs. */
function jacobian(f: (x: number[]) => number[], x: number[], h = 1e-2): number[][] {
  const cols = x.map((_, i) => {
    const xp = [...x];
    const xm = [...x];
    xp[i] = xp[i]! + h;
    xm[i] = xm[i]! - h;
    const a = f(xp);
    const b = f(xm);
    return a.map((v, j) => (v - b[j]!) / (2 * h));
  });
  return x.map((_, r) => cols.map((c) => c[r]!));
}

const rand = (n: number, seed: number): number[] =>
  Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 2);

describe('DiscreteCosineTransform', () => {
  it('is the orthonormal DCT-II of float64 (N = 1..9, smooth 0, 1, -1, 2.5)', () => {
    for (const smooth of [0, 1, -1, 2.5]) {
      const b = new DiscreteCosineTransform(-1, smooth);
      for (let n = 1; n <= 9; n++) {
        const x = rand(n, n + smooth);
        const y = expectNoLeak(() => tf.tidy(() => b.forward(tf.tensor1d(x))));
        expect(y).toBeAllclose(dct64(x, smooth), { atol: 2e-5, rtol: 1e-5 });
      }
    }
  });

  it('smooth = 0 is orthonormal: C C^T = I (the forward images of the unit vectors)', () => {
    const n = 7;
    const c = new DiscreteCosineTransform().forward(tf.eye(n)); // row j = C e_j = column j of C
    const gram = tf.matMul(c, c, true, false);
    expect(Array.from(gram.dataSync())).toBeAllclose(Array.from(tf.eye(n).dataSync()), {
      atol: 1e-6,
    });
    tf.dispose([c, gram]);
  });

  it('inverts its forward map along dim -1, -2 and -3 of a batch of arrays', () => {
    const x = tf.tensor(rand(2 * 3 * 4 * 5, 3), [2, 3, 4, 5]);
    for (const dim of [-1, -2, -3]) {
      for (const smooth of [0, 1.5]) {
        const b = new DiscreteCosineTransform(dim, smooth);
        const back = expectNoLeak(() => tf.tidy(() => b.inverse(b.forward(x))));
        expect(back).toBeAllclose(Array.from(x.dataSync()), { atol: 1e-5 });
        const ld = b.forwardLogDetJacobian(x);
        expect(ld.shape).toEqual([2, 3, 4, 5].slice(0, 4 + dim));
        ld.dispose();
      }
    }
    x.dispose();
  });

  it('transforms along dim = -2 as the float64 DCT of each column', () => {
    const rows = 4;
    const cols = 3;
    const x = rand(rows * cols, 9);
    const y = new DiscreteCosineTransform(-2, 1).forward(tf.tensor2d(x, [rows, cols]));
    const got = y.arraySync() as number[][];
    for (let c = 0; c < cols; c++) {
      const want = dct64(
        Array.from({ length: rows }, (_, r) => x[r * cols + c]!),
        1,
      );
      expect(got.map((r) => r[c]!)).toBeAllclose(want, { atol: 2e-5 });
    }
    y.dispose();
  });

  it('log|det J| = Σ log w_k = 0 matches a finite-difference Jacobian (float64 LU)', () => {
    for (const smooth of [0, 1, 2, -1.5]) {
      const b = new DiscreteCosineTransform(-1, smooth);
      const n = 6;
      const f = (v: number[]): number[] =>
        tf.tidy(() => Array.from(b.forward(tf.tensor1d(v, 'float32')).dataSync()));
      const want = logAbsDet(jacobian(f, rand(n, 5)));
      const ld = b.forwardLogDetJacobian(tf.tensor1d(rand(n, 5)));
      expect(ld.dataSync()[0]).toBeCloseTo(want, 3);
      expect(Math.abs(want)).toBeLessThan(1e-3); // the normalised weights have unit product
      const inv = b.inverseLogDetJacobian(tf.tensor1d(rand(n, 5)));
      expect(inv.dataSync()[0]).toBeCloseTo(-want, 3);
      tf.dispose([ld, inv]);
    }
  });

  it('is differentiable: the gradient of <c, f(x)> is C^T diag(w) c', () => {
    const b = new DiscreteCosineTransform(-1, 1);
    const cv = rand(5, 2);
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(b.forward(x), tf.tensor1d(cv))))(
      tf.tensor1d(rand(5, 1)),
    );
    // <c, Wx> = <W^T c, x>: the gradient is the row of W^T c, i.e. f's adjoint applied to c
    const want = Array.from({ length: 5 }, (_, j) => {
      const e = Array.from({ length: 5 }, (_, i) => (i === j ? 1 : 0));
      return dct64(e, 1).reduce((a, v, k) => a + v * cv[k]!, 0);
    });
    expect(Array.from(g.dataSync())).toBeAllclose(want, { atol: 1e-5 });
    g.dispose();
  });
});

describe('HaarTransform', () => {
  it("is Pyro's haar_transform in float64 (N = 1..11), and with flip of the reversed axis", () => {
    for (let n = 1; n <= 11; n++) {
      const x = rand(n, n);
      const y = expectNoLeak(() => tf.tidy(() => new HaarTransform().forward(tf.tensor1d(x))));
      expect(y).toBeAllclose(haar64(x), { atol: 1e-5 });
      const yf = expectNoLeak(() =>
        tf.tidy(() => new HaarTransform(-1, true).forward(tf.tensor1d(x))),
      );
      expect(yf).toBeAllclose(haar64([...x].reverse()), { atol: 1e-5 });
    }
    const h = new HaarTransform().forward(tf.tensor1d([1, 3]));
    expect(Array.from(h.dataSync())).toBeAllclose([4 / Math.SQRT2, -2 / Math.SQRT2]);
    h.dispose();
  });

  it('is orthonormal: H H^T = I for N = 6 and 8', () => {
    for (const n of [6, 8]) {
      const h = new HaarTransform().forward(tf.eye(n));
      const gram = tf.matMul(h, h, true, false);
      expect(Array.from(gram.dataSync())).toBeAllclose(Array.from(tf.eye(n).dataSync()), {
        atol: 1e-6,
      });
      tf.dispose([h, gram]);
    }
  });

  it('inverts its forward map along dims -1, -2 (odd and even lengths, flip)', () => {
    const x = tf.tensor(rand(3 * 7 * 5, 4), [3, 7, 5]);
    for (const dim of [-1, -2]) {
      for (const flip of [false, true]) {
        const b = new HaarTransform(dim, flip);
        const back = expectNoLeak(() => tf.tidy(() => b.inverse(b.forward(x))));
        expect(back).toBeAllclose(Array.from(x.dataSync()), { atol: 1e-5 });
      }
    }
    x.dispose();
  });

  it('log|det J| = 0 matches a finite-difference Jacobian; it is differentiable', () => {
    const b = new HaarTransform(-1, true);
    const f = (v: number[]): number[] =>
      tf.tidy(() => Array.from(b.forward(tf.tensor1d(v)).dataSync()));
    const x = rand(7, 8);
    const want = logAbsDet(jacobian(f, x));
    const ld = b.forwardLogDetJacobian(tf.tensor2d([x, x]));
    expect(ld.shape).toEqual([2]);
    expect(Array.from(ld.dataSync())).toBeAllclose([want, want], { atol: 1e-3 });
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.square(b.forward(t))))(tf.tensor1d(x));
    // an orthogonal map keeps the norm: the gradient of |Hx|^2 is 2x
    expect(Array.from(g.dataSync())).toBeAllclose(
      x.map((v) => 2 * v),
      { atol: 1e-4 },
    );
    tf.dispose([ld, g]);
  });
});

describe('bad arguments are named before any work', () => {
  const cases: Array<[string, () => unknown, string]> = [
    ['DCT dim 0', () => new DiscreteCosineTransform(0), 'dim'],
    ['DCT dim 1.5', () => new DiscreteCosineTransform(-1.5), 'dim'],
    ['DCT smooth NaN', () => new DiscreteCosineTransform(-1, NaN), 'smooth'],
    ['Haar dim 2', () => new HaarTransform(2), 'dim'],
    ['Haar flip', () => new HaarTransform(-1, 'yes' as unknown as boolean), 'flip'],
    ['DCT dim -2 on a vector', () => new DiscreteCosineTransform(-2).forward([1, 2]), 'x'],
    ['Haar dim -2 inverse of a vector', () => new HaarTransform(-2).inverse([1, 2]), 'y'],
  ];
  for (const [what, run, arg] of cases) {
    it(what, () => {
      const before = tf.memory().numTensors;
      const err = thrown(run);
      expect(err).toBeInstanceOf(ArgumentError);
      expect((err as ArgumentError).message).toContain(arg);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
