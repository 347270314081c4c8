/**
 * Audit 19, Pyro's `pyro.contrib.gp.util.conditional` as a user: a Gaussian `q(f) = N(m, S Sᵀ)`
 * with a general lower-triangular `S` (not an exact posterior), whitened and not, batched over
 * two latent functions, mean and full covariance against float64 closed forms; the variances are
 * the covariance's diagonal.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeEach, describe, expect, it } from 'vitest';
import { ppl } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';
import {
  add,
  chol,
  eye,
  gram,
  lcg,
  matmul,
  rbf,
  solveL,
  transpose,
  type Mat,
} from './gp/reference.js';

const gp = ppl.gp;
const rnd = lcg(33);
const N = 5;
const M = 3;
const X = Array.from({ length: N }, (_, i) => [-2 + i + 0.3 * rnd()]);
const Xs = Array.from({ length: M }, () => [4 * rnd() - 2]);
const JIT = 1e-6;
const k = rbf(1.4, [0.9]);
/** Two latent functions: locations and lower-triangular scales. */
const locs = [0, 1].map(() => X.map(() => rnd() * 2 - 1));
const trils: Mat[] = [0, 1].map(() =>
  X.map((_, i) => X.map((__, j) => (j < i ? rnd() - 0.5 : j === i ? 0.3 + rnd() : 0))),
);

/** E[f*], Cov[f*] of the conditional (float64): see the module docs of conditional. */
function reference(m: number[], S: Mat, whiten: boolean): { mean: number[]; cov: Mat } {
  const L = chol(add(gram(k, X), eye(N, JIT)));
  const W = solveL(L, gram(k, X, Xs)); // L^{-1} K(X, X*)
  const v = whiten
    ? m
    : solveL(
        L,
        m.map((x) => [x]),
      ).map((r) => r[0]!);
  const mean = transpose(W).map((row) => row.reduce((s, w, i) => s + w * v[i]!, 0));
  const Sw = whiten ? S : solveL(L, S); // the whitened scale
  const SW = matmul(transpose(Sw), W); // S^T W
  const cov = add(add(gram(k, Xs), matmul(transpose(W), W), -1), matmul(transpose(SW), SW));
  return { mean, cov };
}

describe('gp.util.conditional (audit 19)', () => {
  beforeEach(() => ppl.clearParamStore());

  for (const whiten of [false, true]) {
    it(`general q(f), two latent functions, whiten ${whiten}: mean and covariance`, () => {
      const kernel = new gp.kernels.RBF({ inputDim: 1, variance: 1.4, lengthscale: 0.9 });
      const x = tf.tensor2d(X);
      const xs = tf.tensor2d(Xs);
      const fLoc = tf.tensor2d(locs);
      const fTril = tf.tensor3d(trils);
      kernel.forward(x).dispose();
      const before = tf.memory().numTensors;
      const [mean, cov] = gp.util.conditional(xs, x, kernel, fLoc, fTril, {
        fullCov: true,
        whiten,
        jitter: JIT,
      });
      const [mean2, variance] = gp.util.conditional(xs, x, kernel, fLoc, fTril, {
        whiten,
        jitter: JIT,
      });
      expect(mean.shape).toEqual([2, M]);
      expect(cov.shape).toEqual([2, M, M]);
      expect(variance.shape).toEqual([2, M]);
      const [mA, cA, vA] = [mean, cov, variance].map((t) => t.arraySync()) as [
        number[][],
        number[][][],
        number[][],
      ];
      for (let b = 0; b < 2; b++) {
        const ref = reference(locs[b]!, trils[b]!, whiten);
        const tol = { rtol: 1e-3, atol: 1e-4 };
        expect(mA[b]!).toBeAllclose(ref.mean, tol);
        expect(cA[b]!.flat()).toBeAllclose(ref.cov.flat(), tol);
        expect(vA[b]!).toBeAllclose(
          ref.cov.map((r, i) => r[i]!),
          tol,
        );
      }
      expect(mean2).toBeAllclose(mean);
      tf.dispose([mean, cov, mean2, variance]);
      expect(tf.memory().numTensors).toBe(before);
      expectNoLeak(() => gp.util.conditional(xs, x, kernel, fLoc, fTril, { whiten }));
      tf.dispose([x, xs, fLoc, fTril]);
    });
  }
});
