/**
 * Predictive model comparison from posterior draws (Vehtari, Gelman & Gabry 2017, "Practical
 * Bayesian model evaluation using leave-one-out cross-validation and WAIC"; ArviZ's `waic` and
 * `loo`). Input: the pointwise log-likelihood `ℓ_{si} = log p(y_i | θ_s)` of `S` draws and `N`
 * data ({@link logLikelihood}), a tensor `[S, ...dataShape]` (data dims flattened).
 *
 * WAIC: `lppd_i = log (1/S) Σ_s exp ℓ_{si}`, `p_i = V_s ℓ_{si}` (the variance over draws with
 * divisor `S`, as ArviZ's `waic` and Pyro's `ops.stats.waic`),
 * `elpd_waic = Σ_i (lppd_i - p_i)`, `waic = -2 elpd_waic`.
 *
 * PSIS-LOO: the leave-one-out ratios `r_{si} ∝ 1 / p(y_i | θ_s)` are Pareto-smoothed
 * ({@link psis}) into normalized weights `w_{si}`, and
 * `elpd_loo = Σ_i log Σ_s w_{si} exp ℓ_{si}`, `p_loo = lppd - elpd_loo`,
 * `looic = -2 elpd_loo`, with the Pareto shape `k_i` of every datum as its diagnostic, judged
 * against ArviZ's sample-size-dependent threshold `good_k = min(1 - 1/log10 S, 0.7)`.
 *
 * Both report `se = sqrt(N V_i elpd_i)`, the standard error of the sum over data, with the
 * variance over data of divisor `N` (ArviZ's `np.var`; the loo papers' R code divides by
 * `N - 1`, a factor `sqrt(N / (N - 1))` larger).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { ess, splitChains } from '../mcmc/diagnostics.js';
import { psis } from './psis.js';

/** Result of {@link waic}. */
export interface WaicResult {
  /** `elpd_waic = lppd - p_waic`. */
  elpd: number;
  /** Standard error of `elpd`. */
  se: number;
  /** Effective number of parameters `p_waic = Σ_i V_s ℓ_{si}`. */
  pWaic: number;
  /** `lppd = Σ_i log mean_s exp ℓ_{si}`. */
  lppd: number;
  /** `-2 elpd` (the deviance scale). */
  waic: number;
  /** `elpd_i` per datum. */
  pointwise: Float64Array;
  /** True when some `V_s ℓ_{si} > 0.4` (the papers' warning: WAIC may be unreliable; use LOO). */
  warning: boolean;
}

/** Result of {@link loo}. */
export interface LooResult {
  /** `elpd_loo`. */
  elpd: number;
  /** Standard error of `elpd`. */
  se: number;
  /** Effective number of parameters `p_loo = lppd - elpd_loo`. */
  pLoo: number;
  /** `-2 elpd` (the deviance scale). */
  looic: number;
  /** `elpd_loo_i` per datum. */
  pointwise: Float64Array;
  /** The Pareto shape `k_i` per datum. */
  paretoK: Float64Array;
  /** ArviZ's threshold of a reliable `k_i`: `min(1 - 1 / log10 S, 0.7)` for `S` draws. */
  goodK: number;
  /** True when some `k_i > goodK` (the estimate of that datum is unreliable; ArviZ's warning). */
  warning: boolean;
}

/** Options of {@link waic} and {@link loo}. */
export interface InformationCriterionOptions {
  /** Leading dims of the tensor that index draws: 1 (default, `[S, ...]`) or 2 (`[C, D, ...]`). */
  batchNdims?: 1 | 2;
}

/** Options of {@link loo}. */
export interface LooOptions extends InformationCriterionOptions {
  /**
   * Relative efficiency of the draws, `ESS / S` (default 1: independent draws), or `'chains'`
   * (with `batchNdims: 2`): `r_eff = (1/N) Σ_i ESS_mean(exp ℓ_{·i}) / S`, ArviZ's
   * `ess(method="mean")` (the ESS of the split chains) averaged over data; 1 for one chain.
   */
  reff?: number | 'chains';
}

/**
 * `r_eff = (1/N) Σ_i ESS(split(exp ℓ_{·i})) / S` of `C` chains of `D` draws each (the columns'
 * draws chain-major). ArviZ's `az.loo` averages `ess(method="mean")` over the posterior's
 * parameters; `loo` sees only `ℓ`, so it takes the ESS of `exp ℓ_i`, the quantity whose mean
 * the LOO estimate is (the loo R package's `relative_eff`), averaged over data as ArviZ does.
 */
function chainReff(cols: Float64Array[], c: number): number {
  if (c === 1) return 1;
  const s = cols[0]?.length ?? 0;
  const d = s / c;
  if (d < 4) {
    throw new ArgumentError(
      'logLik',
      `reff 'chains': expected at least 4 draws per chain, got ${d}`,
    );
  }
  let total = 0;
  for (const col of cols) {
    const e = col.map(Math.exp);
    total += ess(splitChains(Array.from({ length: c }, (_, k) => e.subarray(k * d, (k + 1) * d))));
  }
  const reff = total / cols.length / s;
  if (!(reff > 0) || !Number.isFinite(reff)) {
    throw new ArgumentError('reff', `the chains' relative efficiency is ${reff}`);
  }
  return reff;
}

/** The log-likelihood as `N` columns of `S` float64 draws. */
function columns(
  logLik: tf.Tensor,
  options: InformationCriterionOptions,
  keys: string[],
  what: string,
): Float64Array[] {
  if (!(logLik instanceof tf.Tensor) || logLik.isDisposed) {
    throw new ArgumentError(
      'logLik',
      `expected a live tensor [S, ...dataShape], got ${String(logLik)}`,
    );
  }
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `expected an object, got ${String(options)}`);
  }
  checkOptionKeys(options, keys, what);
  const bn = options.batchNdims ?? 1;
  if (bn !== 1 && bn !== 2) {
    throw new ArgumentError('batchNdims', `expected 1 or 2, got ${String(bn)}`);
  }
  if (logLik.rank <= bn) {
    throw new ArgumentError(
      'logLik',
      `expected ${bn} draw dim(s) and at least one data dim, got shape [${logLik.shape.join(',')}]`,
    );
  }
  const s = logLik.shape.slice(0, bn).reduce((a, d) => a * d, 1);
  const n = logLik.size / s;
  if (s < 2) throw new ArgumentError('logLik', `expected at least 2 draws, got ${s}`);
  const v = logLik.dataSync();
  const out = Array.from({ length: n }, () => new Float64Array(s));
  for (let i = 0; i < s; i++) {
    for (let j = 0; j < n; j++) {
      const x = v[i * n + j] as number;
      if (!Number.isFinite(x)) {
        // -Infinity: datum j impossible under draw i, a draw of zero posterior density; WAIC's
        // variance and the LOO ratio 1 / p(y_j | θ_i) are undefined there
        throw new ArgumentError(
          'logLik',
          `expected finite log-likelihoods, got ${x} at draw ${i}, datum ${j}` +
            (x === -Infinity ? ' (a datum impossible under a posterior draw)' : ''),
        );
      }
      (out[j] as Float64Array)[i] = x;
    }
  }
  return out;
}

function logMeanExp(x: Float64Array, weights?: Float64Array): number {
  let m = -Infinity;
  for (let i = 0; i < x.length; i++) m = Math.max(m, (x[i] as number) + (weights?.[i] ?? 0));
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.exp((x[i] as number) + (weights?.[i] ?? 0) - m);
  return weights === undefined ? m + Math.log(s / x.length) : m + Math.log(s);
}

/** The variance with divisor `n` (NumPy's `np.var`, xarray's `var`: ArviZ's). */
export function populationVariance(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m += x[i] as number;
  m /= x.length;
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += ((x[i] as number) - m) ** 2;
  return ss / x.length;
}

function sum(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] as number;
  return s;
}

/** `sqrt(N V_i elpd_i)`, the variance of divisor `N` (ArviZ's; 0 for a single datum). */
function seOfSum(pointwise: Float64Array): number {
  return Math.sqrt(pointwise.length * populationVariance(pointwise));
}

/**
 * The widely applicable information criterion of the draws' log-likelihood (see the module docs).
 * @param logLik `[S, ...dataShape]` (or `[C, D, ...dataShape]` with `batchNdims: 2`).
 * @throws ArgumentError naming `logLik`, `options` or `batchNdims`.
 */
export function waic(logLik: tf.Tensor, options: InformationCriterionOptions = {}): WaicResult {
  const cols = columns(logLik, options, ['batchNdims'], 'waic');
  const pointwise = new Float64Array(cols.length);
  let lppd = 0;
  let pWaic = 0;
  let warning = false;
  cols.forEach((c, i) => {
    const l = logMeanExp(c);
    const p = populationVariance(c);
    warning ||= p > 0.4;
    lppd += l;
    pWaic += p;
    pointwise[i] = l - p;
  });
  const elpd = sum(pointwise);
  return { elpd, se: seOfSum(pointwise), pWaic, lppd, waic: -2 * elpd, pointwise, warning };
}

/**
 * Pareto-smoothed importance-sampling leave-one-out cross-validation (see the module docs).
 * With `reff: 'chains'` and `[C, D, ...]` draws, the relative efficiency comes from the chains
 * (ArviZ's `az.loo` default; see {@link LooOptions.reff}) and sets every datum's tail length.
 * @param logLik `[S, ...dataShape]` (or `[C, D, ...dataShape]` with `batchNdims: 2`).
 * @throws ArgumentError naming `logLik`, `options`, `batchNdims` or `reff`.
 */
export function loo(logLik: tf.Tensor, options: LooOptions = {}): LooResult {
  const given = options?.reff ?? 1;
  if (given === 'chains') {
    if (options.batchNdims !== 2) {
      throw new ArgumentError('reff', `'chains' needs draws grouped by chain (batchNdims: 2)`);
    }
  } else if (typeof given !== 'number' || !(given > 0) || !Number.isFinite(given)) {
    throw new ArgumentError(
      'reff',
      `expected a finite number > 0 or 'chains', got ${String(given)}`,
    );
  }
  const cols = columns(logLik, options, ['batchNdims', 'reff'], 'loo');
  const reff = given === 'chains' ? chainReff(cols, logLik.shape[0] as number) : given;
  const pointwise = new Float64Array(cols.length);
  const paretoK = new Float64Array(cols.length);
  let lppd = 0;
  cols.forEach((c, i) => {
    const { logWeights, k } = psis(
      c.map((v) => -v),
      reff,
    );
    pointwise[i] = logMeanExp(c, logWeights);
    paretoK[i] = k;
    lppd += logMeanExp(c);
  });
  const elpd = sum(pointwise);
  const goodK = Math.min(1 - 1 / Math.log10(cols[0]?.length ?? 2), 0.7);
  return {
    elpd,
    se: seOfSum(pointwise),
    pLoo: lppd - elpd,
    looic: -2 * elpd,
    pointwise,
    paretoK,
    goodK,
    warning: paretoK.some((k) => k > goodK),
  };
}
