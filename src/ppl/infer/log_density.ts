/**
 * The log joint density of a model at given site values (NumPyro's
 * `numpyro.infer.util.log_density(model, model_args, model_kwargs, params)`): the model runs with
 * its latent sample sites (and params) substituted by `params` (constrained values), and
 *
 * $$\log p(x, \theta) = \sum_{\text{sample sites } s} \text{scale}_s \sum \text{mask}_s \log p_s(v_s)$$
 *
 * over every sample site, latent and observed, with the handlers' scales and masks (a subsampled
 * plate's `N / B`), `factor` sites included, as NumPyro's `log_density`. Unlike NumPyro (which
 * draws an unsubstituted latent site from its prior when a seed is around), every latent sample
 * site must be given: a missing one, or a name that is no site of the run, is an
 * {@link ArgumentError} naming `params` and the site.
 */
import * as tf from '@tensorflow/tfjs';
import { checkSiteData } from '../handlers/handler_args.js';
import { substitute } from '../handlers/substitute.js';
import { trace } from '../handlers/trace.js';
import { ArgumentError } from '../../utils/errors.js';
import { asFn, type Callable } from './elbo.js';

/**
 * The log joint density `log p(x, θ)` of `model(...args)` at the latent values `params` (see the
 * module docs): a new scalar tensor (dispose it).
 *
 * @param model the model.
 * @param params `{site: value}` for every latent sample site (constrained values: tensors,
 *   numbers or arrays); param sites may be given too.
 * @param args the model's arguments.
 * @throws ArgumentError naming `model` or `params` (a bad value before the run; a latent site
 *   missing from `params`, or a name that is no site of the run, after it, nothing kept).
 *
 * @example
 * ```ts
 * const lp = ppl.logDensity(model, { mu: 0.3, sigma: 1.2 }, y); // NumPyro: log_density(model, (y,), {}, params)[0]
 * ```
 */
export function logDensity<A extends unknown[]>(
  model: Callable<A>,
  params: Record<string, tf.Tensor | tf.TensorLike>,
  ...args: A
): tf.Scalar {
  const fn = asFn(model, 'model');
  checkSiteData(params, 'logDensity', 'params');
  return tf.tidy(() => {
    const values: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(params)) {
      values[k] = v instanceof tf.Tensor ? v : tf.tensor(v as tf.TensorLike);
    }
    const tr = trace(substitute(fn, values)).getTraceUntidied(...args).trace;
    try {
      const missing = tr
        .latentSites()
        .filter((s) => !(s.name in values) && s.infer['deterministic'] !== true);
      if (missing.length > 0) {
        throw new ArgumentError(
          'params',
          `logDensity: no value for the latent site${missing.length > 1 ? 's' : ''} ${missing.map((s) => `'${s.name}'`).join(', ')}`,
        );
      }
      const names = new Set(tr.sites().map((s) => s.name));
      const unknown = Object.keys(values).filter((k) => !names.has(k));
      if (unknown.length > 0) {
        throw new ArgumentError(
          'params',
          `logDensity: ${unknown.map((k) => `'${k}'`).join(', ')} is no site of the model (sites: ${[...names].map((n) => `'${n}'`).join(', ')})`,
        );
      }
      return tr.logProbSum() as tf.Scalar;
    } finally {
      tr.dispose();
    }
  });
}
