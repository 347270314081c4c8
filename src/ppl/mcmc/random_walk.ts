/**
 * Random-walk Metropolis (TFP's `RandomWalkMetropolis`, the simplest of NumPyro's
 * gradient-free kernels), with adaptive scaling: from `q` propose
 *
 * $$q' = q + \varepsilon\, M^{-1} p,\quad p \sim \mathcal N(0, M)
 *   \;\Longrightarrow\; q' \sim \mathcal N(q, \varepsilon^2 M^{-1})$$
 *
 * and accept with probability `min(1, exp(U(q) - U(q')))` (the proposal is symmetric). During
 * warmup the scale `ε` is tuned by dual averaging towards the acceptance rate `targetAcceptProb`
 * (default 0.234, optimal for many dimensions; Roberts, Gelman & Gilks 1997) and `M^{-1}` is the
 * windowed estimate of the posterior covariance (Haario's adaptive Metropolis), exactly as the
 * Hamiltonian kernels adapt theirs. The moves use only `U`: one potential evaluation per
 * iteration, no trajectory. It mixes far more slowly than NUTS in more than a few dimensions.
 *
 * The dual averaging is fed one proposal's acceptance `a_t = min(1, α)`, as `BarkerMH`'s is, and
 * is tuned as `BarkerMH` tunes it (see `barker.ts` for the why): no leapfrog-based step-size
 * search, `γ = 0.5`, `κ = 1`, recentred at each new metric, a 200-iteration terminal buffer.
 * With Stan's constants (`γ = 0.05`, `κ = 0.75`, 50 terminal iterations) the average of the
 * jumping iterates lands where the rate is below the target (Jensen): on a 2-d model
 * (`Normal` mean with 8 observations, a `Gamma(3, 3)` scale) the realized acceptance was 0.06-0.25,
 * mean 0.16, over 6 seeds x 2 chains for the target 0.234.
 */
import type { PhasePoint, PotentialRequests } from './integrator.js';
import {
  HAMILTONIAN_OPTION_KEYS,
  type HamiltonianOptions,
  type TrajectoryResult,
} from './kernel.js';
import type { Metric } from './metric.js';
import type { ChainRng } from './rng.js';
import { SingleProposalKernel } from './single_proposal.js';

/** Options of {@link RandomWalkMH}: those of the Hamiltonian kernels (the step size is `ε`). */
export type RandomWalkOptions = HamiltonianOptions;

/**
 * Random-walk Metropolis kernel for `MCMC`.
 *
 * @example
 * ```ts
 * const mcmc = new MCMC(new RandomWalkMH(model), { numSamples: 4000, warmupSteps: 2000 });
 * await mcmc.run(y);
 * ```
 */
export class RandomWalkMH extends SingleProposalKernel {
  /**
   * @param model a model function, or a flat {@link Potential}.
   * @param options `stepSize` (the initial proposal scale), `targetAcceptProb` (default 0.234),
   *   the adaptation and `initStrategy` options of the Hamiltonian kernels.
   * @throws ArgumentError naming the option.
   */
  constructor(model: unknown, options: RandomWalkOptions = {}) {
    super(model, options, {
      name: 'RandomWalkMH',
      keys: HAMILTONIAN_OPTION_KEYS,
      targetAcceptProb: 0.234,
    });
  }

  *trajectory(
    z0: PhasePoint,
    eps: number,
    metric: Metric,
    rng: ChainRng,
  ): PotentialRequests<TrajectoryResult> {
    const d = z0.q.length;
    const q = metric.velocity(z0.p, new Float64Array(d));
    for (let i = 0; i < d; i++) q[i] = (z0.q[i] as number) + eps * (q[i] as number);
    const { value, grad } = yield q;
    const logRatio = z0.potential - value;
    const accept = !Number.isFinite(value) ? 0 : logRatio >= 0 ? 1 : Math.exp(logRatio);
    const moved = rng.uniform() < accept;
    // the momentum is only the proposal's noise: the kept point's is irrelevant
    const point = moved ? { q, p: z0.p, potential: value, grad } : z0;
    return { point, acceptStat: accept, numSteps: 1, treeDepth: 0, divergent: false };
  }
}
