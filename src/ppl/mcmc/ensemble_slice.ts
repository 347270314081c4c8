/**
 * Ensemble slice sampling (Karamanis & Beutler 2021; zeus; NumPyro's `ESS`): a gradient-free
 * ensemble of walkers (`ensemble.ts`: each walker one chain of a `vectorized` run) moved half by
 * half, each walker `x` of the active half by one univariate slice-sampling step (Neal 2003)
 * along a direction `η` built from the other half `S'`:
 *
 * - **differential** (`ESS.DifferentialMove()`, default): `η = 2 μ (x_i - x_j)`, `x_i ≠ x_j` from
 *   `S'`;
 * - **gaussian** (`ESS.GaussianMove()`): `η = 2 μ Σ_k g_k (x_k - x̄) / sqrt(|S'| - 1)`,
 *   `g_k ~ N(0, 1)`, i.e. `η ~ N(0, 4 μ^2 C)` with `C` the sample covariance of `S'`;
 * - **random** (`ESS.RandomMove()`): `η = 2 μ n / |n|`, `n ~ N(0, I)`;
 * - **KDE** (`ESS.KDEMove({bwMethod})`, NumPyro's and zeus's): `η = 2 μ (v - v')`, `v, v'` two
 *   draws of the Gaussian kernel density estimate of `S'` (`gaussian_kde.ts`, bandwidth by Scott's
 *   rule, Silverman's or a given factor); each half then needs `dim + 1` walkers (a positive
 *   definite covariance), and a half collapsed onto a hyperplane moves no walker.
 *
 * The factor 2 is zeus's and NumPyro's (`2.0 * mu * diffs`): `initMu` and the tuned `μ` (the
 * `stepSize` extra field) are NumPyro's `init_mu` and `mu`.
 *
 * The slice step: the height `log h = -U(x) - E`, `E ~ Exp(1)`; an interval `[L, R]` of length 1
 * around `t = 0` placed at random, stepped out by 1 while `-U(x + L η) > log h` (resp. `R`), at
 * most `maxSteps` steps in all; then `t ~ U(L, R)` until `-U(x + t η) > log h`, shrinking the
 * interval towards 0 on each rejection (at most `maxIter` tries; the walker stays if none is
 * accepted). During warmup (`tuneMu`) the scale is tuned after each transition (both halves, as
 * NumPyro's "only update tuning scale if a full iteration has passed") towards one expansion per
 * step, `μ ← 2 μ N_e / (N_e + N_c)` (expansions `N_e`, contractions `N_c` of the transition's two
 * half-updates; Karamanis & Beutler's rule), starting at `initMu`.
 */
import { ArgumentError } from '../../utils/errors.js';
import { booleanOption, checkOptionKeys } from '../../utils/options.js';
import { distinctPair, drawIndex, kdeMoveBandwidth, movePairs, resolveMoves } from './aies.js';
import type { KDEBandwidth } from './gaussian_kde.js';
import { ENSEMBLE_OPTION_KEYS, EnsembleKernel, type WalkerMove } from './ensemble.js';
import type { PotentialRequests } from './integrator.js';
import type { InitStrategy } from './init.js';
import type { CompileMode } from './compiled_potential.js';
import type { ChainRng } from './rng.js';

/** A move of {@link ESS} (plain data). */
export type ESSMove =
  | { readonly kind: 'differential' | 'gaussian' | 'random' }
  | { readonly kind: 'kde'; readonly bwMethod: KDEBandwidth };

/** Options of {@link ESS}. */
export interface ESSOptions {
  /** One move, or `[move, weight]` pairs (or a `Map`). Default `ESS.DifferentialMove()`. */
  moves?: ESSMove | readonly (readonly [ESSMove, number])[] | ReadonlyMap<ESSMove, number>;
  /** A fresh random split of the walkers at each transition. Default true. */
  randomizeSplit?: boolean;
  /** Most stepping-out steps of one slice step. Default 10000. */
  maxSteps?: number;
  /** Most shrinking tries of one slice step. Default 10000. */
  maxIter?: number;
  /** The initial scale `μ` of the directions. Default 1. */
  initMu?: number;
  /** Tune `μ` during warmup. Default true. */
  tuneMu?: boolean;
  /** How each walker starts (default `'uniform'`). */
  initStrategy?: InitStrategy;
  /** Record and replay the model's potential (see `HamiltonianOptions.compile`). */
  compile?: CompileMode;
  /** The model's plate nesting for enumerated discrete sites. */
  maxPlateNesting?: number;
}

function isESSMove(m: unknown): m is ESSMove {
  if (m === null || typeof m !== 'object') return false;
  const k = (m as { kind?: unknown }).kind;
  return k === 'differential' || k === 'gaussian' || k === 'random' || k === 'kde';
}

function positiveInt(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ArgumentError(name, `ESS: expected an integer >= 1, got ${String(v)}`);
  }
  return v;
}

/**
 * Ensemble slice sampler (NumPyro's `ESS`; see the module docs). Run it through `MCMC` with
 * `chainMethod: 'vectorized'` and `numChains` = walkers `>= max(4, 2 * dim)`.
 *
 * @example
 * ```ts
 * const mcmc = new MCMC(new ESS(model, { moves: ESS.GaussianMove() }), {
 *   numSamples: 500, warmupSteps: 500, numChains: 20, chainMethod: 'vectorized',
 * });
 * await mcmc.run(y);
 * ```
 */
export class ESS extends EnsembleKernel {
  readonly moves: readonly ESSMove[];
  readonly maxSteps: number;
  readonly maxIter: number;
  readonly initMu: number;
  readonly tuneMu: boolean;
  private readonly cumulative: readonly number[];

  /** Directions `2 μ (x_i - x_j)` between two walkers of the other half. */
  static DifferentialMove(): ESSMove {
    return { kind: 'differential' };
  }

  /** Directions `~ N(0, 4 μ^2 C)`, `C` the other half's sample covariance. */
  static GaussianMove(): ESSMove {
    return { kind: 'gaussian' };
  }

  /** Uniformly random unit directions times `2 μ`. */
  static RandomMove(): ESSMove {
    return { kind: 'random' };
  }

  /**
   * Directions `2 μ (v - v')`, `v, v'` drawn from the Gaussian KDE of the other half (NumPyro's
   * `ESS.KDEMove(bw_method)`).
   * @param options `bwMethod`: `'scott'` (default), `'silverman'` or the factor `f > 0`.
   * @throws ArgumentError naming `bwMethod`.
   */
  static KDEMove(options: { bwMethod?: KDEBandwidth } = {}): ESSMove {
    return { kind: 'kde', bwMethod: kdeMoveBandwidth(options, 'ESS.KDEMove') };
  }

  /**
   * @param model a model function, or a flat {@link Potential}.
   * @param options `moves`, `randomizeSplit`, `maxSteps`, `maxIter`, `initMu`, `tuneMu`,
   *   `initStrategy`, `compile`, `maxPlateNesting`.
   * @throws ArgumentError naming the option.
   */
  constructor(model: unknown, options: ESSOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `ESS: expected an object, got ${String(options)}`);
    }
    checkOptionKeys(
      options,
      [...ENSEMBLE_OPTION_KEYS, 'maxSteps', 'maxIter', 'initMu', 'tuneMu'],
      'ESS',
    );
    const r = resolveMoves(options.moves, isESSMove, ESS.DifferentialMove(), 'ESS');
    const maxSteps = positiveInt(options.maxSteps, 'maxSteps', 10000);
    const maxIter = positiveInt(options.maxIter, 'maxIter', 10000);
    const initMu = options.initMu ?? 1;
    if (typeof initMu !== 'number' || !(initMu > 0) || !Number.isFinite(initMu)) {
      throw new ArgumentError('initMu', `ESS: expected a finite number > 0, got ${String(initMu)}`);
    }
    const tuneMu = booleanOption(options.tuneMu, 'tuneMu', true);
    // the moves as [move, probability] pairs (a Map's too), for the checkpoints' fingerprint
    super(model, { ...options, moves: movePairs(r) }, options.randomizeSplit);
    this.moves = r.moves;
    this.cumulative = r.cumulative;
    this.maxSteps = maxSteps;
    this.maxIter = maxIter;
    this.initMu = initMu;
    this.tuneMu = tuneMu;
  }

  get who(): string {
    return 'ESS';
  }

  /** With a KDE move each half needs `dim + 1` walkers (a positive-definite covariance). */
  override minWalkers(dim: number): { min: number; rule: string } {
    if (!this.moves.some((m) => m.kind === 'kde')) return super.minWalkers(dim);
    return { min: Math.max(4, 2 * dim + 2), rule: 'max(4, 2 * dim + 2) with a KDEMove' };
  }

  /** `[μ]`. */
  initialShared(): Float64Array {
    return Float64Array.of(this.initMu);
  }

  chooseMove(rng: ChainRng): number {
    return drawIndex(this.cumulative, rng);
  }

  /** `μ ← 2 μ N_e / (N_e + N_c)` (`N_e` at least 1, so `μ` never collapses to 0). */
  adaptShared(shared: Float64Array, counts: number[]): void {
    if (!this.tuneMu) return;
    const ne = Math.max(1, counts[0] as number);
    const nc = counts[1] as number;
    shared[0] = (2 * (shared[0] as number) * ne) / (ne + nc);
  }

  /** The direction `η` of one walker (see the module docs); `null`: a collapsed KDE half. */
  private direction(
    m: ESSMove,
    others: Float64Array[],
    mu0: number,
    rng: ChainRng,
    d: number,
  ): Float64Array | null {
    // NumPyro's and zeus's directions are 2 μ times the move's vector
    const mu = 2 * mu0;
    const eta = new Float64Array(d);
    const kind = m.kind;
    if (m.kind === 'kde') {
      const kde = this.kdeOf(others, m.bwMethod);
      if (kde === null) return null;
      const v = kde.sample(rng);
      const w = kde.sample(rng);
      for (let i = 0; i < d; i++) eta[i] = mu * ((v[i] as number) - (w[i] as number));
    } else if (kind === 'differential') {
      const [i0, j0] = distinctPair(others.length, rng);
      const xi = others[i0] as Float64Array;
      const xj = others[j0] as Float64Array;
      for (let i = 0; i < d; i++) eta[i] = mu * ((xi[i] as number) - (xj[i] as number));
    } else if (kind === 'gaussian') {
      const m = others.length;
      const mean = new Float64Array(d);
      for (const o of others)
        for (let i = 0; i < d; i++) mean[i] = (mean[i] as number) + (o[i] as number) / m;
      const c = mu / Math.sqrt(m - 1);
      for (const o of others) {
        const g = rng.normal();
        for (let i = 0; i < d; i++)
          eta[i] = (eta[i] as number) + c * g * ((o[i] as number) - (mean[i] as number));
      }
    } else {
      rng.normals(eta);
      let n = 0;
      for (let i = 0; i < d; i++) n += (eta[i] as number) ** 2;
      const s = mu / Math.sqrt(n);
      for (let i = 0; i < d; i++) eta[i] = (eta[i] as number) * s;
    }
    return eta;
  }

  *moveWalker(
    x: Float64Array,
    u: number,
    others: Float64Array[],
    move: number,
    shared: Float64Array,
    rng: ChainRng,
    counts: number[],
  ): PotentialRequests<WalkerMove> {
    const d = x.length;
    const m = this.moves[move] as ESSMove;
    const eta = this.direction(m, others, shared[0] as number, rng, d);
    if (eta === null) return { acceptStat: 0, numSteps: 0 };
    const at = (t: number): Float64Array => {
      const y = new Float64Array(d);
      for (let i = 0; i < d; i++) y[i] = (x[i] as number) + t * (eta[i] as number);
      return y;
    };
    const logH = -u + Math.log(rng.uniform()); // -U(x) - Exp(1)
    let left = -rng.uniform();
    let right = left + 1;
    let j = Math.floor(this.maxSteps * rng.uniform());
    let k = this.maxSteps - 1 - j;
    let evals = 0;
    const above = (v: number): boolean => Number.isFinite(v) && -v > logH;
    while (j > 0) {
      const { value } = yield at(left);
      evals += 1;
      if (!above(value)) break;
      left -= 1;
      j -= 1;
      counts[0] = (counts[0] as number) + 1;
    }
    while (k > 0) {
      const { value } = yield at(right);
      evals += 1;
      if (!above(value)) break;
      right += 1;
      k -= 1;
      counts[0] = (counts[0] as number) + 1;
    }
    for (let it = 0; it < this.maxIter; it++) {
      const t = left + rng.uniform() * (right - left);
      const y = at(t);
      const { value } = yield y;
      evals += 1;
      if (above(value)) return { q: y, potential: value, acceptStat: 1, numSteps: evals };
      if (t < 0) left = t;
      else right = t;
      counts[1] = (counts[1] as number) + 1;
    }
    return { acceptStat: 0, numSteps: evals };
  }
}
