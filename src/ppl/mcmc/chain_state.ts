/**
 * The state of one Hamiltonian chain as plain data (NumPyro's `HMCState`): everything the next
 * transition depends on, so that a chain continued from it ({@link HamiltonianKernel.resumeChain})
 * draws exactly what the uninterrupted chain would have drawn. `MCMC.lastState` holds one per
 * chain; checkpoints (`checkpoint.ts`) store them.
 */
import type { DualAveragingState } from './dual_averaging.js';
import type { ChainRngState } from './rng.js';
import type { WelfordState } from './welford.js';

/** One chain's state (see the module docs). All arrays are float64 copies owned by the state. */
export interface ChainState {
  /** Current unconstrained position `q`. */
  q: Float64Array;
  /** `U(q)`, as computed when the chain got there. */
  potential: number;
  /** `dU/dq` at `q`. */
  grad: Float64Array;
  /** The step size of the next transition (the adapted one after warmup). */
  stepSize: number;
  /** The inverse mass matrix `M^{-1}`: `dim` values (diag) or `dim * dim` row-major (dense). */
  inverseMass: Float64Array;
  /** Transitions taken so far, warmup included. */
  iteration: number;
  /** The warmup length the chain adapts over (iterations `< numWarmup` adapt). */
  numWarmup: number;
  /** The step-size adaptation's running averages. */
  dual: DualAveragingState;
  /** The mass-matrix window's running (co)variance. */
  welford: WelfordState;
  /** The chain's random stream. */
  rng: ChainRngState;
  /**
   * The values of the Gibbs-updated sites of an `HMCGibbs`/`DiscreteHMCGibbs` chain, flat in the
   * kernel's site order (absent for the plain Hamiltonian kernels).
   */
  gibbs?: Float64Array;
  /**
   * The state of a kernel beyond one point, flat (absent for the Hamiltonian kernels): `SA`'s
   * population with its potentials, an ensemble's shared adaptation (`ESS`'s `mu`, in walker 0).
   */
  kernelState?: Float64Array;
}

/** The copy of a {@link ChainState} (its arrays cloned). */
export function cloneChainState(s: ChainState): ChainState {
  return {
    ...s,
    q: s.q.slice(),
    grad: s.grad.slice(),
    inverseMass: s.inverseMass.slice(),
    dual: { ...s.dual },
    welford: { n: s.welford.n, mean: s.welford.mean.slice(), m2: s.welford.m2.slice() },
    rng: { ...s.rng },
    ...(s.gibbs === undefined ? {} : { gibbs: s.gibbs.slice() }),
    ...(s.kernelState === undefined ? {} : { kernelState: s.kernelState.slice() }),
  };
}
