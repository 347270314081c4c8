/**
 * The geometric distribution, counting failures before the first success.
 *
 * $$P(X = k;p) = p\,(1-p)^k,\quad k \in \{0, 1, 2, \dots\}$$
 *
 * Convention: `X` is the number of failures before the first success in independent Bernoulli(p)
 * trials, support `{0, 1, ...}` (as MindSpore, TFP and @stdlib; add 1 for the number of trials).
 * Mean `(1-p)/p`, variance `(1-p)/p^2`, mode 0, CDF `1 - (1-p)^(floor(k)+1)`, entropy
 * `(-(1-p) log(1-p) - p log p) / p`. Sampling: `floor(log u / log(1 - p))`; no `rsample`.
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { broadcastTo } from '../utils/tensor.js';
import { BinaryProbsDistribution } from './binary_probs.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { registerKL } from './kl.js';
import type { ProbsOrLogits } from './probs.js';
import { isCount, lt, maskLogProb, mulNoNan, openUniform, safe } from './special.js';
import { nonnegativeInteger, type Constraint } from '../constraints/constraints.js';

/**
 * Geometric distribution given by `{probs}` (success probability p in (0, 1]) or `{logits}`.
 *
 * @example
 * ```ts
 * const d = new Geometric({ probs: 0.25 });
 * d.mean();    // 3 failures on average
 * d.prob(0);   // 0.25
 * ```
 */
export class Geometric extends BinaryProbsDistribution {
  /** @param params `{probs}` or `{logits}` (or probs directly); p must be > 0. */
  constructor(params: TensorInput | ProbsOrLogits, options: DistributionOptions = {}) {
    super(params, options);
    this.checkPositive(this.probs, this.fromLogits ? 'logits' : 'probs');
    this.setBatchShape({ probs: this.probs });
  }

  /** `log(1 - p)`. */
  private log1mp(): tf.Tensor {
    return log1p(tf.neg(this.probs));
  }
  /** Support: `{0, 1, 2, ...}`. */
  override get support(): Constraint {
    return nonnegativeInteger;
  }
  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const u = openUniform([...shape, ...this._batchShape], seed);
    return tf.floor(tf.div(tf.log(u), this.log1mp()));
  }
  protected _logProb(k: tf.Tensor): tf.Tensor {
    const ok = isCount(k);
    return maskLogProb(ok, tf.add(mulNoNan(safe(ok, k, 0), this.log1mp()), tf.log(this.probs)));
  }
  protected override _cdf(k: tf.Tensor): tf.Tensor {
    return tf.neg(tf.expm1(this.logSurv(k)));
  }
  private logSurv(k: tf.Tensor): tf.Tensor {
    // log P(X > k) = (floor(k) + 1) log(1 - p) for k >= 0, and 0 below the support.
    const n = tf.add(tf.floor(tf.relu(k)), 1);
    return whereNeg(k, mulNoNan(n, this.log1mp()));
  }
  protected override _survival(k: tf.Tensor): tf.Tensor {
    return tf.exp(this.logSurv(k));
  }
  protected override _logSurvival(k: tf.Tensor): tf.Tensor {
    return this.logSurv(k);
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(tf.div(this.failureProbs(), this.probs));
  }
  protected override _mode(): tf.Tensor {
    return tf.zeros(this._batchShape);
  }
  protected override _variance(): tf.Tensor {
    return this.expandToBatch(tf.div(this.failureProbs(), tf.square(this.probs)));
  }
  protected override _entropy(): tf.Tensor {
    const p = this.probs;
    const q = tf.sub(1, p);
    return tf.div(tf.neg(tf.add(mulNoNan(q, this.log1mp()), tf.mul(p, tf.log(p)))), p);
  }
}

/** 0 where `k < 0` (log P(X > k) = 0 below the support), `v` elsewhere. */
function whereNeg(k: tf.Tensor, v: tf.Tensor): tf.Tensor {
  const shape = tf.backend_util.assertAndGetBroadcastShape(k.shape, v.shape);
  return tf.where(broadcastTo(lt(k, 0), shape), tf.zeros(shape), broadcastTo(v, shape));
}

/**
 * `KL(Geo(p) || Geo(q)) = log(p/q) + ((1-p)/p) log((1-p)/(1-q))`.
 *
 * @param p the first distribution.
 * @param q the second distribution.
 * @example
 * ```ts
 * klGeometricGeometric(new Geometric({ probs: 0.3 }), new Geometric({ probs: 0.5 })); // same as klDivergence(p, q)
 * ```
 */
export function klGeometricGeometric(p: Geometric, q: Geometric): tf.Tensor {
  return tf.tidy(() => {
    const pp = p.probs;
    const qq = q.probs;
    return tf.add(
      tf.sub(tf.log(pp), tf.log(qq)),
      tf.div(mulNoNan(tf.sub(1, pp), tf.sub(log1p(tf.neg(pp)), log1p(tf.neg(qq)))), pp),
    );
  });
}

registerKL(Geometric, Geometric, klGeometricGeometric);
