/**
 * Hamiltonian Monte Carlo with a fixed trajectory length (Neal 2011; Pyro's `HMC`): from `(q, p)`
 * take `L = max(1, floor(trajectoryLength / eps))` leapfrog steps (or `numSteps` if given) and
 * accept the end point with probability `min(1, exp(H(q, p) - H(q', p')))`.
 */
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { hamiltonian, leapfrog, type PhasePoint, type PotentialRequests } from './integrator.js';
import {
  HAMILTONIAN_OPTION_KEYS,
  HamiltonianKernel,
  type HamiltonianOptions,
  type TrajectoryResult,
} from './kernel.js';
import type { Metric } from './metric.js';
import type { ChainRng } from './rng.js';

/** Options of {@link HMC}. */
export interface HMCOptions extends HamiltonianOptions {
  /** Integration time `L * eps` (Pyro's default 2*pi). Ignored when `numSteps` is given. */
  trajectoryLength?: number;
  /** Fixed number of leapfrog steps per transition. */
  numSteps?: number;
}

/**
 * Hamiltonian Monte Carlo kernel (Pyro's `HMC`).
 *
 * @example
 * ```ts
 * const mcmc = new MCMC(new HMC(model, { trajectoryLength: 1 }), { numSamples: 500, warmupSteps: 500 });
 * await mcmc.run();
 * ```
 */
export class HMC extends HamiltonianKernel {
  readonly trajectoryLength: number;
  readonly numSteps: number | undefined;

  /**
   * @param model a model function, or a flat {@link Potential}.
   * @param options sampler and adaptation options.
   */
  constructor(model: unknown, options: HMCOptions = {}) {
    super(model, options);
    checkOptionKeys(options, [...HAMILTONIAN_OPTION_KEYS, 'trajectoryLength', 'numSteps'], 'HMC');
    const len = options.trajectoryLength ?? 2 * Math.PI;
    if (!(len > 0) || !Number.isFinite(len)) {
      throw new ArgumentError('trajectoryLength', `expected a finite number > 0, got ${len}`);
    }
    const n = options.numSteps;
    if (n !== undefined && (!Number.isInteger(n) || n < 1)) {
      throw new ArgumentError('numSteps', `expected an integer >= 1, got ${n}`);
    }
    this.trajectoryLength = len;
    this.numSteps = n;
  }

  *trajectory(
    z0: PhasePoint,
    eps: number,
    metric: Metric,
    rng: ChainRng,
  ): PotentialRequests<TrajectoryResult> {
    const steps = this.numSteps ?? Math.max(1, Math.floor(this.trajectoryLength / eps));
    const h0 = hamiltonian(z0, metric);
    let z = z0;
    let divergent = false;
    let taken = 0;
    for (let i = 0; i < steps; i++) {
      z = yield* leapfrog(z, eps, metric);
      taken += 1;
      if (!(hamiltonian(z, metric) - h0 <= this.opts.maxDeltaEnergy)) {
        divergent = true;
        break;
      }
    }
    const dH = h0 - hamiltonian(z, metric);
    const accept = divergent ? 0 : dH >= 0 ? 1 : Math.exp(dH);
    const point = rng.uniform() < accept ? z : z0;
    return { point, acceptStat: accept, numSteps: taken, treeDepth: 0, divergent };
  }
}
