/**
 * Posterior (or prior) predictive sampling (Pyro's `Predictive`): draw latents from the guide,
 * run the model replayed at them, and collect the values of chosen sites.
 */
import * as tf from '@tensorflow/tfjs';
import { replay } from '../handlers/replay.js';
import { ConditionMessenger } from '../handlers/condition.js';
import { wrapWith } from '../messenger.js';
import { trace } from '../handlers/trace.js';
import type { Trace } from '../trace.js';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { asFn, type Callable } from './elbo.js';
import { inferDiscrete, type InferDiscreteOptions } from './infer_discrete.js';

/** Options of {@link Predictive}. */
export interface PredictiveOptions<A extends unknown[]> {
  /** The guide giving posterior samples; without it the prior is used. */
  guide?: Callable<A>;
  /** Number of draws. Default 1. */
  numSamples?: number;
  /**
   * Posterior draws `{site: [numSamples, ...shape]}` (e.g. `MCMC.getSamples()`): draw `i` runs the
   * model conditioned on every site's `i`-th value. `numSamples` is their leading dimension.
   */
  posteriorSamples?: Record<string, tf.Tensor>;
  /**
   * With `posteriorSamples`: how many leading dims of each tensor index draws (NumPyro's
   * `batch_ndims`). `1` (default): `[numSamples, ...shape]`; `2`: grouped by chain,
   * `[chains, draws, ...shape]` as `MCMC.getSamples({groupByChain: true})` gives, run as
   * `chains * draws` draws and returned as `{site: [chains, draws, ...siteShape]}`.
   */
  batchNdims?: 1 | 2;
  /**
   * Sites to return. Default: all sample sites of the model that are not latent sites of the
   * guide (the predictive sites, including observed ones and `deterministic` ones).
   */
  returnSites?: string[];
  /**
   * With `posteriorSamples`: also fix the `deterministic` sites to their stored values (default
   * false: they are recomputed from the conditioned latents and the call's inputs, as NumPyro's
   * `Predictive` does since `exclude_deterministic`; stored values would be stale on new inputs).
   */
  conditionDeterministic?: boolean;
  /**
   * Draw the model's discrete latent sites from their posterior given each draw (NumPyro's
   * `infer_discrete=True`; {@link inferDiscrete}), e.g. after `MCMC`, which sums them out:
   * `true` samples them (temperature 1), `{temperature: 0}` gives their joint most probable
   * values; `maxPlateNesting` as there. Default false: they are drawn from their prior.
   */
  inferDiscrete?: boolean | InferDiscreteOptions;
}

/**
 * Draws from `p(sites | data) ≈ ∫ p(sites | z) q(z) dz`.
 *
 * @example
 * ```ts
 * const pred = new Predictive(model, { guide, numSamples: 10, returnSites: ['logits'] });
 * const { logits } = pred.call(xTest); // shape [10, n, 10]
 * ```
 */
export class Predictive<A extends unknown[]> {
  /** Number of draws (with `batchNdims: 2`, chains times draws). */
  readonly numSamples: number;
  /** The leading dims of every returned tensor: `[numSamples]`, or `[chains, draws]`. */
  readonly batchShape: number[];
  constructor(
    readonly model: Callable<A>,
    readonly options: PredictiveOptions<A> = {},
  ) {
    asFn(model, 'model');
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an object, got ${String(options)}`);
    }
    checkOptionKeys(
      options,
      [
        'guide',
        'numSamples',
        'posteriorSamples',
        'batchNdims',
        'returnSites',
        'conditionDeterministic',
        'inferDiscrete',
      ],
      'Predictive',
    );
    const idc = options.inferDiscrete;
    if (idc !== undefined && typeof idc !== 'boolean') {
      if (idc === null || typeof idc !== 'object') {
        throw new ArgumentError(
          'inferDiscrete',
          `expected a boolean or {temperature?, maxPlateNesting?}, got ${String(idc)}`,
        );
      }
      inferDiscrete(() => undefined, idc); // validate the options now
    }
    if (options.guide !== undefined) asFn(options.guide, 'guide');
    const rs = options.returnSites;
    if (
      rs !== undefined &&
      (!Array.isArray(rs) || rs.some((r) => typeof r !== 'string' || r === ''))
    ) {
      throw new ArgumentError('returnSites', 'expected an array of site names');
    }
    const ps = options.posteriorSamples;
    const bn = options.batchNdims ?? 1;
    if (bn !== 1 && bn !== 2) {
      throw new ArgumentError('batchNdims', `expected 1 or 2, got ${String(bn)}`);
    }
    if (bn !== 1 && ps === undefined) {
      throw new ArgumentError('batchNdims', 'batchNdims applies to posteriorSamples only');
    }
    let n = options.numSamples ?? 1;
    this.batchShape = [n];
    if (ps !== undefined) {
      if (ps === null || typeof ps !== 'object') {
        throw new ArgumentError('posteriorSamples', 'expected a record {site: tensor}');
      }
      const what =
        bn === 1
          ? 'a leading sample dimension'
          : 'leading [chains, draws] dimensions (batchNdims: 2)';
      for (const [k, t] of Object.entries(ps)) {
        if (!(t instanceof tf.Tensor) || t.rank < bn || t.isDisposed) {
          throw new ArgumentError(
            'posteriorSamples',
            `site '${k}': expected a live tensor with ${what}`,
          );
        }
      }
      const leads = Object.values(ps).map((t) => t.shape.slice(0, bn));
      const lead = leads[0];
      if (
        lead === undefined ||
        leads.some((l) => l.some((d, i) => d !== lead[i])) ||
        options.guide !== undefined
      ) {
        throw new ArgumentError(
          'posteriorSamples',
          `expected tensors with common ${what}, and no guide; got ` +
            Object.entries(ps)
              .map(([k, t]) => `${k} [${t.shape.join(',')}]`)
              .join(', '),
        );
      }
      const total = lead.reduce((a, d) => a * d, 1);
      if (options.numSamples !== undefined && options.numSamples !== total) {
        throw new ArgumentError(
          'numSamples',
          `expected ${total} (the posteriorSamples' ${bn === 1 ? 'leading dimension' : 'chains x draws'}), got ${options.numSamples}`,
        );
      }
      n = total;
      this.batchShape = [...lead];
    }
    if (!Number.isInteger(n) || n < 1) {
      throw new ArgumentError('numSamples', `expected an integer >= 1, got ${n}`);
    }
    this.numSamples = n;
  }

  /** Returns `{site: tensor of shape [numSamples, ...siteShape]}` (new tensors, the caller's). */
  call(...args: A): Record<string, tf.Tensor> {
    const model = asFn(this.model);
    const guide = this.options.guide === undefined ? undefined : asFn(this.options.guide);
    const draws: Record<string, tf.Tensor[]> = {};
    try {
      this.collect(model, guide, args, draws);
    } catch (e) {
      for (const ts of Object.values(draws)) tf.dispose(ts);
      throw e;
    }
    const out: Record<string, tf.Tensor> = {};
    const grouped = this.batchShape.length > 1;
    for (const [n, ts] of Object.entries(draws)) {
      const st = tf.stack(ts);
      tf.dispose(ts);
      if (grouped) {
        out[n] = tf.reshape(st, [...this.batchShape, ...st.shape.slice(1)]);
        st.dispose();
      } else out[n] = st;
    }
    return out;
  }

  /** Run the draws, pushing each kept site value into `draws` (freed by the caller on a throw). */
  private collect(
    model: (...a: A) => unknown,
    guide: ((...a: A) => unknown) | undefined,
    args: A,
    draws: Record<string, tf.Tensor[]>,
  ): void {
    // with batchNdims 2, draw i = (chain, draw) in row-major order: the tensors flattened once
    const given = this.options.posteriorSamples;
    const flat =
      given === undefined || this.batchShape.length === 1
        ? given
        : Object.fromEntries(
            Object.entries(given).map(([k, t]) => [
              k,
              tf.reshape(t, [this.numSamples, ...t.shape.slice(this.batchShape.length)]),
            ]),
          );
    try {
      this.collectDraws(model, guide, args, draws, flat);
    } finally {
      if (flat !== given && flat !== undefined) tf.dispose(Object.values(flat));
    }
  }

  private collectDraws(
    model: (...a: A) => unknown,
    guide: ((...a: A) => unknown) | undefined,
    args: A,
    draws: Record<string, tf.Tensor[]>,
    ps: Record<string, tf.Tensor> | undefined,
  ): void {
    for (let i = 0; i < this.numSamples; i++) {
      tf.tidy(() => {
        const gt = guide === undefined ? undefined : trace(guide).getTraceUntidied(...args).trace;
        const run =
          ps !== undefined
            ? wrapWith(
                model,
                () =>
                  new ConditionMessenger(
                    Object.fromEntries(Object.entries(ps).map(([k, t]) => [k, tf.gather(t, i)])),
                    this.options.conditionDeterministic !== true,
                  ),
              )
            : gt === undefined
              ? model
              : replay(model, { trace: gt });
        const idc = this.options.inferDiscrete;
        const final =
          idc === undefined || idc === false ? run : inferDiscrete(run, idc === true ? {} : idc);
        const mt =
          i === 0 ? this.firstRun(final, args) : trace(final).getTraceUntidied(...args).trace;
        const names =
          this.options.returnSites ??
          mt
            .sampleSites()
            .filter((s) => gt === undefined || !gt.get(s.name) || gt.get(s.name)?.isObserved)
            .filter(
              (s) =>
                ps === undefined ||
                !(s.name in ps) ||
                (s.infer['deterministic'] === true && this.options.conditionDeterministic !== true),
            )
            .map((s) => s.name);
        for (const n of names) {
          const site = mt.get(n) ?? gt?.get(n);
          if (site === undefined || site.value === null) {
            throw new ArgumentError('returnSites', `no site named '${n}' in the model or guide`);
          }
          (draws[n] ??= []).push(tf.keep(site.value.clone()));
        }
      });
    }
  }

  /**
   * The first conditioned run. When it fails on posterior samples that look grouped by chain
   * (every tensor `[C, D, ...]` with the same `C, D`) and `batchNdims` is 1, the error says so.
   */
  private firstRun(run: (...a: A) => unknown, args: A): Trace {
    try {
      return trace(run).getTraceUntidied(...args).trace;
    } catch (e) {
      const ps = this.options.posteriorSamples;
      const ts = ps === undefined ? [] : Object.values(ps);
      const [c, d] = ts[0]?.shape ?? [];
      const grouped =
        this.batchShape.length === 1 &&
        ts.length > 0 &&
        ts.every((t) => t.rank >= 2 && t.shape[0] === c && t.shape[1] === d);
      if (!grouped) throw e;
      throw new ArgumentError(
        'batchNdims',
        `Predictive: the model failed on the first of the posteriorSamples (${
          e instanceof Error ? e.message : String(e)
        }); they look grouped by chain ([${String(c)}, ${String(d)}, ...], as ` +
          'MCMC.getSamples({groupByChain: true}) gives): pass batchNdims: 2',
      );
    }
  }
}
