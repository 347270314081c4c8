/**
 * The shared machinery of the Hamiltonian kernels ({@link HMC}, {@link NUTS}): options and the
 * kernel base class (a chain's state and Stan's warmup are `chain_sampler.ts`'s
 * {@link ChainSampler}). Subclasses write only the trajectory: how one transition moves from a
 * phase point.
 */
import { ArgumentError } from '../../utils/errors.js';
import type { ChainState } from './chain_state.js';
import type { DualAveragingOptions } from './dual_averaging.js';
import type { PhasePoint, PotentialRequests } from './integrator.js';
import type { Metric } from './metric.js';
import { ChainRng } from './rng.js';
import type { InitStrategy } from './init.js';
import type { LatentSite, Potential } from './potential.js';
import type { CompileMode } from './compiled_potential.js';
import type { ChainSetup } from './chain_setup.js';
import {
  denseMassAlias,
  resolveHamiltonianOptions,
  type HamiltonianOptions,
  type ResolvedHamiltonianOptions,
  coordinateBlocks,
} from './hamiltonian_options.js';
import { ChainSampler } from './chain_sampler.js';

export { HAMILTONIAN_OPTION_KEYS, type HamiltonianOptions } from './hamiltonian_options.js';

/** A trajectory's outcome: the next point plus its statistics. */
export interface TrajectoryResult {
  point: PhasePoint;
  acceptStat: number;
  numSteps: number;
  treeDepth: number;
  divergent: boolean;
}

/** The base of the Hamiltonian kernels. */
export abstract class HamiltonianKernel {
  /** The model (a function) or a flat potential, as given. */
  readonly target: unknown;
  /** Initialization strategy. */
  readonly initStrategy: InitStrategy | undefined;
  /** Whether a model's potential is recorded and replayed (see {@link HamiltonianOptions}). */
  readonly compile: CompileMode;
  /** The plate nesting given for enumerating discrete sites (default: found at setup). */
  readonly maxPlateNesting: number | undefined;
  /** The options as given (those of the subclass included). */
  readonly options: HamiltonianOptions;
  protected readonly opts: ResolvedHamiltonianOptions;

  constructor(target: unknown, given: HamiltonianOptions) {
    const options = denseMassAlias(given);
    const checked = resolveHamiltonianOptions(target, options);
    this.target = target;
    this.options = options;
    this.opts = checked.opts;
    this.initStrategy = options.initStrategy;
    this.compile = checked.compile;
    this.maxPlateNesting = checked.maxPlateNesting;
  }

  /**
   * With `fullMass` given as blocks of site names: the block of each unconstrained coordinate of
   * the model's latent layout (set by {@link HamiltonianKernel.bindLayout} when a chain is set
   * up). @internal
   */
  massStructure: Int32Array | undefined;

  /**
   * Bind the model's latent layout (its sites' offsets) for a block-structured `fullMass`; throws
   * an {@link ArgumentError} naming `fullMass` for a block naming no latent site. @internal
   */
  bindLayout(sites: readonly LatentSite[]): void {
    const blocks = this.opts.massBlocks;
    if (blocks !== undefined) this.massStructure = coordinateBlocks(blocks, sites);
  }

  /** Whether the kernel wraps a flat {@link Potential} rather than a model. */
  get isPotential(): boolean {
    return typeof this.target !== 'function';
  }

  /** The flat potential given instead of a model (throws if a model was given). */
  get potential(): Potential {
    if (!this.isPotential) throw new ArgumentError('model', 'this kernel wraps a model');
    return this.target as Potential;
  }

  /** Move from `z` (momentum already drawn) with step size `eps`. */
  abstract trajectory(
    z: PhasePoint,
    eps: number,
    metric: Metric,
    rng: ChainRng,
  ): PotentialRequests<TrajectoryResult>;

  /**
   * A new chain at unconstrained position `q0` with `numWarmup` warmup iterations to adapt over.
   */
  chain(q0: Float64Array, numWarmup: number, rng: ChainRng): ChainSampler {
    return new ChainSampler(this, this.opts, q0, numWarmup, rng);
  }

  /**
   * A chain continuing from `state` (taken by {@link ChainSampler.state}, e.g. `MCMC.lastState`):
   * its next transitions are those the chain would have taken without the interruption, warmup
   * included when the state is one of mid-warmup.
   *
   * @throws ArgumentError when the state does not fit this kernel (its metric's size).
   */
  resumeChain(state: ChainState): ChainSampler {
    this.checkState(state);
    return this.resumed(state);
  }

  /**
   * The chain {@link chain} makes at the state's position, warmup length and random stream,
   * then restored to `state` (its step size, metric, adaptation and the kernel's own state):
   * the tail of every `resumeChain` once the state is checked. @internal
   */
  protected resumed(state: ChainState): ChainSampler {
    const s = this.chain(state.q, state.numWarmup, ChainRng.fromState(state.rng));
    s.restore(state);
    return s;
  }

  /**
   * A chain's setup of the kernel's own (the Gibbs kernels condition the model on their sites),
   * or `undefined` for the common one (`chain_setup.ts`). @internal
   */
  ownSetup(_rng: ChainRng, _args: unknown[]): ChainSetup | undefined {
    return undefined;
  }

  /**
   * Whether the warmup starts (and restarts after each mass-matrix window) the step size at
   * Stan's heuristic `findReasonableStepSize` (a leapfrog-based search: right for the Hamiltonian
   * kernels) rather than at the current step size. @internal
   */
  searchStepSize(): boolean {
    return true;
  }

  /**
   * The constants of the step size's dual averaging (`gamma`, `t0`, `kappa`; the target is
   * `targetAcceptProb`). Default Stan's (`0.05`, `10`, `0.75`), right for the Hamiltonian kernels,
   * whose acceptance statistic is an average over a trajectory. A kernel without the step-size
   * search ({@link HamiltonianKernel.searchStepSize}) continues its iterates across the metric
   * windows, recentred at each new metric (`DualAveraging.recenter`), so that the final step size
   * averages the iterates under the final metric. @internal
   */
  dualAveragingOptions(): Omit<DualAveragingOptions, 'targetAcceptProb'> {
    return {};
  }

  /**
   * Refuse a driver configuration this kernel cannot run (before any work; the ensemble kernels
   * need `chainMethod: 'vectorized'` and several walkers). Default: every configuration. @internal
   */
  checkDriver(_numChains: number, _chainMethod: string): void {}

  /** Throw unless `state` fits this kernel's metric (see {@link HamiltonianKernel.resumeChain}). */
  protected checkState(state: ChainState): void {
    const d = state.q.length;
    const dense = this.opts.fullMass;
    const n = dense ? d * d : d;
    if (state.inverseMass.length !== n || state.grad.length !== d) {
      throw new ArgumentError(
        'state',
        `expected a chain state of a ${dense ? 'dense' : 'diagonal'} metric over ${d} coordinates (${n} inverse-mass values), got ${state.inverseMass.length}`,
      );
    }
  }
}
