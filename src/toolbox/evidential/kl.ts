/**
 * The KL-to-uniform regulariser of evidential deep learning: it shrinks the *misleading*
 * evidence (evidence for wrong classes) to zero, so that inputs the network cannot classify get
 * a flat Dirichlet ("I don't know").
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorInput } from '../../utils/tensor.js';
import { digamma, lgamma } from '../special.js';
import type { Reduction } from './common.js';
import { evidentialLoss } from './losses.js';

/**
 * KL divergence from the Dirichlet with the correct-class evidence removed to the uniform
 * Dirichlet. With `alphã_k = y_k + (1 - y_k) alpha_k` and `S̃ = sum_k alphã_k`:
 *
 * $$\mathrm{KL}\big[\mathrm{Dir}(p\mid\tilde\alpha)\,\|\,\mathrm{Dir}(p\mid\mathbf 1)\big]
 * = \log\frac{\Gamma(\tilde S)}{\Gamma(K)\prod_k\Gamma(\tilde\alpha_k)}
 * + \sum_k(\tilde\alpha_k - 1)\big[\psi(\tilde\alpha_k) - \psi(\tilde S)\big]$$
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
  return evidentialLoss(evidence, target, reduction, ({ y, alpha, classes: k }) => {
    const alphaTilde = tf.add(y, tf.mul(tf.sub(1, y), alpha));
    const sTilde = tf.sum(alphaTilde, -1);
    const first = tf.sub(
      tf.sub(lgamma(sTilde), lgamma(tf.scalar(k))),
      tf.sum(lgamma(alphaTilde), -1),
    );
    const second = tf.sum(
      tf.mul(
        tf.sub(alphaTilde, 1),
        tf.sub(digamma(alphaTilde), tf.expandDims(digamma(sTilde), -1)),
      ),
      -1,
    );
    return tf.add(first, second);
  });
}
