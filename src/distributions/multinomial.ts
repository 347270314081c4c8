/**
 * The multinomial distribution: counts of `totalCount` independent categorical draws over `K`
 * categories.
 *
 * $$P(x) = \frac{n!}{\prod_k x_k!}\prod_k p_k^{x_k},\qquad \sum_k x_k = n.$$
 *
 * Mean `n p`, variance `n p (1 - p)` (per category). Samples are exact (host-side sequential
 * conditional binomials), seeded, float32 counts. `totalCount` is one non-negative integer.
 */
import * as tf from '@tensorflow/tfjs';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { CategoricalProbsDistribution } from './categorical_probs.js';
import type { ProbsOrLogits } from './probs.js';
import { lgamma, mulNoNan } from './special.js';
import { multinomial, type Constraint } from '../constraints/constraints.js';
import { multinomialDrawInto } from './host_sampling.js';
import { countDraws, totalCountProblem } from './count_draws.js';
import './expanded.js';
import './independent.js';

/**
 * Multinomial distribution with event shape `[K]`.
 *
 * @example
 * ```ts
 * const d = new Multinomial(10, { probs: [0.2, 0.3, 0.5] });
 * d.logProb([2, 3, 5]);
 * d.sample([4]); // [4, 3], each row sums to 10
 * ```
 */
export class Multinomial extends CategoricalProbsDistribution {
  /** The number of draws n. */
  readonly totalCount: number;

  /**
   * @param totalCount n, a non-negative integer.
   * @param params `{probs}` (rows summing to 1) or `{logits}` (unnormalized), shape `[..., K]`.
   * @param options validation flag and name.
   */
  constructor(
    totalCount: number,
    params: TensorInput | ProbsOrLogits,
    options: DistributionOptions = {},
  ) {
    super(params, options);
    const problem = totalCountProblem(totalCount);
    if (problem !== undefined) throw this.constructionError('totalCount', problem);
    this.totalCount = totalCount;
  }

  get eventShape(): number[] {
    return [this.probs.shape.at(-1) as number];
  }
  /** Support: count vectors summing to `totalCount`. */
  override get support(): Constraint {
    return multinomial(this.totalCount);
  }

  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const k = this.eventShape[0] as number;
    const p = this.probs.dataSync();
    return countDraws(shape, this.batchShape, k, seed, (out, at, r, rng) =>
      multinomialDrawInto(out, at, this.totalCount, p, r * k, k, 1, rng),
    );
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const n = this.totalCount;
    const norm = tf.sub(lgamma(tf.scalar(n + 1)), tf.sum(lgamma(tf.add(x, 1)), -1));
    return tf.add(norm, tf.sum(mulNoNan(x, this.logits), -1));
  }
  protected override _mean(): tf.Tensor {
    return tf.mul(this.totalCount, this.probs);
  }
  protected override _variance(): tf.Tensor {
    return tf.mul(this.totalCount, tf.mul(this.probs, tf.sub(1, this.probs)));
  }
}
