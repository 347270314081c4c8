/**
 * The Bernoulli distribution.
 *
 * $$P(X = 1) = p,\quad P(X = 0) = 1 - p,\qquad P(X = k) = p^k (1-p)^{1-k}$$
 *
 * Mean `p`, variance `p (1 - p)`, mode `1` if `p > 1/2` else `0`, entropy
 * `-p log p - (1-p) log(1-p)`; with logits `l = log(p/(1-p))`, `log P(X = k) = k l - softplus(l)`.
 * Samples are float32 zeros and ones; no `rsample` (the support is discrete).
 */
import * as tf from '@tensorflow/tfjs';
import { BinaryProbsDistribution } from './binary_probs.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { registerKL } from './kl.js';
import type { ProbsOrLogits } from './probs.js';
import { eq, gt, lt, maskLogProb, mulNoNan, orB, whereB } from './special.js';
import { boolean, type Constraint } from '../constraints/constraints.js';

/**
 * Bernoulli distribution given by `{probs}` (p in [0, 1]) or `{logits}` (log-odds); a bare
 * tensor or array is read as `probs`.
 *
 * @example
 * ```ts
 * const d = new Bernoulli({ logits: [0, 2] });
 * d.mean();          // sigmoid([0, 2])
 * d.logProb([1, 0]);
 * ```
 */
export class Bernoulli extends BinaryProbsDistribution {
  /** @param params `{probs}` or `{logits}` (or probs directly). */
  constructor(params: TensorInput | ProbsOrLogits, options: DistributionOptions = {}) {
    super(params, options);
    this.setBatchShape({ probs: this.probs });
  }

  /** Support: `{0, 1}`. */
  override get support(): Constraint {
    return boolean;
  }
  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const u = tf.randomUniform([...shape, ...this._batchShape], 0, 1, 'float32', seed);
    return tf.cast(lt(u, this.probs), 'float32');
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const [l1, l0] = this.logProbsPair();
    const one = eq(x, 1);
    const lp = whereB(one, l1, l0);
    return maskLogProb(orB(one, eq(x, 0)), lp);
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    const q = this.failureProbs();
    return whereB(lt(x, 0), tf.scalar(0), whereB(lt(x, 1), q, tf.scalar(1)));
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(this.probs);
  }
  protected override _mode(): tf.Tensor {
    return tf.cast(gt(this.probs, 0.5), 'float32');
  }
  protected override _variance(): tf.Tensor {
    return this.expandToBatch(tf.mul(this.probs, this.failureProbs()));
  }
  protected override _entropy(): tf.Tensor {
    const [l1, l0] = this.logProbsPair();
    return tf.neg(tf.add(mulNoNan(this.probs, l1), mulNoNan(this.failureProbs(), l0)));
  }
}

/**
 * `KL(Ber(p) || Ber(q)) = p log(p/q) + (1-p) log((1-p)/(1-q))` (0 log 0 = 0).
 *
 * @param p the first distribution.
 * @param q the second distribution.
 * @example
 * ```ts
 * klBernoulliBernoulli(new Bernoulli({ probs: 0.3 }), new Bernoulli({ logits: 0 })); // same as klDivergence(p, q)
 * ```
 */
export function klBernoulliBernoulli(p: Bernoulli, q: Bernoulli): tf.Tensor {
  return tf.tidy(() => {
    const [p1, p0] = p.logProbsPair();
    const [q1, q0] = q.logProbsPair();
    return tf.add(mulNoNan(p.probs, tf.sub(p1, q1)), mulNoNan(p.failureProbs(), tf.sub(p0, q0)));
  });
}

registerKL(Bernoulli, Bernoulli, klBernoulliBernoulli);
