/**
 * Pyro's tensor forms of the chain diagnostics (`pyro.ops.stats.effective_sample_size`,
 * `gelman_rubin`, `split_gelman_rubin`): draws `input` with a chain axis and a sample axis give
 * one value per element of the other axes (a tensor of their shape).
 *
 * With `M` chains of `N` draws, chain means `x̄_c`, within-chain variances `s_c^2`,
 * `W = mean_c s_c^2` and `B/N = var_c(x̄_c)`:
 *
 * $$\hat R = \sqrt{\frac{\frac{N-1}{N} W + B/N}{W}}$$
 *
 * `splitGelmanRubin` computes it on `2M` chains, each chain's first and last `⌊N/2⌋` draws (no
 * rank normalization; the rank-normalized split R-hat of Vehtari et al. is `mcmc.splitRhat`).
 * `effectiveSampleSize` is Pyro's: `M N / τ`, `τ = -1 + 2 Σ_k P_k` over Geyer's initial monotone
 * sequence of the pair sums `P_k = ρ_{2k} + ρ_{2k+1}` of the multi-chain autocorrelation, whose
 * lag-`t` autocovariance divides by `N - t` (`mcmc.essPyro`; NumPyro's divides by `N`,
 * `mcmc.essNumPyro`; ArviZ's, with its extra odd term and floor, is `mcmc.ess`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import {
  essBulk as essBulk64,
  essPyro,
  essTail as essTail64,
  rhat,
  splitChains,
  splitRhat,
} from '../mcmc/diagnostics.js';
import { checkAxis, checkTensor } from './columns.js';

/** For each element of the other axes, its chains `[M][N]`; and the other axes' shape. */
function chainsOf(
  input: tf.Tensor,
  chainDim: number,
  sampleDim: number,
  minDraws: number,
): { perElement: Float64Array[][]; rest: number[] } {
  checkTensor(input, 'input', 2);
  const c = checkAxis(chainDim, input.rank, 'chainDim');
  const s = checkAxis(sampleDim, input.rank, 'sampleDim');
  if (c === s) {
    throw new ArgumentError('sampleDim', `expected a dim other than chainDim (${chainDim})`);
  }
  const m = input.shape[c] as number;
  const n = input.shape[s] as number;
  if (m < 1 || n < minDraws) {
    throw new ArgumentError(
      'input',
      `expected at least 1 chain and ${minDraws} draws per chain, got ${m} x ${n}`,
    );
  }
  const others = input.shape.map((_, i) => i).filter((i) => i !== c && i !== s);
  const v = tf.tidy(() => tf.transpose(input, [c, s, ...others]).dataSync());
  const rest = others.map((i) => input.shape[i] as number);
  const size = rest.reduce((a, b) => a * b, 1);
  const perElement = Array.from({ length: size }, (_, e) =>
    Array.from({ length: m }, (_, ci) =>
      Float64Array.from({ length: n }, (_, i) => v[(ci * n + i) * size + e] as number),
    ),
  );
  return { perElement, rest };
}

function perElement(
  input: tf.Tensor,
  chainDim: number,
  sampleDim: number,
  minDraws: number,
  f: (chains: Float64Array[]) => number,
): tf.Tensor {
  const { perElement: els, rest } = chainsOf(input, chainDim, sampleDim, minDraws);
  return tf.tensor(Float32Array.from(els, f), rest);
}

/**
 * The effective sample size of `input` per element, exactly Pyro's
 * `pyro.ops.stats.effective_sample_size(input, chain_dim, sample_dim)` ({@link essPyro} on each
 * element's `M` chains of `N` draws, in float64):
 *
 * $$\gamma_t = \frac{1}{M}\sum_c \frac{1}{N - t}\sum_{i}(x_{c,i} - \bar x_c)(x_{c,i+t} - \bar x_c),
 *   \quad \rho_t = 1 - \frac{W - \gamma_t}{\widehat{\mathrm{var}}^+},\quad
 *   n_\text{eff} = \frac{M N}{-1 + 2 P_0 + 2 \sum_{k \ge 1} \min_{1 \le j \le k} \max(P_j, 0)},$$
 *
 * `P_k = ρ_{2k} + ρ_{2k+1}` (`k < ⌊N/2⌋`), `W` the mean within-chain variance,
 * `var+ = (N-1)/N W + var_c(x̄_c)` (`W = var+` for one chain). NaN for constant draws (Pyro's
 * `0 / 0`). Before session 17 this returned ArviZ's ESS (`mcmc.ess`).
 * @param input draws, e.g. `[chains, samples, ...]` (at least 2 draws per chain).
 * @param chainDim the chain axis (Pyro's `chain_dim`), default 0; negative counts from the end.
 * @param sampleDim the draw axis (Pyro's `sample_dim`), default 1.
 * @returns a tensor of the other axes' shape.
 * @throws ArgumentError naming `input`, `chainDim` or `sampleDim`.
 * @example
 * ```ts
 * const n = ppl.stats.effectiveSampleSize(mcmc.getSamples({ groupByChain: true }).mu);
 * ```
 */
export function effectiveSampleSize(input: tf.Tensor, chainDim = 0, sampleDim = 1): tf.Tensor {
  return perElement(input, chainDim, sampleDim, 2, essPyro);
}

/**
 * The potential scale reduction `R̂` of `input` per element (Pyro's `gelman_rubin`).
 * @throws ArgumentError naming `input`, `chainDim` or `sampleDim`.
 */
export function gelmanRubin(input: tf.Tensor, chainDim = 0, sampleDim = 1): tf.Tensor {
  return perElement(input, chainDim, sampleDim, 2, rhat);
}

/**
 * `R̂` of the split chains per element (Pyro's `split_gelman_rubin`): works with one chain.
 * @throws ArgumentError naming `input`, `chainDim` or `sampleDim`.
 */
export function splitGelmanRubin(input: tf.Tensor, chainDim = 0, sampleDim = 1): tf.Tensor {
  return perElement(input, chainDim, sampleDim, 4, (c) => rhat(splitChains(c)));
}

/**
 * The rank-normalized split `R̂` per element (Vehtari, Gelman, Simpson, Carpenter & Bürkner 2021;
 * ArviZ's `az.rhat(method="rank")`, its default, and `az.summary`'s `r_hat`): the `2M` half chains
 * rank-normalized jointly, `z = Φ^{-1}((r - 3/8) / (S + 1/4))` (`r` the average rank among all
 * `S` draws), and
 *
 * $$\hat R_\text{rank} = \max\bigl(\hat R(z), \hat R(z_\text{fold})\bigr),$$
 *
 * `z_fold` the same of `|x - median(x)|` (`mcmc.splitRhat` in float64 on each element). Works with
 * one chain; NaN for constant or NaN draws.
 * @param input draws, e.g. `[chains, samples, ...]` (at least 4 draws per chain).
 * @returns a tensor of the other axes' shape.
 * @throws ArgumentError naming `input`, `chainDim` or `sampleDim`.
 */
export function rankRhat(input: tf.Tensor, chainDim = 0, sampleDim = 1): tf.Tensor {
  return perElement(input, chainDim, sampleDim, 4, splitRhat);
}

/**
 * The bulk effective sample size per element (ArviZ's `az.ess(method="bulk")`): ArviZ's ESS
 * (Geyer's initial monotone sequence, `τ ≥ 1/log10(S)`) of the rank-normalized split chains,
 * `mcmc.essBulk` in float64 on each element.
 * @param input draws, e.g. `[chains, samples, ...]` (at least 4 draws per chain).
 * @returns a tensor of the other axes' shape.
 * @throws ArgumentError naming `input`, `chainDim` or `sampleDim`.
 */
export function essBulk(input: tf.Tensor, chainDim = 0, sampleDim = 1): tf.Tensor {
  return perElement(input, chainDim, sampleDim, 4, essBulk64);
}

/**
 * The tail effective sample size per element (ArviZ's `az.ess(method="tail")`):
 *
 * $$\min\bigl(\mathrm{ESS}(\mathbb 1\{x \le q_{0.05}\}), \mathrm{ESS}(\mathbb 1\{x \le q_{0.95}\})\bigr)$$
 *
 * on the split chains, `q_p` NumPy's linear quantile of all draws (`mcmc.essTail`).
 * @param input draws, e.g. `[chains, samples, ...]` (at least 4 draws per chain).
 * @returns a tensor of the other axes' shape.
 * @throws ArgumentError naming `input`, `chainDim` or `sampleDim`.
 */
export function essTail(input: tf.Tensor, chainDim = 0, sampleDim = 1): tf.Tensor {
  return perElement(input, chainDim, sampleDim, 4, (c) => essTail64(c));
}
