/**
 * The Gaussian random walk (Pyro's `GaussianRandomWalk(scale, num_steps)`): a path of
 * `numSteps` positions started at 0 with independent normal increments.
 *
 * $$x_t = x_{t-1} + \sigma\varepsilon_t,\quad x_0 = 0,\quad \varepsilon_t \sim \mathcal N(0, 1),
 *   \qquad \log p(x) = \sum_{t=1}^T \log \mathcal N(x_t - x_{t-1};\, 0, \sigma)$$
 *
 * Event shape `[numSteps]`, batch shape `scale.shape`. Mean 0, variance `t sigma^2` at step `t`.
 * Reparameterized: the cumulative sum of `sigma eps`.
 */
import * as tf from '@tensorflow/tfjs';
import { Distribution, type DistributionOptions, type TensorInput } from './distribution.js';
import { randomNormal } from '../backend/random.js';
import { cumsumLast } from '../utils/linalg.js';
import './expanded.js';
import './independent.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Gaussian random walk with step `scale` sigma > 0 and `numSteps` T (a positive integer).
 *
 * @example
 * ```ts
 * const d = new GaussianRandomWalk(0.5, 10);
 * d.rsample([4]).shape; // [4, 10]
 * d.variance();         // 0.25 * [1, 2, ..., 10]
 * ```
 */
export class GaussianRandomWalk extends Distribution {
  /** Step standard deviation sigma. */
  readonly scale: tf.Tensor;
  /** Number of steps T. */
  readonly numSteps: number;

  /**
   * @param scale sigma, finite and > 0 (its shape is the batch shape).
   * @param numSteps T, a positive integer (default 1).
   * @param options validation flag and name.
   */
  constructor(scale: TensorInput, numSteps = 1, options: DistributionOptions = {}) {
    super(options);
    this.scale = this.param(scale, 'scale');
    this.checkPositive(this.scale, 'scale');
    if (!Number.isInteger(numSteps) || numSteps < 1) {
      throw this.constructionError('numSteps', `expected a positive integer, got ${numSteps}`);
    }
    this.numSteps = numSteps;
  }

  get batchShape(): number[] {
    return [...this.scale.shape];
  }
  get eventShape(): number[] {
    return [this.numSteps];
  }
  /** `scale` with a trailing step dim. */
  private sigma(): tf.Tensor {
    return tf.expandDims(this.scale, -1);
  }

  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const eps = randomNormal([...shape, ...this.batchShape, this.numSteps], 0, 1, seed);
    return cumsumLast(tf.mul(eps, this.sigma()));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const t = this.numSteps;
    const first = tf.slice(
      x,
      [...Array<number>(x.rank - 1).fill(0), 0],
      [...x.shape.slice(0, -1), 1],
    );
    const steps =
      t === 1
        ? first
        : tf.concat(
            [
              first,
              tf.sub(
                tf.slice(
                  x,
                  [...Array<number>(x.rank - 1).fill(0), 1],
                  [...x.shape.slice(0, -1), t - 1],
                ),
                tf.slice(
                  x,
                  [...Array<number>(x.rank - 1).fill(0), 0],
                  [...x.shape.slice(0, -1), t - 1],
                ),
              ),
            ],
            -1,
          );
    const z = tf.div(steps, this.sigma());
    const lp = tf.sub(tf.mul(-0.5, tf.square(z)), tf.add(HALF_LOG_2PI, tf.log(this.sigma())));
    return tf.sum(lp, -1);
  }
  protected override _mean(): tf.Tensor {
    return tf.zeros([...this.batchShape, this.numSteps]);
  }
  protected override _variance(): tf.Tensor {
    const t = tf.range(1, this.numSteps + 1, 1, 'float32');
    return tf.mul(tf.square(this.sigma()), t);
  }
}
