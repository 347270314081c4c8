/**
 * The negative binomial distribution (Pyro's parameterization): the number of successes, each of
 * probability `p`, before `totalCount` r failures.
 *
 * $$P(X = k) = \frac{\Gamma(k + r)}{k!\,\Gamma(r)}p^k(1-p)^r,\quad k = 0, 1, \ldots,\qquad
 *   F(k) = I_{1-p}(r, k + 1).$$
 *
 * Mean `r p / (1-p)`, variance `r p / (1-p)^2`, mode `floor((r-1) p / (1-p))` for r > 1.
 * Sampling: the gamma–Poisson mixture `Poisson(G)`, `G ~ Gamma(r, (1-p)/p)`, on the host.
 * `totalCount` may be any real > 0.
 */
import * as tf from '@tensorflow/tfjs';
import { BinaryProbsDistribution } from './binary_probs.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import type { ProbsOrLogits } from './probs.js';
import {
  betainc,
  binomialSaddleLogPmf,
  ge,
  gt,
  isCount,
  lt,
  maskLogProb,
  safe,
  whereB,
} from './special.js';
import { nonnegativeInteger, type Constraint } from '../constraints/constraints.js';
import { poissonDraw, standardGammaDraw } from './host_sampling.js';
import { broadcastTo } from '../utils/tensor.js';
import { makeRng } from '../utils/seed.js';

/**
 * Negative binomial distribution with `totalCount` r > 0 and `{probs}`/`{logits}` of success.
 *
 * @example
 * ```ts
 * const d = new NegativeBinomial(5, { probs: 0.4 });
 * d.mean(); // 5 * 0.4 / 0.6
 * ```
 */
export class NegativeBinomial extends BinaryProbsDistribution {
  /** Number of failures r (> 0, real). */
  readonly totalCount: tf.Tensor;

  /**
   * @param totalCount r > 0.
   * @param params `{probs}` in [0, 1) or `{logits}`.
   * @param options validation flag and name.
   */
  constructor(
    totalCount: TensorInput,
    params: TensorInput | ProbsOrLogits,
    options: DistributionOptions = {},
  ) {
    super(params, options, { probsMax: 1 - 1e-7, logitsMax: Number.MAX_VALUE });
    this.totalCount = this.param(totalCount, 'totalCount');
    this.checkPositive(this.totalCount, 'totalCount');
    this.setBatchShape({ totalCount: this.totalCount, ...this.givenParam() });
  }

  /** Support: `{0, 1, 2, ...}`. */
  override get support(): Constraint {
    return nonnegativeInteger;
  }
  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const full = [...shape, ...this._batchShape];
    if (full.some((d) => d === 0)) return tf.zeros(full);
    const r = broadcastTo(this.totalCount, full).dataSync();
    const p = broadcastTo(this.probs, full).dataSync();
    const rng = makeRng(seed);
    const out = new Float32Array(r.length);
    for (let i = 0; i < r.length; i++) {
      const pi = p[i] as number;
      if (pi <= 0) continue;
      const g = (standardGammaDraw(r[i] as number, rng) * pi) / (1 - pi);
      out[i] = poissonDraw(g, rng);
    }
    return tf.tensor(out, full, 'float32');
  }
  protected _logProb(k: tf.Tensor): tf.Tensor {
    const [lp, lq] = this.logProbsPair();
    return negativeBinomialLogPmf(k, this.totalCount, lp, lq);
  }
  protected override _cdf(k: tf.Tensor): tf.Tensor {
    const kf = tf.floor(k);
    const neg = lt(kf, 0);
    const b = safe(ge(kf, 0), tf.add(kf, 1), 1);
    const val = betainc(this.totalCount, tf.add(tf.zerosLike(b), b), this.failureProbs());
    return whereB(neg, tf.scalar(0), val);
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(tf.div(tf.mul(this.totalCount, this.probs), this.failureProbs()));
  }
  protected override _mode(): tf.Tensor {
    const m = tf.floor(tf.div(tf.mul(tf.sub(this.totalCount, 1), this.probs), this.failureProbs()));
    return this.expandToBatch(whereB(gt(this.totalCount, 1), m, tf.zerosLike(m)));
  }
  protected override _variance(): tf.Tensor {
    return this.expandToBatch(
      tf.div(tf.mul(this.totalCount, this.probs), tf.square(this.failureProbs())),
    );
  }
}

/**
 * `log P(X = k)` of a negative binomial with `r` failures and success log-probability `log p`
 * (`log q = log(1 - p)`): `log Γ(k + r) - log k! - log Γ(r) + k log p + r log q`, computed for
 * `k > 0` as `r/(r+k)` times the binomial mass of `r` failures in `r + k` trials in Loader's
 * saddle-point form (float32 accurate at large counts, where the lgamma terms cancel) and as
 * `r log q` at `k = 0`; `-inf` off the non-negative integers. Shared with `GammaPoisson`.
 */
export function negativeBinomialLogPmf(
  k: tf.Tensor,
  r: tf.Tensor,
  logP: tf.Tensor,
  logQ: tf.Tensor,
): tf.Tensor {
  const ok = isCount(k);
  const ks = safe(ok, k, 0);
  const pos = gt(ks, 0);
  const kp = safe(pos, ks, 1);
  const n = tf.add(r, kp);
  const saddle = tf.add(tf.sub(tf.log(r), tf.log(n)), binomialSaddleLogPmf(r, n, logQ, logP));
  return maskLogProb(ok, whereB(pos, saddle, tf.mul(r, logQ)));
}
