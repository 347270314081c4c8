/**
 * Mixed Hamiltonian Monte Carlo (Zhou 2020; NumPyro's `MixedHMC`): the discrete latents move
 * inside the HMC trajectory. Each discrete element `i` gets a kinetic energy `k_i ~ Exp(1)` and an
 * arrival time `t_i ~ U(0, 1)`; the trajectory of length `L` (the inner `HMC`'s
 * `trajectoryLength`) is cut at the `numDiscreteUpdates` earliest arrivals (each element arriving
 * again one time unit later), the time scaled so that the last arrival is at `L`. Between
 * arrivals the continuous part follows leapfrog steps (`max(1, floor(Δt / ε))` of them) with its
 * momentum carried over; at an arrival the element gets a proposal from the discrete step of
 * {@link DiscreteHMCGibbs} (`randomWalk`, `modified`) with log ratio `r`, taken ("refracted") when
 * `k_i + r > 0`, then `k_i ← k_i + r`, `U` and its gradient follow the new value. The end point is
 * accepted with probability `min(1, exp(-(ΔH - ΣΔU_discrete)))`, `ΔH` the change of the continuous
 * Hamiltonian and `ΣΔU_discrete` the potential changes of the discrete moves; warmup adapts the step
 * size on that probability and the mass matrix as HMC does.
 */
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { discreteElements, DiscreteHMCGibbs } from './discrete_hmc_gibbs.js';
import type { GibbsTarget } from './gibbs_target.js';
import { HMC } from './hmc.js';
import { GibbsChainSampler } from './hmc_gibbs.js';
import { hamiltonian, leapfrog, type PhasePoint, type PotentialRequests } from './integrator.js';
import type { TransitionStats } from './chain_sampler.js';
import type { HamiltonianKernel } from './kernel.js';
import type { ChainRng } from './rng.js';

/** Options of {@link MixedHMC} (NumPyro's names, camel-cased). */
export interface MixedHMCOptions {
  /** Discrete updates per trajectory. Default: the number of discrete elements. */
  numDiscreteUpdates?: number;
  /** Uniform proposals on the support (default false: Gibbs proposals). */
  randomWalk?: boolean;
  /** Always propose another value than the current one (Liu 1996). Default false. */
  modified?: boolean;
  /** The discrete sites to move (default: every discrete latent not enumerated in parallel). */
  gibbsSites?: readonly string[];
}

/**
 * Mixed HMC kernel (NumPyro's `MixedHMC`; see the module docs). The inner kernel must be an `HMC`
 * (its `trajectoryLength`, or `numSteps * stepSize`, is the trajectory length), not `NUTS`.
 *
 * @example
 * ```ts
 * const kernel = new MixedHMC(new HMC(model, { trajectoryLength: 1.2 }), { numDiscreteUpdates: 20 });
 * const mcmc = new MCMC(kernel, { numSamples: 10000, warmupSteps: 1000 });
 * ```
 */
export class MixedHMC extends DiscreteHMCGibbs {
  readonly numDiscreteUpdates: number | undefined;

  /**
   * @param innerKernel an `HMC` kernel over the model.
   * @param options `numDiscreteUpdates`, `randomWalk`, `modified`, `gibbsSites`.
   * @throws ArgumentError naming the argument or option.
   */
  constructor(innerKernel: HamiltonianKernel, options: MixedHMCOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError(
        'options',
        `MixedHMC: expected {numDiscreteUpdates?, randomWalk?, modified?, gibbsSites?}, got ${String(options)}`,
      );
    }
    checkOptionKeys(
      options,
      ['numDiscreteUpdates', 'randomWalk', 'modified', 'gibbsSites'],
      'MixedHMC',
    );
    if (!(innerKernel instanceof HMC)) {
      throw new ArgumentError(
        'innerKernel',
        'MixedHMC: expected an HMC kernel (the algorithm cuts a fixed-length trajectory; NUTS is not supported, as in NumPyro)',
      );
    }
    const n = options.numDiscreteUpdates;
    if (n !== undefined && (!Number.isInteger(n) || n < 1)) {
      throw new ArgumentError('numDiscreteUpdates', `expected an integer >= 1, got ${String(n)}`);
    }
    const { numDiscreteUpdates: _n, ...rest } = options;
    void _n;
    super(innerKernel, rest);
    this.numDiscreteUpdates = n;
  }

  protected override get who(): string {
    return 'MixedHMC';
  }

  override gibbsOptions(): Record<string, unknown> {
    return { ...super.gibbsOptions(), numDiscreteUpdates: this.numDiscreteUpdates ?? null };
  }

  /** The trajectory length at step size `eps`. @internal */
  trajectoryLength(eps: number): number {
    const h = this.innerKernel as HMC;
    return h.numSteps !== undefined ? h.numSteps * eps : h.trajectoryLength;
  }

  protected override sampler(
    x0: Float64Array,
    numWarmup: number,
    rng: ChainRng,
    t: GibbsTarget,
  ): GibbsChainSampler {
    return new MixedChainSampler(this, this.opts, x0, numWarmup, rng, t);
  }
}

/** A chain of {@link MixedHMC}: one mixed trajectory per transition. */
class MixedChainSampler extends GibbsChainSampler {
  override *step(): PotentialRequests<TransitionStats> {
    const k = this.gk as MixedHMC;
    const t = this.target;
    const rng = this.rng;
    const metric = this.metric;
    const warmup = this.iteration < this.numWarmup;
    const eps = this.stepSize;
    const d = this.point.q.length;
    const elems = discreteElements(t);
    const n = elems.length;
    const ke = Float64Array.from(elems, () => -Math.log(1 - rng.uniform()));
    const arrival = Float64Array.from(elems, () => rng.uniform());
    const updates = k.numDiscreteUpdates ?? n;
    const sorted = Float64Array.from(arrival).sort();
    const totalTime = Math.floor((updates - 1) / n) + (sorted[(updates - 1) % n] as number);
    const timeUnit = k.trajectoryLength(eps) / totalTime;
    let z: PhasePoint = {
      ...this.point,
      p: metric.sampleMomentum(rng, new Float64Array(d)),
    };
    const h0 = hamiltonian(z, metric);
    let zg = this.gibbs.slice();
    let deltaU = 0;
    let steps = 0;
    for (let u = 0; u < updates; u++) {
      let idx = 0;
      for (let i = 1; i < n; i++) if ((arrival[i] as number) < (arrival[idx] as number)) idx = i;
      const dt = arrival[idx] as number;
      for (let i = 0; i < n; i++) arrival[i] = (arrival[i] as number) - dt;
      arrival[idx] = 1;
      const nSteps = Math.max(1, Math.floor((dt * timeUnit) / eps));
      for (let s = 0; s < nSteps; s++) {
        z = yield* this.extended(leapfrog(z, eps, metric), zg);
        steps += 1;
      }
      const [site, base] = elems[idx] as [(typeof elems)[number][0], number];
      const prop = k.propose(t, z.q, zg, z.potential, site, base, rng);
      if (prop === null) continue;
      const kNew = (ke[idx] as number) + prop.logAccept;
      if (!(kNew > 0)) continue;
      ke[idx] = kNew;
      zg = zg.slice();
      zg.set(prop.value, base);
      const p = yield this.extend(z.q, zg);
      deltaU += p.value - z.potential;
      z = { ...z, potential: p.value, grad: p.grad.slice(0, d) };
    }
    let dE = hamiltonian(z, metric) - h0 - deltaU;
    if (Number.isNaN(dE)) dE = Infinity;
    const accept = dE <= 0 ? 1 : Math.exp(-dE);
    if (rng.uniform() < accept) {
      this.point = z;
      this.gibbs = zg;
    }
    const stats: TransitionStats = {
      acceptStat: accept,
      stepSize: eps,
      numSteps: steps,
      treeDepth: 0,
      divergent: !(dE <= (k.options.maxDeltaEnergy ?? 1000)),
      energy: hamiltonian(this.point, metric),
      potentialEnergy: this.point.potential,
    };
    if (warmup) yield* this.extended(this.adapt(accept));
    this.iteration_ += 1;
    return stats;
  }
}
