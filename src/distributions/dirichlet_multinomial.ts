/**
 * The Dirichlet-multinomial distribution (Pyro's `DirichletMultinomial`): counts of
 * `totalCount` categorical draws whose probabilities are drawn from `Dirichlet(alpha)`.
 *
 * $$P(x) = \frac{n!\,\Gamma(\alpha_0)}{\Gamma(n + \alpha_0)}
 *   \prod_{k=1}^K \frac{\Gamma(x_k + \alpha_k)}{x_k!\,\Gamma(\alpha_k)},\qquad
 *   \sum_k x_k = n,\quad \alpha_0 = \sum_k \alpha_k$$
 *
 * Mean `n alpha / alpha0`, variance `n (alpha/alpha0)(1 - alpha/alpha0)(n + alpha0)/(1 + alpha0)`
 * (per category). The log-mass is computed in a saddle-point form (`dirichletMultinomialLogPmf`
 * in `special.ts`) that keeps float32 accuracy at large counts and concentrations; `n` is the
 * value's sum, as in Pyro. Sampling: `p ~ Dirichlet(alpha)`, then `Multinomial(n, p)`, on the host; no
 * `rsample`. `totalCount` may be a tensor of totals broadcast against the batch shape of
 * `concentration` (NumPyro's array `total_count`), one `n` per batch entry.
 */
import * as tf from '@tensorflow/tfjs';
import { Distribution, type DistributionOptions, type TensorInput } from './distribution.js';
import { multinomialDrawInto, standardGammaDraw } from './host_sampling.js';
import { dirichletMultinomialLogPmf } from './special.js';
import { multinomial, type Constraint } from '../constraints/constraints.js';
import { countDraws, totalCountsProblem } from './count_draws.js';
import { broadcastShapes, broadcastTo } from '../utils/tensor.js';
import './expanded.js';
import './independent.js';

/**
 * Dirichlet-multinomial distribution with `concentration` alpha of shape `[...batch, K]` (every
 * entry > 0) and `totalCount` n (a non-negative integer, default 1, or a tensor of them broadcast
 * with the batch shape). Event shape `[K]`.
 *
 * @example
 * ```ts
 * const d = new DirichletMultinomial([1, 2, 3], 10);
 * d.logProb([2, 3, 5]);
 * d.sample([4]); // [4, 3], each row sums to 10
 * ```
 */
export class DirichletMultinomial extends Distribution {
  /** Concentration alpha, shape `[...batch, K]`. */
  readonly concentration: tf.Tensor;
  /**
   * The number of draws n: the number given, or (given a tensor or an array) a float32 tensor of
   * totals broadcast against the batch shape of `concentration`.
   */
  readonly totalCount: number | tf.Tensor;

  /**
   * @param concentration alpha, rank >= 1, every entry finite and > 0.
   * @param totalCount n, a non-negative integer (default 1), or a tensor (array) of them, one per
   *   batch entry (broadcast with `concentration.shape[:-1]`).
   * @param options validation flag and name.
   */
  constructor(
    concentration: TensorInput,
    totalCount: number | TensorInput = 1,
    options: DistributionOptions = {},
  ) {
    super(options);
    this.concentration = this.param(concentration, 'concentration');
    this.checkVectorParam(this.concentration, 'concentration');
    this.checkPositive(this.concentration, 'concentration');
    const n = typeof totalCount === 'number' ? totalCount : this.param(totalCount, 'totalCount');
    const problem = totalCountsProblem(n);
    if (problem !== undefined) throw this.constructionError('totalCount', problem);
    if (typeof n !== 'number') {
      this.broadcastParams({
        concentration: this.concentration.shape.slice(0, -1),
        totalCount: n.shape,
      });
    }
    this.totalCount = n;
  }

  get batchShape(): number[] {
    const own = this.concentration.shape.slice(0, -1);
    return typeof this.totalCount === 'number'
      ? own
      : broadcastShapes({ concentration: own, totalCount: this.totalCount.shape });
  }
  /** `n` with a trailing unit dim (to broadcast against `[..., K]`). */
  private nColumn(): tf.Tensor | number {
    return typeof this.totalCount === 'number'
      ? this.totalCount
      : tf.expandDims(this.totalCount, -1);
  }
  get eventShape(): number[] {
    return this.concentration.shape.slice(-1);
  }
  /** Support: count vectors summing to `totalCount`. */
  override get support(): Constraint {
    return multinomial(this.totalCount);
  }

  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const k = this.eventShape[0] as number;
    const batch = this.batchShape;
    const alpha = broadcastTo(this.concentration, [...batch, k]).dataSync();
    const counts =
      typeof this.totalCount === 'number' ? null : broadcastTo(this.totalCount, batch).dataSync();
    const total0 = this.totalCount;
    const g = new Float64Array(k);
    return countDraws(shape, batch, k, seed, (out, at, r, rng) => {
      let total = 0;
      for (let j = 0; j < k; j++) {
        g[j] = standardGammaDraw(alpha[r * k + j] as number, rng);
        total += g[j] as number;
      }
      // the multinomial draw on the Dirichlet draw p = g / total
      const n = counts === null ? (total0 as number) : (counts[r] as number);
      multinomialDrawInto(out, at, n, g, 0, k, total, rng);
    });
  }
  /** The log-mass in the saddle-point form of {@link dirichletMultinomialLogPmf}. */
  protected _logProb(x: tf.Tensor): tf.Tensor {
    return dirichletMultinomialLogPmf(x, this.concentration);
  }
  protected override _mean(): tf.Tensor {
    const p = tf.div(this.concentration, tf.sum(this.concentration, -1, true));
    return this.expandToBatch(tf.mul(this.nColumn(), p));
  }
  protected override _variance(): tf.Tensor {
    const n = this.nColumn();
    const a0 = tf.sum(this.concentration, -1, true);
    const p = tf.div(this.concentration, a0);
    return this.expandToBatch(
      tf.mul(tf.mul(n, tf.mul(p, tf.sub(1, p))), tf.div(tf.add(a0, n), tf.add(a0, 1))),
    );
  }
}
