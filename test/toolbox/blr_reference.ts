/**
 * The Bayesian linear regression reference of the Laplace tests, in float64 with ml-matrix:
 * `y = phi^T theta + eps`, `phi = [x, 1]`, `eps ~ N(0, sigma^2)`, prior `theta ~ N(0, I / delta)`.
 * The Laplace approximation is exact for this model, so its marginal likelihood must equal
 * `log N(y | 0, sigma^2 I + Phi Phi^T / delta)` and its posterior precision
 * `Phi^T Phi / sigma^2 + delta I`.
 */
import { CholeskyDecomposition, inverse, Matrix } from 'ml-matrix';
import { makeRng } from '../../src/utils/seed.js';

/** Data (25 points, 2 features, seeded), posterior mean/precision and the closed-form evidence. */
export function bayesianLinearRegression(
  delta: number,
  sigma: number,
): {
  xs: number[][];
  ys: number[];
  /** Posterior mean `[w1, w2, b]`. */
  mean: number[];
  /** Posterior precision `Phi^T Phi / sigma^2 + delta I` (`[3, 3]`, bias last). */
  prec: Matrix;
  /** `log N(y | 0, sigma^2 I + Phi Phi^T / delta)`. */
  closed: number;
  n: number;
  d: number;
} {
  const rng = makeRng(5);
  const n = 25;
  const d = 2;
  const xs = Array.from({ length: n }, () => Array.from({ length: d }, () => 2 * rng() - 1));
  const ys = xs.map((r) => 0.8 * r[0]! - 0.5 * r[1]! + 0.3 + sigma * (rng() + rng() + rng() - 1.5));
  const phi = new Matrix(xs.map((r) => [...r, 1]));
  const yv = Matrix.columnVector(ys);
  const prec = phi
    .transpose()
    .mmul(phi)
    .div(sigma * sigma)
    .add(Matrix.eye(d + 1).mul(delta));
  const meanV = inverse(prec)
    .mmul(phi.transpose().mmul(yv))
    .div(sigma * sigma);
  const C = phi
    .mmul(phi.transpose())
    .div(delta)
    .add(Matrix.eye(n).mul(sigma * sigma));
  const L = new CholeskyDecomposition(C).lowerTriangularMatrix;
  let logDet = 0;
  for (let i = 0; i < n; i++) logDet += 2 * Math.log(L.get(i, i));
  const quad = yv.transpose().mmul(inverse(C)).mmul(yv).get(0, 0);
  const closed = -0.5 * (quad + logDet + n * Math.log(2 * Math.PI));
  return { xs, ys, mean: meanV.to1DArray(), prec, closed, n, d };
}
