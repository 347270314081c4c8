/**
 * Stable distributions (Pyro's `pyro.distributions.Stable`): the laws closed under sums,
 * `X_1 + X_2 \overset{d}{=} c X + d`, with stability `alpha in (0, 2]`, skew `beta in [-1, 1]`,
 * scale `sigma > 0` and location `mu`. In Nolan's `S` (Zolotarev's `S1`) coordinates the
 * characteristic function of the standard law (`sigma = 1`, `mu = 0`) is
 *
 * $$\varphi_Z(t) = \exp\!\Big(-|t|^\alpha\big[1 - i\beta\,\mathrm{sign}(t)\tan\tfrac{\pi\alpha}{2}\big]\Big)
 *   \ (\alpha \ne 1),\qquad
 *   \varphi_Z(t) = \exp\!\Big(-|t|\big[1 + i\beta\,\tfrac{2}{\pi}\mathrm{sign}(t)\log|t|\big]\Big)
 *   \ (\alpha = 1),$$
 *
 * and `X = mu + sigma Z` (as Pyro and scipy: no `(2/pi) beta sigma log sigma` shift at
 * `alpha = 1`). Nolan's `S0` coordinates (the default, continuous in `alpha`) shift the standard
 * law by `-beta tan(pi alpha / 2)`: `Z_0 = Z - beta tan(pi alpha / 2)` for `alpha != 1`,
 * `Z_0 = Z` at `alpha = 1`. Special cases: `alpha = 2` is `Normal(mu, sqrt 2 sigma)`,
 * `alpha = 1, beta = 0` is `Cauchy(mu, sigma)`, `alpha = 1/2, beta = 1` (coords `S`) is
 * `Levy(mu, sigma)`.
 *
 * Draws are reparameterized by the Chambers–Mallows–Stuck method (Weron's corrected formula,
 * simplified by Nolan, as Pyro): with `V ~ Uniform(-pi/2, pi/2)`, `W ~ Exponential(1)`,
 * `b = beta tan(pi alpha / 2)` and `v = atan(b) + alpha V` (written
 * `atan b - pi alpha/2 + alpha (V + pi/2)` to keep its digits near `V = -pi/2`),
 *
 * $$Z = \frac{\sin v}{\big((1 + b^2)^{-1/2}\cos V\big)^{1/\alpha}}
 *   \left(\frac{\cos(v - V)}{W}\right)^{1/\alpha - 1},\qquad Z_0 = Z - b,$$
 *
 * and at `alpha = 1` the exact branch
 * `Z = (2/pi) [(pi/2 + beta V) tan V - beta log((pi/2) W cos V / (pi/2 + beta V))]`. Near the hole
 * at `alpha = 1` (`|alpha - 1| <= 0.01`) the `S0` draw is interpolated linearly between the draws
 * at `alpha = 0.99` and `1.01` from the same noise (Pyro's care: the formula cancels there), the
 * gradient in `alpha` flowing through both ends; at `alpha = 1` exactly the value is the exact
 * branch's, the gradient the interpolation's.
 *
 * `Stable.logProb` is not defined (as Pyro's): use {@link StableWithLogProb}
 * (`stable_log_prob.ts`, numerical integral) or the reparameterizers of `ppl`
 * (`StableReparam`, `SymmetricStableReparam`, `LatentStableReparam`).
 */
import * as tf from '@tensorflow/tfjs';
import { FLOAT32_EPS } from '../utils/float32.js';
import { ScalarDistribution } from './scalar.js';
import { Distribution, type DistributionOptions, type TensorInput } from './distribution.js';
import { ArgumentError, NotDefinedError } from '../utils/errors.js';
import { deriveSeeds } from '../utils/seed.js';
import { checkValues, stopGradient } from '../utils/tensor.js';
import { real, type Constraint } from '../constraints/constraints.js';
import { eq, le, lt, noGrad } from './special.js';

/** Nolan's parameterizations: `S0` (continuous in `alpha`, Pyro's default) or `S` (= `S1`). */
export type StableCoords = 'S0' | 'S';

/** Options of {@link Stable}. */
export interface StableOptions extends DistributionOptions {
  /** `'S0'` (default) or `'S'`: see {@link Stable}. */
  coords?: StableCoords;
}

/** `|alpha - 1|` up to which draws interpolate across the hole at `alpha = 1` (Pyro's `RADIUS`). */
export const STABLE_HOLE_RADIUS = 0.01;

const HALF_PI = Math.PI / 2;
/** float32 machine epsilon. */
const EPS32 = FLOAT32_EPS;
/** The smallest normal float32. */
const TINY32 = 1.1754943508222875e-38;

/** `x^p` as `exp(p log x)` for `x > 0` (differentiable in both). */
const powPos = (x: tf.Tensor, p: tf.Tensor): tf.Tensor => tf.exp(tf.mul(p, tf.log(x)));

/**
 * The Chambers–Mallows–Stuck transform of `V ~ Uniform(-pi/2, pi/2)` and `W ~ Exponential(1)` to
 * a standard stable draw (Pyro's `_unsafe_standard_stable`), valid away from `alpha = 1`:
 *
 * $$Z = \frac{\sin v}{\big((1 + b^2)^{-1/2}\cos V\big)^{1/\alpha}}
 *   \left(\frac{\max(\cos(v - V), \epsilon)}{W}\right)^{1/\alpha - 1},\quad
 *   b = \beta\tan\tfrac{\pi\alpha}2,\quad v = \arctan b - \tfrac{\pi\alpha}{2} + \alpha(V + \tfrac\pi2),$$
 *
 * `Z` in coords `S`, `Z - b` in `S0`; `V` clipped into the open interval, NaN draws set to 0.
 * All arguments broadcast; differentiable in `alpha` and `beta`.
 * @param alpha stability in `(0, 2]`, away from 1.
 * @param beta skew in `[-1, 1]`.
 * @param u the uniform noise `V`.
 * @param e the exponential noise `W`.
 * @param coords `'S0'` or `'S'`.
 */
export function unsafeStandardStable(
  alpha: tf.Tensor,
  beta: tf.Tensor | number,
  u: tf.Tensor,
  e: tf.Tensor,
  coords: StableCoords,
): tf.Tensor {
  return tf.tidy(() => {
    const v0 = tf.clipByValue(u, 2 * EPS32 - HALF_PI, HALF_PI - 2 * EPS32);
    const ha = tf.mul(HALF_PI, alpha);
    const b = tf.mul(beta, tf.tan(ha));
    const v = tf.add(tf.sub(tf.atan(b), ha), tf.mul(alpha, tf.add(v0, HALF_PI)));
    const invA = tf.reciprocal(alpha);
    const denom = powPos(tf.mul(tf.rsqrt(tf.add(1, tf.square(b))), tf.cos(v0)), invA);
    const ratio = tf.div(tf.maximum(tf.cos(tf.sub(v, v0)), EPS32), tf.maximum(e, TINY32));
    const z = tf.mul(tf.div(tf.sin(v), denom), powPos(ratio, tf.sub(invA, 1)));
    const clean = tf.where(
      noGrad((t) => tf.isNaN(t), z),
      tf.zerosLike(z),
      z,
    );
    return coords === 'S0' ? tf.sub(clean, b) : clean;
  });
}

/**
 * The exact `alpha = 1` branch of the Chambers–Mallows–Stuck transform (Weron):
 *
 * $$Z = \frac2\pi\Big[\big(\tfrac\pi2 + \beta V\big)\tan V
 *   - \beta\log\frac{\frac\pi2\,W\cos V}{\frac\pi2 + \beta V}\Big]$$
 */
function standardStableAlphaOne(beta: tf.Tensor, u: tf.Tensor, e: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const v0 = tf.clipByValue(u, 2 * EPS32 - HALF_PI, HALF_PI - 2 * EPS32);
    const pb = tf.maximum(tf.add(HALF_PI, tf.mul(beta, v0)), TINY32);
    const inner = tf.div(tf.mul(HALF_PI, tf.mul(tf.maximum(e, TINY32), tf.cos(v0))), pb);
    const z = tf.sub(tf.mul(pb, tf.tan(v0)), tf.mul(beta, tf.log(inner)));
    return tf.mul(2 / Math.PI, z);
  });
}

/**
 * A standard stable draw from the noise `V ~ Uniform(-pi/2, pi/2)`, `W ~ Exponential(1)` (Pyro's
 * `_standard_stable`): {@link unsafeStandardStable} away from `alpha = 1`; for
 * `|alpha - 1| <= r` (`r = 0.01`) in `S0` the linear interpolation
 *
 * $$Z_0(\alpha) = \frac{1 + r - \alpha}{2r} Z_0(1 - r) + \frac{\alpha - (1 - r)}{2r} Z_0(1 + r)$$
 *
 * (the ends carry the gradient in `alpha` as if they were `alpha`), the exact `alpha = 1` branch
 * as the value at `alpha = 1`; in `S`, `Z = Z_0 + beta tan(pi alpha / 2)` (`Z_0` at `alpha = 1`).
 * All arguments broadcast (shape: their broadcast).
 * @param alpha stability in `(0, 2]`.
 * @param beta skew in `[-1, 1]`.
 * @param u the uniform noise.
 * @param e the exponential noise.
 * @param coords `'S0'` or `'S'`.
 */
export function standardStable(
  alpha: tf.Tensor,
  beta: tf.Tensor,
  u: tf.Tensor,
  e: tf.Tensor,
  coords: StableCoords,
): tf.Tensor {
  return tf.tidy(() => {
    const av = alpha.dataSync();
    let nearAny = false;
    let oneAny = false;
    for (const a of av) {
      if (Math.abs(a - 1) <= STABLE_HOLE_RADIUS) nearAny = true;
      if (a === 1) oneAny = true;
    }
    if (!nearAny) return unsafeStandardStable(alpha, beta, u, e, coords);
    const r = STABLE_HOLE_RADIUS;
    const a = stopGradient(alpha);
    const near = le(tf.abs(tf.sub(a, 1)), r);
    // the ends take their values from the hole's edges, their gradient from alpha
    const lo = tf.add(alpha, stopGradient(tf.sub(tf.where(near, tf.fill(a.shape, 1 - r), a), a)));
    const hi = tf.add(alpha, stopGradient(tf.sub(tf.where(near, tf.fill(a.shape, 1 + r), a), a)));
    const wLo = stopGradient(
      tf.where(near, tf.div(tf.sub(1 + r, a), 2 * r), tf.fill(a.shape, 0.5)),
    );
    const wHi = stopGradient(tf.sub(1, wLo));
    let z0 = tf.add(
      tf.mul(wLo, unsafeStandardStable(lo, beta, u, e, 'S0')),
      tf.mul(wHi, unsafeStandardStable(hi, beta, u, e, 'S0')),
    );
    const isOne = eq(a, 1);
    if (oneAny) {
      const exact = standardStableAlphaOne(beta, u, e);
      const shape = tf.broadcast_util.assertAndGetBroadcastShape(z0.shape, exact.shape);
      const zb = tf.broadcastTo(z0, shape);
      const pinned = tf.add(zb, stopGradient(tf.sub(exact, zb)));
      z0 = tf.where(tf.broadcastTo(isOne, shape), pinned, zb);
    }
    if (coords === 'S0') return z0;
    const shift = tf.mul(beta, tf.tan(tf.mul(HALF_PI, alpha)));
    return tf.add(z0, tf.where(isOne, tf.zerosLike(shift), shift));
  });
}

/**
 * Stable distribution `Stable(stability, skew, scale, loc)` (Pyro's), in Nolan's `S0`
 * coordinates by default or `S` (`{coords: 'S'}`): see the module doc for the characteristic
 * function and the sampler.
 *
 * - mean: `loc` in `S`, `loc - beta sigma tan(pi alpha / 2)` in `S0`, for `alpha > 1`; NaN for
 *   `alpha <= 1` (no mean), as Pyro.
 * - variance: `2 sigma^2` at `alpha = 2`, `Infinity` for `alpha < 2`.
 * - `logProb` is not defined (as Pyro's `Stable`): {@link StableWithLogProb} integrates the
 *   density numerically; in a model, `StableReparam` & co. replace the site.
 *
 * @example
 * ```ts
 * const d = new Stable(1.5, 0.5);           // S0, scale 1, loc 0
 * const x = d.rsample([1000]);              // differentiable in all four parameters
 * new Stable(2, 0, 1, 0).variance();        // 2  (= Normal(0, sqrt 2))
 * ```
 */
export class Stable extends ScalarDistribution {
  /** The base's option keys and `coords`. */
  static override readonly optionKeys: readonly string[] = [...Distribution.optionKeys, 'coords'];
  /** Stability (index) `alpha in (0, 2]`. */
  readonly stability: tf.Tensor;
  /** Skew `beta in [-1, 1]`. */
  readonly skew: tf.Tensor;
  /** Scale `sigma > 0`. */
  readonly scale: tf.Tensor;
  /** Location `mu` (in the chosen coords). */
  readonly loc: tf.Tensor;
  /** The parameterization of `loc`: `'S0'` or `'S'`. */
  readonly coords: StableCoords;

  /**
   * @param stability `alpha in (0, 2]`.
   * @param skew `beta in [-1, 1]`.
   * @param scale `sigma > 0`. Default 1.
   * @param loc location, finite. Default 0.
   * @param options `coords` (`'S0'` default, or `'S'`), `validateArgs`, `name`.
   * @throws ArgumentError naming `stability`, `skew`, `scale`, `loc` or `coords` when out of range,
   *   or an unknown option key.
   */
  constructor(
    stability: TensorInput,
    skew: TensorInput,
    scale: TensorInput = 1,
    loc: TensorInput = 0,
    options: StableOptions = {},
  ) {
    super(options);
    const coords = options.coords ?? 'S0';
    if (coords !== 'S0' && coords !== 'S') {
      throw new ArgumentError('coords', `expected 'S0' or 'S', got ${String(coords)}`);
    }
    this.coords = coords;
    this.stability = this.param(stability, 'stability');
    this.skew = this.param(skew, 'skew');
    this.scale = this.param(scale, 'scale');
    this.loc = this.param(loc, 'loc');
    if (this.validateArgs) {
      try {
        checkValues(this.stability, 'stability', (v) => v > 0 && v <= 2, 'a value in (0, 2]');
      } catch (err) {
        this.dispose();
        throw err;
      }
    }
    this.checkInRange(this.skew, 'skew', -1, 1);
    this.checkPositive(this.scale, 'scale');
    this.checkFinite(this.loc, 'loc');
    this.setBatchShape({
      stability: this.stability,
      skew: this.skew,
      scale: this.scale,
      loc: this.loc,
    });
  }

  /** Support: the real line (as Pyro's, also for the one-sided laws `alpha < 1`, `|beta| = 1`). */
  override get support(): Constraint {
    return real;
  }

  /** `loc + scale Z`, `Z` from {@link standardStable} of fresh uniform and exponential noise. */
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const [su, se] = deriveSeeds(seed, 2) as [number, number];
    const full = [...shape, ...this._batchShape];
    const u = tf.randomUniform(full, -HALF_PI, HALF_PI, 'float32', su);
    const e = tf.neg(tf.log(tf.sub(1, tf.randomUniform(full, 0, 1, 'float32', se))));
    const z = standardStable(this.stability, this.skew, u, e, this.coords);
    return tf.add(this.loc, tf.mul(this.scale, z));
  }
  protected _logProb(value: tf.Tensor): tf.Tensor {
    void value;
    throw new NotDefinedError(
      `${this.name}: logProb is not implemented for Stable (as Pyro's); use StableWithLogProb ` +
        '(numerical integral) or reparameterize the site with StableReparam, ' +
        'SymmetricStableReparam or LatentStableReparam',
    );
  }
  protected override _mean(): tf.Tensor {
    let m: tf.Tensor = this.loc;
    if (this.coords === 'S0') {
      const t = tf.tan(tf.mul(HALF_PI, this.stability));
      // tan(pi) is not 0 in float32: the shift vanishes exactly at alpha = 2
      const shift = tf.where(eq(this.stability, 2), tf.zerosLike(t), t);
      m = tf.sub(m, tf.mul(tf.mul(this.skew, this.scale), shift));
    }
    const mb = this.expandToBatch(m);
    return tf.where(
      tf.broadcastTo(le(this.stability, 1), this._batchShape),
      tf.fill(this._batchShape, NaN),
      mb,
    );
  }
  protected override _variance(): tf.Tensor {
    const v = this.expandToBatch(tf.mul(2, tf.square(this.scale)));
    return tf.where(
      tf.broadcastTo(lt(this.stability, 2), this._batchShape),
      tf.fill(this._batchShape, Infinity),
      v,
    );
  }
}
