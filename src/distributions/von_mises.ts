/**
 * The von Mises distribution on the circle, with mean direction `loc` and `concentration`
 * kappa >= 0:
 *
 * $$p(x;\mu,\kappa) = \frac{e^{\kappa\cos(x-\mu)}}{2\pi I_0(\kappa)},$$
 *
 * defined for every real `x` (periodic), as in Pyro; its support is `circular` (NumPyro's): every
 * real is admissible, and `bijectTo` maps onto `(-pi, pi)`, so that MCMC and the autoguides work
 * on one period, where the density is proper. `log I_0` is computed stably as
 * `kappa + log(i0e(kappa))` with the polynomial approximations of Abramowitz & Stegun 9.8.1–9.8.4
 * (relative error below 2e-7). Mean `loc` (circular mean), mode `loc`, circular variance
 * `1 - I_1(kappa)/I_0(kappa)`, entropy `log(2 pi I_0) - kappa I_1/I_0`.
 * Sampling: the Best–Fisher (1979) rejection algorithm on the host (float64), seeded; values in
 * `[-pi, pi)` around `loc`.
 */
import * as tf from '@tensorflow/tfjs';
import { circular, type Constraint } from '../constraints/constraints.js';
import { ScalarDistribution } from './scalar.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { lt } from './special.js';
import { broadcastTo } from '../utils/tensor.js';
import { makeRng } from '../utils/seed.js';

// Abramowitz & Stegun 9.8.1-9.8.4 coefficients.
const I0_SMALL = [1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.0360768, 0.0045813];
const I0_LARGE = [
  0.39894228, 0.01328592, 0.00225319, -0.00157565, 0.00916281, -0.02057706, 0.02635537, -0.01647633,
  0.00392377,
];
const I1_SMALL = [0.5, 0.87890594, 0.51498869, 0.15084934, 0.02658733, 0.00301532, 0.00032411];
const I1_LARGE = [
  0.39894228, -0.03988024, -0.00362018, 0.00163801, -0.01031555, 0.02282967, -0.02895312,
  0.01787654, -0.00420059,
];

function poly(t: tf.Tensor, c: number[]): tf.Tensor {
  let acc: tf.Tensor = tf.fill(t.shape, c[c.length - 1] as number);
  for (let i = c.length - 2; i >= 0; i--) acc = tf.add(tf.mul(acc, t), c[i] as number);
  return acc;
}

/**
 * `log I_order(x)` for `x >= 0`, `order` 0 or 1, differentiable in `x`:
 * for `x < 3.75`, `I_0 = P(t)`, `I_1 = x P(t)` with `t = (x/3.75)^2`; above,
 * `I_n(x) = e^x x^{-1/2} Q(3.75/x)`.
 */
export function logBesselI(x: tf.Tensor, order: 0 | 1): tf.Tensor {
  return tf.tidy(() => tf.add(logBesselIScaled(x, order), x));
}

/**
 * `log I_order(x) - x` (the log of the exponentially scaled Bessel function), computed without
 * forming `log I_order(x)`: at large `x` both are of order `x`, and their float32 difference
 * loses `x * 6e-8` (6e-3 at `x = 1e5`).
 */
export function logBesselIScaled(x: tf.Tensor, order: 0 | 1): tf.Tensor {
  return tf.tidy(() => {
    const small = lt(x, 3.75);
    const xs = tf.where(small, x, tf.fill(x.shape, 1)); // safe input for the small branch
    const xl = tf.where(small, tf.fill(x.shape, 3.75), x); // safe input for the large branch
    const t = tf.square(tf.div(xs, 3.75));
    let logSmall = tf.log(poly(t, order === 0 ? I0_SMALL : I1_SMALL));
    if (order === 1) logSmall = tf.add(logSmall, tf.log(xs));
    const logLarge = tf.sub(
      tf.log(poly(tf.div(3.75, xl), order === 0 ? I0_LARGE : I1_LARGE)),
      tf.mul(0.5, tf.log(xl)),
    );
    return tf.where(small, tf.sub(logSmall, xs), logLarge);
  });
}

/**
 * One von Mises(0, kappa) draw by Best–Fisher rejection (uniform for tiny kappa), float64.
 * @internal shared with the sine bivariate von Mises sampler.
 */
export function vonMisesDraw(kappa: number, rng: () => number): number {
  if (kappa < 1e-6) return Math.PI * (2 * rng() - 1);
  const tau = 1 + Math.sqrt(1 + 4 * kappa * kappa);
  const rho = (tau - Math.sqrt(2 * tau)) / (2 * kappa);
  const r = (1 + rho * rho) / (2 * rho);
  for (;;) {
    const u1 = rng();
    const u2 = rng();
    const u3 = rng();
    const z = Math.cos(Math.PI * u1);
    const f = (1 + r * z) / (r + z);
    const c = kappa * (r - f);
    if (c * (2 - c) - u2 > 0 || Math.log(c / u2) + 1 - c >= 0) {
      const theta = Math.acos(Math.max(-1, Math.min(1, f)));
      return u3 > 0.5 ? theta : -theta;
    }
  }
}

/**
 * Von Mises distribution.
 *
 * @example
 * ```ts
 * const d = new VonMises(0, 2);
 * d.logProb(0.5); // 2 cos(0.5) - log(2 pi I0(2))
 * ```
 */
export class VonMises extends ScalarDistribution {
  /** Mean direction mu. */
  readonly loc: tf.Tensor;
  /** Concentration kappa >= 0. */
  readonly concentration: tf.Tensor;

  /**
   * @param loc mean direction (any finite real).
   * @param concentration kappa, finite and >= 0.
   * @param options validation flag and name.
   */
  constructor(loc: TensorInput, concentration: TensorInput, options: DistributionOptions = {}) {
    super(options);
    this.loc = this.param(loc, 'loc');
    this.concentration = this.param(concentration, 'concentration');
    this.checkFinite(this.loc, 'loc');
    this.checkInRange(this.concentration, 'concentration', 0, Number.MAX_VALUE);
    this.setBatchShape({ loc: this.loc, concentration: this.concentration });
  }

  /** Angles: every real value, with the unconstrained map onto `(-pi, pi)`. */
  override get support(): Constraint {
    return circular;
  }

  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const full = [...shape, ...this._batchShape];
    if (full.some((d) => d === 0)) return tf.zeros(full);
    const k = broadcastTo(this.concentration, full).dataSync();
    const rng = makeRng(seed);
    const out = new Float32Array(k.length);
    for (let i = 0; i < k.length; i++) out[i] = vonMisesDraw(k[i] as number, rng);
    // centre on loc and wrap into [-pi, pi)
    const x = tf.add(tf.tensor(out, full, 'float32'), this.loc);
    const twoPi = 2 * Math.PI;
    return tf.sub(x, tf.mul(twoPi, tf.floor(tf.div(tf.add(x, Math.PI), twoPi))));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    // kappa (cos d - 1) - log(2 pi) - (log I_0(kappa) - kappa), cos d - 1 = -2 sin^2(d/2):
    // no difference of two numbers of order kappa (6e-3 nats off at kappa = 1e5)
    const k = this.concentration;
    const half = tf.sin(tf.mul(0.5, tf.sub(x, this.loc)));
    return tf.sub(
      tf.mul(tf.mul(-2, k), tf.square(half)),
      tf.add(Math.log(2 * Math.PI), logBesselIScaled(k, 0)),
    );
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(this.loc);
  }
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(this.loc);
  }
  /** The circular variance `1 - I_1(kappa) / I_0(kappa)`. */
  protected override _variance(): tf.Tensor {
    const k = this.concentration;
    return this.expandToBatch(oneMinusBesselRatio(k));
  }
  /** `log(2 pi I_0(kappa)) - kappa I_1/I_0 = log 2 pi + (log I_0 - kappa) + kappa (1 - I_1/I_0)`. */
  protected override _entropy(): tf.Tensor {
    const k = this.concentration;
    const scaled = tf.add(Math.log(2 * Math.PI), logBesselIScaled(k, 0));
    return this.expandToBatch(tf.add(scaled, tf.mul(k, oneMinusBesselRatio(k))));
  }
}

/** Hankel's coefficients `a_j(nu) = prod_{i<=j} (4 nu^2 - (2i - 1)^2) / (j! 8^j)`, `j = 0..6`. */
function hankel(nu: number): number[] {
  const out = [1];
  for (let j = 1; j <= 6; j++) {
    out.push(((out[j - 1] as number) * (4 * nu * nu - (2 * j - 1) ** 2)) / (j * 8));
  }
  return out;
}
const HANKEL_0 = hankel(0);
const HANKEL_1 = hankel(1);
/** `I_n(k) e^-k sqrt(2 pi k) = sum_j (-1)^j a_j(n) / k^j`: numerator `S_0 - S_1`, denominator `S_0`. */
const RATIO_NUM = HANKEL_0.map((a, j) => (-1) ** j * (a - (HANKEL_1[j] as number)));
const RATIO_DEN = HANKEL_0.map((a, j) => (-1) ** j * a);
/** Above this concentration `1 - I_1/I_0` comes from Hankel's series. */
const RATIO_ASYMPTOTIC_FROM = 20;

/**
 * `1 - I_1(kappa)/I_0(kappa)` (about `1/(2 kappa)` when large): Hankel's asymptotic series of the
 * ratio for `kappa >= 20` (the polynomial fits' 2e-7 absolute errors were 5% of it at 1e5),
 * `-expm1` of the scaled logs below.
 */
function oneMinusBesselRatio(k: tf.Tensor): tf.Tensor {
  const small = lt(k, RATIO_ASYMPTOTIC_FROM);
  const kl = tf.where(small, tf.fill(k.shape, RATIO_ASYMPTOTIC_FROM), k);
  const inv = tf.reciprocal(kl);
  const asym = tf.div(poly(inv, RATIO_NUM), poly(inv, RATIO_DEN));
  const direct = tf.neg(tf.expm1(tf.sub(logBesselIScaled(k, 1), logBesselIScaled(k, 0))));
  return tf.where(small, direct, asym);
}

/**
 * `log I_0(x)` in float64 for `x >= 0` (the same Abramowitz & Stegun 9.8.1–9.8.2 fits, relative
 * error below 2e-7): `log P((x/3.75)^2)` below 3.75, `x - log(x)/2 + log Q(3.75/x)` above.
 * @internal host-side samplers.
 */
export function logBesselI0Host(x: number): number {
  const horner = (t: number, c: number[]): number => c.reduceRight((acc, ci) => acc * t + ci, 0);
  if (x < 3.75) return Math.log(horner((x / 3.75) ** 2, I0_SMALL));
  return x - 0.5 * Math.log(x) + Math.log(horner(3.75 / x, I0_LARGE));
}
