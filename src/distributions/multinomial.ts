/**
 * The multinomial distribution: counts of `totalCount` independent categorical draws over `K`
 * categories.
 *
 * $$P(x) = \frac{n!}{\prod_k x_k!}\prod_k p_k^{x_k},\qquad \sum_k x_k = n.$$
 *
 * Mean `n p`, variance `n p (1 - p)` (per category), entropy through the binomial marginals
 * (torch's `Multinomial.entropy`):
 *
 * $$H = n H(p) - \log n! + \sum_k \mathbb E_{X_k \sim \mathrm{Bin}(n, p_k)}[\log X_k!].$$
 *
 * Samples are exact (host-side sequential
 * conditional binomials), seeded, float32 counts. `totalCount` is one non-negative integer, or
 * (NumPyro's `Multinomial(total_count=array)`, e.g. one total per document) a tensor of them
 * broadcast against the batch shape of `probs`: the batch shape is then
 * `broadcast(probs.shape[:-1], totalCount.shape)` and each batch entry has its own `n`.
 */
import * as tf from '@tensorflow/tfjs';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { CategoricalProbsDistribution } from './categorical_probs.js';
import type { ProbsOrLogits } from './probs.js';
import { gt, lgamma, mulNoNan, safe } from './special.js';
import { multinomial, type Constraint } from '../constraints/constraints.js';
import { multinomialDrawInto } from './host_sampling.js';
import { countDraws, totalCountsProblem } from './count_draws.js';
import { broadcastShapes, broadcastTo } from '../utils/tensor.js';
import { Binomial, massWindow } from './binomial.js';
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
  /**
   * The number of draws n: the number given, or (given a tensor or an array) a float32 tensor of
   * totals broadcast against the batch shape of `probs`.
   */
  readonly totalCount: number | tf.Tensor;

  /**
   * @param totalCount n, a non-negative integer, or a tensor (array) of them, one per batch entry
   *   (broadcast with `probs.shape[:-1]`).
   * @param params `{probs}` (rows summing to 1) or `{logits}` (unnormalized), shape `[..., K]`.
   * @param options validation flag and name.
   */
  constructor(
    totalCount: number | TensorInput,
    params: TensorInput | ProbsOrLogits,
    options: DistributionOptions = {},
  ) {
    super(params, options);
    const n = typeof totalCount === 'number' ? totalCount : this.param(totalCount, 'totalCount');
    const problem = totalCountsProblem(n);
    if (problem !== undefined) throw this.constructionError('totalCount', problem);
    if (typeof n !== 'number') {
      this.broadcastParams({ probs: this.probs.shape.slice(0, -1), totalCount: n.shape });
    }
    this.totalCount = n;
  }

  override get batchShape(): number[] {
    const own = this.probs.shape.slice(0, -1);
    return typeof this.totalCount === 'number'
      ? own
      : broadcastShapes({ probs: own, totalCount: this.totalCount.shape });
  }
  get eventShape(): number[] {
    return [this.probs.shape.at(-1) as number];
  }
  /** Support: count vectors summing to `totalCount`. */
  override get support(): Constraint {
    return multinomial(this.totalCount);
  }
  /** `n` with a trailing unit dim (to broadcast against `[..., K]`). */
  private nColumn(): tf.Tensor | number {
    return typeof this.totalCount === 'number'
      ? this.totalCount
      : tf.expandDims(this.totalCount, -1);
  }

  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const k = this.eventShape[0] as number;
    const batch = this.batchShape;
    const p = broadcastTo(this.probs, [...batch, k]).dataSync();
    const n =
      typeof this.totalCount === 'number' ? null : broadcastTo(this.totalCount, batch).dataSync();
    const total = this.totalCount;
    return countDraws(shape, batch, k, seed, (out, at, r, rng) =>
      multinomialDrawInto(
        out,
        at,
        n === null ? (total as number) : (n[r] as number),
        p,
        r * k,
        k,
        1,
        rng,
      ),
    );
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const n = this.totalCount;
    const lgN = typeof n === 'number' ? lgamma(tf.scalar(n + 1)) : lgamma(tf.add(n, 1));
    const norm = tf.sub(lgN, tf.sum(lgamma(tf.add(x, 1)), -1));
    return tf.add(norm, tf.sum(mulNoNan(x, this.logits), -1));
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(tf.mul(this.nColumn(), this.probs));
  }
  protected override _variance(): tf.Tensor {
    return this.expandToBatch(tf.mul(this.nColumn(), tf.mul(this.probs, tf.sub(1, this.probs))));
  }
  /**
   * `H = n H(p) - log n! + sum_k E[log X_k!]`, `X_k ~ Bin(n, p_k)` (torch's
   * `Multinomial.entropy`), the expectations summed over each marginal's mass window.
   */
  protected override _entropy(): tf.Tensor {
    const batch = this.batchShape;
    const full = [...batch, this.eventShape[0] as number];
    const n = broadcastTo(tf.add(this.nColumn(), tf.zeros([1])), full);
    const p = broadcastTo(this.probs, full);
    const catEntropy = tf.neg(tf.sum(mulNoNan(p, tf.log(p)), -1));
    const nb = tf.squeeze(tf.slice(n, Array(full.length).fill(0) as number[], [...batch, 1]), [-1]);
    const term1 = tf.sub(tf.mul(nb, catEntropy), lgamma(tf.add(nb, 1)));
    const marginal = new Binomial(n, p, { validateArgs: false });
    try {
      const ks = massWindow(n, p, full); // [len, ...batch, K]
      const lp = marginal.logProb(ks);
      // counts outside a marginal's support replaced before the product (finite gradients)
      const ok = gt(lp, -Infinity);
      const w = tf.where(
        ok,
        tf.mul(tf.exp(safe(ok, lp, 0)), lgamma(tf.add(ks, 1))),
        tf.zerosLike(lp),
      );
      return tf.add(term1, tf.sum(w, [0, full.length]));
    } finally {
      marginal.dispose();
    }
  }
}
