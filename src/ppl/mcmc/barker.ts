/**
 * The Barker proposal (Livingstone & Zanella 2022; NumPyro's `BarkerMH`): a gradient-based
 * Metropolis–Hastings kernel as robust to its step size as random-walk Metropolis and nearly as
 * efficient as MALA. With `A` a square root of the inverse mass matrix (`A A^T = M^{-1}`: the
 * square roots of a diagonal one, the Cholesky factor of a dense one), step size `ε` and the
 * gradient of the log density in the scaled coordinates `G(x) = -ε A^T ∇U(x)`, one move draws
 *
 * $$n_i \sim \mathcal N(0, 1),\quad
 *   b_i = \pm 1 \text{ with } P(b_i = +1) = \sigma(n_i\, G_i(x)),\quad
 *   y = x + \varepsilon A (b \circ n)$$
 *
 * (`σ` the logistic function) and accepts `y` with probability `min(1, exp(log α))`,
 *
 * $$\log\alpha = U(x) - U(y) + \sum_i \big[\operatorname{softplus}(-d_i G_i(x))
 *   - \operatorname{softplus}(d_i G_i(y))\big],\quad d = b \circ n .$$
 *
 * Warmup tunes `ε` by dual averaging towards the acceptance rate `targetAcceptProb` (default 0.4,
 * the optimum of Barker's proposal) and `M^{-1}` (diagonal by default, dense with `fullMass`) by
 * the Hamiltonian kernels' windowed estimate of the posterior covariance; one potential and
 * gradient evaluation per iteration. Unlike the Hamiltonian kernels there is no leapfrog-based
 * step-size search: the averages start at `log ε` of the given `stepSize` and run on across the
 * mass-matrix windows (a single MH acceptance is a noisy statistic, and the 50 iterations after
 * the last window are too few for dual averaging restarted there; measured on a correlated 2-D
 * Gaussian: 0.33 realized acceptance for the target 0.4, against 0.22 with restarts).
 */
import { checkOptionKeys } from '../../utils/options.js';
import type { PhasePoint, PotentialRequests } from './integrator.js';
import {
  HAMILTONIAN_OPTION_KEYS,
  HamiltonianKernel,
  type HamiltonianOptions,
  type TrajectoryResult,
} from './kernel.js';
import { cholesky, type Metric } from './metric.js';
import type { ChainRng } from './rng.js';

/** Options of {@link BarkerMH}: those of the Hamiltonian kernels (default target 0.4). */
export type BarkerMHOptions = HamiltonianOptions;

/** `log(1 + e^t)`, stable for large `|t|`. */
function softplus(t: number): number {
  return t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
}

/** `A` with `A A^T = M^{-1}`: a diagonal's square roots (`d` values) or a dense one's Cholesky. */
function massSqrt(metric: Metric): Float64Array {
  const m = metric.inverseMass;
  const d = metric.dim;
  if (metric.kind === 'diag') return m.map((v) => Math.sqrt(v));
  return cholesky(m, d);
}

/** `out = A v` (`A` of {@link massSqrt}). */
function applyA(a: Float64Array, v: Float64Array, dense: boolean): Float64Array {
  const d = v.length;
  const out = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    if (!dense) {
      out[i] = (a[i] as number) * (v[i] as number);
      continue;
    }
    let s = 0;
    for (let j = 0; j <= i; j++) s += (a[i * d + j] as number) * (v[j] as number);
    out[i] = s;
  }
  return out;
}

/** `G = -ε A^T g` (the log density's gradient in the scaled coordinates). */
function scaledGrad(a: Float64Array, g: Float64Array, eps: number, dense: boolean): Float64Array {
  const d = g.length;
  const out = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    if (!dense) {
      out[i] = -eps * (a[i] as number) * (g[i] as number);
      continue;
    }
    let s = 0;
    for (let j = i; j < d; j++) s += (a[j * d + i] as number) * (g[j] as number);
    out[i] = -eps * s;
  }
  return out;
}

/**
 * Barker proposal Metropolis–Hastings kernel for `MCMC` (NumPyro's `BarkerMH`; see the module
 * docs).
 *
 * @example
 * ```ts
 * const mcmc = new MCMC(new BarkerMH(model), { numSamples: 2000, warmupSteps: 1000, seed: 0 });
 * await mcmc.run(y);
 * ```
 */
export class BarkerMH extends HamiltonianKernel {
  /**
   * @param model a model function, or a flat {@link Potential}.
   * @param options `stepSize` (initial `ε`), `targetAcceptProb` (default 0.4), `fullMass`,
   *   `inverseMassMatrix`, `adaptStepSize`, `adaptMassMatrix`, the warmup windows,
   *   `initStrategy`, `compile`, `maxPlateNesting`.
   * @throws ArgumentError naming the option.
   */
  constructor(model: unknown, options: BarkerMHOptions = {}) {
    if (options !== null && typeof options === 'object') {
      checkOptionKeys(
        options,
        HAMILTONIAN_OPTION_KEYS.filter((k) => k !== 'maxDeltaEnergy'),
        'BarkerMH',
      );
    }
    super(
      model,
      options === null || typeof options !== 'object'
        ? options
        : { targetAcceptProb: 0.4, ...options },
    );
  }

  /**
   * No leapfrog-based step-size search (it sizes Hamiltonian trajectories): the dual averaging
   * restarts at the current `ε` after each mass-matrix window, as NumPyro's `BarkerMH`.
   */
  override searchStepSize(): boolean {
    return false;
  }

  *trajectory(
    z0: PhasePoint,
    eps: number,
    metric: Metric,
    rng: ChainRng,
  ): PotentialRequests<TrajectoryResult> {
    const d = z0.q.length;
    const dense = metric.kind === 'dense';
    const a = massSqrt(metric);
    const gx = scaledGrad(a, z0.grad, eps, dense);
    const step = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      const n = rng.normal();
      const pPlus = 1 / (1 + Math.exp(-n * (gx[i] as number)));
      step[i] = rng.uniform() < pPlus ? n : -n;
    }
    const dq = applyA(a, step, dense);
    const q = new Float64Array(d);
    for (let i = 0; i < d; i++) q[i] = (z0.q[i] as number) + eps * (dq[i] as number);
    const { value, grad } = yield q;
    let accept = 0;
    if (Number.isFinite(value) && grad.every(Number.isFinite)) {
      const gy = scaledGrad(a, grad, eps, dense);
      let logA = z0.potential - value;
      for (let i = 0; i < d; i++) {
        const s = step[i] as number;
        logA += softplus(-s * (gx[i] as number)) - softplus(s * (gy[i] as number));
      }
      accept = logA >= 0 ? 1 : Math.exp(logA);
    }
    const moved = rng.uniform() < accept;
    const point = moved ? { q, p: z0.p, potential: value, grad } : z0;
    return { point, acceptStat: accept, numSteps: 1, treeDepth: 0, divergent: false };
  }
}
