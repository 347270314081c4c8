/**
 * The stable log-density by Nolan's integral (Zolotarev's representation), and
 * `StableWithLogProb` (Pyro >= 1.9): a {@link Stable} whose `logProb` is defined.
 *
 * For the standard law in `S0` coordinates at `x`, `alpha != 1`: with
 * `zeta = -beta tan(pi alpha / 2)`, `theta_0 = arctan(beta tan(pi alpha / 2)) / alpha` and,
 * for `x > zeta` (for `x < zeta`, `f(x; alpha, beta) = f(-x; alpha, -beta)`),
 *
 * $$f(x) = \frac{\alpha\,(x - \zeta)^{\frac{1}{\alpha - 1}}}{\pi\,|\alpha - 1|}
 *   \int_{-\theta_0}^{\pi/2} V(\theta)\,e^{-(x-\zeta)^{\frac{\alpha}{\alpha-1}} V(\theta)}\,d\theta,\qquad
 *   V(\theta) = (\cos\alpha\theta_0)^{\frac{1}{\alpha-1}}
 *   \Big(\frac{\cos\theta}{\sin\alpha(\theta_0 + \theta)}\Big)^{\frac{\alpha}{\alpha-1}}
 *   \frac{\cos(\alpha\theta_0 + (\alpha - 1)\theta)}{\cos\theta},$$
 *
 * `f(zeta) = Gamma(1 + 1/alpha) cos(theta_0) / (pi (1 + zeta^2)^{1/(2 alpha)})`; at `alpha = 1`,
 * `beta > 0` (Cauchy for `beta = 0`, the reflection for `beta < 0`)
 *
 * $$f(x) = \frac{1}{2\beta}\int_{-\pi/2}^{\pi/2} h(\theta)\,e^{-h(\theta)}\,d\theta,\quad
 *   h = e^{-\frac{\pi x}{2\beta}}\,\frac2\pi\,\frac{\frac\pi2 + \beta\theta}{\cos\theta}
 *   \exp\Big(\frac1\beta\big(\tfrac\pi2 + \beta\theta\big)\tan\theta\Big).$$
 *
 * Both integrands are `h e^{-h}` with `log h = u(theta)` monotone: the integral is taken in log
 * space, `log int e^{u - e^u}`, split at the peak `u = 0` (found by a grid and bisection) and 30
 * peak widths `1/|u'|` either side of it (so that the narrow peaks of the far tails get panels of
 * their own size), each panel integrated by tanh-sinh quadrature (step 1/12, 79 nodes), which
 * clusters its nodes at the panel ends where the peak sits; within `1e-3` of `zeta`, where the integral loses digits,
 * the log-density is the quadratic through `zeta` (closed form) and `zeta +- 1e-3`. Computed on
 * the host in float64. Near the hole (`0 < |alpha - 1| < 0.01`) the `S0` log-density is
 * interpolated linearly in `alpha` between the edge and the exact `alpha = 1` value (Pyro
 * interpolates the same way); in coords `S` the value is
 * first shifted to `S0` (`x_0 = x - beta tan(pi alpha / 2)`).
 *
 * Accuracy (measured in the tests): relative error of the density below 1e-6 against the closed
 * forms (Normal at `alpha = 2`, Cauchy, Lévy) and `|int p - 1| < 1e-5` at general
 * `(alpha, beta)` away from the hole; within the hole the interpolation's error is of order
 * `1e-4` relative. Gradients in the value and the parameters are central differences of this
 * float64 function (relative error about 1e-6). Far tails: within `1e-5` of the asymptotic
 * `alpha c_alpha (1 +- beta) |x|^{-1-alpha}` at `|x| = 1e4`, `1e6` for `alpha = 1.5`.
 */
import * as tf from '@tensorflow/tfjs';
import { Stable, type StableCoords } from './stable.js';
import { broadcastTo } from '../utils/tensor.js';

const HALF_PI = Math.PI / 2;
/** `|alpha - 1|` below which the log-density is interpolated across the hole. */
export const STABLE_LOG_PROB_HOLE = 0.01;

/** tanh-sinh nodes on `(0, 1)`: left fractions `s`, right fractions `1 - s` and weights. */
const TS = (() => {
  const h = 1 / 12;
  const kMax = 39;
  const s: number[] = [];
  const r: number[] = [];
  const w: number[] = [];
  for (let k = -kMax; k <= kMax; k++) {
    const t = k * h;
    const q = Math.PI * Math.sinh(t);
    // s = 1 / (1 + e^{-q}), 1 - s = 1 / (1 + e^{q}), both to full relative precision
    const sk = 1 / (1 + Math.exp(-q));
    const rk = 1 / (1 + Math.exp(q));
    s.push(sk);
    r.push(rk);
    w.push(h * Math.PI * Math.cosh(t) * sk * rk);
  }
  return { s, r, w };
})();

/** How many peak widths the panels on either side of the peak span. */
const PEAK_WIDTHS = 30;

/** `g = u - e^u` with its limits (`-inf` at `u = +-inf`, NaN sent to `-inf`). */
function peakTerm(u: number): number {
  if (!(u < 700)) return -Infinity; // +inf, NaN
  return u - Math.exp(u);
}

/** `log sum exp(xs)` (`-inf` for none finite). */
function logSumExp(xs: number[]): number {
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  if (m === -Infinity) return -Infinity;
  let acc = 0;
  for (const x of xs) acc += Math.exp(x - m);
  return m + Math.log(acc);
}

/**
 * `log int_a^b exp(u(theta) - e^{u(theta)}) dtheta` with the panels split at `u = 0`.
 * @param u `log h` on `(a, b)`, monotone.
 */
function logPeakIntegral(u: (theta: number) => number, a: number, b: number): number {
  const len = b - a;
  if (!(len > 1e-15)) return -Infinity;
  const grid = 32;
  let prevT = a;
  let prevU = u(a + len * 1e-12);
  let m = Number.NaN;
  let best = -Infinity;
  let bestT = a + len / 2;
  for (let i = 1; i <= grid; i++) {
    const t = i === grid ? b : a + (len * i) / grid;
    const ui = u(i === grid ? b - len * 1e-12 : t);
    const g = peakTerm(ui);
    if (g > best) {
      best = g;
      bestT = t;
    }
    if (Number.isNaN(m) && Number.isFinite(prevU) && Number.isFinite(ui) && prevU * ui <= 0) {
      // bisection on the sign change of u in [prevT, t]
      let lo = prevT;
      let hi = t;
      const sLo = Math.sign(prevU);
      for (let it = 0; it < 60; it++) {
        const mid = 0.5 * (lo + hi);
        const um = u(mid);
        if (Math.sign(um) === sLo) lo = mid;
        else hi = mid;
      }
      m = 0.5 * (lo + hi);
    }
    prevT = t;
    prevU = ui;
  }
  if (Number.isNaN(m)) m = bestT;
  // the peak's width 1/|u'(m)| (u' by a difference relative to the distance to the nearer end):
  // the panels next to the peak span PEAK_WIDTHS widths, so that a peak far narrower than the
  // interval (the far tails) is resolved by a panel of its own size
  const room = Math.min(m - a, b - m);
  let w = room;
  if (room > 0) {
    const dh = 1e-4 * room;
    const du = Math.abs(u(m + dh) - u(m - dh)) / (2 * dh);
    if (du > 0 && Number.isFinite(du)) w = Math.min(room, 1 / du);
  }
  const left = Math.max(a, m - PEAK_WIDTHS * w);
  const right = Math.min(b, m + PEAK_WIDTHS * w);
  const terms: number[] = [];
  const panel = (lo: number, hi: number): void => {
    const l = hi - lo;
    if (!(l > 0)) return;
    const { s, r, w } = TS;
    for (let k = 0; k < s.length; k++) {
      const sk = s[k] as number;
      const theta = sk < 0.5 ? lo + l * sk : hi - l * (r[k] as number);
      terms.push(Math.log((w[k] as number) * l) + peakTerm(u(theta)));
    }
  };
  panel(a, left);
  panel(left, m);
  panel(m, right);
  panel(right, b);
  return logSumExp(terms);
}

/** `log Gamma(x)` for `x > 0` (Lanczos, g = 7, 9 terms; relative error ~1e-15). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const xm = x - 1;
  let a = c[0] as number;
  const t = xm + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (xm + i);
  return 0.5 * Math.log(2 * Math.PI) + (xm + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The standard `S0` log-density for `alpha != 1` (Nolan's integral), valid away from the hole. */
function logPdfS0Unsafe(x: number, alpha: number, beta: number): number {
  if (alpha === 2) return -0.25 * x * x - Math.log(2 * Math.sqrt(Math.PI));
  const zeta = -beta * Math.tan(HALF_PI * alpha);
  const d = x - zeta;
  if (Math.abs(d) >= NEAR_ZETA) return logPdfS0Integral(x, alpha, beta);
  // the quadratic through zeta - delta, zeta, zeta + delta (the integral loses digits near zeta)
  const fm = logPdfS0Integral(zeta - NEAR_ZETA, alpha, beta);
  const f0 = logPdfS0Integral(zeta, alpha, beta);
  const fp = logPdfS0Integral(zeta + NEAR_ZETA, alpha, beta);
  const t = d / NEAR_ZETA;
  return f0 + 0.5 * t * (fp - fm) + 0.5 * t * t * (fp - 2 * f0 + fm);
}

/** `|x - zeta|` below which the log-density is the quadratic through `zeta`, `zeta +- delta`. */
const NEAR_ZETA = 1e-3;

/** Nolan's integral itself (and the closed form at `x = zeta`). */
function logPdfS0Integral(x: number, alpha: number, beta: number): number {
  const tanA = Math.tan(HALF_PI * alpha);
  let zeta = -beta * tanA;
  const dx = x - zeta;
  if (dx === 0) {
    const theta0 = Math.atan(beta * tanA) / alpha;
    return (
      logGamma(1 + 1 / alpha) +
      Math.log(Math.cos(theta0)) -
      Math.log(Math.PI) -
      Math.log1p(zeta * zeta) / (2 * alpha)
    );
  }
  let b = beta;
  let xx = x;
  if (dx < 0) {
    b = -beta;
    xx = -x;
    zeta = -zeta;
  }
  const theta0 = Math.atan(b * tanA) / alpha;
  const am1 = alpha - 1;
  const logCosAT0 = Math.log(Math.cos(alpha * theta0));
  const logD = Math.log(xx - zeta);
  const c2 = (alpha / am1) * logD;
  const u = (theta: number): number => {
    const lc = Math.log(Math.cos(theta));
    const logV =
      logCosAT0 / am1 +
      (alpha / am1) * (lc - Math.log(Math.sin(alpha * (theta0 + theta)))) +
      Math.log(Math.cos(alpha * theta0 + am1 * theta)) -
      lc;
    return c2 + logV;
  };
  const li = logPeakIntegral(u, -theta0, HALF_PI);
  return Math.log(alpha / (Math.PI * Math.abs(am1))) - logD + li;
}

/** The standard log-density at `alpha = 1` (`S0` = `S` there). */
function logPdfAlphaOne(x: number, beta: number): number {
  if (beta === 0) return -Math.log(Math.PI * (1 + x * x));
  const b = Math.abs(beta);
  const xx = beta > 0 ? x : -x;
  const c = (-Math.PI * xx) / (2 * b);
  const u = (theta: number): number =>
    c +
    Math.log(2 / Math.PI) +
    Math.log((HALF_PI + b * theta) / Math.cos(theta)) +
    ((HALF_PI + b * theta) * Math.tan(theta)) / b;
  return -Math.log(2 * b) + logPeakIntegral(u, -HALF_PI, HALF_PI);
}

/**
 * The log-density of the standard stable law (`scale = 1`, `loc = 0`) at `x`, in float64:
 * Nolan's integral by tanh-sinh quadrature (see the module doc), the closed forms at
 * `alpha = 2` (`N(0, 2)`), `alpha = 1, beta = 0` (Cauchy) and at `x = zeta`, the linear
 * interpolation in `alpha` across the hole `0 < |alpha - 1| < 0.01` (coords `S0`).
 *
 * $$\log f_S(x) = \log f_{S_0}\big(x - \beta\tan\tfrac{\pi\alpha}{2}\big)\ (\alpha \ne 1)$$
 *
 * @param x the value.
 * @param alpha stability in `(0, 2]`.
 * @param beta skew in `[-1, 1]`.
 * @param coords `'S0'` or `'S'`.
 */
export function stableStandardLogPdf(
  x: number,
  alpha: number,
  beta: number,
  coords: StableCoords = 'S0',
): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (!Number.isFinite(x)) return -Infinity;
  const x0 = coords === 'S' && alpha !== 1 ? x - beta * Math.tan(HALF_PI * alpha) : x;
  if (alpha === 1) return logPdfAlphaOne(x0, beta);
  const d = alpha - 1;
  const r = STABLE_LOG_PROB_HOLE;
  if (Math.abs(d) >= r) return logPdfS0Unsafe(x0, alpha, beta);
  const t = Math.abs(d) / r;
  const edge = logPdfS0Unsafe(x0, 1 + Math.sign(d) * r, beta);
  const one = logPdfAlphaOne(x0, beta);
  return t * edge + (1 - t) * one;
}

/** Central (one-sided at the bounds) difference of `f` at `v` in `[lo, hi]`. */
function diff(f: (v: number) => number, v: number, h: number, lo: number, hi: number): number {
  const a = Math.max(lo, v - h);
  const b = Math.min(hi, v + h);
  if (!(b > a)) return 0;
  const fa = f(a);
  const fb = f(b);
  const g = (fb - fa) / (b - a);
  return Number.isFinite(g) ? g : 0;
}

/**
 * The standard log-density as a differentiable tensor function of `z`, `alpha`, `beta` (same
 * shape): the value by {@link stableStandardLogPdf} on the host, the gradient by float64 central
 * differences (step `1e-5`, one-sided at the bounds of `alpha` and `beta`).
 */
function standardLogPdfTensor(
  z: tf.Tensor,
  alpha: tf.Tensor,
  beta: tf.Tensor,
  coords: StableCoords,
): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [zt, at, bt] = args as [tf.Tensor, tf.Tensor, tf.Tensor];
    const zs = zt.dataSync();
    const as = at.dataSync();
    const bs = bt.dataSync();
    const n = zs.length;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = stableStandardLogPdf(zs[i] as number, as[i] as number, bs[i] as number, coords);
    }
    const shape = zt.shape;
    const zc = Float64Array.from(zs);
    const ac = Float64Array.from(as);
    const bc = Float64Array.from(bs);
    return {
      value: tf.tensor(out, shape),
      gradFunc: (dy: tf.Tensor) => {
        const gz = new Float32Array(n);
        const ga = new Float32Array(n);
        const gb = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          const x = zc[i] as number;
          const a = ac[i] as number;
          const b = bc[i] as number;
          if (!Number.isFinite(x)) continue;
          const h = 1e-5 * (1 + Math.abs(x));
          gz[i] = diff((v) => stableStandardLogPdf(v, a, b, coords), x, h, -Infinity, Infinity);
          ga[i] = diff((v) => stableStandardLogPdf(x, v, b, coords), a, 1e-5, 1e-6, 2);
          gb[i] = diff((v) => stableStandardLogPdf(x, a, v, coords), b, 1e-5, -1, 1);
        }
        return [
          tf.mul(dy, tf.tensor(gz, shape)),
          tf.mul(dy, tf.tensor(ga, shape)),
          tf.mul(dy, tf.tensor(gb, shape)),
        ];
      },
    };
  });
  return f(z, alpha, beta);
}

/**
 * A {@link Stable} law whose `logProb` is defined (Pyro >= 1.9's `StableWithLogProb`):
 *
 * $$\log p(x) = \log f\Big(\frac{x - \mu}{\sigma}; \alpha, \beta\Big) - \log\sigma,$$
 *
 * `f` the standard density by Nolan's integral ({@link stableStandardLogPdf}: float64 tanh-sinh
 * quadrature on the host, accuracy in the module doc), differentiable in the value and the four
 * parameters (`z = (x - mu)/sigma` by tfjs ops, the standard log-density by a custom gradient of
 * float64 central differences). Draws, moments and options are `Stable`'s.
 *
 * @example
 * ```ts
 * const d = new StableWithLogProb(2, 0);
 * d.logProb(0); // log N(0; 0, 2) = -0.5 log(4 pi) = -1.2655
 * ```
 */
export class StableWithLogProb extends Stable {
  protected override _logProb(value: tf.Tensor): tf.Tensor {
    const z = tf.div(tf.sub(value, this.loc), this.scale);
    const shape = tf.broadcast_util.assertAndGetBroadcastShape(
      z.shape,
      tf.broadcast_util.assertAndGetBroadcastShape(this.stability.shape, this.skew.shape),
    );
    const lp = standardLogPdfTensor(
      broadcastTo(z, shape),
      broadcastTo(this.stability, shape),
      broadcastTo(this.skew, shape),
      this.coords,
    );
    return tf.sub(lp, tf.log(this.scale));
  }
}
