/**
 * The three evidential classification losses of Sensoy et al. 2018 ("Evidential Deep Learning to
 * Quantify Classification Uncertainty"), written as in labml's annotated implementation.
 *
 * All take evidence `e >= 0` of shape `[N, K]` (from an evidence function), so that
 * `alpha = e + 1` parameterises a Dirichlet with strength `S = sum_k alpha_k`, and targets as
 * one-hot rows `[N, K]` or integer labels `[N]`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { log1p } from '../../utils/log1p.js';
import type { TensorInput } from '../../utils/tensor.js';
import { checkEvidence, checkTarget, reduce, type Reduction } from './common.js';
import { digammaRemainder, leaveOneOutSums } from './remainders.js';

/** Names of the evidential losses (CLI spelling). */
export type EvidentialLossName =
  'max-likelihood' | 'cross-entropy-bayes-risk' | 'squared-error-bayes-risk';

/** The names accepted by {@link evidentialLossFunction}. */
export const EVIDENTIAL_LOSSES: readonly EvidentialLossName[] = [
  'max-likelihood',
  'cross-entropy-bayes-risk',
  'squared-error-bayes-risk',
];

/** The Dirichlet quantities every evidential loss starts from. */
export interface EvidentialTerms {
  /** One-hot (or soft) targets `[N, K]`. */
  y: tf.Tensor;
  /** Dirichlet concentrations `alpha = e + 1`, `[N, K]`. */
  alpha: tf.Tensor;
  /** Dirichlet strength `S = sum_k alpha_k`, `[N, 1]`. */
  strength: tf.Tensor;
  /** Number of classes `K`. */
  classes: number;
}

/**
 * Shared frame of the evidential losses: checks `evidence` `[N, K]` and `target` (one-hot
 * `[N, K]` or labels `[N]`), forms `alpha = e + 1` and `S = sum_k alpha_k`, applies `perInput`
 * (a per-input loss `[N]`) and reduces it, all under `tf.tidy`.
 *
 * @param evidence `[N, K]` non-negative evidence.
 * @param target one-hot `[N, K]` or labels `[N]`.
 * @param reduction `'mean'`, `'sum'` or `'none'`.
 * @param perInput the loss of each input from the {@link EvidentialTerms}.
 * @example
 * ```ts
 * evidentialLoss([[9, 0]], [0], 'mean', ({ y, alpha }) => tf.sum(tf.mul(y, alpha), -1)); // 10
 * ```
 */
export function evidentialLoss(
  evidence: TensorInput,
  target: TensorInput,
  reduction: Reduction,
  perInput: (terms: EvidentialTerms) => tf.Tensor,
): tf.Tensor {
  return tf.tidy(() => {
    const e = checkEvidence(evidence);
    const y = checkTarget(target, e.shape);
    const alpha = tf.add(e, 1);
    const strength = tf.sum(alpha, -1, true);
    return reduce(perInput({ y, alpha, strength, classes: e.shape[1] }), reduction);
  });
}

/**
 * Type-II maximum likelihood loss: the negative log marginal likelihood of the label under the
 * Dirichlet–categorical model.
 *
 * $$\mathcal{L} = -\log\int \prod_k p_k^{y_k}\,\mathrm{Dir}(p\mid\alpha)\,dp
 * = \sum_k y_k\big(\log S - \log\alpha_k\big)$$
 *
 * @param evidence `[N, K]` non-negative evidence.
 * @param target one-hot `[N, K]` or labels `[N]`.
 * @param reduction `'mean'` (default), `'sum'` or `'none'` (per input `[N]`).
 * @example
 * ```ts
 * maximumLikelihoodLoss([[9, 0]], [0]); // log(11/10)
 * ```
 */
export function maximumLikelihoodLoss(
  evidence: TensorInput,
  target: TensorInput,
  reduction: Reduction = 'mean',
): tf.Tensor {
  return evidentialLoss(evidence, target, reduction, ({ y, alpha }) => {
    // log S - log alpha_k = log1p(r_k / alpha_k): no cancellation when alpha_k dominates S
    const r = leaveOneOutSums(alpha as tf.Tensor2D);
    return tf.sum(tf.mul(y, log1p(tf.div(r, alpha))), -1);
  });
}

/**
 * Bayes risk of the cross-entropy: the expected cross-entropy under the Dirichlet.
 *
 * $$\mathcal{L} = \int \Big[-\sum_k y_k\log p_k\Big]\mathrm{Dir}(p\mid\alpha)\,dp
 * = \sum_k y_k\big(\psi(S) - \psi(\alpha_k)\big)$$
 *
 * @param evidence `[N, K]` non-negative evidence.
 * @param target one-hot `[N, K]` or labels `[N]`.
 * @param reduction `'mean'` (default), `'sum'` or `'none'`.
 * @example
 * ```ts
 * crossEntropyBayesRisk([[9, 0]], [0]); // digamma(11) - digamma(10) = 1/10
 * ```
 */
export function crossEntropyBayesRisk(
  evidence: TensorInput,
  target: TensorInput,
  reduction: Reduction = 'mean',
): tf.Tensor {
  return evidentialLoss(evidence, target, reduction, ({ y, alpha }) => {
    // psi(S) - psi(alpha_k) = log1p(r_k / alpha_k) + r_k / (2 alpha_k S) + Q(S) - Q(alpha_k) with
    // r_k = S - alpha_k summed exactly and Q the small digamma remainder: float32 lost 24 % of it
    // at evidence 1e6 as a difference of two digammas
    const r = leaveOneOutSums(alpha as tf.Tensor2D);
    const s = tf.add(alpha, r);
    const diff = tf.add(
      tf.add(log1p(tf.div(r, alpha)), tf.div(r, tf.mul(tf.mul(2, alpha), s))),
      tf.sub(digammaRemainder(s), digammaRemainder(alpha)),
    );
    return tf.sum(tf.mul(y, diff), -1);
  });
}

/**
 * Bayes risk of the squared error: the expected squared distance between `p ~ Dir(alpha)` and
 * the one-hot label, i.e. squared error of the mean plus the Dirichlet variance.
 *
 * $$\mathcal{L} = \sum_k \Big[(y_k - \hat p_k)^2 + \frac{\hat p_k(1-\hat p_k)}{S+1}\Big],
 * \qquad \hat p_k = \alpha_k / S$$
 *
 * @param evidence `[N, K]` non-negative evidence.
 * @param target one-hot `[N, K]` or labels `[N]`.
 * @param reduction `'mean'` (default), `'sum'` or `'none'`.
 * @example
 * ```ts
 * squaredErrorBayesRisk([[0, 0]], [0]); // 0.5 + 2 * (0.25 / 3)
 * ```
 */
export function squaredErrorBayesRisk(
  evidence: TensorInput,
  target: TensorInput,
  reduction: Reduction = 'mean',
): tf.Tensor {
  return evidentialLoss(evidence, target, reduction, ({ y, alpha, strength }) => {
    // y_k - p_k = (y_k r_k - (1 - y_k) alpha_k) / S and p_k (1 - p_k) = alpha_k r_k / S^2 with the
    // exact leave-one-out sums r_k: 1 - p_k is not formed as a difference
    const r = leaveOneOutSums(alpha as tf.Tensor2D);
    const err = tf.square(tf.div(tf.sub(tf.mul(y, r), tf.mul(tf.sub(1, y), alpha)), strength));
    // (alpha_k / S)(r_k / S) / (S + 1): alpha_k r_k or S^2 alone overflow float32 past 1e19
    const variance = tf.div(
      tf.mul(tf.div(alpha, strength), tf.div(r, strength)),
      tf.add(strength, 1),
    );
    return tf.sum(tf.add(err, variance), -1);
  });
}

/**
 * The loss function with the given name.
 * @param name one of {@link EVIDENTIAL_LOSSES}; underscores are accepted for hyphens, and so are
 *   labml's names (`max_likelihood_loss`, ...) and pytorch-classification-uncertainty's flags
 *   `mse` (squared-error Bayes risk), `log` (maximum likelihood) and `digamma` (cross-entropy
 *   Bayes risk) — the Bayes risk part only; its KL term is added by `EvidentialLoss` or comes
 *   with `edlMseLoss` / `edlLogLoss` / `edlDigammaLoss`.
 */
export function evidentialLossFunction(
  name: string,
): (evidence: TensorInput, target: TensorInput, reduction?: Reduction) => tf.Tensor {
  switch (name.replace(/_/g, '-')) {
    case 'max-likelihood':
    case 'maximum-likelihood':
    case 'max-likelihood-loss':
    case 'log':
      return maximumLikelihoodLoss;
    case 'cross-entropy-bayes-risk':
    case 'digamma':
      return crossEntropyBayesRisk;
    case 'squared-error-bayes-risk':
    case 'mse':
      return squaredErrorBayesRisk;
    default:
      throw new ArgumentError(
        'loss',
        `expected one of ${EVIDENTIAL_LOSSES.join(', ')}, got '${name}'`,
      );
  }
}
