/**
 * Priors and posteriors of Bayesian layers, as plain JSON objects (never functions), so that a
 * layer's config is serializable and a saved model loads back with the same prior.
 *
 * - {@link NormalPrior}: `p(w) = N(w; mu, sigma^2)` for every weight (BayesianCNN, MindSpore).
 * - {@link ScaleMixturePrior}: `p(w) = pi N(w; 0, sigma1^2) + (1 - pi) N(w; 0, sigma2^2)`
 *   (Blundell et al. 2015, "Weight Uncertainty in Neural Networks", eq. 7).
 * - {@link NormalPosterior}: `q(w) = N(w; mu, softplus(rho)^2)` with trainable `mu`, `rho`, and the
 *   normal initialisations `mu ~ N(muInitial[0], muInitial[1]^2)`, `rho ~ N(rhoInitial[0], ...)`.
 *
 * The `type` tags are lower camel case because tfjs-layers rewrites string values in configs
 * (camelCase <-> snake_case) on save and load; {@link normalizePrior} also accepts the class-like
 * spellings `'NormalPrior'`, `'normal_prior'`, `'ScaleMixturePrior'`, ...
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';

/** A Normal prior `N(mu, sigma^2)` on every weight. */
export type NormalPrior = { type: 'normal'; mu: number; sigma: number };

/**
 * Blundell's scale-mixture prior `pi N(0, sigma1^2) + (1 - pi) N(0, sigma2^2)`; usually
 * `sigma1 > sigma2` with `sigma2 << 1` (e.g. `pi = 0.5, sigma1 = 1, sigma2 = exp(-6)`).
 */
export type ScaleMixturePrior = {
  type: 'scaleMixture';
  pi: number;
  sigma1: number;
  sigma2: number;
};

/** Any prior of a Bayesian layer. */
export type PriorConfig = NormalPrior | ScaleMixturePrior;

/**
 * The mean-field Normal posterior `q(w) = N(mu, softplus(rho)^2)`, with the (mean, std) of the
 * normal initialisations of `mu` and `rho` (BayesianCNN's `posterior_mu_initial`,
 * `posterior_rho_initial`).
 */
export type NormalPosterior = {
  type: 'normal';
  muInitial: [number, number];
  rhoInitial: [number, number];
};

/** Any posterior of a Bayesian layer (only the mean-field Normal for now). */
export type PosteriorConfig = NormalPosterior;

/** A prior given loosely: tags in any common spelling, missing fields take the defaults. */
export type PriorInput =
  | { type: string; mu?: number; sigma?: number; pi?: number; sigma1?: number; sigma2?: number }
  | PriorConfig;
/** A posterior given loosely (missing fields take the defaults). */
export type PosteriorInput = {
  type?: string;
  muInitial?: readonly number[];
  rhoInitial?: readonly number[];
};

/** BayesianCNN's defaults: `prior_mu = 0`, `prior_sigma = 0.1`. */
export const DEFAULT_PRIOR: NormalPrior = { type: 'normal', mu: 0, sigma: 0.1 };
/** BayesianCNN's defaults: `posterior_mu_initial = (0, 0.1)`, `posterior_rho_initial = (-3, 0.1)`. */
export const DEFAULT_POSTERIOR: NormalPosterior = {
  type: 'normal',
  muInitial: [0, 0.1],
  rhoInitial: [-3, 0.1],
};

/**
 * A Normal prior `N(mu, sigma^2)`.
 * @param mu prior mean. Default 0.
 * @param sigma prior standard deviation, > 0. Default 0.1.
 * @example
 * ```ts
 * layers.denseReparam({ outChannels: 10, prior: normalPrior(0, 1) });
 * ```
 */
export function normalPrior(mu = 0, sigma = 0.1): NormalPrior {
  return checkPrior({ type: 'normal', mu, sigma }, 'prior');
}

/**
 * Blundell's scale-mixture prior `pi N(0, sigma1^2) + (1 - pi) N(0, sigma2^2)`.
 * @param pi weight of the first component, in [0, 1]. Default 0.5.
 * @param sigma1 standard deviation of the first component, > 0. Default 1.
 * @param sigma2 standard deviation of the second component, > 0. Default `exp(-6)`.
 */
export function scaleMixturePrior(pi = 0.5, sigma1 = 1, sigma2 = Math.exp(-6)): ScaleMixturePrior {
  return checkPrior({ type: 'scaleMixture', pi, sigma1, sigma2 }, 'prior');
}

/**
 * A mean-field Normal posterior with the given initialisations.
 * @param muInitial (mean, std) of the normal initialisation of `mu`. Default `[0, 0.1]`.
 * @param rhoInitial (mean, std) of the normal initialisation of `rho`; `sigma = softplus(rho)`.
 *   Default `[-3, 0.1]` (sigma about 0.049).
 */
export function normalPosterior(
  muInitial: [number, number] = [0, 0.1],
  rhoInitial: [number, number] = [-3, 0.1],
): NormalPosterior {
  return normalizePosterior({ muInitial, rhoInitial }, 'posterior');
}

function tagOf(type: string): string {
  return type
    .replace(/[_\s-]/g, '')
    .toLowerCase()
    .replace(/(prior|posterior)$/, '');
}

/** Throw `ArgumentError(name)` unless `v` is a finite number; returns it. */
export function checkFinite(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ArgumentError(name, `expected a finite number, got ${String(v)}`);
  }
  return v;
}

function positive(v: unknown, name: string): number {
  const x = checkFinite(v, name);
  if (!(x > 0)) throw new ArgumentError(name, `expected a number > 0, got ${x}`);
  return x;
}

function checkPrior<P extends PriorConfig>(p: P, name: string): P {
  if (p.type === 'normal') {
    checkFinite(p.mu, `${name}.mu`);
    positive(p.sigma, `${name}.sigma`);
  } else {
    const pi = checkFinite(p.pi, `${name}.pi`);
    if (pi < 0 || pi > 1)
      throw new ArgumentError(`${name}.pi`, `expected a value in [0, 1], got ${pi}`);
    positive(p.sigma1, `${name}.sigma1`);
    positive(p.sigma2, `${name}.sigma2`);
  }
  return p;
}

/**
 * Refuse a field a prior or posterior object does not have (e.g. torch's `scale` for `sigma`),
 * which would otherwise be ignored in favour of the default.
 * @throws ArgumentError naming `name.field`.
 */
function checkFields(p: object, fields: readonly string[], name: string): void {
  for (const [k, v] of Object.entries(p)) {
    if (v !== undefined && !fields.includes(k)) {
      throw new ArgumentError(
        `${name}.${k}`,
        `not a field of this ${name} (fields: ${fields.join(', ')})`,
      );
    }
  }
}

/**
 * Check a prior and bring it to its canonical form (`type` `'normal'` or `'scaleMixture'`).
 * @param p the prior, with `type` in any spelling (`'NormalPrior'`, `'normal_prior'`, ...).
 * @param name the argument name used in errors.
 * @throws ArgumentError for an unknown type or out-of-range parameters (e.g. `sigma <= 0`).
 */
export function normalizePrior(p: PriorInput, name = 'prior'): PriorConfig {
  if (p === null || typeof p !== 'object' || typeof p.type !== 'string') {
    throw new ArgumentError(
      name,
      `expected {type: 'normal', mu, sigma} or {type: 'scaleMixture', pi, sigma1, sigma2}, got ${JSON.stringify(p)}`,
    );
  }
  const tag = tagOf(p.type);
  if (tag === 'normal' || tag === 'scalemixture') {
    checkFields(
      p,
      tag === 'normal' ? ['type', 'mu', 'sigma'] : ['type', 'pi', 'sigma1', 'sigma2'],
      name,
    );
  }
  if (tag === 'normal') {
    const q = p as { mu?: number; sigma?: number };
    return checkPrior({ type: 'normal', mu: q.mu ?? 0, sigma: q.sigma ?? 0.1 }, name);
  }
  if (tag === 'scalemixture') {
    const q = p as { pi?: number; sigma1?: number; sigma2?: number };
    return checkPrior(
      {
        type: 'scaleMixture',
        pi: q.pi ?? 0.5,
        sigma1: q.sigma1 ?? 1,
        sigma2: q.sigma2 ?? Math.exp(-6),
      },
      name,
    );
  }
  throw new ArgumentError(
    `${name}.type`,
    `expected 'normal' (NormalPrior) or 'scaleMixture' (ScaleMixturePrior), got '${p.type}'`,
  );
}

/** Check a `[mean, std]` pair (std >= 0); returns a copy. */
export function checkMeanStd(v: readonly number[], name: string): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) {
    throw new ArgumentError(name, `expected [mean, std], got ${JSON.stringify(v)}`);
  }
  const m = checkFinite(v[0], `${name}[0]`);
  const s = checkFinite(v[1], `${name}[1]`);
  if (s < 0) throw new ArgumentError(`${name}[1]`, `expected a std >= 0, got ${s}`);
  return [m, s];
}

/**
 * Check a posterior and bring it to its canonical form.
 * @throws ArgumentError for an unknown type or a negative initial std.
 */
export function normalizePosterior(p: PosteriorInput, name = 'posterior'): NormalPosterior {
  if (p === null || typeof p !== 'object') {
    throw new ArgumentError(
      name,
      `expected {type: 'normal', muInitial, rhoInitial}, got ${String(p)}`,
    );
  }
  if (p.type !== undefined && tagOf(p.type) !== 'normal') {
    throw new ArgumentError(`${name}.type`, `expected 'normal' (NormalPosterior), got '${p.type}'`);
  }
  checkFields(p, ['type', 'muInitial', 'rhoInitial'], name);
  return {
    type: 'normal',
    muInitial: checkMeanStd(p.muInitial ?? DEFAULT_POSTERIOR.muInitial, `${name}.muInitial`),
    rhoInitial: checkMeanStd(p.rhoInitial ?? DEFAULT_POSTERIOR.rhoInitial, `${name}.rhoInitial`),
  };
}

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * `log p(w)` of a prior, elementwise (no reduction). For the scale mixture the two components
 * are combined with a stable log-sum-exp.
 *
 * $$\log p(w) = \log\big(\pi\,N(w;0,\sigma_1^2) + (1-\pi)\,N(w;0,\sigma_2^2)\big)$$
 */
export function priorLogProb(prior: PriorConfig, w: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    if (prior.type === 'normal') {
      const z = tf.div(tf.sub(w, prior.mu), prior.sigma);
      return tf.sub(tf.mul(-0.5, tf.square(z)), HALF_LOG_2PI + Math.log(prior.sigma));
    }
    const w2 = tf.square(w);
    const comp = (weight: number, s: number): tf.Tensor =>
      tf.sub(tf.mul(w2, -0.5 / (s * s)), HALF_LOG_2PI + Math.log(s) - Math.log(weight));
    if (prior.pi <= 0) return comp(1, prior.sigma2);
    if (prior.pi >= 1) return comp(1, prior.sigma1);
    const a = comp(prior.pi, prior.sigma1);
    const b = comp(1 - prior.pi, prior.sigma2);
    const m = tf.maximum(a, b);
    return tf.add(m, tf.log(tf.add(tf.exp(tf.sub(a, m)), tf.exp(tf.sub(b, m)))));
  });
}
