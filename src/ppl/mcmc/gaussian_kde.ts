/**
 * A Gaussian kernel density estimate over points in `R^d` (scipy's and JAX's `gaussian_kde`, the
 * proposal of `AIES.KDEMove`), in float64 on the host. From `n` points `x_i` with mean `x̄`:
 *
 * $$\Sigma = \frac{1}{n-1}\sum_i (x_i - \bar x)(x_i - \bar x)^T,\qquad K = f^2\,\Sigma,$$
 *
 * with the bandwidth factor `f` of Scott (`n^{-1/(d+4)}`), Silverman
 * (`(n (d+2) / 4)^{-1/(d+4)}`) or a given number, and the density
 *
 * $$q(y) = \frac1n \sum_i \mathcal N(y;\, x_i,\, K),\quad
 *   \log q(y) = \operatorname{logsumexp}_i\big[-\tfrac12 (y - x_i)^T K^{-1} (y - x_i)\big]
 *   - \log n - \tfrac12 \log\det(2\pi K);$$
 *
 * a draw is `x_I + L z` with `I` uniform on the points, `z ~ N(0, I_d)` and `L L^T = K`.
 */
import type { ChainRng } from './rng.js';

/** How the bandwidth factor `f` is chosen: Scott's rule, Silverman's, or `f` itself (`> 0`). */
export type KDEBandwidth = 'scott' | 'silverman' | number;

/** The bandwidth factor `f` of `n` points in `d` dimensions. */
export function kdeFactor(bw: KDEBandwidth, n: number, d: number): number {
  if (bw === 'scott') return n ** (-1 / (d + 4));
  if (bw === 'silverman') return ((n * (d + 2)) / 4) ** (-1 / (d + 4));
  return bw;
}

/**
 * Cholesky factor (row-major lower triangle) of a `d x d` matrix, or `null` if not positive
 * definite: a pivot at most `1e-10` times its diagonal entry is a rank deficiency up to rounding.
 */
function choleskyOrNull(a: Float64Array, d: number): Float64Array | null {
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j] as number;
      for (let k = 0; k < j; k++) s -= (L[i * d + k] as number) * (L[j * d + k] as number);
      if (i === j) {
        if (!(s > 1e-10 * (a[i * d + i] as number)) || !Number.isFinite(s)) return null;
        L[i * d + i] = Math.sqrt(s);
      } else {
        L[i * d + j] = s / (L[j * d + j] as number);
      }
    }
  }
  return L;
}

/** A fitted Gaussian KDE (see the module docs). */
export class GaussianKDE {
  /** The points (copies). */
  readonly points: readonly Float64Array[];
  /** Dimension `d`. */
  readonly dim: number;
  /** The bandwidth factor `f`. */
  readonly factor: number;
  /** `L` with `L L^T = K = f^2 Σ` (row-major lower triangle). */
  readonly cholK: Float64Array;
  private readonly logNorm: number;

  private constructor(points: Float64Array[], factor: number, cholK: Float64Array) {
    this.points = points;
    this.dim = points[0]?.length ?? 0;
    this.factor = factor;
    this.cholK = cholK;
    const d = this.dim;
    let logDet = 0;
    for (let i = 0; i < d; i++) logDet += 2 * Math.log(cholK[i * d + i] as number);
    this.logNorm = -Math.log(points.length) - 0.5 * (d * Math.log(2 * Math.PI) + logDet);
  }

  /**
   * The KDE of `points` (at least 2, of one dimension), or `null` when their covariance is not
   * positive definite (fewer than `d + 1` points, or points on a hyperplane).
   */
  static fit(points: readonly Float64Array[], bw: KDEBandwidth): GaussianKDE | null {
    const n = points.length;
    const d = points[0]?.length ?? 0;
    if (n < 2 || d === 0) return null;
    const mean = new Float64Array(d);
    for (const x of points)
      for (let i = 0; i < d; i++) mean[i] = (mean[i] as number) + (x[i] as number) / n;
    const f = kdeFactor(bw, n, d);
    const k = new Float64Array(d * d);
    const scale = (f * f) / (n - 1);
    for (const x of points) {
      for (let i = 0; i < d; i++) {
        const di = (x[i] as number) - (mean[i] as number);
        for (let j = 0; j <= i; j++) {
          k[i * d + j] =
            (k[i * d + j] as number) + scale * di * ((x[j] as number) - (mean[j] as number));
        }
      }
    }
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) k[j * d + i] = k[i * d + j] as number;
    const L = choleskyOrNull(k, d);
    return L === null
      ? null
      : new GaussianKDE(
          points.map((p) => p.slice()),
          f,
          L,
        );
  }

  /** `log q(y)`. */
  logPdf(y: Float64Array): number {
    const d = this.dim;
    const L = this.cholK;
    const terms = this.points.map((x) => {
      // solve L w = y - x (forward substitution); the quadratic form is |w|^2
      let q = 0;
      const w = new Float64Array(d);
      for (let i = 0; i < d; i++) {
        let s = (y[i] as number) - (x[i] as number);
        for (let k = 0; k < i; k++) s -= (L[i * d + k] as number) * (w[k] as number);
        const wi = s / (L[i * d + i] as number);
        w[i] = wi;
        q += wi * wi;
      }
      return -0.5 * q;
    });
    let m = -Infinity;
    for (const t of terms) if (t > m) m = t;
    if (m === -Infinity) return -Infinity;
    let s = 0;
    for (const t of terms) s += Math.exp(t - m);
    return m + Math.log(s) + this.logNorm;
  }

  /** One draw `x_I + L z` (a uniform for `I`, then `d` normals from `rng`). */
  sample(rng: ChainRng): Float64Array {
    const n = this.points.length;
    const d = this.dim;
    const x = this.points[Math.min(n - 1, Math.floor(rng.uniform() * n))] as Float64Array;
    const z = new Float64Array(d);
    for (let i = 0; i < d; i++) z[i] = rng.normal();
    const y = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let s = x[i] as number;
      for (let k = 0; k <= i; k++) s += (this.cholK[i * d + k] as number) * (z[k] as number);
      y[i] = s;
    }
    return y;
  }
}
