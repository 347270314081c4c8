/**
 * The single-proposal Metropolis–Hastings kernels on the Hamiltonian machinery (`RandomWalkMH`,
 * `BarkerMH`): one proposal `q'` per iteration, accepted with probability `a = min(1, α)`, the
 * step size `ε` and the mass matrix `M^{-1}` adapted as the Hamiltonian kernels adapt theirs.
 *
 * What they share is how the warmup is tuned to the statistic the dual averaging is fed (one
 * proposal's acceptance, see `barker.ts` for the why): no leapfrog-based step-size search (it
 * sizes Hamiltonian trajectories; the dual averaging starts at the given `ε` and runs on across
 * the mass-matrix windows), `γ = 0.5`, `κ = 1`, and a terminal buffer of 200 iterations unless
 * `termBuffer` is given.
 */
import { checkOptionKeys } from '../../utils/options.js';
import { HamiltonianKernel, type HamiltonianOptions } from './kernel.js';

/** What a single-proposal kernel class fixes: its name, its option keys, its default target. */
export interface SingleProposalSpec {
  /** The class name, for the unknown-option message. */
  readonly name: string;
  /** The option keys it takes. */
  readonly keys: readonly string[];
  /** The default `targetAcceptProb` (0.234 random walk, 0.4 Barker). */
  readonly targetAcceptProb: number;
}

/**
 * Base of the single-proposal Metropolis–Hastings kernels: the option check and defaults
 * (`targetAcceptProb` of the spec, `termBuffer = 200`) and the dual-averaging tuning
 * (`γ = 0.5`, `κ = 1`, no step-size search). Subclasses write `trajectory` (one proposal and its
 * accept/reject).
 */
export abstract class SingleProposalKernel extends HamiltonianKernel {
  /**
   * @param model a model function, or a flat `Potential`.
   * @param options the Hamiltonian kernels' options as given (not an object: refused by the base).
   * @param spec the subclass's name, option keys and default target.
   * @throws ArgumentError naming the option.
   */
  constructor(model: unknown, options: HamiltonianOptions, spec: SingleProposalSpec) {
    if (options !== null && typeof options === 'object') {
      checkOptionKeys(options, spec.keys, spec.name);
    }
    super(
      model,
      options === null || typeof options !== 'object'
        ? options
        : { targetAcceptProb: spec.targetAcceptProb, termBuffer: 200, ...options },
    );
  }

  /**
   * No leapfrog-based step-size search (it sizes Hamiltonian trajectories): the dual averaging
   * starts at the given `ε` and runs on across the mass-matrix windows.
   */
  override searchStepSize(): boolean {
    return false;
  }

  /** `γ = 0.5`, `κ = 1` (see the module docs: the statistic is one proposal's acceptance). */
  override dualAveragingOptions(): { gamma: number; kappa: number } {
    return { gamma: 0.5, kappa: 1 };
  }
}
