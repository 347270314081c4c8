/**
 * The categorical distribution over `{0, ..., K-1}`.
 *
 * $$P(X = k) = p_k = \frac{e^{l_k}}{\sum_j e^{l_j}}$$
 *
 * Mode `argmax_k p_k`, entropy `-sum_k p_k log p_k`; a category label has no mean or variance
 * (both `NaN`, as in torch and NumPyro). Samples are float32 category indices (`tf.multinomial`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { CategoricalProbsDistribution } from './categorical_probs.js';
import { registerKL } from './kl.js';
import type { ProbsOrLogits } from './probs.js';
import { andB, eq, ge, lt, maskLogProb, mulNoNan, safe } from './special.js';
import { integerInterval, type Constraint } from '../constraints/constraints.js';

/**
 * Categorical distribution given by `{probs}` (shape `[...batch, K]`, each row summing to 1) or
 * `{logits}` (unnormalized log-probabilities); a bare tensor or array is read as `probs`.
 *
 * @example
 * ```ts
 * const d = new Categorical({ logits: [0, 1, 2] });
 * d.logProb(2);     // 2 - logSumExp([0, 1, 2])
 * d.sample([10]);   // shape [10], values in {0, 1, 2}
 * ```
 */
export class Categorical extends CategoricalProbsDistribution {
  /** @param params `{probs}` or `{logits}` (or probs directly), rank >= 1. */
  constructor(params: TensorInput | ProbsOrLogits, options: DistributionOptions = {}) {
    super(params, options);
  }

  /** Support: `{0, ..., K-1}`. */
  override get support(): Constraint {
    return integerInterval(0, this.numCategories - 1);
  }
  get eventShape(): number[] {
    return [];
  }

  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const k = this.numCategories;
    const batch = this.batchShape;
    const nb = batch.reduce((a, b) => a * b, 1);
    const n = shape.reduce((a, b) => a * b, 1);
    if (n === 0 || nb === 0) return tf.zeros([...shape, ...batch]);
    const logits2d = tf.reshape(this.logits, [nb, k]) as tf.Tensor2D;
    const draws = tf.multinomial(logits2d, n, seed); // [nb, n] int32
    return tf.reshape(tf.cast(tf.transpose(draws), 'float32'), [...shape, ...batch]);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const k = this.numCategories;
    const ok = andB(andB(ge(x, 0), lt(x, k)), eq(x, tf.floor(x)));
    const idx = tf.cast(safe(ok, x, 0), 'int32');
    const lp = tf.sum(mulNoNan(tf.oneHot(idx, k), this.logits), -1);
    return maskLogProb(ok, lp);
  }
  protected override _mode(): tf.Tensor {
    return tf.cast(tf.argMax(this.probs, -1), 'float32');
  }
  /** `NaN`: a category label has no mean (torch's and NumPyro's convention). */
  protected override _mean(): tf.Tensor {
    return tf.fill(this.batchShape, NaN);
  }
  /** `NaN`, as the mean. */
  protected override _variance(): tf.Tensor {
    return tf.fill(this.batchShape, NaN);
  }
  protected override _entropy(): tf.Tensor {
    return tf.neg(tf.sum(mulNoNan(this.probs, this.logits), -1));
  }
}

/**
 * `KL(Cat(p) || Cat(q)) = sum_k p_k (log p_k - log q_k)` (0 log 0 = 0).
 *
 * @param p the first distribution.
 * @param q the second distribution.
 * @example
 * ```ts
 * klCategoricalCategorical(new Categorical({ probs: [0.2, 0.8] }), new Categorical({ logits: [0, 0] })); // same as klDivergence(p, q)
 * ```
 */
export function klCategoricalCategorical(p: Categorical, q: Categorical): tf.Tensor {
  if (p.numCategories !== q.numCategories) {
    throw new ArgumentError(
      'q',
      `KL between categoricals needs the same number of categories, got ${p.numCategories} and ${q.numCategories}`,
    );
  }
  return tf.tidy(() => tf.sum(mulNoNan(p.probs, tf.sub(p.logits, q.logits)), -1));
}

registerKL(Categorical, Categorical, klCategoricalCategorical);
