/**
 * Importance sampling (Pyro's `Importance`): draw `z_i ~ q` from the guide, run the model replayed
 * at each draw and weight it by
 *
 * $$\log w_i = \log p(x, z_i) - \log q(z_i),\qquad
 *   \log \hat p(x) = \log \frac1N \sum_{i=1}^N w_i,\qquad
 *   \mathrm{ESS} = \frac{1}{\sum_i \bar w_i^2},\quad \bar w_i = \frac{w_i}{\sum_j w_j}.$$
 *
 * `p̂(x)` is an unbiased estimate of the marginal likelihood (its log, `logEvidence`, is biased
 * down by about `Var(w) / (2 N E[w]^2)`), with relative standard error
 * `sqrt((N Σ w̄_i² - 1) / N) = sqrt(1 / ESS - 1 / N)` by the delta method. Without a guide the
 * prior is the proposal (Pyro's default `block(model, hide_types=['observe'])`): the latent terms
 * cancel and `log w_i` is the log-likelihood of the observed (and `factor`) sites at `z_i`.
 * Log-densities are the trace's: scaled and masked as in the ELBOs.
 */
import * as tf from '@tensorflow/tfjs';
import { trace } from '../handlers/trace.js';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import type { Trace } from '../trace.js';
import { asFn, guideAndModelTraces, type Callable } from './elbo.js';
import { EmpiricalMarginal, normalizeLogWeights } from './empirical_marginal.js';

/** Options of {@link Importance}. */
export interface ImportanceOptions<A extends unknown[]> {
  /** The proposal `q`; default: the model's prior. */
  guide?: Callable<A>;
  /** Number of draws `N`. Default 10 (Pyro's). */
  numSamples?: number;
}

/** The weighted draws of one {@link Importance.run}; `dispose()` frees the stored site values. */
export class ImportanceResult {
  /** The normalized weights `w̄_i` (float64). */
  readonly normalizedWeights: Float64Array;
  /** `log (1/N) Σ w_i`, the log marginal likelihood estimate (Pyro's `get_log_normalizer`). */
  readonly logEvidence: number;
  /** `1 / Σ w̄_i²`, in `[1, N]` (Pyro's `get_ESS`). */
  readonly ess: number;

  /**
   * @param logWeights `log w_i` (float64).
   * @param samples each latent (and `deterministic`) site's draws, `[N, ...siteShape]` (owned).
   */
  constructor(
    readonly logWeights: Float64Array,
    readonly samples: Record<string, tf.Tensor>,
  ) {
    this.normalizedWeights = normalizeLogWeights(logWeights, 'logWeights');
    let max = -Infinity;
    for (const l of logWeights) max = Math.max(max, l);
    let s = 0;
    for (const l of logWeights) s += Math.exp(l - max);
    this.logEvidence = max + Math.log(s / logWeights.length);
    let sq = 0;
    for (const w of this.normalizedWeights) sq += w * w;
    this.ess = 1 / sq;
  }

  /** Number of draws `N`. */
  get numSamples(): number {
    return this.logWeights.length;
  }

  /**
   * The delta-method standard error of {@link logEvidence}: `sqrt(1 / ESS - 1 / N)`.
   */
  get logEvidenceStdErr(): number {
    return Math.sqrt(Math.max(0, 1 / this.ess - 1 / this.numSamples));
  }

  /**
   * The weighted draws of `site` (Pyro's `EmpiricalMarginal(importance, sites=site)`); borrows
   * this result's tensor (valid until `dispose()`).
   * @throws ArgumentError naming `site` when no latent or deterministic site has that name.
   */
  marginal(site: string): EmpiricalMarginal {
    const v = this.samples[site];
    if (v === undefined || v.isDisposed) {
      throw new ArgumentError(
        'site',
        `no latent or deterministic site '${String(site)}' in the model (sites: ${Object.keys(this.samples).join(', ') || 'none'})`,
      );
    }
    return new EmpiricalMarginal(v, this.logWeights);
  }

  /** Free the stored site values. */
  dispose(): void {
    tf.dispose(Object.values(this.samples));
  }
}

/**
 * Importance sampling of a model's posterior.
 *
 * @example
 * ```ts
 * const res = new Importance(model, { guide, numSamples: 1000 }).run(y);
 * res.logEvidence;                  // log p(y) estimate
 * res.marginal('mu').mean();        // E[mu | y] estimate
 * res.dispose();
 * ```
 */
export class Importance<A extends unknown[]> {
  readonly numSamples: number;

  /**
   * @param model the model.
   * @param options the guide (default the prior) and `numSamples`.
   * @throws ArgumentError naming `model`, `guide`, `options` or `numSamples`.
   */
  constructor(
    readonly model: Callable<A>,
    readonly options: ImportanceOptions<A> = {},
  ) {
    if (!isCallable(model)) {
      throw new ArgumentError('model', 'expected a function or an object with a call method');
    }
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an object, got ${String(options)}`);
    }
    checkOptionKeys(options, ['guide', 'numSamples'], 'Importance');
    if (options.guide !== undefined && !isCallable(options.guide)) {
      throw new ArgumentError('guide', 'expected a function or an object with a call method');
    }
    const n = options.numSamples ?? 10;
    if (!Number.isInteger(n) || n < 1) {
      throw new ArgumentError('numSamples', `expected an integer >= 1, got ${String(n)}`);
    }
    this.numSamples = n;
  }

  /** Draw `numSamples` weighted samples given the model's arguments (new tensors: dispose them). */
  run(...args: A): ImportanceResult {
    const logW = new Float64Array(this.numSamples);
    const draws: Record<string, tf.Tensor[]> = {};
    try {
      for (let i = 0; i < this.numSamples; i++) {
        const lw = tf.tidy(() => {
          const { modelTrace, logWeight } = this.weightedRun(args);
          for (const s of modelTrace.sampleSites()) {
            if (s.value === null || (s.isObserved && s.infer['deterministic'] !== true)) continue;
            (draws[s.name] ??= []).push(tf.keep(s.value.clone()));
          }
          return logWeight;
        });
        logW[i] = lw.dataSync()[0] as number;
        lw.dispose();
      }
      const samples: Record<string, tf.Tensor> = {};
      try {
        for (const [k, ts] of Object.entries(draws)) samples[k] = tf.stack(ts);
        return new ImportanceResult(logW, samples);
      } catch (e) {
        tf.dispose(Object.values(samples));
        throw e;
      }
    } finally {
      for (const ts of Object.values(draws)) tf.dispose(ts);
    }
  }

  /** One draw: the model trace and `log w` (untidied: call inside a tidy). */
  private weightedRun(args: A): { modelTrace: Trace; logWeight: tf.Tensor } {
    const guide = this.options.guide;
    if (guide === undefined) {
      const modelTrace = trace(asFn(this.model)).getTraceUntidied(...args).trace;
      return { modelTrace, logWeight: modelTrace.logProbSum((s) => s.isObserved) };
    }
    const { guideTrace, modelTrace } = guideAndModelTraces(this.model, guide, args);
    return { modelTrace, logWeight: tf.sub(modelTrace.logProbSum(), guideTrace.logProbSum()) };
  }
}

function isCallable(f: unknown): boolean {
  return (
    typeof f === 'function' ||
    (f !== null && typeof f === 'object' && typeof (f as { call?: unknown }).call === 'function')
  );
}
