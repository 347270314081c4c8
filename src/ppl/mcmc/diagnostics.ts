/**
 * Convergence diagnostics of MCMC draws after Vehtari, Gelman, Simpson, Carpenter & Bürkner
 * (2021), "Rank-normalization, folding, and localization: an improved R-hat", computed as ArviZ
 * does. Input: `chains[c][i]`, draw `i` of chain `c` (all chains the same length), float64.
 *
 * - Split chains: each chain's first and last `floor(n/2)` draws become two chains.
 * - Rank normalization: `z = Phi^{-1}((r - 3/8) / (S + 1/4))` with `r` the average rank of each
 *   draw among all `S` draws (Blom's offset).
 * - R-hat of `M` chains of `N` draws: `sqrt(((N-1)/N W + B/N) / W)` with `W` the mean within-chain
 *   variance and `B = N var(chain means)`; the rank-normalized split R-hat is the larger of the
 *   R-hats of the rank-normalized split draws and of their folded version `|x - median|`.
 * - ESS: `M N / tau`, `tau = -1 + 2 sum_t rho_t` over Geyer's initial positive and monotone
 *   sequence of paired autocorrelations `rho_t = 1 - (W - mean_c acov_c(t)) / var+`, with
 *   `tau >= 1/log10(M N)`. Bulk ESS: on the rank-normalized split draws; tail ESS: the smaller ESS
 *   of the indicators `x <= q05` and `x <= q95` (split).
 */
import { normalQuantile as quantileNormal } from '../../utils/normal_quantile.js';
import { ArgumentError } from '../../utils/errors.js';

/** Draws of one scalar quantity: `chains[c][i]`. */
export type ChainDraws = ArrayLike<number>[];

function checkChains(chains: ChainDraws, minDraws: number): void {
  if (!Array.isArray(chains) || chains.length === 0) {
    throw new ArgumentError('chains', 'expected a non-empty array of chains');
  }
  const n = chains[0]?.length ?? 0;
  if (chains.some((c) => c.length !== n)) {
    throw new ArgumentError('chains', 'expected chains of equal length');
  }
  if (n < minDraws) {
    throw new ArgumentError('chains', `expected at least ${minDraws} draws per chain, got ${n}`);
  }
}

/** Whether any draw is NaN (ArviZ's `_not_valid(check_nan=True)`: the diagnostic is NaN). */
function hasNaN(chains: ChainDraws): boolean {
  for (const c of chains) for (let i = 0; i < c.length; i++) if (Number.isNaN(c[i])) return true;
  return false;
}

/** Sample quantile with linear interpolation (Hyndman–Fan type 7, NumPy's default). */
export function quantile(values: ArrayLike<number>, prob: number): number {
  if (!(prob >= 0 && prob <= 1)) {
    throw new ArgumentError('prob', `expected a number in [0, 1], got ${prob}`);
  }
  const s = Float64Array.from(values).sort();
  return quantileSorted(s, prob);
}

function quantileSorted(s: Float64Array, prob: number): number {
  const n = s.length;
  if (n === 0) return NaN;
  const h = (n - 1) * prob;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return (s[lo] as number) + (h - lo) * ((s[hi] as number) - (s[lo] as number));
}

/** Each chain's first and last `floor(n/2)` draws as two chains (the middle draw of odd n dropped). */
export function splitChains(chains: ChainDraws): Float64Array[] {
  const out: Float64Array[] = [];
  for (const c of chains) {
    const half = Math.floor(c.length / 2);
    const a = Float64Array.from(c);
    out.push(a.slice(0, half), a.slice(a.length - half));
  }
  return out;
}

/**
 * Rank-normalize all draws jointly: `Phi^{-1}((r - 3/8) / (S + 1/4))`, `r` the average rank
 * (ties share the mean of their ranks), `S` the total number of draws.
 */
export function rankNormalize(chains: ChainDraws): Float64Array[] {
  const flat: number[] = [];
  for (const c of chains) for (let i = 0; i < c.length; i++) flat.push(c[i] as number);
  const S = flat.length;
  const order = flat.map((_, i) => i).sort((a, b) => (flat[a] as number) - (flat[b] as number));
  const ranks = new Float64Array(S);
  for (let i = 0; i < S;) {
    let j = i;
    while (j + 1 < S && flat[order[j + 1] as number] === flat[order[i] as number]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k] as number] = r;
    i = j + 1;
  }
  const out: Float64Array[] = [];
  let k = 0;
  for (const c of chains) {
    const z = new Float64Array(c.length);
    for (let i = 0; i < c.length; i++) {
      z[i] = quantileNormal(((ranks[k++] as number) - 0.375) / (S + 0.25), 0, 1);
    }
    out.push(z);
  }
  return out;
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] as number;
  return s / a.length;
}

function variance(a: ArrayLike<number>, ddof = 1): number {
  const m = mean(a);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += ((a[i] as number) - m) ** 2;
  return s / (a.length - ddof);
}

/** The classic potential scale reduction factor of the given chains (no splitting). */
export function rhat(chains: ChainDraws): number {
  checkChains(chains, 2);
  const n = (chains[0] as ArrayLike<number>).length;
  const means = chains.map(mean);
  const between = chains.length > 1 ? n * variance(means) : 0;
  const within = mean(chains.map((c) => variance(c)));
  return Math.sqrt((between / within + n - 1) / n);
}

/**
 * Rank-normalized split R-hat (Vehtari et al. 2021): the larger of the R-hats of the
 * rank-normalized split chains and of the rank-normalized folded split chains `|x - median|`.
 * Works with one chain (its two halves are compared). NaN for fewer than 4 draws per chain and,
 * as ArviZ, for a NaN draw.
 */
export function splitRhat(chains: ChainDraws): number {
  checkChains(chains, 1);
  if ((chains[0] as ArrayLike<number>).length < 4 || hasNaN(chains)) return NaN;
  const split = splitChains(chains);
  const bulk = rhat(rankNormalize(split));
  // the median of all draws (ArviZ's `np.median(ary)`: an odd chain's middle draw included)
  const all: number[] = [];
  for (const c of chains) for (let i = 0; i < c.length; i++) all.push(c[i] as number);
  const med = quantile(all, 0.5);
  const folded = split.map((c) => c.map((v) => Math.abs(v - med)));
  const tail = rhat(rankNormalize(folded));
  return Math.max(bulk, tail);
}

/**
 * The rank-normalized split R-hat under ArviZ's name for it (`az.rhat(method="rank")`, the default
 * of `az.rhat` and `az.summary`'s `r_hat`): the same function as {@link splitRhat}, with
 * `z = Φ^{-1}((r - 3/8) / (S + 1/4))` the rank-normalized split draws and
 *
 * $$\hat R_\text{rank} = \max\bigl(\hat R(z), \hat R(z_\text{folded})\bigr).$$
 */
export const rankRhat: (chains: ChainDraws) => number = splitRhat;

/**
 * NumPyro's `split_gelman_rubin` (the `r_hat` column of `numpyro.diagnostics.summary` and
 * `print_summary`): the classic R-hat of the `2M` half chains, each chain's first and last
 * `⌊N/2⌋` draws, without rank normalization or folding:
 *
 * $$\hat R_\text{split} = \sqrt{\frac{\frac{n-1}{n} W + \operatorname{var}_j(\bar x_j)}{W}},
 *   \qquad n = \lfloor N/2 \rfloor,$$
 *
 * `W` the mean of the half chains' variances (`n - 1` denominator) and `var_j` the variance of
 * their means (`2M - 1` denominator). NaN below 4 draws per chain (NumPyro asserts `N ≥ 4`), for
 * NaN draws and for constant draws (`0 / 0`). Works with one chain.
 */
export function splitGelmanRubin(chains: ChainDraws): number {
  checkChains(chains, 1);
  if ((chains[0] as ArrayLike<number>).length < 4) return NaN;
  return rhat(splitChains(chains));
}

/**
 * Effective sample size of the given chains (no splitting or normalization): Geyer's initial
 * monotone sequence estimator with the multi-chain autocorrelation of Vehtari et al. (2021).
 */
export function ess(chains: ChainDraws): number {
  checkChains(chains, 2);
  const m = chains.length;
  const n = (chains[0] as ArrayLike<number>).length;
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of chains) {
    for (let i = 0; i < n; i++) {
      const v = c[i] as number;
      if (Number.isNaN(v)) return NaN;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (hi - lo < 1e-15) return m * n;
  const centred = chains.map((c) => {
    const mu = mean(c);
    return Float64Array.from(c, (v) => v - mu);
  });
  // Mean over chains of the biased autocovariance at `lag` (divided by n), computed on demand.
  const acov = (lag: number): number => {
    if (lag >= n) return 0;
    let total = 0;
    for (const x of centred) {
      let s = 0;
      for (let i = 0; i + lag < n; i++) s += (x[i] as number) * (x[i + lag] as number);
      total += s / n;
    }
    return total / m;
  };
  const meanVar = (acov(0) * n) / (n - 1);
  let varPlus = (meanVar * (n - 1)) / n;
  if (m > 1) varPlus += variance(chains.map(mean));
  const rhoT = new Float64Array(n);
  let rhoEven = 1;
  rhoT[0] = rhoEven;
  let rhoOdd = 1 - (meanVar - acov(1)) / varPlus;
  rhoT[1] = rhoOdd;
  let t = 1;
  while (t < n - 3 && rhoEven + rhoOdd > 0) {
    rhoEven = 1 - (meanVar - acov(t + 1)) / varPlus;
    rhoOdd = 1 - (meanVar - acov(t + 2)) / varPlus;
    if (rhoEven + rhoOdd >= 0) {
      rhoT[t + 1] = rhoEven;
      rhoT[t + 2] = rhoOdd;
    }
    t += 2;
  }
  const maxT = t - 2;
  if (rhoEven > 0) rhoT[maxT + 1] = rhoEven;
  t = 1;
  while (t <= maxT - 2) {
    const prev = (rhoT[t - 1] as number) + (rhoT[t] as number);
    if ((rhoT[t + 1] as number) + (rhoT[t + 2] as number) > prev) {
      rhoT[t + 1] = prev / 2;
      rhoT[t + 2] = prev / 2;
    }
    t += 2;
  }
  let sumRho = 0;
  for (let i = 0; i <= maxT; i++) sumRho += rhoT[i] as number;
  let tau = -1 + 2 * sumRho + (maxT + 1 < n ? (rhoT[maxT + 1] as number) : 0);
  tau = Math.max(tau, 1 / Math.log10(m * n));
  const out = (m * n) / tau;
  return Number.isNaN(out) || rhoT.some(Number.isNaN) ? NaN : out;
}

/**
 * Bulk ESS: the ESS of the rank-normalized split chains (NaN below 4 draws per chain and, as
 * ArviZ, for a NaN draw).
 */
export function essBulk(chains: ChainDraws): number {
  checkChains(chains, 1);
  if ((chains[0] as ArrayLike<number>).length < 4 || hasNaN(chains)) return NaN;
  return ess(rankNormalize(splitChains(chains)));
}

/**
 * Tail ESS: `min(ESS(x <= q05), ESS(x <= q95))` on split chains (NaN below 4 draws per chain and,
 * as ArviZ, for a NaN draw).
 */
export function essTail(chains: ChainDraws, probs: [number, number] = [0.05, 0.95]): number {
  checkChains(chains, 1);
  if ((chains[0] as ArrayLike<number>).length < 4 || hasNaN(chains)) return NaN;
  const all: number[] = [];
  for (const c of chains) for (let i = 0; i < c.length; i++) all.push(c[i] as number);
  const sorted = Float64Array.from(all).sort();
  let best = Infinity;
  for (const p of probs) {
    const q = quantileSorted(sorted, p);
    const ind = chains.map((c) => Float64Array.from(c, (v) => (v <= q ? 1 : 0)));
    best = Math.min(best, ess(splitChains(ind)));
  }
  return best;
}

/**
 * The highest-density interval of mass `prob` of ascending `sorted` draws (NumPyro's `hpdi` on
 * one column): the narrowest interval between two draws `m = ⌊prob · n⌋` apart in sorted order,
 *
 * $$[x_{(i^*)}, x_{(i^* + m)}], \qquad i^* = \arg\min_i \bigl(x_{(i+m)} - x_{(i)}\bigr)$$
 *
 * (the first on ties; 0-based). `[NaN, NaN]` for no draws.
 */
export function hpdiSorted(sorted: ArrayLike<number>, prob: number): [number, number] {
  const n = sorted.length;
  if (n === 0) return [NaN, NaN];
  const m = Math.floor(prob * n);
  let best = 0;
  let width = Infinity;
  for (let i = 0; i + m < n; i++) {
    const w = (sorted[i + m] as number) - (sorted[i] as number);
    if (w < width) {
      width = w;
      best = i;
    }
  }
  return [sorted[best] as number, sorted[Math.min(best + m, n - 1)] as number];
}

/**
 * NumPyro's `effective_sample_size` (its `n_eff` column of `print_summary`) of `M` chains of `N`
 * draws, no splitting or rank normalization. With `γ_t` the mean over chains of the biased
 * autocovariance at lag `t`, `W` the mean within-chain variance (`N - 1` denominator) and
 *
 * $$\widehat{\mathrm{var}}^+ = \tfrac{N-1}{N} W + \mathrm{var}_c(\bar x_c) \quad (M > 1), \qquad
 *   W = \widehat{\mathrm{var}}^+ = \tfrac{N-1}{N} W \quad (M = 1),$$
 *
 * `ρ_t = 1 - (W - γ_t) / var+` (`ρ_0 = 1`), the pair sums `P_k = ρ_{2k} + ρ_{2k+1}` made
 * positive and monotone, `P_k ← min(P_0', …, max(P_k, 0))` for `k ≥ 1`, and
 *
 * $$n_\text{eff} = \frac{M N}{\tau}, \qquad \tau = -1 + 2 \sum_k P_k .$$
 *
 * Unlike {@link ess} (ArviZ/Stan) there is no extra odd term and no `τ ≥ 1/log10(MN)` floor.
 * NaN below 2 draws per chain or for NaN draws; `M N` for constant draws.
 */
export function essNumPyro(chains: ChainDraws): number {
  checkChains(chains, 1);
  return geyerMonotoneEss(chains, false);
}

/**
 * Pyro's `pyro.ops.stats.effective_sample_size` of `M` chains of `N` draws: the estimator of
 * {@link essNumPyro} with Pyro's autocovariance, whose lag-`t` sum is divided by the `N - t`
 * products it has (Stan's and Pyro's FFT `autocorrelation` divides by `range(N, 0, -1)` before
 * normalizing by lag 0, then `autocovariance` multiplies by the biased variance `γ_0`):
 *
 * $$\gamma_t = \frac{1}{M}\sum_c \frac{1}{N - t}\sum_{i=1}^{N-t}
 *   (x_{c,i} - \bar x_c)(x_{c,i+t} - \bar x_c),\qquad
 *   \rho_t = \frac{\widehat{\mathrm{var}}^+ - W + \gamma_t}{\widehat{\mathrm{var}}^+},\ \rho_0 = 1,$$
 *
 * `W`, `var+` as in {@link essNumPyro} (`W = var+` for one chain), pairs
 * `P_k = ρ_{2k} + ρ_{2k+1}` for `k < ⌊N/2⌋`, `P_k ← min_{1≤j≤k} max(P_j, 0)` for `k ≥ 1`
 * (clamp, then cumulative minimum), and
 *
 * $$n_\text{eff} = \frac{M N}{\tau},\qquad \tau = -1 + 2 P_0 + 2\sum_{k\ge1} P_k .$$
 *
 * NaN below 2 draws per chain, for NaN draws and for constant draws (Pyro's `0 / 0`).
 */
export function essPyro(chains: ChainDraws): number {
  checkChains(chains, 1);
  return geyerMonotoneEss(chains, true);
}

/**
 * Geyer's initial monotone sequence ESS shared by {@link essNumPyro} (lag sums over `N`) and
 * {@link essPyro} (`unbiasedLags`: over `N - t`; NaN for constant draws, as Pyro's `0 / 0`).
 */
function geyerMonotoneEss(chains: ChainDraws, unbiasedLags: boolean): number {
  const m = chains.length;
  const n = (chains[0] as ArrayLike<number>).length;
  if (n < 2) return NaN;
  for (const c of chains) for (let i = 0; i < n; i++) if (Number.isNaN(c[i] as number)) return NaN;
  const centred = chains.map((c) => {
    const mu = mean(c);
    return Float64Array.from(c, (v) => v - mu);
  });
  const acov = (lag: number): number => {
    let total = 0;
    for (const x of centred) {
      let s = 0;
      for (let i = 0; i + lag < n; i++) s += (x[i] as number) * (x[i + lag] as number);
      total += s / (unbiasedLags ? n - lag : n);
    }
    return total / m;
  };
  const g0 = acov(0);
  if (!(g0 > 0)) return unbiasedLags ? NaN : m * n;
  let within = (g0 * n) / (n - 1);
  let varPlus = (within * (n - 1)) / n;
  if (m > 1) varPlus += variance(chains.map(mean));
  else within = varPlus;
  const rho = (t: number): number => (t === 0 ? 1 : 1 - (within - acov(t)) / varPlus);
  let sum = rho(0) + rho(1);
  let prev = Infinity;
  for (let k = 1; 2 * k + 1 < n; k++) {
    const p = Math.min(prev, Math.max(rho(2 * k) + rho(2 * k + 1), 0));
    if (p === 0) break;
    sum += p;
    prev = p;
  }
  const tau = -1 + 2 * sum;
  return (m * n) / tau;
}
