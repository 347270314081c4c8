/**
 * The exponential distribution.
 *
 * $$p(x;\lambda) = \lambda e^{-\lambda x},\quad x \ge 0$$
 *
 * CDF `1 - exp(-lambda x)`, mean `1/lambda`, variance `1/lambda^2`, mode 0, entropy
 * `1 - log lambda`. Reparameterized: `x = -log(1 - u) / lambda`.
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { ScalarDistribution } from './scalar.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { registerKL } from './kl.js';
import { ge, maskLogProb } from './special.js';
import { nonnegative, type Constraint } from '../constraints/constraints.js';

/**
 * Exponential distribution with rate `rate > 0` (mean `1/rate`).
 *
 * @example
 * ```ts
 * const d = new Exponential(2);
 * d.cdf(1); // 1 - exp(-2)
 * ```
 */
export class Exponential extends ScalarDistribution {
  /** Rate (inverse scale). */
  readonly rate: tf.Tensor;

  /** @param rate rate, > 0. */
  constructor(rate: TensorInput, options: DistributionOptions = {}) {
    super(options);
    ({ rate: this.rate } = this.positiveParams({ rate }));
  }

  /** Support: `[0, inf)`. */
  override get support(): Constraint {
    return nonnegative;
  }

  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const u = tf.randomUniform([...shape, ...this._batchShape], 0, 1, 'float32', seed);
    return tf.div(tf.neg(log1p(tf.neg(u))), this.rate);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    return maskLogProb(ge(x, 0), tf.sub(tf.log(this.rate), tf.mul(this.rate, x)));
  }
  /** `-log(1 - p) / rate`. */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    return tf.div(tf.neg(log1p(tf.neg(p))), this.rate);
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return tf.neg(tf.expm1(tf.neg(tf.mul(this.rate, tf.relu(x)))));
  }
  protected override _survival(x: tf.Tensor): tf.Tensor {
    return tf.exp(tf.neg(tf.mul(this.rate, tf.relu(x))));
  }
  protected override _logSurvival(x: tf.Tensor): tf.Tensor {
    return tf.neg(tf.mul(this.rate, tf.relu(x)));
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(tf.reciprocal(this.rate));
  }
  protected override _mode(): tf.Tensor {
    return tf.zeros(this._batchShape);
  }
  protected override _variance(): tf.Tensor {
    return this.expandToBatch(tf.reciprocal(tf.square(this.rate)));
  }
  protected override _stddev(): tf.Tensor {
    return this.expandToBatch(tf.reciprocal(this.rate));
  }
  protected override _entropy(): tf.Tensor {
    return this.expandToBatch(tf.sub(1, tf.log(this.rate)));
  }
}

/**
 * `KL(Exp(a) || Exp(b)) = log(a/b) + b/a - 1`.
 *
 * @param p the first distribution.
 * @param q the second distribution.
 * @example
 * ```ts
 * klExponentialExponential(new Exponential(1), new Exponential(2)); // same as klDivergence(p, q)
 * ```
 */
export function klExponentialExponential(p: Exponential, q: Exponential): tf.Tensor {
  return tf.tidy(() => {
    const r = tf.div(q.rate, p.rate);
    return tf.sub(tf.sub(r, tf.log(r)), 1);
  });
}

registerKL(Exponential, Exponential, klExponentialExponential);
