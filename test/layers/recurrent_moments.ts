/**
 * Shared checks of the Bayesian recurrent layers' one-step moments: the float64 closed-form
 * moments of a pre-activation column and the Monte Carlo test of draws against them.
 */
import { expect } from 'vitest';

/** A posterior as float64 arrays: kernel means/scales `[rows, n]`, bias means/scales `[n]`. */
export interface PosteriorArrays {
  M: number[][];
  S: number[][];
  BM: number[];
  BS: number[];
}

/**
 * The moments of column `j` of `z = x K + b` under the mean-field posterior (with `h_0 = 0` only
 * the input rows count): `m_j = sum_k x_k M_kj + BM_j`, `v_j = sum_k x_k^2 S_kj^2 + BS_j^2`.
 */
export function columnMoments(
  xs: readonly number[],
  p: PosteriorArrays,
): { m: (j: number) => number; v: (j: number) => number } {
  return {
    m: (j) => xs.reduce((a, x, k) => a + x * p.M[k]![j]!, p.BM[j]!),
    v: (j) => xs.reduce((a, x, k) => a + x * x * p.S[k]![j]! ** 2, p.BS[j]! ** 2),
  };
}

/**
 * The sample mean and variance of `draws` within 5 standard errors of `mean` and `variance`
 * (the variance's standard error from the sample fourth central moment).
 */
export function expectMcMoments(
  draws: readonly number[],
  mean: number,
  variance: number,
  label: string,
): void {
  const n = draws.length;
  const avg = draws.reduce((a, b) => a + b, 0) / n;
  const c2 = draws.map((h) => (h - avg) ** 2);
  const sVar = c2.reduce((a, b) => a + b, 0) / (n - 1);
  const m4 = c2.reduce((a, b) => a + b * b, 0) / n;
  expect(Math.abs(avg - mean), `${label}: mean`).toBeLessThan(5 * Math.sqrt(variance / n));
  expect(Math.abs(sVar - variance), `${label}: variance`).toBeLessThan(
    5 * Math.sqrt(Math.max(m4 - sVar * sVar, 1e-12) / n),
  );
}
