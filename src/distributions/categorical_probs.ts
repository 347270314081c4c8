/**
 * The base of the families over `K` categories (Categorical, Multinomial): parameterized by
 * `{probs}` (rows on the simplex) or `{logits}` (unnormalized log-probabilities), both kept
 * normalized along the last axis,
 *
 * $$\log p_k = l_k - \log\sum_j e^{l_j},\qquad p_k = \frac{p_k}{\sum_j p_j}.$$
 *
 * The log-normalizer is taken relative to the largest logit `l_a` as `l_a + log1p(r)`,
 * `r = sum_{j != a} e^{l_j - l_a}`, so the largest category keeps `log p_a = -log1p(r)` (about
 * `-r`) instead of the 0 that `l_a - logSumExp(l)` rounds to in float32 (logits [30, 0, -30, 5]:
 * `log p_0 = -1.4e-11`, and the entropy, dominated by that term, was 3.8% low).
 */
import * as tf from '@tensorflow/tfjs';
import { Distribution, type DistributionOptions, type TensorInput } from './distribution.js';
import { readProbsOrLogits, type ProbsOrLogits } from './probs.js';
import { log1p, logNoNanGrad } from '../utils/log1p.js';

/**
 * Normalized log-probabilities `l_k - l_a - log1p(sum_{j != a} e^{l_j - l_a})` along the last
 * axis, `a = argmax_k l_k` (one of the tied maxima): the same function as `l - logSumExp(l)`,
 * differentiable in `l`, relatively accurate for the largest category.
 *
 * $$\log p_k = (l_k - l_a) - \operatorname{log1p}\Big(\sum_{j \ne a} e^{l_j - l_a}\Big)$$
 */
function normalizeLogits(t: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const k = t.shape.at(-1) as number;
    const top = tf.cast(tf.oneHot(tf.argMax(t, -1), k), 'bool');
    const zeros = tf.zerosLike(t);
    // l_a as a differentiable gather (the one-hot mask is a constant of the tape; `where`, not
    // a product, so that a -Infinity logit elsewhere does not make 0 * -inf = NaN)
    const la = tf.sum(tf.where(top, t, zeros), -1, true);
    const shifted = tf.sub(t, la);
    // the other categories only; an infinite l_a (no finite normalizer) falls back to logSumExp
    const r = tf.sum(tf.where(top, zeros, tf.exp(shifted)), -1, true);
    const stable = tf.sub(shifted, log1p(r));
    const finite = tf.isFinite(la);
    return tf.where(tf.broadcastTo(finite, t.shape), stable, tf.sub(t, tf.logSumExp(t, -1, true)));
  });
}

/** A family with one probability vector `[...batch, K]` given by `{probs}` or `{logits}`. */
export abstract class CategoricalProbsDistribution extends Distribution {
  /** Normalized probabilities, shape `[...batch, K]`. */
  readonly probs: tf.Tensor;
  /** Normalized log-probabilities `log p_k`, shape `[...batch, K]`. */
  readonly logits: tf.Tensor;

  /**
   * @param params `{probs}` (each row summing to 1 within 1e-4) or `{logits}`, rank >= 1, K >= 1.
   * @param options validation flag and name.
   */
  protected constructor(params: TensorInput | ProbsOrLogits, options: DistributionOptions) {
    super(options);
    const { kind, value } = readProbsOrLogits(params);
    const t = this.param(value, kind);
    if (t.rank < 1 || (t.shape.at(-1) ?? 0) < 1) {
      throw this.constructionError(
        kind,
        `expected shape [...batch, K] with K >= 1, got [${t.shape.join(',')}]`,
      );
    }
    if (kind === 'logits') {
      this.checkInRange(t, 'logits', -Infinity, Infinity);
      this.logits = this.own(normalizeLogits(t));
      this.probs = this.own(tf.exp(this.logits));
    } else {
      this.checkInRange(t, 'probs', 0, 1);
      if (this.validateArgs) {
        const sums = tf.tidy(() => tf.sum(t, -1));
        try {
          this.checkInRange(sums, 'probs', 1 - 1e-4, 1 + 1e-4);
        } catch {
          throw this.constructionError('probs', 'expected each row (last axis) to sum to 1');
        } finally {
          sums.dispose();
        }
      }
      this.probs = this.own(tf.tidy(() => tf.div(t, tf.sum(t, -1, true))));
      this.logits = this.own(logNoNanGrad(this.probs));
    }
  }

  /** Number of categories K. */
  get numCategories(): number {
    return this.probs.shape.at(-1) as number;
  }
  get batchShape(): number[] {
    return this.probs.shape.slice(0, -1);
  }
}
