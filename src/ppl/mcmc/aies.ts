/**
 * The affine-invariant ensemble sampler (Goodman & Weare 2010; emcee; NumPyro's `AIES`): a
 * gradient-free ensemble of walkers (`ensemble.ts`: each walker one chain of a `vectorized` run)
 * moved half by half with proposals built from the other half `S'`:
 *
 * - **stretch move** (`AIES.StretchMove({a})`, default `a = 2`): `y = x_j + Z (x - x_j)` with
 *   `x_j` drawn from `S'` and `Z` from `g(z) ∝ 1/sqrt(z)` on `[1/a, a]`
 *   (`Z = ((a - 1) u + 1)^2 / a`), accepted with probability
 *   `min(1, Z^{d-1} exp(U(x) - U(y)))`;
 * - **differential-evolution move** (`AIES.DEMove({sigma, g0})`, ter Braak 2006 as Nelson et al.
 *   2013): `y = x + γ (x_i - x_j)` with `x_i ≠ x_j` drawn from `S'` and
 *   `γ ~ N(g0, (g0 σ)^2)` (default `g0 = 2.38 / sqrt(2 d)`, `σ = 1e-5`), accepted with
 *   probability `min(1, exp(U(x) - U(y)))`.
 *
 * - **KDE move** (`AIES.KDEMove({bwMethod})`, emcee's and NumPyro's): an independence proposal
 *   `y ~ q` from the Gaussian kernel density estimate `q` over the other half
 *   (`gaussian_kde.ts`: kernel covariance `f^2 Σ`, `Σ` the half's sample covariance, `f` by
 *   Scott's rule (default), Silverman's or a given number), accepted with probability
 *   `min(1, exp(U(x) - U(y) + log q(x) - log q(y)))` (the Metropolis–Hastings ratio of the
 *   proposal, which does not depend on the walker moved). Each half must hold at least `d + 1`
 *   walkers (`numChains >= 2 d + 2`) for `Σ` to be positive definite; a half whose walkers have
 *   collapsed onto a hyperplane proposes nothing (every walker stays, acceptance 0).
 *
 * Several moves are mixed by weights, one move drawn per half-update (NumPyro's
 * `moves={AIES.DEMove(): 0.5, AIES.StretchMove(): 0.5}` is
 * `moves: [[AIES.DEMove(), 0.5], [AIES.StretchMove(), 0.5]]`). Nothing adapts: warmup is burn-in.
 * The moves are invariant under affine maps of the latent, so strongly correlated or badly
 * scaled posteriors cost no tuning; one potential evaluation per walker per transition.
 */
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { ENSEMBLE_OPTION_KEYS, EnsembleKernel, type WalkerMove } from './ensemble.js';
import type { PotentialRequests } from './integrator.js';
import type { InitStrategy } from './init.js';
import type { CompileMode } from './compiled_potential.js';
import type { ChainRng } from './rng.js';
import type { KDEBandwidth } from './gaussian_kde.js';

/** A move of {@link AIES} (plain data: a checkpoint's fingerprint compares it). */
export type AIESMove =
  | { readonly kind: 'stretch'; readonly a: number }
  | { readonly kind: 'de'; readonly sigma: number; readonly g0: number | null }
  | { readonly kind: 'kde'; readonly bwMethod: KDEBandwidth };

/** Options of {@link AIES}. */
export interface AIESOptions {
  /**
   * One move, or `[move, weight]` pairs (or a `Map` move -> weight, NumPyro's dict) drawn by
   * weight at each half-update. Default `AIES.DEMove()`, as NumPyro.
   */
  moves?: AIESMove | readonly (readonly [AIESMove, number])[] | ReadonlyMap<AIESMove, number>;
  /**
   * A fresh random split of the walkers at each transition. Default false, as NumPyro's `AIES`
   * (halves by walker index; `ESS` defaults to true, as NumPyro's).
   */
  randomizeSplit?: boolean;
  /** How each walker starts (default `'uniform'`: dispersed starts in `(-2, 2)`). */
  initStrategy?: InitStrategy;
  /** Record and replay the model's potential (see `HamiltonianOptions.compile`). */
  compile?: CompileMode;
  /** The model's plate nesting for enumerated discrete sites. */
  maxPlateNesting?: number;
}

/** Check and normalize a kernel's `moves` option into moves and cumulative probabilities. */
export function resolveMoves<M>(
  moves: unknown,
  isMove: (m: unknown) => m is M,
  dflt: M,
  who: string,
): { moves: M[]; cumulative: number[] } {
  if (moves === undefined) return { moves: [dflt], cumulative: [1] };
  if (isMove(moves)) return { moves: [moves], cumulative: [1] };
  // NumPyro's dict {move: weight} as a Map
  if (moves instanceof Map) return resolveMoves([...moves.entries()], isMove, dflt, who);
  const bad = (why: string): ArgumentError =>
    new ArgumentError('moves', `${who}: expected a move or [move, weight] pairs, ${why}`);
  if (!Array.isArray(moves) || moves.length === 0) throw bad(`got ${JSON.stringify(moves)}`);
  const ms: M[] = [];
  const ws: number[] = [];
  for (const e of moves as unknown[]) {
    if (!Array.isArray(e) || e.length !== 2 || !isMove(e[0])) {
      throw bad(`got the entry ${JSON.stringify(e)}`);
    }
    const wt = e[1] as unknown;
    if (typeof wt !== 'number' || !(wt > 0) || !Number.isFinite(wt)) {
      throw bad(`got the weight ${String(wt)} (weights are finite numbers > 0)`);
    }
    ms.push(e[0]);
    ws.push(wt);
  }
  const total = ws.reduce((a, b) => a + b, 0);
  let c = 0;
  const cumulative = ws.map((wt) => (c += wt / total));
  return { moves: ms, cumulative };
}

/** The `[move, probability]` pairs of resolved moves. */
export function movePairs<M>(r: { moves: M[]; cumulative: number[] }): [M, number][] {
  return r.moves.map((m, i) => [m, (r.cumulative[i] as number) - (r.cumulative[i - 1] ?? 0)]);
}

/** Draw an index by cumulative probabilities (one uniform from `rng`; none for one entry). */
export function drawIndex(cumulative: readonly number[], rng: ChainRng): number {
  if (cumulative.length === 1) return 0;
  const u = rng.uniform();
  const i = cumulative.findIndex((c) => u < c);
  return i < 0 ? cumulative.length - 1 : i;
}

/**
 * The bandwidth of a KDE move's options `{bwMethod?}` (`AIES.KDEMove`, `ESS.KDEMove`): `'scott'`
 * (default), `'silverman'` or a finite factor `> 0`.
 * @throws ArgumentError naming `options` or `bwMethod`.
 */
export function kdeMoveBandwidth(options: unknown, who: string): KDEBandwidth {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `${who}: expected {bwMethod?}, got ${String(options)}`);
  }
  checkOptionKeys(options as Record<string, unknown>, ['bwMethod'], who);
  const bw = (options as { bwMethod?: unknown }).bwMethod ?? 'scott';
  if (
    bw !== 'scott' &&
    bw !== 'silverman' &&
    !(typeof bw === 'number' && bw > 0 && Number.isFinite(bw))
  ) {
    throw new ArgumentError(
      'bwMethod',
      `${who}: expected 'scott', 'silverman' or a finite number > 0, got ${JSON.stringify(bw)}`,
    );
  }
  return bw;
}

function isAIESMove(m: unknown): m is AIESMove {
  if (m === null || typeof m !== 'object') return false;
  const k = (m as { kind?: unknown }).kind;
  return k === 'stretch' || k === 'de' || k === 'kde';
}

/** Two distinct indices below `n` (`n >= 2`). */
export function distinctPair(n: number, rng: ChainRng): [number, number] {
  const i = Math.floor(rng.uniform() * n);
  let j = Math.floor(rng.uniform() * (n - 1));
  if (j >= i) j += 1;
  return [i, j];
}

/**
 * Affine-invariant ensemble sampler (NumPyro's `AIES`; see the module docs). Run it through
 * `MCMC` with `chainMethod: 'vectorized'` and `numChains` = walkers `>= max(4, 2 * dim)`.
 *
 * @example
 * ```ts
 * const kernel = new AIES(model, { moves: [[AIES.DEMove(), 0.5], [AIES.StretchMove(), 0.5]] });
 * const mcmc = new MCMC(kernel, { numSamples: 500, warmupSteps: 500, numChains: 20, chainMethod: 'vectorized' });
 * await mcmc.run(y);
 * ```
 */
export class AIES extends EnsembleKernel {
  /** The moves and their cumulative probabilities. */
  readonly moves: readonly AIESMove[];
  private readonly cumulative: readonly number[];

  /**
   * The stretch move `y = x_j + Z (x - x_j)`, `Z ~ g(z) ∝ z^{-1/2}` on `[1/a, a]`.
   * @param options `a > 1` (default 2).
   * @throws ArgumentError naming `a`.
   */
  static StretchMove(options: { a?: number } = {}): AIESMove {
    checkOptionKeys(options, ['a'], 'AIES.StretchMove');
    const a = options.a ?? 2;
    if (!(a > 1) || !Number.isFinite(a)) {
      throw new ArgumentError('a', `AIES.StretchMove: expected a finite number > 1, got ${a}`);
    }
    return { kind: 'stretch', a };
  }

  /**
   * The differential-evolution move `y = x + γ (x_i - x_j)`, `γ ~ N(g0, (g0 σ)^2)`.
   * @param options `sigma >= 0` (default 1e-5), `g0 > 0` (default `2.38 / sqrt(2 d)`).
   * @throws ArgumentError naming the option.
   */
  static DEMove(options: { sigma?: number; g0?: number } = {}): AIESMove {
    checkOptionKeys(options, ['sigma', 'g0'], 'AIES.DEMove');
    const sigma = options.sigma ?? 1e-5;
    if (!(sigma >= 0) || !Number.isFinite(sigma)) {
      throw new ArgumentError('sigma', `AIES.DEMove: expected a finite number >= 0, got ${sigma}`);
    }
    const g0 = options.g0;
    if (g0 !== undefined && (!(g0 > 0) || !Number.isFinite(g0))) {
      throw new ArgumentError('g0', `AIES.DEMove: expected a finite number > 0, got ${g0}`);
    }
    return { kind: 'de', sigma, g0: g0 ?? null };
  }

  /**
   * The KDE move: `y ~ q`, the Gaussian KDE over the other half, accepted with probability
   * `min(1, exp(U(x) - U(y) + log q(x) - log q(y)))` (NumPyro's `AIES.KDEMove(bw_method)`).
   * @param options `bwMethod`: `'scott'` (default, `f = n^{-1/(d+4)}`), `'silverman'`
   *   (`f = (n (d+2) / 4)^{-1/(d+4)}`) or the factor `f > 0` itself.
   * @throws ArgumentError naming `bwMethod`.
   */
  static KDEMove(options: { bwMethod?: KDEBandwidth } = {}): AIESMove {
    return { kind: 'kde', bwMethod: kdeMoveBandwidth(options, 'AIES.KDEMove') };
  }

  /**
   * @param model a model function, or a flat {@link Potential}.
   * @param options `moves`, `randomizeSplit`, `initStrategy`, `compile`, `maxPlateNesting`.
   * @throws ArgumentError naming the option.
   */
  constructor(model: unknown, options: AIESOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `AIES: expected an object, got ${String(options)}`);
    }
    checkOptionKeys(options, ENSEMBLE_OPTION_KEYS, 'AIES');
    const r = resolveMoves(options.moves, isAIESMove, AIES.DEMove(), 'AIES');
    // the moves as [move, probability] pairs (a Map's too), for the checkpoints' fingerprint
    // NumPyro's AIES keeps the halves by index unless asked (randomize_split=False)
    super(model, { ...options, moves: movePairs(r) }, options.randomizeSplit ?? false);
    this.moves = r.moves;
    this.cumulative = r.cumulative;
  }

  get who(): string {
    return 'AIES';
  }

  /** With a KDE move each half needs `dim + 1` walkers (a positive-definite covariance). */
  override minWalkers(dim: number): { min: number; rule: string } {
    if (!this.moves.some((m) => m.kind === 'kde')) return super.minWalkers(dim);
    return { min: Math.max(4, 2 * dim + 2), rule: 'max(4, 2 * dim + 2) with a KDEMove' };
  }

  initialShared(): Float64Array {
    return new Float64Array(0);
  }

  chooseMove(rng: ChainRng): number {
    return drawIndex(this.cumulative, rng);
  }

  adaptShared(): void {}

  *moveWalker(
    x: Float64Array,
    u: number,
    others: Float64Array[],
    move: number,
    _shared: Float64Array,
    rng: ChainRng,
  ): PotentialRequests<WalkerMove> {
    const m = this.moves[move] as AIESMove;
    const d = x.length;
    let y: Float64Array = new Float64Array(d);
    let logJ = 0;
    if (m.kind === 'kde') {
      const kde = this.kdeOf(others, m.bwMethod);
      if (kde === null) return { acceptStat: 0, numSteps: 0 };
      y = kde.sample(rng);
      // the proposal's Metropolis–Hastings ratio q(x) / q(y)
      logJ = kde.logPdf(x) - kde.logPdf(y);
    } else if (m.kind === 'stretch') {
      const xj = others[Math.floor(rng.uniform() * others.length)] as Float64Array;
      const z = ((m.a - 1) * rng.uniform() + 1) ** 2 / m.a;
      for (let i = 0; i < d; i++)
        y[i] = (xj[i] as number) + z * ((x[i] as number) - (xj[i] as number));
      logJ = (d - 1) * Math.log(z);
    } else {
      const [i0, j0] = distinctPair(others.length, rng);
      const xi = others[i0] as Float64Array;
      const xj = others[j0] as Float64Array;
      const g0 = m.g0 ?? 2.38 / Math.sqrt(2 * d);
      const gamma = g0 + g0 * m.sigma * rng.normal();
      for (let i = 0; i < d; i++) {
        y[i] = (x[i] as number) + gamma * ((xi[i] as number) - (xj[i] as number));
      }
    }
    const { value } = yield y;
    const logA = logJ + u - value;
    const accept =
      !Number.isFinite(value) || Number.isNaN(logA) ? 0 : logA >= 0 ? 1 : Math.exp(logA);
    const moved = rng.uniform() < accept;
    return moved
      ? { q: y, potential: value, acceptStat: accept, numSteps: 1 }
      : { acceptStat: accept, numSteps: 1 };
  }
}
