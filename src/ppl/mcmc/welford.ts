/**
 * Running (Welford) estimators of the posterior variance/covariance used by the windowed
 * mass-matrix adaptation, with Stan's regularisation towards a small multiple of the identity:
 * `Sigma_reg = n/(n+5) * Sigma + 1e-3 * 5/(n+5) * I`, where `Sigma` is the unbiased sample
 * (co)variance of the `n` draws of the window.
 */
import { ArgumentError } from '../../utils/errors.js';

/** A {@link WelfordEstimator}'s accumulators as plain data (to continue a chain's warmup). */
export interface WelfordState {
  /** Vectors added since the last restart. */
  n: number;
  /** Their running mean (`dim` values). */
  mean: Float64Array;
  /** The sum of squared deviations `M2` (`dim` values, or `dim * dim` when dense). */
  m2: Float64Array;
}

/** Welford's online mean and (co)variance of `dim`-vectors. */
export class WelfordEstimator {
  private n = 0;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;
  private readonly delta: Float64Array;

  /**
   * @param dim vector length.
   * @param dense keep the full `dim x dim` covariance (else the diagonal only).
   */
  constructor(
    readonly dim: number,
    readonly dense: boolean,
  ) {
    this.mean = new Float64Array(dim);
    this.m2 = new Float64Array(dense ? dim * dim : dim);
    this.delta = new Float64Array(dim);
  }

  /** Number of vectors added since the last restart. */
  get count(): number {
    return this.n;
  }

  /** Forget all vectors. */
  restart(): void {
    this.n = 0;
    this.mean.fill(0);
    this.m2.fill(0);
  }

  /** The accumulators as plain data (copies). */
  state(): WelfordState {
    return { n: this.n, mean: this.mean.slice(), m2: this.m2.slice() };
  }

  /** Continue from accumulators taken by {@link WelfordEstimator.state} (same `dim` and kind). */
  setState(s: WelfordState): void {
    if (s.mean.length !== this.mean.length || s.m2.length !== this.m2.length) {
      throw new ArgumentError(
        'state',
        `expected a Welford state of ${this.mean.length} mean and ${this.m2.length} M2 values, got ${s.mean.length} and ${s.m2.length}`,
      );
    }
    this.n = s.n;
    this.mean.set(s.mean);
    this.m2.set(s.m2);
  }

  /** Add one vector: `delta = x - mean_{n-1}`, `mean_n += delta / n`, `M2 += delta (x - mean_n)^T`. */
  add(x: Float64Array): void {
    const d = this.dim;
    this.n += 1;
    for (let i = 0; i < d; i++) {
      const dl = (x[i] as number) - (this.mean[i] as number);
      this.delta[i] = dl;
      this.mean[i] = (this.mean[i] as number) + dl / this.n;
    }
    if (this.dense) {
      for (let i = 0; i < d; i++) {
        const di = this.delta[i] as number;
        for (let j = 0; j < d; j++) {
          this.m2[i * d + j] =
            (this.m2[i * d + j] as number) + di * ((x[j] as number) - (this.mean[j] as number));
        }
      }
    } else {
      for (let i = 0; i < d; i++) {
        this.m2[i] =
          (this.m2[i] as number) +
          (this.delta[i] as number) * ((x[i] as number) - (this.mean[i] as number));
      }
    }
  }

  /** The unbiased sample (co)variance `M2 / (n - 1)` (needs `n >= 2`). */
  variance(): Float64Array {
    const out = new Float64Array(this.m2.length);
    for (let i = 0; i < out.length; i++) out[i] = (this.m2[i] as number) / (this.n - 1);
    return out;
  }

  /** Stan's regularised estimate `n/(n+5) Sigma + 1e-3 * 5/(n+5) I` (symmetrised if dense). */
  regularizedVariance(): Float64Array {
    const v = this.variance();
    const n = this.n;
    const w = n / (n + 5);
    const shrink = (1e-3 * 5) / (n + 5);
    const d = this.dim;
    if (!this.dense) {
      for (let i = 0; i < d; i++) v[i] = w * (v[i] as number) + shrink;
      return v;
    }
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < i; j++) {
        const s = (0.5 * w * ((v[i * d + j] as number) + (v[j * d + i] as number))) as number;
        v[i * d + j] = s;
        v[j * d + i] = s;
      }
      v[i * d + i] = w * (v[i * d + i] as number) + shrink;
    }
    return v;
  }
}
