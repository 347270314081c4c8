/**
 * Conjugate updates (Pyro's `Distribution.conjugate_update(other)`): the product of two densities
 * of the same family in the same variable `z` is, up to a constant, a density of that family,
 *
 * $$p(z)\,q(z) = Z\,u(z),\qquad \log Z = \log\!\int p(z)\,q(z)\,dz,$$
 *
 * elementwise, for
 *
 * - Normal: `u = N(μ, σ)`, `σ^{-2} = σ_p^{-2} + σ_q^{-2}`, `μ = σ²(μ_p/σ_p² + μ_q/σ_q²)`,
 *   `log Z = log N(μ_p; μ_q, √(σ_p² + σ_q²))`;
 * - Gamma (shape `a`, rate `b`): `u = Gamma(a_p + a_q - 1, b_p + b_q)`,
 *   `log Z = ℓ(a_p, b_p) + ℓ(a_q, b_q) - ℓ(a_u, b_u)`, `ℓ(a, b) = a log b - log Γ(a)`;
 * - Beta: `u = Beta(α_p + α_q - 1, β_p + β_q - 1)`,
 *   `log Z = log B(α_u, β_u) - log B(α_p, β_p) - log B(α_q, β_q)`.
 *
 * Used by `ConjugateReparam`, where `q` is a likelihood written as a density of the latent.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { Beta } from './beta.js';
import type { Distribution } from './distribution.js';
import { Gamma } from './gamma.js';
import { Normal } from './normal.js';
import { lgamma } from './special.js';

/** Result of {@link conjugateUpdate}: the updated distribution and `log Z`. */
export interface ConjugateUpdate {
  /** `u`, of the shared family. */
  updated: Distribution;
  /** `log Z`, elementwise (the broadcast shape of the two parameter sets). */
  logNormalizer: tf.Tensor;
}

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** `log B(a, b) = log Γ(a) + log Γ(b) - log Γ(a + b)`. */
function logBeta(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.sub(tf.add(lgamma(a), lgamma(b)), lgamma(tf.add(a, b)));
}

/**
 * Whether `conjugateUpdate(p, q)` is defined (the same family among Normal, Gamma, Beta).
 * @param p the prior.
 * @param q the other density.
 */
export function hasConjugateUpdate(p: Distribution, q: Distribution): boolean {
  return (
    (p instanceof Normal && q instanceof Normal) ||
    (p instanceof Gamma && q instanceof Gamma) ||
    (p instanceof Beta && q instanceof Beta)
  );
}

/**
 * The conjugate update of `p` by `q` (both of one family, elementwise, parameters broadcast).
 *
 * @param p the prior `p(z)`.
 * @param q a density `q(z)` of the same family (e.g. a likelihood as a function of `z`).
 * @throws ArgumentError naming `q` when the pair has no conjugate update here.
 * @example
 * ```ts
 * const { updated, logNormalizer } = conjugateUpdate(new Normal(0, 1), new Normal(2, 0.5));
 * // updated: N(1.6, √0.2); logNormalizer: log N(0; 2, √1.25)
 * ```
 */
export function conjugateUpdate(p: Distribution, q: Distribution): ConjugateUpdate {
  if (p instanceof Normal && q instanceof Normal) {
    const vp = tf.square(p.scale);
    const vq = tf.square(q.scale);
    const v = tf.div(tf.mul(vp, vq), tf.add(vp, vq));
    const loc = tf.mul(v, tf.add(tf.div(p.loc, vp), tf.div(q.loc, vq)));
    const s2 = tf.add(vp, vq);
    const logNormalizer = tf.sub(
      tf.mul(-0.5, tf.div(tf.square(tf.sub(p.loc, q.loc)), s2)),
      tf.add(tf.mul(0.5, tf.log(s2)), HALF_LOG_2PI),
    );
    return { updated: new Normal(loc, tf.sqrt(v)), logNormalizer };
  }
  if (p instanceof Gamma && q instanceof Gamma) {
    const a = tf.sub(tf.add(p.concentration, q.concentration), 1);
    const b = tf.add(p.rate, q.rate);
    const ell = (c: tf.Tensor, r: tf.Tensor): tf.Tensor => tf.sub(tf.mul(c, tf.log(r)), lgamma(c));
    const logNormalizer = tf.sub(
      tf.add(ell(p.concentration, p.rate), ell(q.concentration, q.rate)),
      ell(a, b),
    );
    return { updated: new Gamma(a, b), logNormalizer };
  }
  if (p instanceof Beta && q instanceof Beta) {
    const a = tf.sub(tf.add(p.concentration1, q.concentration1), 1);
    const b = tf.sub(tf.add(p.concentration0, q.concentration0), 1);
    const logNormalizer = tf.sub(
      logBeta(a, b),
      tf.add(
        logBeta(p.concentration1, p.concentration0),
        logBeta(q.concentration1, q.concentration0),
      ),
    );
    return { updated: new Beta(a, b), logNormalizer };
  }
  throw new ArgumentError(
    'q',
    `no conjugate update of a ${p.name} by a ${q.name} (defined for Normal x Normal, ` +
      'Gamma x Gamma, Beta x Beta)',
  );
}
