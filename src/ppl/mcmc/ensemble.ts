/**
 * The ensemble samplers' shared machinery (NumPyro's `EnsembleSampler`): `W` walkers, each one
 * chain of a `chainMethod: 'vectorized'` run (`numChains = W`, as NumPyro's
 * `chain_method='vectorized'`), moved together. One transition of the ensemble:
 *
 * 1. split the walkers into two halves `S_0`, `S_1` (a random permutation with
 *    `randomizeSplit`, `ESS`'s default, else by index, `AIES`'s default, as NumPyro's);
 * 2. move every walker of `S_0` by the kernel's move given the positions of `S_1`, then every
 *    walker of `S_1` given the new positions of `S_0`.
 *
 * Each half's update leaves the posterior of that half invariant given the other half (the
 * complementary-ensemble construction of Goodman & Weare 2010), so the product over walkers of
 * the posterior is invariant and every walker's draws are posterior draws (walkers are not
 * independent chains: R-hat across them is optimistic). The split and the move choice draw from
 * walker 0's stream, each walker's own proposals from its own, so a run is reproducible by seed;
 * a walker's state (`lastState`, checkpoints) is its position and stream plus the ensemble's
 * shared adaptation (`ChainState.kernelState`), so continued runs and resumed checkpoints give the
 * uninterrupted run's draws. Walkers must number at least `max(4, 2 * dim)`.
 */
import { ArgumentError } from '../../utils/errors.js';
import type { ChainState } from './chain_state.js';
import type { BatchRequests } from './drive.js';
import type { PotentialPoint, PotentialRequests } from './integrator.js';
import { ChainSampler, type ChainGroup, type TransitionStats } from './chain_sampler.js';
import { HamiltonianKernel, type HamiltonianOptions, type TrajectoryResult } from './kernel.js';
import { ChainRng } from './rng.js';
import { GaussianKDE, type KDEBandwidth } from './gaussian_kde.js';

/** One walker's outcome in a half-update. */
export interface WalkerMove {
  /** The new position, or `undefined` to stay. */
  q?: Float64Array;
  /** `U` at the new position. */
  potential?: number;
  /** Acceptance probability (AIES) or 1 (ESS). */
  acceptStat: number;
  /** Potential evaluations taken. */
  numSteps: number;
}

/** The option names every ensemble kernel takes. */
export const ENSEMBLE_OPTION_KEYS: readonly string[] = [
  'moves',
  'randomizeSplit',
  'initStrategy',
  'compile',
  'maxPlateNesting',
];

/** The base of {@link AIES} and {@link ESS}. */
export abstract class EnsembleKernel extends HamiltonianKernel {
  /** Whether the halves are a fresh random split at each transition. */
  readonly randomizeSplit: boolean;

  constructor(
    target: unknown,
    options: HamiltonianOptions & { moves?: unknown },
    randomizeSplit: unknown,
  ) {
    super(target, { ...options, adaptStepSize: false, adaptMassMatrix: false });
    if (randomizeSplit !== undefined && typeof randomizeSplit !== 'boolean') {
      throw new ArgumentError(
        'randomizeSplit',
        `expected true or false, got ${String(randomizeSplit)}`,
      );
    }
    this.randomizeSplit = randomizeSplit ?? true;
  }

  /** The kernel's class name, for messages (`'AIES'`, `'ESS'`). */
  abstract get who(): string;

  /** KDE moves' fits, one per half-update (keyed by the other half's array). */
  private readonly kdes = new WeakMap<Float64Array[], GaussianKDE | null>();

  /**
   * The Gaussian KDE fitted to a half-update's other half (`KDEMove` of AIES and ESS), fitted once
   * per half-update (`others` is shared by its walkers); `null` when that half has collapsed.
   */
  protected kdeOf(others: Float64Array[], bw: KDEBandwidth): GaussianKDE | null {
    const hit = this.kdes.get(others);
    if (hit !== undefined) return hit;
    const kde = GaussianKDE.fit(others, bw);
    this.kdes.set(others, kde);
    return kde;
  }

  override checkDriver(numChains: number, chainMethod: string): void {
    if (chainMethod !== 'vectorized') {
      throw new ArgumentError(
        'chainMethod',
        `${this.who} moves its walkers together (each walker one chain): use chainMethod 'vectorized' with numChains = the number of walkers (NumPyro's chain_method='vectorized'), got '${chainMethod}'`,
      );
    }
    if (numChains < 4) {
      throw new ArgumentError(
        'numChains',
        `${this.who} needs at least 4 walkers (numChains >= max(4, 2 * dim)), got ${numChains}`,
      );
    }
  }

  /**
   * The fewest walkers the kernel runs with over `dim` coordinates, and the rule as words for the
   * message (default `max(4, 2 * dim)`; `AIES` with a `KDEMove`: each half at least `dim + 1`).
   * @internal
   */
  minWalkers(dim: number): { min: number; rule: string } {
    return { min: Math.max(4, 2 * dim), rule: 'max(4, 2 * dim)' };
  }

  /** The shared adaptation's initial value (ESS: `[mu]`; AIES: none). @internal */
  abstract initialShared(): Float64Array;

  /**
   * Choose the move of one half-update (drawing from `rng`), adapting nothing. @internal
   * @returns the index of the move in the kernel's list.
   */
  abstract chooseMove(rng: ChainRng): number;

  /**
   * Move walker `x` (potential `u`) given the other half's positions `others` with move `move`,
   * drawing from the walker's `rng`. @internal
   */
  abstract moveWalker(
    x: Float64Array,
    u: number,
    others: Float64Array[],
    move: number,
    shared: Float64Array,
    rng: ChainRng,
    counts: number[],
  ): PotentialRequests<WalkerMove>;

  /**
   * The shared adaptation after a warmup transition (`counts` the tallies of its two
   * half-updates' moves).
   */
  abstract adaptShared(shared: Float64Array, counts: number[]): void;

  /** Not used: the walkers move together ({@link WalkerSampler.group}). @internal */
  trajectory(): PotentialRequests<TrajectoryResult> {
    throw new ArgumentError(
      'chainMethod',
      `${this.who} walkers move together: run them through MCMC with chainMethod 'vectorized'`,
    );
  }

  override chain(q0: Float64Array, numWarmup: number, rng: ChainRng): ChainSampler {
    return new WalkerSampler(this, this.opts, q0, numWarmup, rng);
  }

  override resumeChain(state: ChainState): ChainSampler {
    const ks = state.kernelState;
    const n = this.initialShared().length;
    if (state.grad.length !== state.q.length || ks === undefined || ks.length !== n) {
      throw new ArgumentError(
        'state',
        `expected the state of a ${this.who} walker (its position and the ensemble's ${n} shared values), got ${ks === undefined ? 'none' : ks.length} shared values`,
      );
    }
    return this.resumed(state);
  }
}

/** One walker of an ensemble (a chain of the run). @internal */
export class WalkerSampler extends ChainSampler {
  /** The ensemble's shared adaptation (every walker holds the same values). */
  shared: Float64Array;

  constructor(
    readonly ensemble: EnsembleKernel,
    opts: ConstructorParameters<typeof ChainSampler>[1],
    q0: Float64Array,
    numWarmup: number,
    rng: ChainRng,
  ) {
    super(ensemble, opts, q0, numWarmup, rng);
    this.shared = ensemble.initialShared();
  }

  override group(samplers: ChainSampler[]): ChainGroup {
    const w = samplers.filter((s): s is WalkerSampler => s instanceof WalkerSampler);
    const d = this.point.q.length;
    const who = this.ensemble.who;
    const { min, rule } = this.ensemble.minWalkers(d);
    if (w.length !== samplers.length || w.length < min) {
      throw new ArgumentError(
        'numChains',
        `${who} needs numChains (walkers) >= ${rule} = ${min} for the ${d} unconstrained coordinates, got ${samplers.length}`,
      );
    }
    return { step: () => ensembleStep(this.ensemble, w) };
  }

  override step(): PotentialRequests<TransitionStats> {
    throw new ArgumentError(
      'chainMethod',
      `${this.ensemble.who} walkers move together: run them through MCMC with chainMethod 'vectorized'`,
    );
  }

  /** Record a transition (the ensemble's step moves the point). @internal */
  advance(): void {
    this.iteration_ += 1;
  }

  override state(): ChainState {
    return { ...super.state(), kernelState: this.shared.slice() };
  }

  override restore(s: ChainState): void {
    super.restore(s);
    if (s.kernelState !== undefined) this.shared = s.kernelState.slice();
  }
}

/** A random permutation of `0..n-1` (Fisher–Yates) drawn from `rng`. */
function permutation(n: number, rng: ChainRng): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    const t = p[i] as number;
    p[i] = p[j] as number;
    p[j] = t;
  }
  return p;
}

/** One transition of the ensemble (see the module docs): every walker's statistics. */
function* ensembleStep(
  kernel: EnsembleKernel,
  walkers: WalkerSampler[],
): BatchRequests<TransitionStats[]> {
  const w0 = walkers[0] as WalkerSampler;
  const warmup = w0.iteration < w0.numWarmup;
  const n = walkers.length;
  const order = kernel.randomizeSplit
    ? permutation(n, w0.rng)
    : Array.from({ length: n }, (_, i) => i);
  const h = Math.floor(n / 2);
  const halves = [order.slice(0, h), order.slice(h)];
  const stats: TransitionStats[] = new Array<TransitionStats>(n);
  const shared = w0.shared.slice();
  // expansions and contractions of the transition's two half-updates (ESS's tuning counts)
  const counts = [0, 0];
  for (let part = 0; part < 2; part++) {
    const active = halves[part] as number[];
    const others = (halves[1 - part] as number[]).map((k) =>
      (walkers[k] as WalkerSampler).point.q.slice(),
    );
    const move = kernel.chooseMove(w0.rng);
    // the active walkers move in lockstep: each round asks for all their pending positions at once
    // (each walker draws from its own stream, so the draws do not depend on the interleaving)
    const gens = active.map((k) => {
      const wk = walkers[k] as WalkerSampler;
      return kernel.moveWalker(
        wk.point.q,
        wk.point.potential,
        others,
        move,
        shared,
        wk.rng,
        counts,
      );
    });
    const res = gens.map((g) => g.next());
    for (;;) {
      const pending = res.flatMap((r, a) => (r.done === true ? [] : [a]));
      if (pending.length === 0) break;
      const pts = yield pending.map((a) => (res[a] as IteratorYieldResult<Float64Array>).value);
      pending.forEach((a, i) => {
        res[a] = (gens[a] as PotentialRequests<WalkerMove>).next(pts[i] as PotentialPoint);
      });
    }
    active.forEach((k, a) => {
      const wk = walkers[k] as WalkerSampler;
      const r = (res[a] as IteratorReturnResult<WalkerMove>).value;
      if (r.q !== undefined && r.potential !== undefined) {
        wk.point = { ...wk.point, q: r.q, potential: r.potential };
      }
      stats[k] = {
        acceptStat: r.acceptStat,
        stepSize: shared[0] ?? 1,
        numSteps: r.numSteps,
        treeDepth: 0,
        divergent: false,
        energy: wk.point.potential,
        potentialEnergy: wk.point.potential,
      };
    });
  }
  // adapted once per transition, on both halves' counts (NumPyro's ESS)
  if (warmup) kernel.adaptShared(shared, counts);
  for (const wk of walkers) {
    wk.shared = shared.slice();
    wk.advance();
  }
  return stats;
}
