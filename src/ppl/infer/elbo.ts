/**
 * ELBO estimators of the probabilistic language, built by composing handlers as in minipyro:
 *
 * ```
 * guideTrace = trace(guide).getTrace(...args)
 * modelTrace = trace(replay(model, {trace: guideTrace})).getTrace(...args)
 * ELBO = sum_model log p(sites) - sum_guide log q(sites)
 * ```
 *
 * This file holds the estimator frame (`ELBOEstimator`, `ParticleELBO`, particles and traces) and
 * `TraceELBO`; the guide's `log q` and score-function terms are in `guide_terms.ts`,
 * `TraceMeanFieldELBO` in `trace_mean_field_elbo.ts`.
 */
import * as tf from '@tensorflow/tfjs';
import { plate } from '../handlers/plate.js';
import { replay } from '../handlers/replay.js';
import { trace } from '../handlers/trace.js';
import type { Fn } from '../messenger.js';
import { isValidationEnabled } from '../site_validation.js';
import { checkedReplay, checkModelGuideMatch } from './check.js';
import { checkParticleBroadcast } from './particle_check.js';
import type { Trace } from '../trace.js';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { elboCostTerms, guideLogProbSum, scoreFunctionTerm, type CostTerm } from './guide_terms.js';

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

  /**
   * The particle average of the loss, `-\hat{\mathcal L} = -\frac1P \sum_{p=1}^P \sum_j t_{p,j}`:
   * `terms` runs `runs` times (default `P`, one run per particle; 1 for `P` vectorized
   * particles) and gives the terms `t_{p,j}` of its run (one per guide trace of the particle),
   * summed into one total in order, then negated and divided by `P`. Tidied.
   *
   * @param numParticles `P`, the divisor.
   * @param terms one run's terms (traces are made lazily, one at a time).
   * @param runs how often `terms` runs.
   */
  protected particleAverage(
    numParticles: number,
    terms: () => Iterable<tf.Tensor>,
    runs = numParticles,
  ): tf.Scalar {
    return tf.tidy(() => {
      let total: tf.Tensor = tf.scalar(0);
      for (let p = 0; p < runs; p++) for (const t of terms()) total = tf.add(total, t);
      return tf.div(tf.neg(total), numParticles) as tf.Scalar;
    });
  }

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

  /**
   * The cost that weights the score-function terms of a particle's non-reparameterized guide
   * sites (see `scoreFunctionTerm`): by default the particle's whole estimate `elbo`; a
   * subclass may give its terms instead (Rao-Blackwellized by plates).
   */
  protected scoreCost(
    _guideTrace: Trace,
    _modelTrace: Trace,
    elbo: tf.Tensor,
  ): tf.Tensor | (() => readonly CostTerm[]) {
    return elbo;
  }

  /** One particle's estimate plus its score-function surrogate (value 0). Untidied. */
  private particleSurrogate(guideTrace: Trace, modelTrace: Trace): tf.Tensor {
    const elbo = this.particleElbo(guideTrace, modelTrace);
    const cost = this.scoreCost(guideTrace, modelTrace, elbo);
    return tf.add(elbo, scoreFunctionTerm(guideTrace, cost));
  }

  differentiableLoss<A extends unknown[]>(
    model: Callable<A>,
    guide: Callable<A>,
    args: A,
  ): tf.Scalar {
    if (this.vectorizeParticles) {
      // one run of the P particles at once
      return this.particleAverage(
        this.numParticles,
        () => {
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
          return [this.particleSurrogate(guideTrace, modelTrace)];
        },
        1,
      );
    }
    return this.particleAverage(this.numParticles, () => {
      const { guideTrace, modelTrace } = this.traces(model, guide, args);
      return [this.particleSurrogate(guideTrace, modelTrace)];
    });
  }
}

/**
 * The Monte Carlo ELBO of Pyro's `Trace_ELBO`:
 *
 * $$\mathcal L = \mathbb E_{q(z)}\Big[\sum_{\text{model sites}} s\,\log p - \sum_{\text{guide sites}} s\,\log q\Big]$$
 *
 * with `s` the site scales (plates, `scale`). Gradients flow by reparameterization; a guide site
 * `z_i` without `rsample` gets, as Pyro's surrogate, the score-function term and no entropy term:
 *
 * $$\hat\nabla\mathcal L = \nabla_{\text{rep}}\Big(\sum s\log p - \sum_{\text{rep}} s\log q\Big)
 *   + \sum_{i\ \text{non-rep}}\sum_b s_i\,\nabla\log q(z_{i,b})\,\mathrm{cost}_{i,b}$$
 *
 * (the mean-zero `-\nabla\log q(z_i)` is left out), where `cost_{i,b}` sums the estimate's terms
 * `s log p - s log q` over everything but the members of the plates site `i` shares with them,
 * which keep element `b`'s own (Pyro's partial Rao-Blackwellization by plates; the vectorized
 * particles are such a plate). Unlike Pyro, the cost also counts the guide's sites that the model
 * does not have (Pyro leaves their `-log q` out, which biases their own score term). The loss's
 * value is the plain `-L` estimate.
 *
 * @example
 * ```ts
 * const svi = new SVI(model, guide, tf.train.adam(0.01), new TraceELBO());
 * ```
 */
export class TraceELBO extends ParticleELBO {
  protected particleElbo(guideTrace: Trace, modelTrace: Trace): tf.Tensor {
    return tf.sub(modelTrace.logProbSum(), guideLogProbSum(guideTrace, 'TraceELBO', false, true));
  }

  protected override scoreCost(guideTrace: Trace, modelTrace: Trace): () => readonly CostTerm[] {
    return () => elboCostTerms(modelTrace, guideTrace, 'TraceELBO');
  }
}
