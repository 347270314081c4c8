/**
 * Ranking of models by their expected log pointwise predictive density (ArviZ's `compare`, as
 * NumPyro and Pyro users call it on `log_likelihood` output; Yao, Vehtari, Simpson & Gelman 2018,
 * "Using stacking to average Bayesian predictive distributions").
 *
 * Each model `k` gives pointwise estimates `elpd_{ki}` over the same `N` data ({@link loo} or
 * {@link waic}). The models are sorted by `elpd_k = Σ_i elpd_{ki}`, best first, and reported with
 *
 * - `elpdDiff_k = elpd_best - elpd_k` (≥ 0), and its standard error from the paired differences
 *   `dse_k = sqrt(N V_i (elpd_{best,i} - elpd_{ki}))` (0 for the best model; the variance of
 *   divisor `N`, ArviZ's `np.var`);
 * - weights `w_k`, by `method`:
 *   - `'stacking'` (default, as ArviZ): `w = argmax_{w ∈ simplex} Σ_i log Σ_k w_k exp(elpd_{ki})`,
 *     a concave problem solved by the EM fixed point
 *     `w_k ← (1/N) Σ_i w_k e_{ki} / Σ_j w_j e_{ji}` (monotone in the objective);
 *   - `'pseudo-BMA'`: `w_k ∝ exp(elpd_k)` (Akaike-type weights on the log score);
 *   - `'BB-pseudo-BMA'`: pseudo-BMA stabilized by the Bayesian bootstrap (ArviZ's default
 *     `b_samples = 1000`, `alpha = 1`): for `b = 1..B`, `α^b ~ Dirichlet(alpha 1_N)`,
 *     `z_k^b = N Σ_i α_i^b elpd_{ki}`, `w^b = softmax(z^b)`; `w = (1/B) Σ_b w^b`, and each
 *     model's `se` is then the bootstrap standard deviation of `z_k^b` (as ArviZ reports it).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { makeRng } from '../../utils/seed.js';
import { standardGammaDraw } from '../../distributions/host_sampling.js';
import { loo, populationVariance, waic } from './loo.js';
import type { LooOptions } from './loo.js';

/** Options of {@link compare}. */
export interface CompareOptions {
  /** The criterion: `'loo'` (PSIS-LOO, default) or `'waic'`. */
  ic?: 'loo' | 'waic';
  /** How to weigh the models: `'stacking'` (default), `'pseudo-BMA'` or `'BB-pseudo-BMA'`. */
  method?: 'stacking' | 'pseudo-BMA' | 'BB-pseudo-BMA';
  /** Bayesian-bootstrap draws of `'BB-pseudo-BMA'` (a positive integer; default 1000). */
  bSamples?: number;
  /** Dirichlet concentration of `'BB-pseudo-BMA'` (> 0; default 1). */
  alpha?: number;
  /** Seed of the Bayesian bootstrap (default: the global seed stream). */
  seed?: number;
  /** Leading dims of every log-likelihood tensor that index draws: 1 (default) or 2. */
  batchNdims?: 1 | 2;
  /** `ic: 'loo'` only: {@link LooOptions.reff} of every model (default 1). */
  reff?: LooOptions['reff'];
}

/** One row of {@link compare}'s table. */
export interface CompareRow {
  /** The model's name (its key in the input). */
  name: string;
  /** 0 for the best model, then 1, 2, ... by decreasing `elpd`. */
  rank: number;
  /** `elpd_loo` or `elpd_waic` (log scale: higher is better). */
  elpd: number;
  /** Effective number of parameters (`p_loo` or `p_waic`). */
  p: number;
  /** `elpd_best - elpd` (0 for the best model). */
  elpdDiff: number;
  /** The model's weight (they sum to 1). */
  weight: number;
  /** Standard error of `elpd`. */
  se: number;
  /** Standard error of `elpdDiff` from the paired pointwise differences (0 for the best). */
  dse: number;
  /** The criterion's warning (a Pareto `k` above `goodK`, or a WAIC variance term `> 0.4`). */
  warning: boolean;
}

/** Stacking weights maximizing `Σ_i log Σ_k w_k exp(l_{ki})` by the EM fixed point. */
export function stackingWeights(pointwise: Float64Array[]): number[] {
  const K = pointwise.length;
  const N = pointwise[0]?.length ?? 0;
  // e_{ki} = exp(l_{ki} - max_k l_{ki}): a per-datum factor leaves the maximizer unchanged
  const e = pointwise.map(() => new Float64Array(N));
  for (let i = 0; i < N; i++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, pointwise[k]![i]!);
    for (let k = 0; k < K; k++) e[k]![i] = m === -Infinity ? 1 : Math.exp(pointwise[k]![i]! - m);
  }
  let w = new Array<number>(K).fill(1 / K);
  let prev = -Infinity;
  for (let it = 0; it < 100_000; it++) {
    const next = new Array<number>(K).fill(0);
    let obj = 0;
    for (let i = 0; i < N; i++) {
      let mix = 0;
      for (let k = 0; k < K; k++) mix += w[k]! * e[k]![i]!;
      obj += Math.log(mix);
      for (let k = 0; k < K; k++) next[k] = next[k]! + (w[k]! * e[k]![i]!) / mix / N;
    }
    w = next;
    if (Math.abs(obj - prev) <= 1e-13 * Math.max(1, Math.abs(obj))) break;
    prev = obj;
  }
  const z = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / z);
}

/**
 * Bayesian-bootstrap pseudo-BMA weights: the mean over `B` Dirichlet(alpha) reweightings of the
 * data of `softmax_k(N Σ_i α_i elpd_{ki})`, and the bootstrap sd of each `N Σ_i α_i elpd_{ki}`.
 */
function bayesianBootstrapWeights(
  pointwise: Float64Array[],
  B: number,
  alpha: number,
  u: () => number,
): { weights: number[]; sd: number[] } {
  const K = pointwise.length;
  const N = pointwise[0]?.length ?? 0;
  const w = new Array<number>(K).fill(0);
  const s1 = new Array<number>(K).fill(0);
  const s2 = new Array<number>(K).fill(0);
  const g = new Float64Array(N);
  for (let b = 0; b < B; b++) {
    let tot = 0;
    for (let i = 0; i < N; i++) tot += g[i] = standardGammaDraw(alpha, u);
    const z = pointwise.map((p) => {
      let s = 0;
      for (let i = 0; i < N; i++) s += (g[i]! / tot) * p[i]!;
      return N * s;
    });
    const mx = Math.max(...z);
    const e = z.map((v) => Math.exp(v - mx));
    const se = e.reduce((a, v) => a + v, 0);
    for (let k = 0; k < K; k++) {
      w[k] = w[k]! + e[k]! / se / B;
      s1[k] = s1[k]! + z[k]!;
      s2[k] = s2[k]! + z[k]! * z[k]!;
    }
  }
  // ArviZ: numpy's std (divisor B)
  const sd = s1.map((v, k) => Math.sqrt(Math.max(0, s2[k]! / B - (v / B) ** 2)));
  return { weights: w, sd };
}

/**
 * Compare models by PSIS-LOO or WAIC (see the module docs), as ArviZ's `compare`.
 * @param logLiks `{name: logLik}`, each `[S, ...dataShape]` ({@link logLikelihood} of one
 *   observed site; `[C, D, ...]` with `batchNdims: 2`) over the same data; at least two models.
 * @returns The rows, best first.
 * @throws ArgumentError naming `logLiks` (fewer than two models, a non-tensor, data shapes that
 *   differ), `options`, `ic`, `method`, `batchNdims`, `bSamples`, `alpha`, `seed` or `reff`,
 *   before any work.
 */
export function compare(
  logLiks: Record<string, tf.Tensor>,
  options: CompareOptions = {},
): CompareRow[] {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `expected an object, got ${String(options)}`);
  }
  checkOptionKeys(
    options,
    ['ic', 'method', 'batchNdims', 'bSamples', 'alpha', 'seed', 'reff'],
    'compare',
  );
  const ic = options.ic ?? 'loo';
  if (ic !== 'loo' && ic !== 'waic') {
    throw new ArgumentError('ic', `expected 'loo' or 'waic', got ${String(ic)}`);
  }
  const method = options.method ?? 'stacking';
  if (method !== 'stacking' && method !== 'pseudo-BMA' && method !== 'BB-pseudo-BMA') {
    throw new ArgumentError(
      'method',
      `expected 'stacking', 'pseudo-BMA' or 'BB-pseudo-BMA', got ${String(method)}`,
    );
  }
  const bSamples = options.bSamples ?? 1000;
  if (!Number.isInteger(bSamples) || bSamples < 1) {
    throw new ArgumentError('bSamples', `expected a positive integer, got ${String(bSamples)}`);
  }
  const alpha = options.alpha ?? 1;
  if (typeof alpha !== 'number' || !(alpha > 0) || !Number.isFinite(alpha)) {
    throw new ArgumentError('alpha', `expected a finite number > 0, got ${String(alpha)}`);
  }
  if (options.seed !== undefined && !Number.isInteger(options.seed)) {
    throw new ArgumentError('seed', `expected an integer, got ${String(options.seed)}`);
  }
  const bn = options.batchNdims ?? 1;
  if (bn !== 1 && bn !== 2) {
    throw new ArgumentError('batchNdims', `expected 1 or 2, got ${String(bn)}`);
  }
  const reff = options.reff ?? 1;
  if (options.reff !== undefined && ic !== 'loo') {
    throw new ArgumentError('reff', `applies to ic 'loo' only, got ic '${ic}'`);
  }
  if (reff === 'chains' ? bn !== 2 : typeof reff !== 'number' || !(reff > 0) || !isFinite(reff)) {
    throw new ArgumentError('reff', `expected a finite number > 0 or 'chains' (batchNdims: 2)`);
  }
  if (logLiks === null || typeof logLiks !== 'object') {
    throw new ArgumentError('logLiks', 'expected a record {model name: log-likelihood tensor}');
  }
  const entries = Object.entries(logLiks);
  if (entries.length < 2) {
    throw new ArgumentError('logLiks', `expected at least two models, got ${entries.length}`);
  }
  let dataShape: string | undefined;
  for (const [name, t] of entries) {
    if (!(t instanceof tf.Tensor) || t.isDisposed) {
      throw new ArgumentError('logLiks', `model '${name}': expected a live tensor [S, ...data]`);
    }
    const ds = t.shape.slice(bn).join(',');
    if (dataShape !== undefined && ds !== dataShape) {
      throw new ArgumentError(
        'logLiks',
        `model '${name}': data shape [${ds}] differs from the first model's [${dataShape}]`,
      );
    }
    dataShape = ds;
  }
  const results = entries.map(([name, t]) => {
    if (ic === 'loo') {
      const r = loo(t, { batchNdims: bn, reff });
      return { name, elpd: r.elpd, p: r.pLoo, se: r.se, pw: r.pointwise, warning: r.warning };
    }
    const r = waic(t, { batchNdims: bn });
    return { name, elpd: r.elpd, p: r.pWaic, se: r.se, pw: r.pointwise, warning: r.warning };
  });
  let weights: number[];
  if (method === 'stacking') {
    weights = stackingWeights(results.map((r) => r.pw));
  } else if (method === 'BB-pseudo-BMA') {
    const bb = bayesianBootstrapWeights(
      results.map((r) => r.pw),
      bSamples,
      alpha,
      makeRng(options.seed),
    );
    weights = bb.weights;
    results.forEach((r, k) => (r.se = bb.sd[k]!));
  } else {
    const mx = Math.max(...results.map((r) => r.elpd));
    const u = results.map((r) => Math.exp(r.elpd - mx));
    const z = u.reduce((a, b) => a + b, 0);
    weights = u.map((v) => v / z);
  }
  const order = results.map((_, k) => k).sort((a, b) => results[b]!.elpd - results[a]!.elpd);
  const best = results[order[0]!]!;
  const n = best.pw.length;
  return order.map((k, rank) => {
    const r = results[k]!;
    let dse = 0;
    if (rank > 0) {
      const d = Array.from(best.pw, (v, i) => v - r.pw[i]!);
      dse = Math.sqrt(n * populationVariance(d));
    }
    return {
      name: r.name,
      rank,
      elpd: r.elpd,
      p: r.p,
      elpdDiff: best.elpd - r.elpd,
      weight: weights[k]!,
      se: r.se,
      dse,
      warning: r.warning,
    };
  });
}
