/**
 * What the Gibbs-style kernels share (`HMCGibbs` and its subclasses `DiscreteHMCGibbs`,
 * `MixedHMC`; `HMCECS`): an inner `HMC`/`NUTS` kernel moves `z_h` while other coordinates `z_g`
 * (Gibbs sites, or the subsample indices of `HMCECS`) are updated between its transitions. The
 * potential is asked at the extended position `x = [z_h, z_g]`; the inner kernel sees
 * `U(z_h; z_g)` and its gradient cut back to `z_h`. One transition:
 *
 * 1. `z_g' = update(z_h, z_g)` (the kind's step: a Gibbs draw, a Metropolis block update, ...);
 *    when it changed, `U(z_h; z_g')` and its gradient are asked anew at the chain's position;
 * 2. one transition of the inner kernel on `U(. ; z_g')`, its warmup adapting across
 *    transitions as it does alone.
 *
 * A chain's state (`lastState`, checkpoints) is the inner kernel's plus `z_g`
 * (`ChainState.gibbs`), and a kept draw is the extended position.
 */
import { ArgumentError } from '../../utils/errors.js';
import type { ChainState } from './chain_state.js';
import type { PhasePoint, PotentialRequests } from './integrator.js';
import { ChainSampler, type TransitionStats } from './chain_sampler.js';
import { HamiltonianKernel, type TrajectoryResult } from './kernel.js';
import type { Metric } from './metric.js';
import type { LatentSite } from './potential.js';
import { ChainRng } from './rng.js';

/** How a resumed state of an extended chain is described when it does not fit. */
export interface ExtendedStateWords {
  /** The chain, e.g. `'a Gibbs chain'`. */
  readonly chain: string;
  /** Its inner coordinates, e.g. `'inner coordinates'`. */
  readonly inner: string;
  /** Its other coordinates, e.g. `'Gibbs values'`. */
  readonly extra: string;
}

/**
 * A kernel whose chains extend an inner `HMC`/`NUTS` kernel's by coordinates of its own (see
 * the module docs): the inner kernel's trajectories, a chain at `x0 = [z_h, z_g]`, a resumed
 * chain from a state holding `z_g` in `state.gibbs`.
 */
export abstract class ExtendedKernel extends HamiltonianKernel {
  /** The kernel moving the inner coordinates. */
  readonly innerKernel: HamiltonianKernel;

  constructor(
    innerKernel: HamiltonianKernel,
    options: ConstructorParameters<typeof HamiltonianKernel>[1],
  ) {
    super(innerKernel.target, options);
    this.innerKernel = innerKernel;
  }

  /**
   * The inner and extra dimensions of the chains being set up, and how a state is described
   * (throws when no chain is set up).
   */
  protected abstract extendedDims(): {
    hmcDim: number;
    extraDim: number;
    words: ExtendedStateWords;
  };

  /**
   * Bind the inner coordinates' latent layout for `fullMass` given as blocks of site names
   * (NumPyro's `dense_mass=[("a", "b")]` on the inner kernel): the block-diagonal metric is over
   * `z_h` only, the sites of `sites` at offsets below `hmcDim`. A block naming one of the extra
   * sites (`extra`, e.g. a Gibbs site) is an {@link ArgumentError} naming `fullMass`: those
   * coordinates are not moved by the inner kernel and have no mass. @internal
   */
  protected bindInnerLayout(sites: readonly LatentSite[], hmcDim: number, extra: string): void {
    const blocks = this.opts.massBlocks;
    if (blocks === undefined) return;
    const inner = sites.filter((s) => s.offset < hmcDim);
    for (const name of blocks.flat()) {
      if (sites.some((s) => s.name === name && s.offset >= hmcDim)) {
        throw new ArgumentError(
          'fullMass',
          `'${name}' is ${extra}, not moved by the inner ${this.innerKernel.constructor.name} kernel, so it has no mass: blocks name the inner kernel's sites (${inner.map((s) => `'${s.name}'`).join(', ')})`,
        );
      }
    }
    this.bindLayout(inner);
  }

  *trajectory(
    z: PhasePoint,
    eps: number,
    metric: Metric,
    rng: ChainRng,
  ): PotentialRequests<TrajectoryResult> {
    return yield* this.innerKernel.trajectory(z, eps, metric, rng);
  }

  /** A chain continuing from `state` (with its extra coordinates, `state.gibbs`). */
  override resumeChain(state: ChainState): ChainSampler {
    const { hmcDim, extraDim, words } = this.extendedDims();
    const g = state.gibbs;
    if (g === undefined || g.length !== extraDim || state.q.length !== hmcDim) {
      throw new ArgumentError(
        'state',
        `expected the state of ${words.chain} with ${hmcDim} ${words.inner} and ${extraDim} ${words.extra}, got ${state.q.length} and ${g === undefined ? 'none' : g.length}`,
      );
    }
    this.checkState(state);
    const x0 = new Float64Array(hmcDim + extraDim);
    x0.set(state.q);
    x0.set(g, state.q.length);
    const s = this.chain(x0, state.numWarmup, ChainRng.fromState(state.rng));
    s.restore(state);
    return s;
  }
}

/**
 * One chain of an {@link ExtendedKernel}: the inner kernel's chain over `z_h` plus the extra
 * coordinates `z_g` ({@link ExtendedChainSampler.gibbs}), updated by the kind's
 * {@link ExtendedChainSampler.update} before every inner transition.
 * @internal
 */
export abstract class ExtendedChainSampler extends ChainSampler {
  /** The extra coordinates' current values (Gibbs sites, subsample indices). */
  gibbs: Float64Array;

  constructor(
    kernel: HamiltonianKernel,
    opts: ConstructorParameters<typeof ChainSampler>[1],
    x0: Float64Array,
    numWarmup: number,
    rng: ChainRng,
    hmcDim: number,
  ) {
    super(kernel, opts, x0.slice(0, hmcDim), numWarmup, rng);
    this.gibbs = x0.slice(hmcDim);
  }

  /**
   * The update of the extra coordinates at the inner position `zh` (drawing from `this.rng`):
   * their new values, or `undefined` when they stay.
   */
  protected abstract update(zh: Float64Array): Float64Array | undefined;

  /** `[zh, zg]` (`zg` the chain's extra values unless given). */
  protected extend(zh: Float64Array, zg: Float64Array = this.gibbs): Float64Array {
    const x = new Float64Array(zh.length + zg.length);
    x.set(zh);
    x.set(zg, zh.length);
    return x;
  }

  /**
   * The requests over `z_h` of `gen`, asked at `[z_h, z_g]` (the gradient cut back to `z_h`;
   * `zg` the chain's extra values unless given).
   */
  protected *extended<T>(gen: PotentialRequests<T>, zg?: Float64Array): PotentialRequests<T> {
    let r = gen.next();
    while (r.done !== true) {
      const p = yield this.extend(r.value, zg);
      r = gen.next({ ...p, grad: p.grad.slice(0, r.value.length) });
    }
    return r.value;
  }

  override *initialize(): PotentialRequests<void> {
    yield* this.extended(super.initialize());
  }

  override *step(): PotentialRequests<TransitionStats> {
    const zh = this.point.q;
    const next = this.update(zh);
    if (next !== undefined) {
      this.gibbs = next;
      const p = yield this.extend(zh);
      this.point = { ...this.point, potential: p.value, grad: p.grad.slice(0, zh.length) };
    }
    return yield* this.extended(super.step());
  }

  override keptPosition(): Float64Array {
    return this.extend(this.point.q);
  }

  override state(): ChainState {
    return { ...super.state(), gibbs: this.gibbs.slice() };
  }

  override restore(s: ChainState): void {
    super.restore(s);
    if (s.gibbs !== undefined) this.gibbs = s.gibbs.slice();
  }
}
