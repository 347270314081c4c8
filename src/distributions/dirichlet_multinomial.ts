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
 * `rsample`.
 */
import * as tf from '@tensorflow/tfjs';
import { Distribution, type DistributionOptions, type TensorInput } from './distribution.js';
import { multinomialDrawInto, standardGammaDraw } from './host_sampling.js';
import { dirichletMultinomialLogPmf } from './special.js';
import { multinomial, type Constraint } from '../constraints/constraints.js';
import { countDraws, totalCountProblem } from './count_draws.js';
import './expanded.js';
import './independent.js';

/**
 * Dirichlet-multinomial distribution with `concentration` alpha of shape `[...batch, K]` (every
 * entry > 0) and `totalCount` n (a non-negative integer, default 1). Event shape `[K]`.
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
  /** The number of draws n. */
  readonly totalCount: number;

  /**
   * @param concentration alpha, rank >= 1, every entry finite and > 0.
   * @param totalCount n, a non-negative integer (default 1).
   * @param options validation flag and name.
   */
  constructor(concentration: TensorInput, totalCount = 1, options: DistributionOptions = {}) {
    super(options);
    this.concentration = this.param(concentration, 'concentration');
    this.checkVectorParam(this.concentration, 'concentration');
    this.checkPositive(this.concentration, 'concentration');
    const problem = totalCountProblem(totalCount);
    if (problem !== undefined) throw this.constructionError('totalCount', problem);
    this.totalCount = totalCount;
  }

  get batchShape(): number[] {
    return this.concentration.shape.slice(0, -1);
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
    const alpha = this.concentration.dataSync();
    const g = new Float64Array(k);
    return countDraws(shape, this.batchShape, k, seed, (out, at, r, rng) => {
      let total = 0;
      for (let j = 0; j < k; j++) {
        g[j] = standardGammaDraw(alpha[r * k + j] as number, rng);
        total += g[j] as number;
      }
      // the multinomial draw on the Dirichlet draw p = g / total
      multinomialDrawInto(out, at, this.totalCount, g, 0, k, total, rng);
    });
  }
  /** The log-mass in the saddle-point form of {@link dirichletMultinomialLogPmf}. */
  protected _logProb(x: tf.Tensor): tf.Tensor {
    return dirichletMultinomialLogPmf(x, this.concentration);
  }
  protected override _mean(): tf.Tensor {
    return tf.mul(
      this.totalCount,
      tf.div(this.concentration, tf.sum(this.concentration, -1, true)),
    );
  }
  protected override _variance(): tf.Tensor {
    const n = this.totalCount;
    const a0 = tf.sum(this.concentration, -1, true);
    const p = tf.div(this.concentration, a0);
    return tf.mul(tf.mul(n, tf.mul(p, tf.sub(1, p))), tf.div(tf.add(a0, n), tf.add(a0, 1)));
  }
}
