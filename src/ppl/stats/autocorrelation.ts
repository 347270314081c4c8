/**
 * Autocorrelation and autocovariance of a sequence along one axis (Pyro's
 * `pyro.ops.stats.autocorrelation`/`autocovariance`), by FFT in float64 on the host. Pyro (after
 * Stan's FFT code) divides each lag's sum by the `N - k` products it has before normalizing by
 * lag 0, and its autocovariance is that autocorrelation times the biased variance:
 *
 * $$S_k = \sum_{t=0}^{N-1-k} (x_t - \bar x)(x_{t+k} - \bar x),\qquad
 *   \hat\rho_k = \frac{S_k / (N - k)}{S_0 / N},\qquad
 *   \hat\gamma_k = \hat\rho_k \cdot \frac{S_0}{N} = \frac{S_k}{N - k},\qquad k = 0, \dots, N-1.$$
 *
 * (Before session 17 these divided by `N`, the biased estimator of ArviZ and of NumPyro's default
 * `bias=True`.) A constant sequence has `S_0 = 0` and an undefined autocorrelation: NaN, as
 * Pyro's.
 */
import * as tf from '@tensorflow/tfjs';
import { assembleRows, checkTensor, columnsOf, transposeCols } from './columns.js';

/** In-place iterative radix-2 FFT of `(re, im)` (length a power of two); `inverse` unscaled. */
function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j] as number, re[i] as number];
      [im[i], im[j]] = [im[j] as number, im[i] as number];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = ((inverse ? 2 : -2) * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const xr = (re[b] as number) * cr - (im[b] as number) * ci;
        const xi = (re[b] as number) * ci + (im[b] as number) * cr;
        re[b] = (re[a] as number) - xr;
        im[b] = (im[a] as number) - xi;
        re[a] = (re[a] as number) + xr;
        im[a] = (im[a] as number) + xi;
        const t = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = t;
      }
    }
  }
}

/** The biased autocovariance `γ_0..γ_{N-1}` of one sequence (zero-padded FFT). @internal */
export function autocovarianceOf(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i] as number;
  mean /= n;
  let m = 1;
  while (m < 2 * n) m <<= 1;
  const re = new Float64Array(m);
  const im = new Float64Array(m);
  for (let i = 0; i < n; i++) re[i] = (x[i] as number) - mean;
  fft(re, im, false);
  for (let i = 0; i < m; i++) {
    re[i] = (re[i] as number) ** 2 + (im[i] as number) ** 2;
    im[i] = 0;
  }
  fft(re, im, true);
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) out[k] = (re[k] as number) / m / n;
  return out;
}

function along(x: tf.Tensor, dim: number, normalize: boolean): tf.Tensor {
  checkTensor(x, 'input');
  const { cols, rest, ax, n } = columnsOf(x, dim, 'input');
  const out = cols.map((c) => {
    // Pyro's lag sums over N - k: the biased S_k / N times N / (N - k)
    const g = autocovarianceOf(c).map((v, k) => (v * n) / (n - k));
    if (!normalize) return g;
    const g0 = g[0] as number;
    return g.map((v) => (g0 > 0 ? v / g0 : NaN));
  });
  return assembleRows(transposeCols(out, n), rest, ax);
}

/**
 * The autocorrelation `ρ_k = (S_k / (N - k)) / (S_0 / N)` of `input` along `dim` for every lag
 * `k = 0..N-1` (Pyro's; same shape as `input`, a new tensor).
 * @param input the sequences. @param dim the time axis (default 0).
 * @throws ArgumentError naming `input` or `dim`.
 * @example
 * ```ts
 * const rho = ppl.stats.autocorrelation(draws); // rho[1] ≈ 0.7 for an AR(1) with φ = 0.7
 * ```
 */
export function autocorrelation(input: tf.Tensor, dim = 0): tf.Tensor {
  return along(input, dim, true);
}

/**
 * The autocovariance `γ_k = S_k / (N - k)` of `input` along `dim` for every lag (same shape as
 * `input`, a new tensor): `autocorrelation(input) * var(input)` with the biased variance, as
 * Pyro's.
 * @throws ArgumentError naming `input` or `dim`.
 */
export function autocovariance(input: tf.Tensor, dim = 0): tf.Tensor {
  return along(input, dim, false);
}
