/**
 * A weighted empirical distribution over the draws of one site (Pyro's `EmpiricalMarginal`, on
 * its `Empirical` distribution): draws `x_1..x_N` with normalized weights `w̄_i`
 * (`Σ w̄_i = 1`), e.g. from {@link Importance}.
 *
 * $$\mathbb E[x] \approx \sum_i \bar w_i x_i,\qquad
 *   \mathrm{Var}[x] \approx \sum_i \bar w_i (x_i - \mathbb E[x])^2,\qquad
 *   \bar w_i = \frac{e^{\log w_i}}{\sum_j e^{\log w_j}}$$
 *
 * elementwise over the site's shape (the weighted, biased moments, as Pyro's `Empirical`).
 * Sums run in float64 on the host.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { makeRng } from '../../utils/seed.js';

/** `w̄_i = exp(l_i - logsumexp(l))` in float64; throws naming `what` if every weight is 0. */
export function normalizeLogWeights(logWeights: ArrayLike<number>, what: string): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logWeights.length; i++) max = Math.max(max, logWeights[i] as number);
  if (!(max > -Infinity) || Number.isNaN(max)) {
    throw new ArgumentError(
      what,
      `expected at least one finite log-weight and none NaN, got max ${max} over ${logWeights.length}`,
    );
  }
  const w = new Float64Array(logWeights.length);
  let s = 0;
  for (let i = 0; i < w.length; i++) {
    const l = logWeights[i] as number;
    if (Number.isNaN(l)) throw new ArgumentError(what, `log-weight ${i} is NaN`);
    w[i] = Math.exp(l - max);
    s += w[i] as number;
  }
  for (let i = 0; i < w.length; i++) w[i] = (w[i] as number) / s;
  return w;
}

/** The weighted draws of one site. */
export class EmpiricalMarginal {
  /** The normalized weights `w̄_i` (float64, summing to 1). */
  readonly weights: Float64Array;

  /**
   * @param values the draws, shape `[N, ...siteShape]` (borrowed: not disposed here).
   * @param logWeights `N` unnormalized log-weights (`-Infinity` for a zero weight).
   * @throws ArgumentError naming `values` or `logWeights` when they do not match.
   */
  constructor(
    readonly values: tf.Tensor,
    logWeights: ArrayLike<number>,
  ) {
    if (!(values instanceof tf.Tensor) || values.isDisposed || values.rank < 1) {
      throw new ArgumentError('values', 'expected a live tensor [N, ...siteShape]');
    }
    if (logWeights.length !== values.shape[0]) {
      throw new ArgumentError(
        'logWeights',
        `expected ${values.shape[0]} log-weights (the draws' leading dimension), got ${logWeights.length}`,
      );
    }
    this.weights = normalizeLogWeights(logWeights, 'logWeights');
  }

  /** Shape of one draw. */
  get eventShape(): number[] {
    return this.values.shape.slice(1);
  }

  /** Weighted mean per element (float64 sums). */
  private moments(): { mean: Float64Array; variance: Float64Array } {
    const n = this.weights.length;
    const x = this.values.dataSync();
    const size = x.length / n;
    const mean = new Float64Array(size);
    for (let i = 0; i < n; i++) {
      const w = this.weights[i] as number;
      if (w === 0) continue;
      for (let e = 0; e < size; e++)
        mean[e] = (mean[e] as number) + w * (x[i * size + e] as number);
    }
    const variance = new Float64Array(size);
    for (let i = 0; i < n; i++) {
      const w = this.weights[i] as number;
      if (w === 0) continue;
      for (let e = 0; e < size; e++) {
        const d = (x[i * size + e] as number) - (mean[e] as number);
        variance[e] = (variance[e] as number) + w * d * d;
      }
    }
    return { mean, variance };
  }

  /** `Σ_i w̄_i x_i`, shape `siteShape` (a new tensor). */
  mean(): tf.Tensor {
    return tf.tensor(Float32Array.from(this.moments().mean), this.eventShape);
  }

  /** `Σ_i w̄_i (x_i - mean)^2`, shape `siteShape` (a new tensor). */
  variance(): tf.Tensor {
    return tf.tensor(Float32Array.from(this.moments().variance), this.eventShape);
  }

  /**
   * `n` draws with replacement, draw `i` with probability `w̄_i` (multinomial resampling),
   * shape `[n, ...siteShape]` (a new tensor). Follows `setSeed`.
   * @param n number of draws (default 1). @param seed optional seed.
   */
  sample(n = 1, seed?: number): tf.Tensor {
    if (!Number.isInteger(n) || n < 1) {
      throw new ArgumentError('n', `expected an integer >= 1, got ${n}`);
    }
    const rng = makeRng(seed);
    const cdf = new Float64Array(this.weights.length);
    let c = 0;
    this.weights.forEach((w, i) => (cdf[i] = c += w));
    const idx = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const u = rng() * c;
      let lo = 0;
      let hi = cdf.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((cdf[mid] as number) > u) hi = mid;
        else lo = mid + 1;
      }
      idx[k] = lo;
    }
    return tf.tidy(() => tf.gather(this.values, tf.tensor1d(idx, 'int32')));
  }
}
