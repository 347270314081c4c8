/**
 * The one-hot categorical distribution (Pyro's `OneHotCategorical`): a categorical draw over
 * `K` categories written as a one-hot vector of length `K`.
 *
 * $$P(X = e_k) = p_k = \frac{e^{l_k}}{\sum_j e^{l_j}},\qquad
 *   \log P(X = x) = \sum_k x_k \log p_k\quad (x \text{ one-hot})$$
 *
 * Event shape `[K]`. Mean `p`, variance `p (1 - p)` (per category), mode the one-hot vector of
 * `argmax_k p_k`, entropy `-sum_k p_k log p_k`. Samples are float32 one-hot vectors; no
 * `rsample` (see `RelaxedOneHotCategorical` for a reparameterizable relaxation).
 */
import * as tf from '@tensorflow/tfjs';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { CategoricalProbsDistribution } from './categorical_probs.js';
import { registerKL } from './kl.js';
import type { ProbsOrLogits } from './probs.js';
import { mulNoNan } from './special.js';
import { oneHot, type Constraint } from '../constraints/constraints.js';
import { ArgumentError } from '../utils/errors.js';
import './expanded.js';
import './independent.js';

/**
 * One-hot categorical distribution given by `{probs}` (shape `[...batch, K]`, rows summing to
 * 1) or `{logits}`; a bare tensor or array is read as `probs`.
 *
 * @example
 * ```ts
 * const d = new OneHotCategorical({ logits: [0, 1, 2] });
 * d.logProb([0, 0, 1]); // 2 - logSumExp([0, 1, 2])
 * d.sample([10]);       // shape [10, 3], one 1 per row
 * ```
 */
export class OneHotCategorical extends CategoricalProbsDistribution {
  /** @param params `{probs}` or `{logits}` (or probs directly), rank >= 1. */
  constructor(params: TensorInput | ProbsOrLogits, options: DistributionOptions = {}) {
    super(params, options);
  }

  /** Support: one-hot vectors of length K. */
  override get support(): Constraint {
    return oneHot;
  }
  get eventShape(): number[] {
    return [this.numCategories];
  }

  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const k = this.numCategories;
    const batch = this.batchShape;
    const nb = batch.reduce((a, b) => a * b, 1);
    const n = shape.reduce((a, b) => a * b, 1);
    if (n === 0 || nb === 0) return tf.zeros([...shape, ...batch, k]);
    const logits2d = tf.reshape(this.logits, [nb, k]) as tf.Tensor2D;
    const draws = tf.transpose(tf.multinomial(logits2d, n, seed)); // [n, nb] int32
    // int32 one-hot then cast: the wasm OneHot kernel ignores a float32 dtype (gives zeros)
    return tf.reshape(tf.cast(tf.oneHot(draws, k), 'float32'), [...shape, ...batch, k]);
  }
  /** `sum_k x_k log p_k` (values are one-hot; checked under `validateArgs`). */
  protected _logProb(x: tf.Tensor): tf.Tensor {
    return tf.sum(mulNoNan(x, this.logits), -1);
  }
  protected override _mean(): tf.Tensor {
    return this.probs.clone();
  }
  protected override _mode(): tf.Tensor {
    return tf.cast(tf.oneHot(tf.argMax(this.probs, -1), this.numCategories), 'float32');
  }
  protected override _variance(): tf.Tensor {
    return tf.mul(this.probs, tf.sub(1, this.probs));
  }
  protected override _entropy(): tf.Tensor {
    return tf.neg(tf.sum(mulNoNan(this.probs, this.logits), -1));
  }

  /**
   * The `K` one-hot vectors `e_0, ..., e_{K-1}` along a new leading dim (Pyro's
   * `enumerate_support`): shape `[K, ...batchShape, K]` (`expand`, default) or
   * `[K, 1, ..., 1, K]`.
   * @param expand broadcast the values over the batch shape (default true).
   */
  override enumerateSupport(expand = true): tf.Tensor {
    if (typeof expand !== 'boolean') {
      throw new ArgumentError('expand', `expected true or false, got ${String(expand)}`);
    }
    const k = this.numCategories;
    const batch = this.batchShape;
    return tf.tidy(() => {
      const v = tf.reshape(tf.eye(k), [k, ...batch.map(() => 1), k]);
      return expand ? tf.broadcastTo(v, [k, ...batch, k]) : v;
    });
  }
}

/**
 * `KL(OneHotCat(p) || OneHotCat(q)) = sum_k p_k (log p_k - log q_k)` (0 log 0 = 0).
 *
 * @param p the first distribution.
 * @param q the second distribution.
 * @example
 * ```ts
 * klOneHotCategoricalOneHotCategorical(new OneHotCategorical([0.2, 0.8]), new OneHotCategorical([0.5, 0.5]));
 * ```
 */
export function klOneHotCategoricalOneHotCategorical(
  p: OneHotCategorical,
  q: OneHotCategorical,
): tf.Tensor {
  return tf.tidy(() => tf.sum(mulNoNan(p.probs, tf.sub(p.logits, q.logits)), -1));
}

registerKL(OneHotCategorical, OneHotCategorical, klOneHotCategoricalOneHotCategorical);
