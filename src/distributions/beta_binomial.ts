/**
 * The beta-binomial distribution (Pyro's `BetaBinomial`): a binomial whose success probability
 * is drawn from `Beta(alpha, beta)`.
 *
 * $$P(X = k) = \binom{n}{k}\frac{B(k + \alpha,\, n - k + \beta)}{B(\alpha, \beta)},\quad
 *   k = 0..n$$
 *
 * Mean `n alpha / (alpha + beta)`, variance
 * `n alpha beta (alpha + beta + n) / ((alpha + beta)^2 (alpha + beta + 1))`. The log-mass is the
 * `K = 2` Dirichlet-multinomial's saddle-point form (`dirichletMultinomialLogPmf` in
 * `special.ts`), float32-accurate at any size of `n`, `alpha`, `beta` (the `lgamma`/`lbeta` form
 * loses nats to cancellation at `n = 1e6`). The CDF and entropy are exact sums over the support. Sampling: `p ~ Beta` (two Gamma draws), then
 * `Binomial(n, p)`, on the host; no `rsample`.
 */
import * as tf from '@tensorflow/tfjs';
import { ScalarDistribution } from './scalar.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { binomialDraw, standardGammaDraw } from './host_sampling.js';
import {
  andB,
  bshape,
  dirichletMultinomialLogPmf,
  gt,
  isCount,
  le,
  maskLogProb,
  safe,
} from './special.js';
import { integerInterval, type Constraint } from '../constraints/constraints.js';
import { broadcastTo, valuesOf } from '../utils/tensor.js';
import { makeRng } from '../utils/seed.js';
import { ArgumentError } from '../utils/errors.js';

/**
 * Beta-binomial distribution with `concentration1` alpha > 0, `concentration0` beta > 0 and
 * `totalCount` n (non-negative integers, default 1). Samples are float32 counts.
 *
 * @example
 * ```ts
 * const d = new BetaBinomial(2, 3, 10);
 * d.mean();           // 10 * 2 / 5 = 4
 * d.enumerateSupport(); // [0, 1, ..., 10]
 * ```
 */
export class BetaBinomial extends ScalarDistribution {
  /** alpha (the Beta's first concentration). */
  readonly concentration1: tf.Tensor;
  /** beta (the Beta's second concentration). */
  readonly concentration0: tf.Tensor;
  /** Number of trials n. */
  readonly totalCount: tf.Tensor;

  /**
   * @param concentration1 alpha, finite and > 0.
   * @param concentration0 beta, finite and > 0.
   * @param totalCount n, non-negative integers (default 1).
   * @param options validation flag and name.
   */
  constructor(
    concentration1: TensorInput,
    concentration0: TensorInput,
    totalCount: TensorInput = 1,
    options: DistributionOptions = {},
  ) {
    super(options);
    this.concentration1 = this.param(concentration1, 'concentration1');
    this.concentration0 = this.param(concentration0, 'concentration0');
    this.totalCount = this.param(totalCount, 'totalCount');
    this.checkPositive(this.concentration1, 'concentration1');
    this.checkPositive(this.concentration0, 'concentration0');
    checkCounts(this, this.totalCount);
    this.setBatchShape({
      concentration1: this.concentration1,
      concentration0: this.concentration0,
      totalCount: this.totalCount,
    });
  }

  /** Support: `{0, ..., totalCount}`. */
  override get support(): Constraint {
    return integerInterval(0, this.totalCount);
  }
  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const full = [...shape, ...this._batchShape];
    if (full.some((d) => d === 0)) return tf.zeros(full);
    const a = broadcastTo(this.concentration1, full).dataSync();
    const b = broadcastTo(this.concentration0, full).dataSync();
    const n = broadcastTo(this.totalCount, full).dataSync();
    const rng = makeRng(seed);
    const out = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) {
      const ga = standardGammaDraw(a[i] as number, rng);
      const gb = standardGammaDraw(b[i] as number, rng);
      const p = ga + gb > 0 ? ga / (ga + gb) : (a[i] as number) >= (b[i] as number) ? 1 : 0;
      out[i] = binomialDraw(n[i] as number, p, rng);
    }
    return tf.tensor(out, full, 'float32');
  }
  protected _logProb(k: tf.Tensor): tf.Tensor {
    const n = this.totalCount;
    const a = this.concentration1;
    const b = this.concentration0;
    const ok = andB(isCount(k), le(k, n));
    const ks = safe(ok, k, 0);
    const shape = bshape(ks, n, a, b);
    const counts = tf.stack([broadcastTo(ks, shape), broadcastTo(tf.sub(n, ks), shape)], -1);
    const alpha = tf.stack([broadcastTo(a, shape), broadcastTo(b, shape)], -1);
    return maskLogProb(ok, dirichletMultinomialLogPmf(counts, alpha));
  }
  /** The pmf at `0..max n` along a new leading dim (`-Infinity` beyond each `n`). */
  private supportLogProbs(): tf.Tensor {
    const nMax = Math.max(0, ...Array.from(valuesOf(this.totalCount)));
    const ks = tf.reshape(tf.range(0, nMax + 1, 1, 'float32'), [
      nMax + 1,
      ...this._batchShape.map(() => 1),
    ]);
    return this._logProb(ks);
  }
  /**
   * `sum_j P(j) [j <= x]` (`below`) or `sum_j P(j) [j > x]` over the support, with the float32
   * pmf renormalized to sum to 1 so that the CDF reaches exactly 1 at `x >= n`.
   */
  private tailSum(x: tf.Tensor, below: boolean): tf.Tensor {
    const lp = this.supportLogProbs(); // [N+1, ...batch]
    const m = lp.shape[0] as number;
    const lead = Math.max(0, x.rank - this._batchShape.length);
    const ones = (r: number): number[] => Array<number>(r).fill(1);
    const p = tf.exp(lp);
    const pmf = tf.reshape(tf.div(p, tf.sum(p, 0, true)), [m, ...ones(lead), ...this._batchShape]);
    const ks = tf.reshape(tf.range(0, m, 1, 'float32'), [
      m,
      ...ones(Math.max(x.rank, pmf.rank - 1)),
    ]);
    const sel = tf.cast(below ? le(ks, x) : gt(ks, x), 'float32');
    return tf.clipByValue(tf.sum(tf.mul(pmf, sel), 0), 0, 1);
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return this.tailSum(x, true);
  }
  protected override _survival(x: tf.Tensor): tf.Tensor {
    return this.tailSum(x, false);
  }
  protected override _mean(): tf.Tensor {
    const a = this.concentration1;
    return this.expandToBatch(tf.div(tf.mul(this.totalCount, a), tf.add(a, this.concentration0)));
  }
  protected override _variance(): tf.Tensor {
    const a = this.concentration1;
    const b = this.concentration0;
    const n = this.totalCount;
    const s = tf.add(a, b);
    return this.expandToBatch(
      tf.div(tf.mul(tf.mul(n, tf.mul(a, b)), tf.add(s, n)), tf.mul(tf.square(s), tf.add(s, 1))),
    );
  }
  /** `-sum_k P(k) log P(k)` over `k = 0..max n` (exact). */
  protected override _entropy(): tf.Tensor {
    const lp = this.supportLogProbs();
    // counts beyond an element's own n (the table runs to the largest n) are replaced before
    // the product: exp(-inf) * -inf would put NaN in the gradient
    const ok = gt(lp, -Infinity);
    const a = safe(ok, lp, 0);
    const terms = tf.where(ok, tf.mul(tf.exp(a), a), tf.zerosLike(a));
    return tf.neg(tf.sum(terms, 0));
  }
}

/** Throw (naming `totalCount`) unless every entry is a non-negative integer. */
function checkCounts(d: BetaBinomial, t: tf.Tensor): void {
  if (!d.validateArgs) return;
  const v = valuesOf(t);
  for (let i = 0; i < v.length; i++) {
    const n = v[i] as number;
    if (!(Number.isInteger(n) && n >= 0)) {
      d.dispose();
      throw new ArgumentError(
        'totalCount',
        `expected non-negative integers, got ${n} at index ${i}`,
      );
    }
  }
}
