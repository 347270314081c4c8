/**
 * Hand-written potentials (negative log-densities with their gradients, float64) shared by the
 * MCMC kernel tests.
 */
import type { Potential } from '../../../src/ppl/mcmc/potential.js';

const C01 = 0.8 * 2;
const DET = 4 - C01 * C01;

/**
 * A correlated Gaussian in 2-d: mean `(1, -1)`, standard deviations `(1, 2)`, correlation 0.8,
 * so `Σ = [[1, 1.6], [1.6, 4]]`; with `d = z - μ`, `U(z) = ½ dᵀ Σ⁻¹ d` and `∇U = Σ⁻¹ d`,
 * `Σ⁻¹ = [[4, -1.6], [-1.6, 1]] / (4 - 1.6²)`.
 */
export const corr2: Potential = {
  dim: 2,
  valueAndGrad(z: Float64Array) {
    const a = z[0]! - 1;
    const b = z[1]! + 1;
    const g0 = (4 * a - C01 * b) / DET;
    const g1 = (-C01 * a + b) / DET;
    return { value: 0.5 * (a * g0 + b * g1), grad: Float64Array.of(g0, g1) };
  },
};
