/**
 * Pareto-smoothed importance sampling (PSIS; Vehtari, Simpson, Gelman, Yao & Gabry, "Pareto
 * smoothed importance sampling", JMLR 2024; Vehtari, Gelman & Gabry 2017 for its use in LOO).
 *
 * Given `S` log importance ratios `log r_s`, the `M = ceil(min(S / 5, 3 sqrt(S / r_eff)))`
 * largest ratios are replaced by the expected order statistics of a generalized Pareto
 * distribution fitted to their exceedances over the `(M+1)`-th largest ratio `u`:
 *
 * $$\tilde r_{(S-M+z)} = u + F^{-1}\!\left(\frac{z - 1/2}{M}\right),\quad z = 1..M,\qquad
 *   F^{-1}(p) = \frac{\sigma}{k}\left((1-p)^{-k} - 1\right)$$
 *
 * then truncated at the largest raw ratio and normalized. The fitted shape `k` is the diagnostic:
 * below 0.5 the estimate has finite variance, up to 0.7 it is usable, above 0.7 unreliable. The
 * fit is Zhang & Stephens' (2009) empirical-Bayes estimate with the weakly informative prior of
 * the papers, `k ← (n k + 10 · 0.5) / (n + 10)`. All in float64 on the host.
 */
import { ArgumentError } from '../../utils/errors.js';

/** A fitted generalized Pareto distribution: shape `k`, scale `sigma`. */
export interface GeneralizedPareto {
  k: number;
  sigma: number;
}

/**
 * Zhang & Stephens' (2009) estimate of a generalized Pareto distribution from its exceedances
 * `x` (positive, sorted ascending, at least 5), with the weakly informative prior on `k`.
 * With `θ_j = 1/x_n + (1 - sqrt(m / (j - 1/2))) / (3 x_{q})`, `q` the lower quartile,
 * `m = 30 + floor(sqrt n)`, the profile log-likelihood
 * `ℓ(θ) = n (log(θ / κ(θ)) + κ(θ) - 1)` with `κ(θ) = -mean log(1 - θ x_i)` weighs the grid:
 * `θ̂ = Σ_j θ_j / Σ_l exp(ℓ(θ_l) - ℓ(θ_j))`, `k = -κ(θ̂)`, `sigma = κ(θ̂) / θ̂`.
 */
export function gpdFit(x: ArrayLike<number>): GeneralizedPareto {
  const n = x.length;
  if (n < 5) throw new ArgumentError('x', `expected at least 5 exceedances, got ${n}`);
  const m = 30 + Math.floor(Math.sqrt(n));
  const xq = x[Math.floor(n / 4 + 0.5) - 1] as number;
  const xmax = x[n - 1] as number;
  const meanLog1m = (theta: number): number => {
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.log1p(-theta * (x[i] as number));
    return s / n;
  };
  const theta = new Float64Array(m);
  const ell = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    const t = 1 / xmax + (1 - Math.sqrt(m / (j + 0.5))) / (3 * xq);
    theta[j] = t;
    const kappa = -meanLog1m(t);
    ell[j] = n * (Math.log(t / kappa) + kappa - 1);
  }
  let num = 0;
  let den = 0;
  for (let j = 0; j < m; j++) {
    let s = 0;
    for (let l = 0; l < m; l++) s += Math.exp((ell[l] as number) - (ell[j] as number));
    const w = 1 / s;
    if (!(w >= 10 * Number.EPSILON)) continue; // negligible (or NaN) weights dropped
    num += w * (theta[j] as number);
    den += w;
  }
  const th = num / den;
  const kappa = -meanLog1m(th);
  const sigma = kappa / th;
  const k = -kappa;
  return { k: (n * k + 10 * 0.5) / (n + 10), sigma };
}

/** The generalized Pareto quantile `F^{-1}(p)` (shape `k`, scale `sigma`). */
function gpdQuantile(p: number, { k, sigma }: GeneralizedPareto): number {
  return Math.abs(k) < Number.EPSILON
    ? -sigma * Math.log1p(-p)
    : (sigma * Math.expm1(-k * Math.log1p(-p))) / k;
}

/** Result of {@link psis}. */
export interface PsisResult {
  /** Smoothed, normalized log-weights (`logsumexp = 0`). */
  logWeights: Float64Array;
  /** The fitted Pareto shape (`Infinity` when the tail has fewer than 5 draws: not smoothed). */
  k: number;
}

/**
 * Pareto-smooth the log importance ratios `logRatios` (see the module docs).
 * @param logRatios `S` log ratios (finite, or `-Infinity`).
 * @param reff the relative efficiency of the draws (MCMC: ESS / S; default 1, independent draws).
 */
export function psis(logRatios: ArrayLike<number>, reff = 1): PsisResult {
  const s = logRatios.length;
  if (s < 2) throw new ArgumentError('logRatios', `expected at least 2 draws, got ${s}`);
  if (!(reff > 0) || !Number.isFinite(reff)) {
    throw new ArgumentError('reff', `expected a finite number > 0, got ${reff}`);
  }
  let max = -Infinity;
  for (let i = 0; i < s; i++) {
    const v = logRatios[i] as number;
    if (Number.isNaN(v) || v === Infinity) {
      throw new ArgumentError('logRatios', `expected finite values or -Infinity, got ${v} at ${i}`);
    }
    max = Math.max(max, v);
  }
  if (max === -Infinity) throw new ArgumentError('logRatios', 'every ratio is 0');
  const lw = Float64Array.from(logRatios, (v) => v - max); // the largest raw ratio is exp(0)
  const order = Array.from({ length: s }, (_, i) => i).sort(
    (a, b) => (lw[a] as number) - (lw[b] as number),
  );
  const tailLen = Math.ceil(Math.min(0.2 * s, 3 * Math.sqrt(s / reff)));
  // the cutoff: the (M+1)-th largest value, at least the smallest positive double's log
  const cutIdx = Math.max(0, s - tailLen - 1);
  const cut = Math.max(lw[order[cutIdx] as number] as number, Math.log(Number.MIN_VALUE));
  const tail = order.filter((i) => (lw[i] as number) > cut); // ascending
  let k = Infinity;
  if (tail.length > 4) {
    const expCut = Math.exp(cut);
    const exceed = tail.map((i) => Math.exp(lw[i] as number) - expCut);
    const fit = gpdFit(exceed);
    k = fit.k;
    if (Number.isFinite(k)) {
      tail.forEach((i, z) => {
        const q = gpdQuantile((z + 0.5) / tail.length, fit);
        lw[i] = Math.min(0, Math.log(q + expCut)); // truncated at the largest raw ratio
      });
    }
  }
  let m2 = -Infinity;
  for (const v of lw) m2 = Math.max(m2, v);
  let sum = 0;
  for (const v of lw) sum += Math.exp(v - m2);
  const lse = m2 + Math.log(sum);
  for (let i = 0; i < s; i++) lw[i] = (lw[i] as number) - lse;
  return { logWeights: lw, k };
}
