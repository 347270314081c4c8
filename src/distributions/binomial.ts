/**
 * The binomial distribution: successes in `totalCount` independent trials of probability `p`.
 *
 * $$P(X = k) = \binom{n}{k}p^k(1-p)^{n-k},\quad k = 0..n,\qquad
 *   F(k) = I_{1-p}(n - k, k + 1).$$
 *
 * Mean `np`, variance `np(1-p)`, mode `min(floor((n+1)p), n)`, entropy by summing over the
 * support. Parameterized by `{probs}` or `{logits}` (log-odds, stable `k l - n softplus(l)`).
 * Samples are exact (host-side geometric waiting times), seeded, float32 counts.
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { BinaryProbsDistribution } from './binary_probs.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { registerKL } from './kl.js';
import type { ProbsOrLogits } from './probs.js';
import {
  andB,
  betainc,
  binomialSaddleLogPmf,
  ge,
  gt,
  isCount,
  le,
  lgamma,
  lt,
  maskLogProb,
  mulNoNan,
  safe,
  whereB,
} from './special.js';
import { integerInterval, type Constraint } from '../constraints/constraints.js';
import { binomialDraw } from './host_sampling.js';
import { broadcastShapes, broadcastTo, valuesOf } from '../utils/tensor.js';
import { makeRng } from '../utils/seed.js';

/** Half-width of the entropy's enumeration window in standard deviations, and its padding. */
const ENTROPY_WINDOW_SDS = 12;
const ENTROPY_WINDOW_PAD = 40;

/** Log binomial coefficient `log C(n, k)` through log-gamma. */
export function logBinom(n: tf.Tensor, k: tf.Tensor): tf.Tensor {
  return tf.sub(
    lgamma(tf.add(n, 1)),
    tf.add(lgamma(tf.add(k, 1)), lgamma(tf.add(tf.sub(n, k), 1))),
  );
}

/**
 * Binomial distribution with `totalCount` n (a non-negative integer) and `{probs}`/`{logits}`.
 *
 * @example
 * ```ts
 * const d = new Binomial(10, { probs: 0.3 });
 * d.logProb(3);  // log(C(10,3) 0.3^3 0.7^7)
 * ```
 */
export class Binomial extends BinaryProbsDistribution {
  /** Number of trials n. */
  readonly totalCount: tf.Tensor;

  /**
   * @param totalCount number of trials, non-negative integers.
   * @param params `{probs}` in [0, 1] or `{logits}`.
   * @param options validation flag and name.
   */
  constructor(
    totalCount: TensorInput,
    params: TensorInput | ProbsOrLogits,
    options: DistributionOptions = {},
  ) {
    super(params, options);
    this.totalCount = this.param(totalCount, 'totalCount');
    if (this.validateArgs) {
      const v = valuesOf(this.totalCount);
      for (let i = 0; i < v.length; i++) {
        const n = v[i] as number;
        if (!(Number.isInteger(n) && n >= 0)) {
          throw this.constructionError(
            'totalCount',
            `expected non-negative integers, got ${n} at index ${i}`,
          );
        }
      }
    }
    this.setBatchShape({ totalCount: this.totalCount, ...this.givenParam() });
  }

  /** Support: `{0, ..., totalCount}`. */
  override get support(): Constraint {
    return integerInterval(0, this.totalCount);
  }
  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const full = [...shape, ...this._batchShape];
    if (full.some((d) => d === 0)) return tf.zeros(full);
    const n = broadcastTo(this.totalCount, full).dataSync();
    const p = broadcastTo(this.probs, full).dataSync();
    const rng = makeRng(seed);
    const out = new Float32Array(n.length);
    for (let i = 0; i < n.length; i++) out[i] = binomialDraw(n[i] as number, p[i] as number, rng);
    return tf.tensor(out, full, 'float32');
  }
  protected _logProb(k: tf.Tensor): tf.Tensor {
    const n = this.totalCount;
    const ok = andB(isCount(k), le(k, n));
    const ks = safe(ok, k, 0);
    const [lp, lq] = this.logProbsPair();
    // 0 < k < n: Loader's saddle-point form (float32 accurate at large counts); the edges
    // k = 0 and k = n are n log(1-p) and n log p.
    const inner = andB(gt(ks, 0), lt(ks, n));
    const ki = safe(inner, ks, 1);
    const ni = safe(inner, tf.add(n, tf.zerosLike(ks)), 2);
    const saddle = binomialSaddleLogPmf(ki, ni, lp, lq);
    const edge = tf.add(mulNoNan(ks, lp), mulNoNan(tf.sub(n, ks), lq));
    return maskLogProb(ok, whereB(inner, saddle, edge));
  }
  protected override _cdf(k: tf.Tensor): tf.Tensor {
    const n = this.totalCount;
    const kf = tf.floor(k);
    const inside = andB(ge(kf, 0), lt(kf, n));
    const a = safe(inside, tf.sub(n, kf), 1);
    const b = safe(inside, tf.add(kf, 1), 1);
    const val = betainc(a, b, this.failureProbs());
    return whereB(inside, val, whereB(lt(kf, 0), tf.scalar(0), tf.scalar(1)));
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(tf.mul(this.totalCount, this.probs));
  }
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(
      tf.minimum(tf.floor(tf.mul(tf.add(this.totalCount, 1), this.probs)), this.totalCount),
    );
  }
  protected override _variance(): tf.Tensor {
    return this.expandToBatch(tf.mul(tf.mul(this.totalCount, this.probs), this.failureProbs()));
  }
  /**
   * `H = -sum_k p(k) log p(k)` by enumeration (torch's `Binomial.entropy`) over
   * {@link massWindow}.
   */
  protected override _entropy(): tf.Tensor {
    const lp = this._logProb(massWindow(this.totalCount, this.probs, this._batchShape));
    // counts outside an element's support (the window is as long as the widest element's) are
    // replaced before the product: exp(-inf) * -inf would put NaN in the gradient
    const ok = gt(lp, -Infinity);
    const a = safe(ok, lp, 0);
    const terms = tf.where(ok, tf.mul(tf.exp(a), a), tf.zerosLike(a));
    return tf.neg(tf.sum(terms, 0));
  }
}

/**
 * The counts holding all the mass of each element of a binomial of batch `batch`,
 * `[len, ...batch]`: `{0, ..., n}`, or the window `round(n p) +- (12 sd + 40)` where that is
 * shorter (`sd = sqrt(n p (1 - p))`; the mass outside is below `e^-72`), so that a large
 * `totalCount` (`1e8`) costs `O(sd)` terms rather than a tensor of `n + 1` (which crashed the
 * wasm backend). Used by the entropy, the KL of unequal counts and the Multinomial's entropy;
 * runs inside the caller's tidy. Internal (not exported by the index).
 */
export function massWindow(totalCount: tf.Tensor, probs: tf.Tensor, batch: number[]): tf.Tensor {
  const n = valuesOf(broadcastTo(totalCount, batch));
  const p = valuesOf(broadcastTo(probs, batch));
  let nMax = 0;
  let half = 0;
  for (let i = 0; i < n.length; i++) {
    const ni = n[i] as number;
    const pi = p[i] as number;
    nMax = Math.max(nMax, ni);
    const sd = Math.sqrt(Math.max(ni * pi * (1 - pi), 0));
    half = Math.max(half, Math.ceil(ENTROPY_WINDOW_SDS * sd) + ENTROPY_WINDOW_PAD);
  }
  const len = Math.min(nMax + 1, 2 * half + 1);
  const lo = new Float32Array(n.length);
  if (len < nMax + 1) {
    for (let i = 0; i < n.length; i++) {
      const ni = n[i] as number;
      const centre = Math.round(ni * (p[i] as number));
      lo[i] = Math.min(Math.max(centre - half, 0), Math.max(ni - len + 1, 0));
    }
  }
  const steps = tf.reshape(tf.range(0, len, 1, 'float32'), [len, ...batch.map(() => 1)]);
  return tf.add(tf.tensor(lo, batch, 'float32'), steps);
}

/**
 * KL between binomials, as torch's `kl_divergence(Binomial, Binomial)` and beyond it:
 *
 * $$\mathrm{KL}(\mathrm{Bin}(n, p)\,\|\,\mathrm{Bin}(n, q)) = n\Big[p\log\frac{p}{q} + (1-p)\log\frac{1-p}{1-q}\Big]$$
 *
 * for equal counts; `+Infinity` where `n_p > n_q` (q has no mass on `n_q < k <= n_p`, torch);
 * and where `n_p < n_q` (torch raises) the exact sum
 * `sum_k P_p(k) [log P_p(k) - log P_q(k)]` over the counts holding p's mass.
 * @param p the first distribution. @param q the second distribution.
 */
export function klBinomialBinomial(p: Binomial, q: Binomial): tf.Tensor {
  const batch = broadcastShapes({ p: p.batchShape, q: q.batchShape });
  return tf.tidy(() => {
    const np = broadcastTo(p.totalCount, batch);
    const nq = broadcastTo(q.totalCount, batch);
    const pp = p.probs;
    const qq = q.probs;
    const t1 = mulNoNan(pp, tf.sub(tf.log(pp), tf.log(qq)));
    const t2 = mulNoNan(tf.sub(1, pp), tf.sub(log1p(tf.neg(pp)), log1p(tf.neg(qq))));
    const equal = broadcastTo(tf.mul(p.totalCount, tf.add(t1, t2)), batch);
    const fewer = lt(np, nq);
    let kl = whereB(gt(np, nq), tf.scalar(Infinity), equal);
    if (valuesOf(tf.any(fewer))[0] === 1) {
      // p's counts lie inside q's support: the sum over p's mass window; the terms left out
      // (no mass under p, or an entry not summed) are replaced before the product so that
      // their gradients stay finite
      const ks = massWindow(np, broadcastTo(pp, batch), batch);
      const lpp = p.logProb(ks);
      const use = andB(gt(lpp, -Infinity), fewer);
      const a = safe(use, lpp, 0);
      const b = safe(use, q.logProb(ks), 0);
      const terms = tf.where(use, tf.mul(tf.exp(a), tf.sub(a, b)), tf.zerosLike(a));
      kl = whereB(fewer, tf.sum(terms, 0), kl);
    }
    return kl;
  });
}

registerKL(Binomial, Binomial, klBinomialBinomial);
