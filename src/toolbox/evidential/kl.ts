/**
 * The KL-to-uniform regulariser of evidential deep learning: it shrinks the *misleading*
 * evidence (evidence for wrong classes) to zero, so that inputs the network cannot classify get
 * a flat Dirichlet ("I don't know").
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorInput } from '../../utils/tensor.js';
import { digammaRemainder, HALF_LOG_2PI, stirlingRemainder } from './remainders.js';
import type { Reduction } from './common.js';
import { evidentialLoss } from './losses.js';

/**
 * `KL[Dir(alpha) || Dir(1)]` of each row of `alpha` `[N, K]` (all `alpha_k > 0`), as `[N]`, in a
 * form without the cancellation of `log Gamma(S) - sum_k log Gamma(alpha_k)` against
 * `sum_k (alpha_k - 1)(psi(alpha_k) - psi(S))` (each grows like `S log S`, so float32 lost the
 * whole result past `S ~ 1e5` and even gave negative values). With Stirling's remainder `R` and
 * the digamma remainder `Q` (`remainders.ts`), the `S log S` and `S` terms cancel exactly on paper:
 *
 * $$\mathrm{KL} = (K - \tfrac12)\log S - \tfrac12\sum_k\log\alpha_k
 * - \tfrac{K-1}{2}\log 2\pi - \log\Gamma(K) + R(S) - \sum_k R(\alpha_k)
 * + \tfrac12 - \tfrac K2 - \tfrac{K}{2S} + \sum_k\frac{1}{2\alpha_k}
 * + \sum_k(\alpha_k - 1)Q(\alpha_k) - (S - K)\,Q(S)$$
 *
 * @param alpha concentrations `[N, K]`, `alpha_k > 0`.
 * @param k the number of classes `K`.
 */
export function klToUniform(alpha: tf.Tensor, k: number): tf.Tensor {
  return tf.tidy(() => {
    const s = tf.sum(alpha, -1);
    const logTerms = tf.sub(tf.mul(k - 0.5, tf.log(s)), tf.mul(0.5, tf.sum(tf.log(alpha), -1)));
    const constant = -(k - 1) * HALF_LOG_2PI - lgammaHost(k) + 0.5 - k / 2;
    const remainders = tf.sub(stirlingRemainder(s), tf.sum(stirlingRemainder(alpha), -1));
    const inverse = tf.sub(tf.sum(tf.div(0.5, alpha), -1), tf.div(k / 2, s));
    const digammaTerms = tf.sub(
      tf.sum(tf.mul(tf.sub(alpha, 1), digammaRemainder(alpha)), -1),
      tf.mul(tf.sub(s, k), digammaRemainder(s)),
    );
    return tf.add(tf.add(tf.add(logTerms, constant), remainders), tf.add(inverse, digammaTerms));
  });
}

/** `log Gamma(k) = log((k - 1)!)` of a positive integer, in float64 on the host. */
function lgammaHost(k: number): number {
  let v = 0;
  for (let i = 2; i < k; i++) v += Math.log(i);
  return v;
}

/**
 * KL divergence from the Dirichlet with the correct-class evidence removed to the uniform
 * Dirichlet. With `alphã_k = y_k + (1 - y_k) alpha_k` and `S̃ = sum_k alphã_k`:
 *
 * $$\mathrm{KL}\big[\mathrm{Dir}(p\mid\tilde\alpha)\,\|\,\mathrm{Dir}(p\mid\mathbf 1)\big]
 * = \log\frac{\Gamma(\tilde S)}{\Gamma(K)\prod_k\Gamma(\tilde\alpha_k)}
 * + \sum_k(\tilde\alpha_k - 1)\big[\psi(\tilde\alpha_k) - \psi(\tilde S)\big]$$
 *
 * computed by {@link klToUniform} (accurate in float32 for any evidence size).
 *
 * @param evidence `[N, K]` non-negative evidence.
 * @param target one-hot `[N, K]` or labels `[N]`.
 * @param reduction `'mean'` (default), `'sum'` or `'none'`.
 * @example
 * ```ts
 * klUniformLoss([[5, 0, 0]], [0]); // 0: no misleading evidence
 * ```
 */
export function klUniformLoss(
  evidence: TensorInput,
  target: TensorInput,
  reduction: Reduction = 'mean',
): tf.Tensor {
  return evidentialLoss(evidence, target, reduction, ({ y, alpha, classes: k }) =>
    klToUniform(tf.add(y, tf.mul(tf.sub(1, y), alpha)), k),
  );
}
