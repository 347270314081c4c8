/**
 * Log-determinants of the bijectors against numerical Jacobians: a 4th-order central difference
 * of the forward map over the free coordinates of the input and output (e.g. the first K-1
 * entries of a simplex, the lower triangle of a Cholesky factor), and `log|det J|` from a
 * float64 LU factorization in the test.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { bijectors, distributions } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';
import { logAbsDet } from '../fixtures/float64.js';

const b = bijectors;
const C = distributions.constraints;
type B = bijectors.Bijector;

const tril = (n: number, offset: number): Array<[number, number]> => {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) for (let j = 0; j <= i + offset; j++) out.push([i, j]);
  return out;
};
/** Flat entries `(i, j)` of an `n x n` matrix value. */
const pick = (idx: Array<[number, number]>, n: number) => (y: number[]) =>
  idx.map(([i, j]) => y[i * n + j]!);

interface JacCase {
  name: string;
  make: () => B;
  /** The free input coordinates. */
  x: number[];
  /** Build the input tensor from the free coordinates (default: a vector). */
  input?: (v: number[]) => tf.Tensor;
  /** The free output coordinates from the flattened output (default: all). */
  free?: (y: number[]) => number[];
}

const vec = (v: number[]): tf.Tensor => tf.tensor1d(v);
const lowerFromVec = (n: number) => (v: number[]) => {
  const m = new Array<number>(n * n).fill(0);
  tril(n, 0).forEach(([i, j], k) => (m[i * n + j] = v[k]!));
  return tf.tensor2d(m, [n, n]);
};

const CASES: JacCase[] = [
  { name: 'Exp', make: () => new b.Exp(), x: [-0.7, 0.2, 1.1] },
  { name: 'Sigmoid', make: () => new b.Sigmoid(), x: [-1.5, 0.3, 2] },
  { name: 'Softplus', make: () => new b.Softplus(), x: [-1.5, 0.3, 2] },
  { name: 'Tanh', make: () => new b.Tanh(), x: [-1.2, 0.1, 0.8] },
  { name: 'Identity', make: () => new b.Identity(), x: [-1.2, 0.1] },
  { name: 'Shift', make: () => new b.Shift([1, -2, 0.5]), x: [-1.2, 0.1, 3] },
  { name: 'Affine', make: () => new b.Affine([0, 1, 2], [2, -3, 0.5]), x: [-1.2, 0.1, 3] },
  {
    name: 'Affine(eventDim 1)',
    make: () => new b.Affine([0, 1], [2, -0.3], { eventDim: 1 }),
    x: [0.4, 1.3],
  },
  {
    name: 'StickBreaking(K=4)',
    make: () => new b.StickBreaking(),
    x: [0.3, -1.2, 0.8],
    free: (y) => y.slice(0, 3),
  },
  {
    name: 'StickBreaking(K=2)',
    make: () => new b.StickBreaking(),
    x: [1.4],
    free: (y) => y.slice(0, 1),
  },
  { name: 'OrderedTransform', make: () => new b.OrderedTransform(), x: [0.3, -1.2, 0.8, 0.1] },
  {
    name: 'LowerCholeskyTransform(3)',
    make: () => new b.LowerCholeskyTransform(),
    x: [0.3, -1.2, 0.8, 0.1, -0.4, 0.6],
    free: pick(tril(3, 0), 3),
  },
  {
    name: 'CorrCholeskyTransform(3)',
    make: () => new b.CorrCholeskyTransform(),
    x: [0.3, -1.2, 0.8],
    free: pick(tril(3, -1), 3),
  },
  {
    name: 'CorrCholeskyTransform(4)',
    make: () => new b.CorrCholeskyTransform(),
    x: [0.3, -0.7, 0.5, 0.2, -0.4, 0.9],
    free: pick(tril(4, -1), 4),
  },
  {
    name: 'CholeskyOuter(3)',
    make: () => new b.CholeskyOuter(),
    x: [1.2, 0.3, 0.9, -0.4, 0.5, 1.4],
    input: lowerFromVec(3),
    free: pick(tril(3, 0), 3),
  },
  {
    name: 'bijectTo(positiveDefinite)',
    make: () => distributions.bijectTo(C.positiveDefinite),
    x: [0.3, -0.6, 0.5, 0.1, -0.2, 0.4],
    free: pick(tril(3, 0), 3),
  },
  {
    name: 'bijectTo(interval(-1, 3))',
    make: () => distributions.bijectTo(C.interval(-1, 3)),
    x: [-0.8, 0.4],
  },
  {
    name: 'bijectTo(greaterThan(2))',
    make: () => distributions.bijectTo(C.greaterThan(2)),
    x: [0.3, -0.5],
  },
  {
    name: 'bijectTo(lessThan(1))',
    make: () => distributions.bijectTo(C.lessThan(1)),
    x: [0.3, -0.5],
  },
  {
    name: 'bijectTo(simplex)',
    make: () => distributions.bijectTo(C.simplex),
    x: [0.5, -0.3],
    free: (y) => y.slice(0, 2),
  },
  {
    name: 'IndependentTransform(Exp, 1)',
    make: () => new b.IndependentTransform(new b.Exp(), 1),
    x: [0.5, -0.3, 0.2],
  },
];

describe('bijector log-determinants equal the numerical Jacobian', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const bij = c.make();
      const input = c.input ?? vec;
      const forward = (v: number[]): number[] => {
        const t = input(v);
        const y = bij.forward(t);
        const out = Array.from(y.dataSync());
        tf.dispose([t, y]);
        return (c.free ?? ((z: number[]) => z))(out);
      };
      // 4th-order central differences (float32 forward map)
      const h = 1e-2;
      const n = c.x.length;
      const cols = c.x.map((_, j) => {
        const at = (s: number): number[] => forward(c.x.map((v, k) => (k === j ? v + s * h : v)));
        const [p1, m1, p2, m2] = [at(1), at(-1), at(2), at(-2)];
        return p1.map((_, i) => (8 * (p1[i]! - m1[i]!) - (p2[i]! - m2[i]!)) / (12 * h));
      });
      const jac = Array.from({ length: cols[0]!.length }, (_, i) => cols.map((col) => col[i]!));
      expect(jac.length).toBe(n);
      const want = logAbsDet(jac);
      const x = input(c.x);
      const got = expectNoLeak(() => tf.tidy(() => tf.sum(bij.forwardLogDetJacobian(x))));
      expect(got[0]).toBeAllclose(want, { rtol: 2e-3, atol: 2e-3 });
      // the inverse log-det is the negative, at y = f(x), and the inverse recovers x
      const y = bij.forward(x);
      const inv = expectNoLeak(() => tf.tidy(() => tf.sum(bij.inverseLogDetJacobian(y))));
      expect(inv[0]).toBeAllclose(-want, { rtol: 2e-3, atol: 2e-3 });
      const back = expectNoLeak(() => bij.inverse(y));
      expect(back).toBeAllclose(Array.from(x.dataSync()), { atol: 2e-4 });
      tf.dispose([x, y]);
      bij.dispose();
    });
  }
});

describe('event dims and shapes of the new bijectors', () => {
  it('domain / codomain event dims and shape maps', () => {
    const cases: Array<[B, number, number, number[], number[]]> = [
      [new b.Exp(), 0, 0, [4, 3], [4, 3]],
      [new b.StickBreaking(), 1, 1, [4, 3], [4, 4]],
      [new b.LowerCholeskyTransform(), 1, 2, [5, 6], [5, 3, 3]],
      [new b.CorrCholeskyTransform(), 1, 2, [5, 6], [5, 4, 4]],
      [new b.CholeskyOuter(), 2, 2, [5, 3, 3], [5, 3, 3]],
      [new b.IndependentTransform(new b.Exp(), 2), 2, 2, [2, 3], [2, 3]],
      [new b.Chain([new b.CholeskyOuter(), new b.LowerCholeskyTransform()]), 1, 2, [6], [3, 3]],
      [new b.Invert(new b.StickBreaking()), 1, 1, [4, 4], [4, 3]],
    ];
    for (const [bij, dom, cod, xs, ys] of cases) {
      expect([bij.domainEventDim, bij.codomainEventDim]).toEqual([dom, cod]);
      expect(bij.forwardShape(xs)).toEqual(ys);
      expect(bij.inverseShape(ys)).toEqual(xs);
      bij.dispose();
    }
  });

  it('batched inputs give batched log-dets', () => {
    const bij = new b.CorrCholeskyTransform();
    const x = tf.randomNormal([5, 2, 3], 0, 1, 'float32', 3);
    expectNoLeak(() => {
      const { y, logDet } = bij.forwardAndLogDet(x);
      expect(y.shape).toEqual([5, 2, 3, 3]);
      expect(logDet.shape).toEqual([5, 2]);
      return [y, logDet];
    });
    x.dispose();
  });

  it('bad inputs are named', () => {
    expect(() => new b.Affine(0, 0)).toThrow(/scale/);
    expect(() => new b.Affine(0, 1, { eventDim: -1 })).toThrow(/eventDim/);
    expect(() => new b.Shift(NaN)).toThrow(/shift/);
    expect(() => new b.LowerCholeskyTransform().forward([1, 2])).toThrow(/n\(n\+1\)\/2/);
    expect(() => new b.IndependentTransform(new b.Exp(), 1.5)).toThrow(/reinterpretedBatchNdims/);
  });
});

describe('gradients flow through forward and the log-det (autodiff vs finite differences)', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const bij = c.make();
      const input = c.input ?? vec;
      // a scalar objective: a fixed weighting of the output plus the log-det
      const objective = (t: tf.Tensor): tf.Scalar => {
        const { y, logDet } = bij.forwardAndLogDet(t);
        const w = tf
          .range(1, y.size + 1)
          .reshape(y.shape)
          .div(y.size);
        return tf.add(tf.sum(tf.mul(y, w)), tf.sum(logDet));
      };
      const x = input(c.x);
      const before = tf.memory().numTensors;
      const g = tf.grad(objective)(x);
      const got = Array.from(g.dataSync());
      g.dispose();
      expect(tf.memory().numTensors).toBe(before);
      const value = (v: number[]): number => {
        const t = input(v);
        const out = tf.tidy(() => objective(t).dataSync()[0] as number);
        t.dispose();
        return out;
      };
      const h = 1e-2;
      const fd = c.x.map((_, j) => {
        const at = (s: number): number => value(c.x.map((v, k) => (k === j ? v + s * h : v)));
        return (8 * (at(1) - at(-1)) - (at(2) - at(-2))) / (12 * h);
      });
      // the gradient in the input's layout, read at the free input coordinates
      const free = c.input === undefined ? got : pick(tril(3, 0), 3)(got);
      expect(free).toBeAllclose(fd, { rtol: 3e-3, atol: 3e-3 });
      x.dispose();
      bij.dispose();
    });
  }
});
