/**
 * The stable reparameterizers (Pyro's `pyro.infer.reparam.stable`): a `Stable` site, whose
 * density has no closed form, rewritten through auxiliary latents with simple densities, so that
 * SVI and MCMC fit models with stable sites (Pyro's stable tutorial).
 *
 * - `LatentStableReparam` (latent sites): the Chambers–Mallows–Stuck draw as a deterministic
 *   function of `<name>_uniform ~ Uniform(-pi/2, pi/2)` and `<name>_exponential ~ Exponential(1)`,
 *   `x = mu + sigma Z(alpha, beta; V, W)`.
 * - `SymmetricStableReparam` (latent or observed, `beta = 0`, `alpha < 2`): the scale mixture of
 *   normals (Cartea & Howison 2009, Prop. 3): with `Z ~ S(alpha/2, 1)` totally skewed (drawn as
 *   above from `<name>_uniform`, `<name>_exponential`),
 *
 * $$x \mid Z \sim \mathcal N\Big(\mu,\ 2\sigma^2 \cos\!\big(\tfrac{\pi\alpha}{4}\big)^{2/\alpha} Z\Big).$$
 *
 * - `StableReparam` (latent or observed, any `beta`): Zolotarev's Property 2.3.a splits
 *   `X ~ S0(alpha, beta, 1, 0)` into a symmetric and a totally skewed part,
 *
 * $$X = |\beta|^{1/\alpha}\,\mathrm{sgn}(\beta)\,T + (1 - |\beta|)^{1/\alpha} S + c,\qquad
 *   T \sim S_0(\alpha, 1),\ S \sim S(\alpha, 0),$$
 *
 *   `c = (sgn(beta) |beta|^{1/alpha} - beta) tan(pi alpha / 2)` (written
 *   `beta log|beta| E(k log|beta|) (2/(pi alpha)) g(pi (alpha - 1)/2)`, `k = 1/alpha - 1`,
 *   `E(y) = expm1(y)/y`, `g(y) = y / tan y`: finite and smooth through `alpha = 1`, where `c`
 *   tends to `(2/pi) beta log|beta|`), `T` drawn from `<name>_t_uniform`, `<name>_t_exponential`
 *   and `S` as in the symmetric case from `<name>_z_uniform`, `<name>_z_exponential`; the site
 *   becomes `Normal(mu + sigma (|beta|^{1/alpha} sgn(beta) T + c), sqrt 2 sigma (1 - |beta|)^{1/alpha}
 *   cos(pi alpha/4)^{1/alpha} sqrt Z)`, which keeps an observation (the likelihood given the
 *   auxiliary latents).
 *
 * A site in coords `S` is moved to `S0` first (`mu_0 = mu + beta sigma tan(pi alpha / 2)`,
 * `alpha != 1`). `StableWithLogProb` sites have a density and need none of these.
 */
import * as tf from '@tensorflow/tfjs';
import { FLOAT32_EPS } from '../../../utils/float32.js';
import type { Distribution } from '../../../distributions/distribution.js';
import { Exponential } from '../../../distributions/exponential.js';
import { Normal } from '../../../distributions/normal.js';
import { Stable, standardStable, unsafeStandardStable } from '../../../distributions/stable.js';
import { Uniform } from '../../../distributions/uniform.js';
import { eq, lt } from '../../../distributions/special.js';
import { expm1 } from '../../../utils/expm1.js';
import { ArgumentError } from '../../../utils/errors.js';
import { Delta } from '../../../distributions/delta.js';
import { sample } from '../../runtime.js';
import type { Reparam, ReparamMessage } from '../reparam.js';
import { NO_REPARAM, checkLatent, rewrap, unwrap, type Wrapper } from './wrappers.js';

const HALF_PI = Math.PI / 2;
/** float32 machine epsilon. */
const EPS32 = FLOAT32_EPS;
/** The smallest normal float32. */
const TINY32 = 1.1754943508222875e-38;

/** The site's `Stable` (unwrapped) or an `ArgumentError` naming the site. */
function stableSite(msg: ReparamMessage, who: string): { base: Stable; wrappers: Wrapper[] } {
  const { base, wrappers } = unwrap(msg.fn);
  if (!(base instanceof Stable)) {
    throw new ArgumentError(
      msg.name,
      `${who}: site '${msg.name}' has a ${base.name}; expected a Stable`,
    );
  }
  return { base, wrappers };
}

/**
 * The parameter-free noise of one stable draw: `<prefix>_uniform ~ Uniform(-pi/2, pi/2)` and
 * `<prefix>_exponential ~ Exponential(1)`, of the site's batch shape, wrapped as the site.
 */
function drawNoise(
  prefix: string,
  batchShape: number[],
  wrappers: readonly Wrapper[],
): [tf.Tensor, tf.Tensor] {
  const uniform = new Uniform(-HALF_PI, HALF_PI).expand(batchShape);
  const exponential = new Exponential(1).expand(batchShape);
  const u = sample(`${prefix}_uniform`, rewrap(uniform, wrappers), NO_REPARAM);
  const e = sample(`${prefix}_exponential`, rewrap(exponential, wrappers), NO_REPARAM);
  return [u, e];
}

/** The site's location in `S0`: `mu + beta sigma tan(pi alpha / 2)` for coords `S`, `alpha != 1`. */
function locS0(d: Stable): tf.Tensor {
  if (d.coords === 'S0') return d.loc;
  const t = tf.tan(tf.mul(HALF_PI, d.stability));
  const shift = tf.where(eq(d.stability, 1), tf.zerosLike(t), t);
  return tf.add(d.loc, tf.mul(tf.mul(d.skew, d.scale), shift));
}

/** `cos(pi alpha / 4)^{1/alpha} sqrt(Z)`, `Z ~ S(alpha/2, 1)` from the noise (`alpha < 2`). */
function mixingScale(alpha: tf.Tensor, u: tf.Tensor, e: tf.Tensor): tf.Tensor {
  const z = unsafeStandardStable(tf.mul(0.5, alpha), 1, u, e, 'S');
  const c = tf.exp(tf.div(tf.log(tf.cos(tf.mul(Math.PI / 4, alpha))), alpha));
  return tf.mul(c, tf.sqrt(tf.maximum(z, TINY32)));
}

/** The rewritten site: the new family wrapped as the old, the value and observation kept. */
function keepObservation(
  msg: ReparamMessage,
  fn: Distribution,
  wrappers: readonly Wrapper[],
): ReparamMessage {
  return { name: msg.name, fn: rewrap(fn, wrappers), value: msg.value, isObserved: msg.isObserved };
}

/** Throw naming the site unless every element of `t` satisfies `ok` (checked values only). */
function checkAll(
  msg: ReparamMessage,
  t: tf.Tensor,
  ok: (v: number) => boolean,
  what: string,
): void {
  for (const v of t.dataSync()) {
    if (!ok(v)) {
      throw new ArgumentError(msg.name, `site '${msg.name}': ${what}, got ${v}`);
    }
  }
}

/**
 * Pyro's `LatentStableReparam`: a latent `Stable` site drawn by Chambers–Mallows–Stuck from two
 * auxiliary latents,
 *
 * $$V \sim \mathcal U(-\tfrac\pi2, \tfrac\pi2),\quad W \sim \mathrm{Exp}(1),\quad
 *   x = \mu + \sigma\, Z(\alpha, \beta; V, W)$$
 *
 * (`standardStable`, in the site's coords), the site a deterministic point mass at `x`.
 *
 * @example
 * ```ts
 * const m = reparam(model, { x: new LatentStableReparam() }); // sites x_uniform, x_exponential
 * ```
 */
export class LatentStableReparam implements Reparam {
  /**
   * @throws ArgumentError naming the site when it is observed or not a `Stable`.
   */
  apply(msg: ReparamMessage): ReparamMessage {
    checkLatent(msg, 'LatentStableReparam');
    const { base, wrappers } = stableSite(msg, 'LatentStableReparam');
    const [u, e] = drawNoise(msg.name, base.batchShape, wrappers);
    const z = standardStable(base.stability, base.skew, u, e, base.coords);
    const value = tf.add(base.loc, tf.mul(base.scale, z));
    return {
      name: msg.name,
      fn: new Delta(value, msg.fn.eventShape.length),
      value,
      isObserved: true,
    };
  }
}

/**
 * Pyro's `SymmetricStableReparam`: a symmetric (`skew = 0`, `stability < 2`) `Stable` site, latent
 * or observed, as a scale mixture of normals,
 *
 * $$Z \sim S(\alpha/2, 1, 1, 0),\qquad
 *   x \mid Z \sim \mathcal N\big(\mu,\ \sqrt2\,\sigma\cos(\pi\alpha/4)^{1/\alpha}\sqrt Z\big),$$
 *
 * `Z` drawn from the auxiliary latents `<name>_uniform`, `<name>_exponential`; an observed site
 * stays observed (the normal likelihood given `Z`).
 *
 * @example
 * ```ts
 * const m = reparam(model, { obs: new SymmetricStableReparam() });
 * ```
 */
export class SymmetricStableReparam implements Reparam {
  /**
   * @throws ArgumentError naming the site when it is not a `Stable`, has a nonzero skew or a
   *   stability of 2.
   */
  apply(msg: ReparamMessage): ReparamMessage {
    const { base, wrappers } = stableSite(msg, 'SymmetricStableReparam');
    if (base.validateArgs) {
      checkAll(msg, base.skew, (v) => v === 0, 'SymmetricStableReparam expected skew 0');
      checkAll(msg, base.stability, (v) => v < 2, 'SymmetricStableReparam expected stability < 2');
    }
    const [u, e] = drawNoise(msg.name, base.batchShape, wrappers);
    const scale = tf.mul(base.scale, mixingScale(base.stability, u, e));
    const fn = new Normal(base.loc, tf.mul(Math.SQRT2, tf.maximum(scale, TINY32)));
    return keepObservation(msg, fn, wrappers);
  }
}

/**
 * The shift of {@link StableReparam}, smooth through `alpha = 1`:
 *
 * $$c = \big(\mathrm{sgn}(\beta)|\beta|^{1/\alpha} - \beta\big)\tan\tfrac{\pi\alpha}2
 *   = \beta\,\log|\beta|\;\frac{\operatorname{expm1}(k\log|\beta|)}{k\log|\beta|}\;
 *   \frac{2}{\pi\alpha}\;\frac{y}{\tan y},\quad k = \frac1\alpha - 1,\ y = \frac{\pi(\alpha-1)}2,$$
 *
 * `|beta|` clamped into `[eps, 1 - eps]`.
 */
function skewShift(alpha: tf.Tensor, beta: tf.Tensor, absBeta: tf.Tensor): tf.Tensor {
  const logB = tf.log(absBeta);
  const k = tf.sub(tf.reciprocal(alpha), 1);
  const y = tf.mul(k, logB);
  const smallY = lt(tf.abs(y), 1e-4);
  const ySafe = tf.where(smallY, tf.onesLike(y), y);
  const ratio = tf.where(smallY, tf.add(1, tf.mul(0.5, y)), tf.div(expm1(ySafe), ySafe));
  const w = tf.mul(HALF_PI, tf.sub(alpha, 1));
  const smallW = lt(tf.abs(w), 1e-3);
  const wSafe = tf.where(smallW, tf.onesLike(w), w);
  const g = tf.where(
    smallW,
    tf.sub(1, tf.div(tf.square(w), 3)),
    tf.div(tf.mul(wSafe, tf.cos(wSafe)), tf.sin(wSafe)),
  );
  const sgnB = tf.sign(beta);
  return tf.mul(
    tf.mul(tf.mul(sgnB, tf.mul(absBeta, logB)), ratio),
    tf.div(tf.mul(2 / Math.PI, g), alpha),
  );
}

/**
 * Pyro's `StableReparam`: any `Stable` site, latent or observed, as the sum of a totally skewed
 * and a symmetric stable variable (Zolotarev's Property 2.3.a), the symmetric part a scale
 * mixture of normals (module doc): auxiliary latents `<name>_t_uniform`, `<name>_t_exponential`
 * (the skewed `T ~ S0(alpha, 1)`) and `<name>_z_uniform`, `<name>_z_exponential` (the mixing
 * `Z ~ S(alpha/2, 1)`),
 *
 * $$x \mid T, Z \sim \mathcal N\Big(\mu + \sigma\big(\mathrm{sgn}(\beta)|\beta|^{1/\alpha} T + c\big),\
 *   \sqrt2\,\sigma(1 - |\beta|)^{1/\alpha}\cos(\pi\alpha/4)^{1/\alpha}\sqrt Z\Big);$$
 *
 * an observed site stays observed. Requires `stability < 2` (at 2 the site is a Normal).
 *
 * @example
 * ```ts
 * // fit the location of stable data by SVI
 * const m = reparam(model, { obs: new StableReparam() });
 * ```
 */
export class StableReparam implements Reparam {
  /**
   * @throws ArgumentError naming the site when it is not a `Stable` or has a stability of 2.
   */
  apply(msg: ReparamMessage): ReparamMessage {
    const { base, wrappers } = stableSite(msg, 'StableReparam');
    if (base.validateArgs) {
      checkAll(msg, base.stability, (v) => v < 2, 'StableReparam expected stability < 2');
    }
    const a = base.stability;
    const [zu, ze] = drawNoise(`${msg.name}_z`, base.batchShape, wrappers);
    const [tu, te] = drawNoise(`${msg.name}_t`, base.batchShape, wrappers);
    const t = standardStable(a, tf.onesLike(a), tu, te, 'S0');
    const absB = tf.clipByValue(tf.abs(base.skew), EPS32, 1 - EPS32);
    const invA = tf.reciprocal(a);
    const tScale = tf.exp(tf.mul(invA, tf.log(absB)));
    const sScale = tf.exp(tf.mul(invA, tf.log(tf.sub(1, absB))));
    const shift = skewShift(a, base.skew, absB);
    const loc = tf.add(
      locS0(base),
      tf.mul(base.scale, tf.add(tf.mul(tf.mul(tf.sign(base.skew), tScale), t), shift)),
    );
    const scale = tf.mul(tf.mul(base.scale, sScale), mixingScale(a, zu, ze));
    const fn = new Normal(loc, tf.mul(Math.SQRT2, tf.maximum(scale, TINY32)));
    return keepObservation(msg, fn, wrappers);
  }
}
