/**
 * The relaxed one-hot categorical (Concrete, Gumbel-softmax) distribution of Maddison et al.
 * (2017) and Jang et al. (2017), Pyro's `RelaxedOneHotCategorical`: a continuous relaxation on
 * the simplex of a one-hot categorical with probabilities `pi`, sharper as the temperature
 * `t > 0` falls.
 *
 * $$X = \operatorname{softmax}\!\Big(\frac{\log\pi + G}{t}\Big),\quad
 *   G_k = -\log(-\log U_k),\ U_k \sim \mathcal U(0, 1),$$
 *
 * $$p(x;\pi,t) = (K-1)!\; t^{K-1} \prod_{k=1}^K \frac{\pi_k x_k^{-t-1}}{\sum_{j} \pi_j x_j^{-t}},
 * \qquad \log p(x) = \log\Gamma(K) + (K-1)\log t + \sum_k (\log\pi_k - (t+1)\log x_k)
 *   - K \log\sum_k \pi_k x_k^{-t},$$
 *
 * a density with respect to the Lebesgue measure of the first `K - 1` coordinates (as the
 * Dirichlet's). `rsample` is differentiable in the logits (or probs) and the temperature; draws
 * are clamped below at the smallest normal float32 so that `log x_k` stays finite. Mean,
 * variance and entropy have no closed form.
 */
import * as tf from '@tensorflow/tfjs';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { CategoricalProbsDistribution } from './categorical_probs.js';
import { readProbsOrLogits, type ProbsOrLogits } from './probs.js';
import { lgamma64 } from './host_sampling.js';
import { simplex, type Constraint } from '../constraints/constraints.js';
import './expanded.js';
import './independent.js';

/** The smallest positive normal float32: draws are clamped to it so that `log x` is finite. */
const TINY32 = 1.1754943508222875e-38;

/**
 * Relaxed one-hot categorical distribution with `temperature` t > 0 (shape broadcasting with the
 * batch shape) and `{probs}` / `{logits}` of shape `[...batch, K]` (a bare tensor or array is
 * read as `probs`). Event shape `[K]`.
 *
 * @example
 * ```ts
 * const d = new RelaxedOneHotCategorical(0.5, { logits: [0, 1, 2] });
 * const x = d.rsample([100]); // [100, 3] on the simplex, differentiable in logits and t
 * d.logProb(x);               // [100]
 * ```
 */
export class RelaxedOneHotCategorical extends CategoricalProbsDistribution {
  /** Temperature t > 0 (batch-shaped, without the category dim). */
  readonly temperature: tf.Tensor;
  private readonly batch: number[];

  /**
   * @param temperature t, finite and > 0; its shape broadcasts with the batch shape.
   * @param params `{probs}` or `{logits}` (or probs directly), shape `[...batch, K]`.
   * @param options validation flag and name.
   */
  constructor(
    temperature: TensorInput,
    params: TensorInput | ProbsOrLogits,
    options: DistributionOptions = {},
  ) {
    super(params, options);
    this.temperature = this.param(temperature, 'temperature');
    this.checkPositive(this.temperature, 'temperature');
    this.batch = this.broadcastParams({
      temperature: this.temperature.shape,
      [readProbsOrLogits(params).kind]: this.probs.shape.slice(0, -1),
    });
  }

  override get batchShape(): number[] {
    return [...this.batch];
  }
  get eventShape(): number[] {
    return [this.numCategories];
  }
  /** Support: the probability simplex. */
  override get support(): Constraint {
    return simplex;
  }

  /** The temperature with a trailing size-1 category dim. */
  private tK(): tf.Tensor {
    return tf.expandDims(this.temperature, -1);
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const k = this.numCategories;
    const u = tf.randomUniform([...shape, ...this.batch, k], 1e-30, 1, 'float32', seed);
    const gumbel = tf.neg(tf.log(tf.neg(tf.log(u))));
    const y = tf.div(tf.add(this.logits, gumbel), this.tK());
    return tf.clipByValue(tf.exp(tf.sub(y, tf.logSumExp(y, -1, true))), TINY32, 1);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const k = this.numCategories;
    const t = this.temperature;
    const tk = this.tK();
    const logX = tf.log(x);
    const score = tf.sub(this.logits, tf.mul(tk, logX));
    const logScale = tf.add(lgamma64(k), tf.mul(k - 1, tf.log(t)));
    const body = tf.sub(tf.sum(tf.sub(score, logX), -1), tf.mul(k, tf.logSumExp(score, -1)));
    return tf.add(body, logScale);
  }
}
