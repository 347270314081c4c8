/**
 * The standard normal quantile function `Φ⁻¹(p)` in float64, by Wichura's algorithm AS 241
 * (PPND16, Applied Statistics 37, 1988): rational approximations on three regions of
 * `q = p - 1/2`, relative accuracy about 1e-16.
 *
 * - `|q| <= 0.425`: `Φ⁻¹(p) = q · A(r) / B(r)` with `r = 0.180625 - q²`;
 * - otherwise, with `r = sqrt(-log(min(p, 1 - p)))`: `C(r - 1.6) / D(r - 1.6)` for `r <= 5`,
 *   `E(r - 5) / F(r - 5)` beyond, negated for `p < 1/2`.
 *
 * A dependency-free replacement for `@stdlib/stats-base-dists-normal-quantile` (whose package
 * tree is 13 MB) in the MCMC rank normalization and the guides' quantiles; tested against it.
 */

const A = [
  3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987,
  67265.7709270087, 33430.57558358813, 2509.0809287301227,
];
const B = [
  1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271,
  28729.085735721943, 5226.495278852546,
];
const C = [
  1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684,
  0.2417807251774506, 0.022723844989269184, 0.0007745450142783414,
];
const D = [
  1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008,
  0.015198666563616457, 0.0005475938084995345, 1.0507500716444169e-9,
];
const E = [
  6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487,
  0.026532189526576124, 0.0012426609473880784, 2.7115555687434876e-5, 2.0103343992922881e-7,
];
const F = [
  1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133,
  1.8463183175100548e-5, 1.421511758316446e-7, 2.0442631033899397e-15,
];

/** `c[0] + c[1] x + ... + c[7] x^7` by Horner's rule. */
function poly(c: readonly number[], x: number): number {
  let s = 0;
  for (let i = c.length - 1; i >= 0; i--) s = s * x + (c[i] as number);
  return s;
}

/**
 * The quantile of `N(mu, sigma^2)` at probability `p`: `mu + sigma · Φ⁻¹(p)`.
 * Returns `-Infinity` at `p = 0`, `+Infinity` at `p = 1` and `NaN` outside `[0, 1]`.
 * @param p probability in `[0, 1]`.
 * @param mu mean (default 0).
 * @param sigma standard deviation (default 1).
 */
export function normalQuantile(p: number, mu = 0, sigma = 1): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  let z: number;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    z = (q * poly(A, r)) / poly(B, r);
  } else {
    let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
    if (r <= 5) {
      r -= 1.6;
      z = poly(C, r) / poly(D, r);
    } else {
      r -= 5;
      z = poly(E, r) / poly(F, r);
    }
    if (q < 0) z = -z;
  }
  return mu + sigma * z;
}
