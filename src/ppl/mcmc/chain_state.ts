/**
 * The state of one Hamiltonian chain as plain data (NumPyro's `HMCState`): everything the next
 * transition depends on, so that a chain continued from it ({@link HamiltonianKernel.resumeChain})
 * draws exactly what the uninterrupted chain would have drawn. `MCMC.lastState` holds one per
 * chain; checkpoints (`checkpoint.ts`) store them.
 */
import { ArgumentError } from '../../utils/errors.js';
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

/** A float array field of a state given as data: a Float64Array, a number[] or a JSON'd one. */
function floatsOf(v: unknown, field: string, what: string): Float64Array {
  if (v instanceof Float64Array) return v.slice();
  let arr: unknown[] | undefined;
  if (Array.isArray(v)) arr = v;
  else if (v !== null && typeof v === 'object') {
    // JSON.stringify writes a typed array as {"0": x0, "1": x1, ...}
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.every((k, i) => k === String(i))) arr = keys.map((k) => o[k]);
  }
  if (arr === undefined || arr.some((x) => typeof x !== 'number')) {
    throw new ArgumentError(what, `${field}: expected an array of numbers`);
  }
  return Float64Array.from(arr as number[]);
}

function numberOf(v: unknown, field: string, what: string, integer = false): number {
  if (typeof v !== 'number' || Number.isNaN(v) || (integer && !(Number.isInteger(v) && v >= 0))) {
    throw new ArgumentError(
      what,
      `${field}: expected ${integer ? 'an integer >= 0' : 'a number'}, got ${String(v)}`,
    );
  }
  return v;
}

function objectOf(v: unknown, field: string, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object') {
    throw new ArgumentError(what, `${field}: expected an object`);
  }
  return v as Record<string, unknown>;
}

/**
 * A {@link ChainState} from data (`MCMC.lastState`'s chains as they are, or after a round trip
 * through `JSON.stringify`/`JSON.parse`, which writes a `Float64Array` as `{"0": x0, ...}`): a
 * checked copy with float64 arrays.
 *
 * @param what the argument named in errors (e.g. `postWarmupState`).
 * @throws ArgumentError naming `what` and the field that is missing or of the wrong type.
 */
export function chainStateFromData(x: unknown, what: string, chain: number): ChainState {
  const at = `chains[${chain}]`;
  const o = objectOf(x, at, what);
  const q = floatsOf(o.q, `${at}.q`, what);
  const grad = floatsOf(o.grad, `${at}.grad`, what);
  if (grad.length !== q.length) {
    throw new ArgumentError(
      what,
      `${at}.grad: expected ${q.length} values (as q), got ${grad.length}`,
    );
  }
  const d = objectOf(o.dual, `${at}.dual`, what);
  const w = objectOf(o.welford, `${at}.welford`, what);
  const r = objectOf(o.rng, `${at}.rng`, what);
  const dual: DualAveragingState = {
    counter: numberOf(d.counter, `${at}.dual.counter`, what),
    sBar: numberOf(d.sBar, `${at}.dual.sBar`, what),
    xBar: numberOf(d.xBar, `${at}.dual.xBar`, what),
    mu: numberOf(d.mu, `${at}.dual.mu`, what),
  };
  if (d.averageCounter !== undefined) {
    dual.averageCounter = numberOf(d.averageCounter, `${at}.dual.averageCounter`, what);
  }
  const spare = r.spare === undefined || r.spare === null ? undefined : r.spare;
  const out: ChainState = {
    q,
    potential: numberOf(o.potential, `${at}.potential`, what),
    grad,
    stepSize: numberOf(o.stepSize, `${at}.stepSize`, what),
    inverseMass: floatsOf(o.inverseMass, `${at}.inverseMass`, what),
    iteration: numberOf(o.iteration, `${at}.iteration`, what, true),
    numWarmup: numberOf(o.numWarmup, `${at}.numWarmup`, what, true),
    dual,
    welford: {
      n: numberOf(w.n, `${at}.welford.n`, what, true),
      mean: floatsOf(w.mean, `${at}.welford.mean`, what),
      m2: floatsOf(w.m2, `${at}.welford.m2`, what),
    },
    rng: {
      seed: numberOf(r.seed, `${at}.rng.seed`, what),
      calls: numberOf(r.calls, `${at}.rng.calls`, what, true),
      spare: spare === undefined ? undefined : numberOf(spare, `${at}.rng.spare`, what),
    },
  };
  if (o.gibbs !== undefined) out.gibbs = floatsOf(o.gibbs, `${at}.gibbs`, what);
  if (o.kernelState !== undefined) {
    out.kernelState = floatsOf(o.kernelState, `${at}.kernelState`, what);
  }
  return out;
}
