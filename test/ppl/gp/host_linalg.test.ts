import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { cholesky, triangularSolve } from '../../../src/ppl/contrib/gp/host_linalg.js';
import { ArgumentError } from '../../../src/utils/errors.js';
import { expectNoLeak } from '../../helpers.js';
import { chol, lcg, matmul, solveL, transpose, type Mat } from './reference.js';

const rnd = lcg(13);
const n = 5;
const B: Mat = Array.from({ length: n }, () => Array.from({ length: n }, () => rnd() - 0.5));
const A: Mat = matmul(B, transpose(B)).map((r, i) => r.map((v, j) => v + (i === j ? 0.5 : 0)));
const R: Mat = Array.from({ length: n }, () => [rnd(), rnd() - 0.5]);

/** float64 scalar test functions of A's lower triangle. */
function fChol(a: Mat): number {
  const l = chol(a);
  return l.flat().reduce((s, v, i) => s + v * Math.sin(i + 1), 0);
}

describe('gp host linear algebra', () => {
  it('cholesky and solves equal float64 references, batched, without leaks', () => {
    const a = tf.tensor2d(A);
    expect(expectNoLeak(() => cholesky(a))).toBeAllclose(chol(A).flat(), { atol: 1e-5 });
    const l = tf.tensor2d(chol(A));
    const b = tf.tensor2d(R);
    expect(expectNoLeak(() => triangularSolve(l, b))).toBeAllclose(solveL(chol(A), R).flat(), {
      rtol: 1e-4,
      atol: 1e-5,
    });
    // L^T X = R
    const xt = triangularSolve(l, b, true);
    expect(tf.matMul(l, xt, true, false)).toBeAllclose(R.flat(), { atol: 1e-5 });
    // a batch of two matrices, and a shared factor over a batch of right-hand sides
    const a2 = tf.stack([a, tf.mul(a, 2)]);
    const l2 = cholesky(a2);
    expect(tf.slice(l2, [1, 0, 0], [1, -1, -1])).toBeAllclose(
      chol(A.map((r) => r.map((v) => 2 * v))).flat(),
      { atol: 1e-5 },
    );
    const b2 = tf.stack([b, b]);
    expect(tf.slice(triangularSolve(l, b2), [1, 0, 0], [1, -1, -1])).toBeAllclose(
      solveL(chol(A), R).flat(),
      { rtol: 1e-4, atol: 1e-5 },
    );
    tf.dispose([a, l, b, xt, a2, l2, b2]);
  });

  it('gradients match finite differences (symmetric Cholesky gradient, both solve operands)', () => {
    const a = tf.tensor2d(A);
    const w = tf.tensor1d(Array.from({ length: n * n }, (_, i) => Math.sin(i + 1)));
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.reshape(cholesky(x), [-1]), w)))(a);
    const ga = Array.from(g.dataSync());
    // perturb A_ij and A_ji together (a symmetric direction): the derivative is g_ij + g_ji
    const h = 1e-6;
    for (const [i, j] of [
      [0, 0],
      [2, 1],
      [4, 3],
      [4, 0],
    ] as const) {
      const p = A.map((r) => [...r]);
      const m = A.map((r) => [...r]);
      p[i]![j] = p[i]![j]! + h;
      m[i]![j] = m[i]![j]! - h;
      if (i !== j) {
        p[j]![i] = p[j]![i]! + h;
        m[j]![i] = m[j]![i]! - h;
      }
      const fd = (fChol(p) - fChol(m)) / (2 * h);
      const an = i === j ? ga[i * n + j]! : ga[i * n + j]! + ga[j * n + i]!;
      expect(an).toBeCloseTo(fd, 3);
    }
    // symmetric gradient
    expect(g).toBeAllclose(tf.transpose(g), { atol: 1e-6 });
    // solves: gradient in L (lower entries) and B for both orientations
    const L0 = chol(A);
    for (const tr of [false, true]) {
      const wv = R.map((r, i) => r.map((_, c) => Math.cos(i + 3 * c)));
      const f = (lm: Mat, bm: Mat): number => {
        const lt = tr ? transpose(lm) : lm;
        // solve lt X = bm with a general (upper or lower) triangular solver
        const x = bm.map((r) => [...r]);
        const order = tr ? [...Array(n).keys()].reverse() : [...Array(n).keys()];
        for (const i of order)
          for (let c = 0; c < 2; c++) {
            let s = x[i]![c]!;
            for (let k = 0; k < n; k++) if (k !== i && lt[i]![k] !== 0) s -= lt[i]![k]! * x[k]![c]!;
            x[i]![c] = s / lt[i]![i]!;
          }
        return x.flat().reduce((s, v, q) => s + v * wv.flat()[q]!, 0);
      };
      const lt = tf.tensor2d(L0);
      const bt = tf.tensor2d(R);
      const wt = tf.tensor2d(wv);
      const [gl, gb] = tf.grads((l: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(triangularSolve(l, b, tr), wt)),
      )([lt, bt]);
      const gld = Array.from(gl!.dataSync());
      const gbd = Array.from(gb!.dataSync());
      for (const [i, j] of [
        [1, 0],
        [3, 3],
        [4, 2],
      ] as const) {
        const p = L0.map((r) => [...r]);
        const m = L0.map((r) => [...r]);
        p[i]![j] = p[i]![j]! + 1e-6;
        m[i]![j] = m[i]![j]! - 1e-6;
        expect(gld[i * n + j]!).toBeCloseTo((f(p, R) - f(m, R)) / 2e-6, 3);
      }
      const pb = R.map((r) => [...r]);
      const mb = R.map((r) => [...r]);
      pb[2]![1] = pb[2]![1]! + 1e-6;
      mb[2]![1] = mb[2]![1]! - 1e-6;
      expect(gbd[2 * 2 + 1]!).toBeCloseTo((f(L0, pb) - f(L0, mb)) / 2e-6, 3);
      tf.dispose([lt, bt, wt, gl!, gb!]);
    }
    tf.dispose([a, w, g]);
  });

  it('a matrix that is not positive definite is an ArgumentError naming jitter', () => {
    const bad = tf.tensor2d([
      [1, 2],
      [2, 1],
    ]);
    const before = tf.memory().numTensors;
    let err: unknown;
    try {
      cholesky(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArgumentError);
    expect((err as ArgumentError).argument).toBe('jitter');
    expect(tf.memory().numTensors).toBe(before);
    bad.dispose();
  });
});
