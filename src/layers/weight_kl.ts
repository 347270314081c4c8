/**
 * The KL divergence of a block of mean-field weights `q(w) = N(mu, sigma^2)`,
 * `sigma = softplus(rho)`, from their prior:
 *
 * - Normal prior `N(m, s_p^2)` (scalar `m`, or elementwise means `m_i` for a centred MOPED
 *   prior): analytic, `sum_i log(s_p / s_i) + (s_i^2 + (mu_i - m_i)^2) / (2 s_p^2) - 1/2`
 *   (one fused kernel, `backend/fused.ts`);
 * - scale-mixture prior: `-H[q] - log p(w)` with the exact entropy
 *   `H[q] = sum_i 1/2 log(2 pi e s_i^2)` and `log p(w)` at one fresh reparameterized sample
 *   `w = mu + s * eps` (an unbiased, differentiable Monte Carlo estimate).
 */
import * as tf from '@tensorflow/tfjs';
import { klSoftplusNormal } from '../backend/fused.js';
import { standardNormal } from './estimators.js';
import { priorLogProb, type PriorConfig } from './priors.js';

const HALF_LOG_2PI_E = 0.5 * Math.log(2 * Math.PI * Math.E);

/**
 * `sum_i KL(N(mu_i, softplus(rho_i)^2) || p(w_i))` as a scalar tensor.
 * @param prior the prior of every weight.
 * @param mu posterior means.
 * @param rho posterior raw scales (same shape).
 * @param centre elementwise prior means replacing a Normal prior's scalar mean (MOPED), or null.
 */
export function weightKL(
  prior: PriorConfig,
  mu: tf.Tensor,
  rho: tf.Tensor,
  centre: tf.Tensor | null,
): tf.Tensor {
  return tf.tidy(() => {
    if (prior.type === 'normal') {
      return klSoftplusNormal(mu, rho, centre ?? prior.mu, prior.sigma);
    }
    const sigma = tf.softplus(rho);
    const w = tf.add(mu, tf.mul(sigma, standardNormal(mu.shape)));
    const negEntropy = tf.neg(tf.add(tf.sum(tf.log(sigma)), HALF_LOG_2PI_E * mu.size));
    return tf.sub(negEntropy, tf.sum(priorLogProb(prior, w)));
  });
}
