/**
 * Posterior summaries of MCMC draws per site and element: mean, standard deviation (`n - 1`
 * denominator, as NumPyro's `std(ddof=1)` and ArviZ's `sd`), 5/50/95 % quantiles (linear
 * interpolation), bulk and tail ESS and rank-normalized split R-hat (ArviZ's `r_hat`, see
 * `diagnostics.ts`), and NumPyro's `print_summary` columns: the highest posterior density interval
 * of mass `prob` over all chains' draws (`hpdi`), `n_eff` (NumPyro's `effective_sample_size`,
 * {@link essNumPyro}) and NumPyro's `r_hat` (`split_gelman_rubin`, {@link splitGelmanRubin});
 * and a printed table in the layout of Pyro/NumPyro's `print_summary`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { booleanOption, checkOptionKeys } from '../../utils/options.js';
import {
  essBulk,
  essNumPyro,
  essTail,
  hpdiSorted,
  quantile,
  splitGelmanRubin,
  splitRhat,
} from './diagnostics.js';

/** Summary of one scalar quantity. */
export interface ScalarSummary {
  mean: number;
  /**
   * Sample standard deviation of all chains' draws, `sqrt(Σ (x - x̄)² / (S - 1))` (NumPyro's
   * `std`, `ddof=1`; ArviZ's `sd`). NaN for a single draw.
   */
  sd: number;
  /** Lower quantile (default 5 %). */
  q5: number;
  median: number;
  /** Upper quantile (default 95 %). */
  q95: number;
  essBulk: number;
  /**
   * Tail ESS: the smaller ESS of the indicators `x ≤ q_0.05` and `x ≤ q_0.95` on split chains
   * (Vehtari et al. 2021; ArviZ's `ess_tail`, whose quantiles are 5 % and 95 % whatever the
   * interval mass `prob`).
   */
  essTail: number;
  /** Rank-normalized split R-hat (ArviZ's `r_hat`, Vehtari et al. 2021; {@link splitRhat}). */
  rHat: number;
  /**
   * NumPyro's `r_hat`: the classic R-hat of the split chains without rank normalization
   * (`numpyro.diagnostics.split_gelman_rubin`, {@link splitGelmanRubin}).
   */
  splitGelmanRubin: number;
  /**
   * Lower end of the highest posterior density interval of mass `prob` (default 0.9) over all
   * chains' draws (NumPyro's `5.0%` column): `x_(i*)` of the sorted draws, `i*` minimizing
   * `x_(i+m) - x_(i)`, `m = ⌊prob · n⌋`.
   */
  hpdiLow: number;
  /** Upper end of that interval (NumPyro's `95.0%` column): `x_(i* + m)`. */
  hpdiHigh: number;
  /** NumPyro's `n_eff`: `effective_sample_size` of the chains ({@link essNumPyro}). */
  nEff: number;
}

/** Summary of one site: one {@link ScalarSummary} per element (row-major). */
export interface SiteSummary {
  /** Shape of one draw of the site. */
  shape: number[];
  elements: ScalarSummary[];
}

/**
 * Summarize draws `chains[c]` (each `numDraws * size` values, draw-major) of a site of `size`
 * elements.
 *
 * @param prob the central interval mass (default 0.9: the 5 % and 95 % quantiles).
 */
export function summarizeSite(chains: Float32Array[], shape: number[], prob = 0.9): SiteSummary {
  if (typeof prob !== 'number' || !(prob > 0 && prob < 1)) {
    throw new ArgumentError('prob', `expected a number in (0, 1), got ${String(prob)}`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  const numDraws = (chains[0]?.length ?? 0) / size;
  const elements: ScalarSummary[] = [];
  for (let e = 0; e < size; e++) {
    const per = chains.map((c) => {
      const a = new Float64Array(numDraws);
      for (let i = 0; i < numDraws; i++) a[i] = c[i * size + e] as number;
      return a;
    });
    const all = new Float64Array(numDraws * chains.length);
    per.forEach((a, c) => all.set(a, c * numDraws));
    let m = 0;
    for (const v of all) m += v;
    m /= all.length;
    let ss = 0;
    for (const v of all) ss += (v - m) ** 2;
    const [hpdiLow, hpdiHigh] = hpdiSorted(Float64Array.from(all).sort(), prob);
    elements.push({
      mean: m,
      sd: Math.sqrt(ss / (all.length - 1)),
      q5: quantile(all, (1 - prob) / 2),
      median: quantile(all, 0.5),
      q95: quantile(all, (1 + prob) / 2),
      essBulk: essBulk(per),
      essTail: essTail(per),
      rHat: splitRhat(per),
      splitGelmanRubin: splitGelmanRubin(per),
      hpdiLow,
      hpdiHigh,
      nEff: essNumPyro(per),
    });
  }
  return { shape, elements };
}

function fmt(v: number, digits = 2): string {
  return Number.isFinite(v) ? v.toFixed(digits) : String(v);
}

/**
 * Format summaries as a table (one row per scalar element, e.g. `theta[3]`), columns `mean`,
 * `std`, `median`, the quantiles, the HPDI, `n_eff`, `ess_bulk`, `ess_tail`, `r_hat` (ArviZ's
 * rank-normalized) and `split_r_hat` (NumPyro's `r_hat`).
 */
export function formatSummary(
  summaries: Record<string, SiteSummary>,
  numDivergences?: number,
  prob = 0.9,
): string {
  const lo = `${(((1 - prob) / 2) * 100).toFixed(1)}%`;
  const hi = `${(((1 + prob) / 2) * 100).toFixed(1)}%`;
  const header = [
    '',
    'mean',
    'std',
    'median',
    lo,
    hi,
    `hpdi_${lo}`,
    `hpdi_${hi}`,
    'n_eff',
    'ess_bulk',
    'ess_tail',
    'r_hat',
    'split_r_hat',
  ];
  const rows: string[][] = [];
  for (const [name, s] of Object.entries(summaries)) {
    const strides = s.shape.map((_, i) => s.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    s.elements.forEach((e, k) => {
      const idx = strides.map((st, i) => Math.floor(k / st) % (s.shape[i] as number));
      const label = s.shape.length === 0 ? name : `${name}[${idx.join(',')}]`;
      rows.push([
        label,
        fmt(e.mean),
        fmt(e.sd),
        fmt(e.median),
        fmt(e.q5),
        fmt(e.q95),
        fmt(e.hpdiLow),
        fmt(e.hpdiHigh),
        fmt(e.nEff, 1),
        fmt(e.essBulk, 1),
        fmt(e.essTail, 1),
        fmt(e.rHat),
        fmt(e.splitGelmanRubin),
      ]);
    });
  }
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const line = (r: string[]): string =>
    r
      .map((c, i) =>
        i === 0 ? c.padStart(widths[i] as number) : c.padStart((widths[i] as number) + 2),
      )
      .join('');
  const out = ['', line(header), ...rows.map(line), ''];
  if (numDivergences !== undefined) out.push(`Number of divergences: ${numDivergences}`);
  return out.join('\n');
}

/** Options of `MCMC.summary` / `MCMC.printSummary` besides `prob`. */
export interface SummaryOptions {
  /**
   * Only the latent sites, no `deterministic` ones (NumPyro's `exclude_deterministic`; NumPyro's
   * default is `true`, ours `false`, as before this option).
   */
  excludeDeterministic?: boolean;
}

/** The checked `excludeDeterministic` of {@link SummaryOptions} (default `false`). */
export function excludeDeterministicOption(options: SummaryOptions): boolean {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `expected {excludeDeterministic?}, got ${String(options)}`);
  }
  checkOptionKeys(options, ['excludeDeterministic'], 'summary');
  return booleanOption(options.excludeDeterministic, 'excludeDeterministic', false);
}

/** Options of {@link summary} and {@link printSummary}. */
export interface SamplesSummaryOptions {
  /** The interval mass, in (0, 1) (default 0.9). */
  prob?: number;
  /**
   * Whether each tensor's first two axes are `[chains, draws]` (default `true`, NumPyro's
   * `group_by_chain`); `false`: the first axis is the draws of one chain.
   */
  groupByChain?: boolean;
}

/**
 * Summaries of draws not from an `MCMC` (NumPyro's `numpyro.diagnostics.summary(samples, prob,
 * group_by_chain)`): per site and element, {@link summarizeSite} of its chains: mean, sd,
 * quantiles, bulk/tail ESS, R-hat, the HPDI of mass `prob` and `n_eff`. A bare tensor is the site
 * `'Param:0'`, as in NumPyro. Nothing is kept (the tensors are read, not disposed).
 *
 * @param samples `{site: [chains, draws, ...shape]}` (or `[draws, ...shape]` with
 *   `groupByChain: false`), or one such tensor.
 * @throws ArgumentError naming `samples`, a site, `prob` or `groupByChain`, before any work.
 */
export function summary(
  samples: tf.Tensor | Record<string, tf.Tensor>,
  options: SamplesSummaryOptions = {},
): Record<string, SiteSummary> {
  const { sites, prob } = checkSamplesSummary(samples, options);
  const out: Record<string, SiteSummary> = {};
  for (const [name, t, group] of sites) {
    const [c, n] = group ? [t.shape[0] as number, t.shape[1] as number] : [1, t.shape[0] as number];
    const shape = t.shape.slice(group ? 2 : 1);
    const v = t.dataSync();
    const per = (v.length / Math.max(c, 1)) | 0;
    const chains = Array.from({ length: c }, (_, k) =>
      Float32Array.from(v.subarray(k * per, (k + 1) * per)),
    );
    out[name] = n === 0 || c === 0 ? { shape, elements: [] } : summarizeSite(chains, shape, prob);
  }
  return out;
}

/**
 * Print (to the console) and return the table of {@link summary} (NumPyro's
 * `numpyro.diagnostics.print_summary(samples, prob, group_by_chain)`).
 * @throws ArgumentError as {@link summary}.
 */
export function printSummary(
  samples: tf.Tensor | Record<string, tf.Tensor>,
  options: SamplesSummaryOptions = {},
): string {
  const text = formatSummary(summary(samples, options), undefined, options.prob ?? 0.9);
  console.log(text);
  return text;
}

function checkSamplesSummary(
  samples: unknown,
  options: SamplesSummaryOptions,
): { sites: [string, tf.Tensor, boolean][]; prob: number } {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `expected {prob?, groupByChain?}, got ${String(options)}`);
  }
  checkOptionKeys(options, ['prob', 'groupByChain'], 'summary');
  const group = booleanOption(options.groupByChain, 'groupByChain', true);
  const prob = options.prob ?? 0.9;
  if (typeof prob !== 'number' || !(prob > 0 && prob < 1)) {
    throw new ArgumentError('prob', `expected a number in (0, 1), got ${String(prob)}`);
  }
  const rec: Record<string, unknown> =
    samples instanceof tf.Tensor
      ? { 'Param:0': samples }
      : samples !== null && typeof samples === 'object' && !Array.isArray(samples)
        ? (samples as Record<string, unknown>)
        : (() => {
            throw new ArgumentError(
              'samples',
              `expected a tensor or a record {site: tensor}, got ${String(samples)}`,
            );
          })();
  const need = group ? 2 : 1;
  const sites = Object.entries(rec).map(([name, t]): [string, tf.Tensor, boolean] => {
    if (!(t instanceof tf.Tensor) || t.isDisposed || t.rank < need) {
      throw new ArgumentError(
        'samples',
        `site '${name}': expected a live tensor of shape ${group ? '[chains, draws, ...]' : '[draws, ...]'} (groupByChain ${String(group)}), got ${t instanceof tf.Tensor ? `shape [${t.shape.join(', ')}]` : String(t)}`,
      );
    }
    return [name, t, group];
  });
  return { sites, prob };
}
