/**
 * The options of `Predictive` ({@link PredictiveOptions}) and their checks, before any work: each
 * option validated naming it, unknown keys refused, `posteriorSamples` with common leading dims
 * (`[numSamples]`, or `[chains, draws]` with `batchNdims: 2`, run as `chains · draws` draws).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { checkSiteData } from '../handlers/handler_args.js';
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
   * guide (the predictive sites, including observed ones and `deterministic` ones). `'_RETURN'`
   * (Pyro's name) returns the model's return value, which must then be a tensor.
   */
  returnSites?: string[];
  /**
   * Draw all samples in one vectorized run of the model (and guide) inside a plate
   * `_num_predictive_samples` of size `numSamples` left of the model's plates (Pyro's
   * `parallel=True`): much faster, but the model must broadcast over a leading batch dim (write it
   * with plates, reduce only over plate dims). Default false: one run per draw.
   */
  parallel?: boolean;
  /**
   * With `parallel`: how many plate dims the model (and guide) nest (Pyro's `max_plate_nesting`);
   * default: the deepest plate dim seen in one serial run.
   */
  maxPlateNesting?: number;
  /**
   * Values of param sites for the model and the guide (NumPyro's `params`, e.g. a guide's fitted
   * parameters), used instead of the parameter store: both run under `substitute(fn, params)`.
   */
  params?: Record<string, tf.Tensor | tf.TensorLike>;
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
 * Check a `Predictive`'s model and options (an {@link ArgumentError} naming the option); the
 * number of draws (`numSamples`, default 1, or the posterior samples' `Π lead`) and the leading
 * dims of every returned tensor.
 */
export function checkPredictiveOptions<A extends unknown[]>(
  model: Callable<A>,
  options: PredictiveOptions<A>,
): { numSamples: number; batchShape: number[] } {
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
      'parallel',
      'maxPlateNesting',
      'params',
    ],
    'Predictive',
  );
  if (options.params !== undefined) checkSiteData(options.params, 'Predictive', 'params');
  const par = options.parallel;
  if (par !== undefined && typeof par !== 'boolean') {
    throw new ArgumentError('parallel', `expected a boolean, got ${String(par)}`);
  }
  const mpn = options.maxPlateNesting;
  if (mpn !== undefined && (!Number.isInteger(mpn) || mpn < 0)) {
    throw new ArgumentError('maxPlateNesting', `expected an integer >= 0, got ${String(mpn)}`);
  }
  if (par === true && options.inferDiscrete !== undefined && options.inferDiscrete !== false) {
    throw new ArgumentError(
      'parallel',
      'inferDiscrete draws discrete sites one run at a time: use parallel: false with it',
    );
  }
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
  let batchShape = [n];
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
    batchShape = [...lead];
  }
  if (!Number.isInteger(n) || n < 1) {
    throw new ArgumentError('numSamples', `expected an integer >= 1, got ${n}`);
  }
  return { numSamples: n, batchShape };
}
