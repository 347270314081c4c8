/**
 * Posterior tempering at prediction time for mean-field Bayesian layers: every posterior standard
 * deviation `sigma = softplus(rho)` is multiplied by a factor `tau` while a function runs, and the
 * trained `rho` are restored afterwards (also when it throws). For a Gaussian posterior
 * `q(w) = N(mu, sigma^2)`, the tempered posterior `q(w)^{1/T}` (normalised) is
 * `N(mu, T sigma^2)`, so `tau = sqrt(T)`; `tau = 1` is the trained posterior, `tau = 0` its mean.
 *
 * $$\tilde\rho = \operatorname{softplus}^{-1}(\tau\,\operatorname{softplus}(\rho))
 *   = \log\big(e^{\tau\,\operatorname{softplus}(\rho)} - 1\big)$$
 */
import * as tf from '@tensorflow/tfjs';
import { posteriorRhoVariables } from '../../layers/model_utils.js';
import { ArgumentError } from '../../utils/errors.js';
import { softplusInverse } from '../../utils/tensor.js';

/**
 * Run `fn` with every posterior standard deviation of `model` scaled by `scale`, then restore
 * the trained posterior. Returns what `fn` returns (tensors it returns are the caller's).
 *
 * @param model a model with Bayesian layers (e.g. `bayes-lenet5` from the zoo).
 * @param scale `tau >= 0` (finite); `sqrt(T)` of the posterior temperature `T`.
 * @example
 * ```ts
 * layers.setMode(net, 'sample');
 * const probs = toolbox.withPosteriorScale(net, 1.5, () => tf.softmax(net.predict(x) as tf.Tensor));
 * ```
 */
export function withPosteriorScale<T>(model: tf.LayersModel, scale: number, fn: () => T): T {
  if (!(model instanceof tf.LayersModel))
    throw new ArgumentError('model', 'expected a tf.LayersModel');
  if (!(scale >= 0) || !Number.isFinite(scale)) {
    throw new ArgumentError('scale', `expected a finite number >= 0, got ${scale}`);
  }
  const vars = posteriorRhoVariables(model);
  if (vars.length === 0) {
    throw new ArgumentError('model', 'has no Bayesian layer with a posterior rho to scale');
  }
  if (scale === 1) return fn();
  const saved = vars.map((v) => v.read().clone());
  try {
    vars.forEach((v, i) => {
      const next = tf.tidy(() =>
        scale === 0
          ? tf.fill((saved[i] as tf.Tensor).shape, -30) // softplus(-30) ~ 1e-13: the posterior mean
          : tf.maximum(
              softplusInverse(tf.mul(tf.softplus(saved[i] as tf.Tensor), scale)),
              tf.scalar(-30),
            ),
      );
      v.write(next);
      next.dispose();
    });
    return fn();
  } finally {
    vars.forEach((v, i) => v.write(saved[i] as tf.Tensor));
    tf.dispose(saved);
  }
}
