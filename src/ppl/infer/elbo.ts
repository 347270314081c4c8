/**
 * ELBO estimators of the probabilistic language, built by composing handlers as in minipyro:
 *
 * ```
 * guideTrace = trace(guide).getTrace(...args)
 * modelTrace = trace(replay(model, {trace: guideTrace})).getTrace(...args)
 * ELBO = sum_model log p(sites) - sum_guide log q(sites)
 * ```
 */
import * as tf from '@tensorflow/tfjs';
import { lookupKL } from '../../distributions/kl.js';
import { plate } from '../handlers/plate.js';
import { replay } from '../handlers/replay.js';
import { trace } from '../handlers/trace.js';
import type { Fn } from '../messenger.js';
import type { Message } from '../runtime.js';
import { isValidationEnabled } from '../site_validation.js';
import { checkedReplay, checkModelGuideMatch } from './check.js';
import { checkParticleBroadcast } from './particle_check.js';
import {
  applySiteScaleTensor,
  siteLogProb,
  siteLogProbSum,
  siteMask,
  type Trace,
} from '../trace.js';
import { ArgumentError, NotRegisteredError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { stopGradient } from '../../utils/tensor.js';
import { Unit } from '../unit.js';
import type { Distribution } from '../../distributions/distribution.js';
import { ExpandedDistribution } from '../../distributions/expanded.js';

/** A model or guide: a function, or an object with a `call` method (autoguides). */
export type Callable<A extends unknown[]> = Fn<A, unknown> | { call(...args: A): unknown };

/** Normalize a {@link Callable} to a function. */
export function asFn<A extends unknown[]>(
  f: Callable<A>,
  argument = 'model/guide',
): Fn<A, unknown> {
  if (typeof f === 'function') return f;
  if (f !== null && typeof f === 'object' && typeof f.call === 'function') {
    return (...args: A) => f.call(...args);
  }
  const o = f as unknown as Record<string, unknown> | null;
  if (o !== null && typeof o === 'object' && typeof o.valueAndGrad === 'function') {
    throw new ArgumentError(
      argument,
      'expected a model function (or an object with a call method); got a potential ' +
        '({dim, valueAndGrad}, e.g. from potentialFromFn), which has no sample sites to run: ' +
        'pass the model whose draws these are',
    );
  }
  throw new ArgumentError(argument, 'expected a function or an object with a call method');
}

/** A loss for {@link SVI}: a differentiable scalar estimate of `-ELBO`. */
export interface ELBOLoss {
  /** `-ELBO` as a scalar tensor, differentiable in the parameters. Call inside `tf.tidy`. */
  differentiableLoss<A extends unknown[]>(
    model: Callable<A>,
    guide: Callable<A>,
    args: A,
  ): tf.Scalar;
}

/**
 * The base of the ELBO estimators: a subclass gives the differentiable `-ELBO`; `loss` reads it
 * as a number without gradients.
 */
export abstract class ELBOEstimator implements ELBOLoss {
  abstract differentiableLoss<A extends unknown[]>(
    model: Callable<A>,
    guide: Callable<A>,
    args: A,
  ): tf.Scalar;

  /** `-ELBO` as a number (no gradients). */
  loss<A extends unknown[]>(model: Callable<A>, guide: Callable<A>, ...args: A): number {
    const l = tf.tidy(() => this.differentiableLoss(model, guide, args));
    try {
      return l.arraySync() as number;
    } finally {
      l.dispose();
    }
  }
}

/** Options of the ELBO estimators. */
export interface ELBOOptions {
  /** Number of Monte Carlo particles averaged per estimate. Default 1. */
  numParticles?: number;
  /**
   * Draw the particles in one vectorized run (Pyro's `vectorize_particles`): model and guide run
   * inside a plate of `numParticles` at dim `-(maxPlateNesting + 1)`, so every site gets a
   * leading particle dimension. The model must broadcast over batch dims (vector sites declared
   * with `toEvent`; `X @ beta` as `tf.sum(tf.mul(X, beta), -1)`): a model that does not fails
   * with an `ArgumentError` naming this option and the particle dim, with tfjs's message.
   * Default false.
   */
  vectorizeParticles?: boolean;
  /** The largest number of nested plates in model and guide; default: found by one trial run. */
  maxPlateNesting?: number;
}

/** Name of the plate of vectorized particles. */
export const PARTICLE_PLATE = '_num_particles_vectorized';

/**
 * The largest `-dim` of any plate around a site of the model or guide (Pyro's
 * `max_plate_nesting`), found by tracing both once.
 */
export function guessMaxPlateNesting<A extends unknown[]>(
  model: Callable<A>,
  guide: Callable<A>,
  args: A,
): number {
  let n = 0;
  tf.tidy(() => {
    const { guideTrace, modelTrace } = guideAndModelTraces(model, guide, args);
    for (const t of [guideTrace, modelTrace]) {
      for (const s of t.sites()) for (const f of s.cond) n = Math.max(n, -f.dim);
    }
  });
  return n;
}

/** `fn` run inside the plate of `p` vectorized particles at `dim`. */
export function inParticlePlate<A extends unknown[]>(
  fn: Callable<A>,
  p: number,
  dim: number,
): Fn<A, unknown> {
  const f = asFn(fn);
  return (...args: A) => plate(PARTICLE_PLATE, p, { dim }, () => f(...args));
}

/**
 * `run()` of the model and guide inside the particle plate; a failure that is not an
 * {@link ArgumentError} (a tfjs shape error: the model does not broadcast over the particle dim,
 * e.g. `tf.matMul(X, tf.reshape(beta, [-1, 1]))` of a `beta` that is now `[P, D]`) is rethrown
 * naming the option, the particle dim and the way out, with the original message.
 */
function vectorizedRun<T>(numParticles: number, dim: number, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof ArgumentError || !(e instanceof Error)) throw e;
    const err = new ArgumentError(
      'vectorizeParticles',
      `the model and guide run inside a plate of ${numParticles} particles at dim ${dim}, so ` +
        `every latent site has an extra batch dim of size ${numParticles} there, and the run ` +
        `failed: ${e.message}. Write the model to broadcast over dims left of its plates ` +
        `(e.g. X @ beta as tf.sum(tf.mul(X, beta), -1) rather than a matMul with beta reshaped ` +
        `to [-1, 1]; vector sites with toEvent), or set vectorizeParticles: false`,
    );
    (err as Error & { cause?: unknown }).cause = e;
    throw err;
  }
}

/**
 * Run the guide, then the model replayed at the guide's sample; both traces (untidied). With
 * validation on, each replayed value must fit its model site ({@link checkedReplay}, batch dims
 * beyond the site's allowed only left of `maxPlateNesting`, default `Infinity`) and the traces
 * must match ({@link checkModelGuideMatch}).
 */
export function guideAndModelTraces<A extends unknown[]>(
  model: Callable<A>,
  guide: Callable<A>,
  args: A,
  maxPlateNesting = Infinity,
): { guideTrace: Trace; modelTrace: Trace } {
  const guideTrace = trace(asFn(guide)).getTraceUntidied(...args).trace;
  const validate = isValidationEnabled();
  const replayed = validate
    ? checkedReplay(asFn(model), guideTrace, maxPlateNesting)
    : replay(asFn(model), { trace: guideTrace });
  const modelTrace = trace(replayed).getTraceUntidied(...args).trace;
  if (validate) checkModelGuideMatch(modelTrace, guideTrace);
  return { guideTrace, modelTrace };
}

function checkParticles(n: number): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new ArgumentError('numParticles', `expected an integer >= 1, got ${n}`);
  }
  return n;
}

/** The {@link Unit} inside a site's distribution (a plate or particle plate expands it). */
function unitOf(fn: Distribution | null): Unit | undefined {
  let d = fn;
  while (d instanceof ExpandedDistribution) d = d.base;
  return d instanceof Unit ? d : undefined;
}

/** Whether `s` is a `factor` site (an observed {@link Unit} site), e.g. of a guide. */
export function isFactorSite(s: Message): boolean {
  return s.type === 'sample' && s.isObserved && unitOf(s.fn) !== undefined;
}

/**
 * The guide's factor sites, checked: each must say `hasRsample` (Pyro: "must be specified for use
 * in guides"); `reparamOnly` (an ELBO without score-function terms for them) also refuses `false`.
 */
export function guideFactorSites(guideTrace: Trace, elbo: string, reparamOnly = false): Message[] {
  const out = guideTrace.sampleSites().filter(isFactorSite);
  for (const s of out) {
    const r = (unitOf(s.fn) as Unit).rsampled;
    if (r === undefined || (reparamOnly && !r)) {
      throw new ArgumentError(
        s.name,
        r === undefined
          ? `${elbo}: factor '${s.name}' in the guide needs hasRsample (true when its log-weight ` +
              'comes from reparameterized draws, false otherwise), as in Pyro'
          : `${elbo}: factor '${s.name}' in the guide has hasRsample false; this ELBO needs ` +
              'reparameterized guide factors (use TraceELBO)',
      );
    }
  }
  return out;
}

/**
 * `log q` of one guide run (Pyro's sum over the guide's sample sites): its latent sites plus its
 * `factor` sites; a factor with `hasRsample: false` enters with its value only (detached), its
 * gradient coming from the score-function term as in Pyro.
 */
export function guideLogProbSum(guideTrace: Trace, elbo: string, reparamOnly = false): tf.Tensor {
  let lq = guideTrace.logProbSum((s) => !s.isObserved);
  for (const f of guideFactorSites(guideTrace, elbo, reparamOnly)) {
    const l = siteLogProbSum(f);
    lq = tf.add(lq, (unitOf(f.fn) as Unit).hasRsample ? l : stopGradient(l));
  }
  return lq;
}

/**
 * Score-function surrogate for guide sites that cannot be reparameterized:
 * `sum_i log q(z_i) * sg(elbo)`, whose value is removed with `x - sg(x)` so that only its gradient
 * `E[grad log q * elbo]` (REINFORCE) is added.
 */
export function scoreFunctionTerm(guideTrace: Trace, elbo: tf.Tensor): tf.Tensor {
  const nonReparam = guideTrace.sampleSites().filter(
    (s) =>
      (!s.isObserved || isFactorSite(s)) &&
      s.fn !== null &&
      !s.fn.hasRsample &&
      // a guide site enumerated by TraceEnumELBO is summed out exactly: no score term
      s.infer._enumerated !== true &&
      // nor one enumerated sequentially (its weights q(v) carry the gradient, seq_enum.ts)
      typeof s.infer._enumTotal !== 'number',
  );
  if (nonReparam.length === 0) return tf.scalar(0);
  let lq: tf.Tensor = tf.scalar(0);
  for (const s of nonReparam) lq = tf.add(lq, siteLogProbSum(s));
  const surrogate = tf.mul(lq, stopGradient(elbo));
  return tf.sub(surrogate, stopGradient(surrogate));
}

/**
 * The common frame of the particle ELBO estimators (Pyro's `ELBO` base): each particle runs the
 * guide, replays the model on its sample and contributes one estimate `L_p`, plus the
 * score-function surrogate of the guide sites that cannot be reparameterized; the loss is
 *
 * $$-\hat{\mathcal L} = -\frac1P\sum_{p=1}^P \mathcal L_p$$
 *
 * Subclasses give `L_p` from the two traces ({@link ParticleELBO.particleElbo}).
 *
 * @example
 * ```ts
 * class MyELBO extends ParticleELBO {
 *   protected particleElbo(guideTrace: Trace, modelTrace: Trace) {
 *     return tf.sub(modelTrace.logProbSum(), guideTrace.logProbSum((s) => !s.isObserved));
 *   }
 * }
 * ```
 */
export abstract class ParticleELBO extends ELBOEstimator {
  readonly numParticles: number;
  readonly vectorizeParticles: boolean;
  /** The plate nesting of the model (given, or found on the first vectorized estimate). */
  protected maxPlateNesting: number | undefined;
  constructor(options: ELBOOptions = {}) {
    super();
    checkOptionKeys(
      options,
      ['numParticles', 'vectorizeParticles', 'maxPlateNesting'],
      new.target.name,
    );
    this.numParticles = checkParticles(options.numParticles ?? 1);
    this.vectorizeParticles = options.vectorizeParticles ?? false;
    const m = options.maxPlateNesting;
    if (m !== undefined && (!Number.isInteger(m) || m < 0)) {
      throw new ArgumentError('maxPlateNesting', `expected an integer >= 0, got ${m}`);
    }
    this.maxPlateNesting = m;
  }

  /** The guide's trace and the model's trace replayed at the guide's sample (untidied). */
  protected traces<A extends unknown[]>(
    model: Callable<A>,
    guide: Callable<A>,
    args: A,
  ): { guideTrace: Trace; modelTrace: Trace } {
    return guideAndModelTraces(model, guide, args, this.maxPlateNesting);
  }

  /** One particle's ELBO estimate from the guide's trace and the model's replayed trace. */
  protected abstract particleElbo(guideTrace: Trace, modelTrace: Trace): tf.Tensor;

  differentiableLoss<A extends unknown[]>(
    model: Callable<A>,
    guide: Callable<A>,
    args: A,
  ): tf.Scalar {
    return tf.tidy(() => {
      let total: tf.Tensor = tf.scalar(0);
      if (this.vectorizeParticles) {
        this.maxPlateNesting ??= guessMaxPlateNesting(model, guide, args);
        const dim = -(this.maxPlateNesting + 1);
        const { guideTrace, modelTrace } = vectorizedRun(this.numParticles, dim, () =>
          this.traces(
            inParticlePlate(model, this.numParticles, dim),
            inParticlePlate(guide, this.numParticles, dim),
            args,
          ),
        );
        checkParticleBroadcast({ guide: guideTrace, model: modelTrace }, this.numParticles, dim);
        const elbo = this.particleElbo(guideTrace, modelTrace);
        total = tf.add(elbo, scoreFunctionTerm(guideTrace, elbo));
        return tf.div(tf.neg(total), this.numParticles) as tf.Scalar;
      }
      for (let p = 0; p < this.numParticles; p++) {
        const { guideTrace, modelTrace } = this.traces(model, guide, args);
        const elbo = this.particleElbo(guideTrace, modelTrace);
        total = tf.add(total, tf.add(elbo, scoreFunctionTerm(guideTrace, elbo)));
      }
      return tf.div(tf.neg(total), this.numParticles) as tf.Scalar;
    });
  }
}

/**
 * The Monte Carlo ELBO of Pyro's `Trace_ELBO`:
 *
 * $$\mathcal L = \mathbb E_{q(z)}\Big[\sum_{\text{model sites}} s\,\log p - \sum_{\text{guide sites}} s\,\log q\Big]$$
 *
 * with `s` the site scales (plates, `scale`). Gradients flow by reparameterization; guide sites
 * without `rsample` get a score-function term.
 *
 * @example
 * ```ts
 * const svi = new SVI(model, guide, tf.train.adam(0.01), new TraceELBO());
 * ```
 */
export class TraceELBO extends ParticleELBO {
  protected particleElbo(guideTrace: Trace, modelTrace: Trace): tf.Tensor {
    return tf.sub(modelTrace.logProbSum(), guideLogProbSum(guideTrace, 'TraceELBO'));
  }
}

function klTerm(q: Message, p: Message): tf.Tensor {
  return tf.tidy(() => {
    const qf = q.fn;
    const pf = p.fn;
    if (qf === null || pf === null) return tf.scalar(0);
    const fn = lookupKL(qf, pf);
    let kl: tf.Tensor | undefined;
    if (fn !== undefined) {
      try {
        kl = fn(qf, pf);
      } catch (e) {
        // a registered wrapper pair (Expanded, Independent, Transformed) whose inner pair has
        // no analytic form: estimate it as Pyro does (its kl_divergence raises NotImplementedError)
        if (!(e instanceof NotRegisteredError)) throw e;
      }
    }
    // the single-sample Monte Carlo estimate log q(z) - log p(z) at the guide's draw, each side
    // summed with its own mask and scale (Pyro's log_prob_sum of each site, TraceELBO's terms):
    // an autoguide's q scores a plate's whole value as one event (a scalar), which subtracted
    // elementwise from p's per-element log-densities would count log q once per element
    if (kl === undefined) return tf.sub(siteLogProbSum(q), siteLogProbSum(p));
    if (p.mask === false) return tf.scalar(0);
    if (p.mask instanceof tf.Tensor) {
      kl = tf.where(siteMask(p, kl.shape), kl, tf.zerosLike(kl));
    }
    kl = applySiteScaleTensor(p, kl);
    const s = tf.sum(kl);
    return p.scale === 1 ? s : tf.mul(s, p.scale);
  });
}

/**
 * The ELBO with analytic KL terms (Pyro's `TraceMeanField_ELBO`): for each latent site of both
 * the model and the guide, `E_q[log p - log q]` is replaced by `-KL(q || p)` when the pair has a
 * registered analytic KL, and by the single-sample estimate `log q(z) - log p(z)` at the guide's
 * draw otherwise (each side summed over its site with its own scale and mask, as `TraceELBO`) (also when a registered wrapper pair, e.g. two `Expanded` made by plates or
 * vectorized particles, wraps a pair without one, as Pyro falls back on `NotImplementedError`):
 *
 * $$\mathcal L = \mathbb E_q\Big[\sum_{\text{obs}} s\log p(x\mid z)\Big] - \sum_{\text{latent}} s\,\mathrm{KL}(q_z\,\|\,p_z)$$
 *
 * Valid when the guide is mean-field and each prior depends on no other latent (then the KL is
 * exact; otherwise it is the usual unbiased estimate conditioned on the sampled parents).
 */
export class TraceMeanFieldELBO extends ParticleELBO {
  protected particleElbo(guideTrace: Trace, modelTrace: Trace): tf.Tensor {
    let elbo: tf.Tensor = tf.scalar(0);
    for (const site of modelTrace.sampleSites()) {
      const g = guideTrace.get(site.name);
      if (!site.isObserved && g !== undefined && g.type === 'sample' && !g.isObserved) {
        elbo = tf.sub(elbo, klTerm(g, site));
      } else {
        elbo = tf.add(elbo, siteLogProbSum(site));
      }
    }
    for (const g of guideTrace.latentSites()) {
      if (!modelTrace.has(g.name)) elbo = tf.sub(elbo, siteLogProbSum(g));
    }
    // the guide's auxiliary factor sites (Pyro: their entropy term, fully reparameterized)
    for (const f of guideFactorSites(guideTrace, 'TraceMeanFieldELBO', true)) {
      if (!modelTrace.has(f.name)) elbo = tf.sub(elbo, siteLogProbSum(f));
    }
    return elbo;
  }
}

/**
 * The guide's cost terms one by one (what {@link guideLogProbSum} adds up): each latent site's
 * masked, scaled log-density `s log q` over its batch shape, and each `factor` site's (its value
 * only, detached, when it has `hasRsample: false`). Untidied.
 */
export function guideLogProbTerms(
  guideTrace: Trace,
  elbo: string,
): { site: Message; logProb: tf.Tensor }[] {
  const out = guideTrace.latentSites().map((site) => ({ site, logProb: siteLogProb(site) }));
  for (const f of guideFactorSites(guideTrace, elbo)) {
    const l = siteLogProb(f);
    out.push({ site: f, logProb: (unitOf(f.fn) as Unit).hasRsample ? l : stopGradient(l) });
  }
  return out;
}
