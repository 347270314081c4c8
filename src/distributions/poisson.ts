/**
 * The Poisson distribution.
 *
 * $$P(X = k;\lambda) = \frac{\lambda^k e^{-\lambda}}{k!},\quad k \in \{0, 1, 2, \dots\}$$
 *
 * Log-mass `k log(lambda) - lambda - log(k!)` (`log k!` from a float64 table) for counts up to 20, Loader's saddle-point form
 * `-delta(k) - bd0(k, lambda) - log(2 pi k)/2` (float32-accurate at large counts) when a larger
 * count is scored. Mean and variance `lambda`, mode `floor(lambda)`, CDF `Q(floor(k) + 1, lambda)` (regularized
 * upper incomplete gamma). The entropy has no closed form: it is summed exactly over
 * `k < 160` for `lambda <= 30` and taken from the asymptotic series
 * `1/2 log(2 pi e lambda) - 1/(12 lambda) - 1/(24 lambda^2) - 19/(360 lambda^3)` above.
 * Sampling: Knuth's method (`lambda < 10`) or PTRS (Hörmann, 1993) on the host; no `rsample`.
 *
 * `lambda = 0` is allowed (as in torch and NumPyro): the point mass at 0, with `log P(0) = 0`,
 * `log P(k >= 1) = -Infinity` (`0 log 0 = 0`), samples 0, mean, variance and entropy 0, CDF 1 on
 * `k >= 0`. The rate enters the zero-rate branch as `-lambda` only, so the gradient of
 * `log P(0)` there is its limit `-1` (never NaN).
 */
import * as tf from '@tensorflow/tfjs';
import { ScalarDistribution } from './scalar.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { poissonSample } from './host_sampling.js';
import { registerKL } from './kl.js';
import {
  andB,
  bd0,
  eq,
  gammaincPQ,
  gt,
  isCount,
  le,
  logFactorial,
  lt,
  maskLogProb,
  notB,
  safe,
  stirlingError,
  whereB,
} from './special.js';
import { nonnegativeInteger, type Constraint } from '../constraints/constraints.js';

const LOG_2PI = Math.log(2 * Math.PI);
const ENTROPY_SUM_MAX_RATE = 30;
const ENTROPY_SUM_TERMS = 160;
/**
 * The largest count scored by the plain form `k log(rate) - rate - lgamma(k + 1)`: up to 20 its
 * float32 error stays below `2e-6 (1 + |log p|)` against @stdlib for rates from 1e-3 to 1e4 (the
 * saddle point's is ~5e-7); at 30 it reaches 4e-6, at 1000 3e-5 (the terms, of order
 * `k log k`, cancel).
 */
const PLAIN_MAX_COUNT = 20;
/** The largest value of each value buffer (tensors are immutable: keyed by `dataId`). */
const MAX_COUNT = new WeakMap<object, number>();

/**
 * The largest entry of `k` (0 when empty; NaN when an entry is, which takes the saddle point),
 * read from the backend once per data buffer: the observed counts of a model are read once, not
 * on every gradient evaluation.
 */
function maxCount(k: tf.Tensor): number {
  if (k.size === 0) return 0;
  const key = k.dataId as object;
  let m = MAX_COUNT.get(key);
  if (m === undefined) {
    m = tf.tidy(() => tf.max(k).dataSync()[0] as number);
    MAX_COUNT.set(key, m);
  }
  return m;
}

/**
 * Poisson distribution with rate `rate >= 0` (0: the point mass at 0). Samples are float32 counts.
 *
 * @example
 * ```ts
 * const d = new Poisson(3.5);
 * d.prob(2); // 3.5^2 e^-3.5 / 2
 * ```
 */
export class Poisson extends ScalarDistribution {
  /** Rate lambda (mean). */
  readonly rate: tf.Tensor;

  /** @param rate rate lambda, finite and >= 0. */
  constructor(rate: TensorInput, options: DistributionOptions = {}) {
    super(options);
    this.rate = this.param(rate, 'rate');
    this.checkNonnegative(this.rate, 'rate');
    this.setBatchShape({ rate: this.rate });
  }

  /** Support: `{0, 1, 2, ...}`. */
  override get support(): Constraint {
    return nonnegativeInteger;
  }
  protected override _sample(shape: number[], seed: number): tf.Tensor {
    return poissonSample(this.rate, shape, seed);
  }
  /**
   * `k log(rate) - rate - lgamma(k + 1)` while every count is at most 20 (the largest count is
   * read once per value buffer, {@link maxCount}); above, Loader's saddle-point form, which costs
   * about 60 tfjs ops to the plain form's 20 (42 ms against 5.7 ms per NUTS gradient of the
   * coal-mining change point) and is needed only where the plain form cancels.
   */
  protected _logProb(k: tf.Tensor): tf.Tensor {
    const ok = isCount(k);
    // Zero rates: the point mass at 0, `-rate` (0, gradient -1) at k = 0 and -Infinity above;
    // the positive-rate forms see rate 1 there, so both branches stay finite (values and grads).
    const pos = gt(this.rate, 0);
    const rate = safe(pos, this.rate, 1);
    const pointMass = whereB(eq(k, 0), tf.neg(this.rate), tf.scalar(-Infinity));
    return maskLogProb(ok, whereB(pos, this.positiveLogProb(k, ok, rate), pointMass));
  }
  /** {@link _logProb} for a positive `rate` (not masked). */
  private positiveLogProb(k: tf.Tensor, ok: tf.Tensor, rate: tf.Tensor): tf.Tensor {
    if (maxCount(k) <= PLAIN_MAX_COUNT) {
      const ks = safe(ok, k, 0);
      return tf.sub(tf.sub(tf.mul(ks, tf.log(rate)), rate), logFactorial(ks, PLAIN_MAX_COUNT));
    }
    // Loader's saddle-point form -delta(k) - bd0(k, rate) - log(2 pi k)/2 for k >= 1 (float32
    // accurate at large counts, where k log(rate) - rate - lgamma(k + 1) cancels), -rate at 0.
    const pos = gt(k, 0);
    const kp = safe(andB(ok, pos), k, 1);
    const logRate = tf.log(rate);
    const saddle = tf.neg(
      tf.add(
        tf.add(stirlingError(kp), bd0(kp, rate, logRate)),
        tf.mul(0.5, tf.add(tf.log(kp), LOG_2PI)),
      ),
    );
    return whereB(pos, saddle, tf.neg(rate));
  }
  protected override _cdf(k: tf.Tensor): tf.Tensor {
    const [, q] = gammaincPQ(tf.add(tf.floor(tf.relu(k)), 1), this.rate);
    return tf.where(lt(k, 0), tf.zerosLike(q), q);
  }
  protected override _survival(k: tf.Tensor): tf.Tensor {
    const [p] = gammaincPQ(tf.add(tf.floor(tf.relu(k)), 1), this.rate);
    return tf.where(lt(k, 0), tf.onesLike(p), p);
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(this.rate);
  }
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(tf.floor(this.rate));
  }
  protected override _variance(): tf.Tensor {
    return this.expandToBatch(this.rate);
  }
  protected override _entropy(): tf.Tensor {
    // A zero rate (entropy 0) takes the sum at rate 1, then is set to 0.
    const zero = le(this.rate, 0);
    const lam = safe(notB(zero), this.rate, 1);
    const small = le(lam, ENTROPY_SUM_MAX_RATE);
    // Exact sum -sum_k p_k log p_k over k < 160 (tail < 1e-40 for lambda <= 30).
    const ls = tf.expandDims(safe(small, lam, 1), -1);
    const k = tf.range(0, ENTROPY_SUM_TERMS, 1, 'float32');
    const logp = tf.sub(tf.sub(tf.mul(k, tf.log(ls)), ls), logFactorial(k, ENTROPY_SUM_TERMS - 1));
    const exact = tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), -1));
    const ll = safe(notB(small), lam, 100);
    const inv = tf.reciprocal(ll);
    const asym = tf.sub(
      tf.mul(0.5, tf.log(tf.mul(2 * Math.PI * Math.E, ll))),
      tf.mul(inv, tf.add(1 / 12, tf.mul(inv, tf.add(1 / 24, tf.mul(inv, 19 / 360))))),
    );
    return this.expandToBatch(tf.where(zero, tf.zerosLike(lam), tf.where(small, exact, asym)));
  }
}

/**
 * `KL(Poi(a) || Poi(b)) = a log(a/b) - a + b`, with `0 log(0/b) = 0` (so `KL(Poi(0) || Poi(b)) = b`)
 * and `+Infinity` when `a > 0 = b`. Zero rates enter the log as 1, so gradients stay finite.
 *
 * @param p the first distribution.
 * @param q the second distribution.
 * @example
 * ```ts
 * klPoissonPoisson(new Poisson(3), new Poisson(5)); // same as klDivergence(p, q)
 * ```
 */
export function klPoissonPoisson(p: Poisson, q: Poisson): tf.Tensor {
  return tf.tidy(() => {
    const a = p.rate;
    const b = q.rate;
    const aPos = gt(a, 0);
    const bPos = gt(b, 0);
    const logRatio = tf.sub(tf.log(safe(aPos, a, 1)), tf.log(safe(bPos, b, 1)));
    const xlogx = whereB(aPos, tf.mul(a, logRatio), tf.scalar(0));
    const kl = tf.add(tf.sub(xlogx, a), b);
    return whereB(andB(aPos, notB(bPos)), tf.scalar(Infinity), kl);
  });
}

registerKL(Poisson, Poisson, klPoissonPoisson);
