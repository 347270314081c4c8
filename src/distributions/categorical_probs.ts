/**
 * The base of the families over `K` categories (Categorical, Multinomial): parameterized by
 * `{probs}` (rows on the simplex) or `{logits}` (unnormalized log-probabilities), both kept
 * normalized along the last axis,
 *
 * $$\log p_k = l_k - \log\sum_j e^{l_j},\qquad p_k = \frac{p_k}{\sum_j p_j}.$$
 */
import * as tf from '@tensorflow/tfjs';
import { Distribution, type DistributionOptions, type TensorInput } from './distribution.js';
import { readProbsOrLogits, type ProbsOrLogits } from './probs.js';
import { logNoNanGrad } from '../utils/log1p.js';

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
      this.logits = this.own(tf.tidy(() => tf.sub(t, tf.logSumExp(t, -1, true))));
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
