/**
 * `TraceTailAdaptiveELBO` (Pyro's `TraceTailAdaptive_ELBO`; Wang, Liu & Liu 2018, "Variational
 * inference with tail-adaptive f-divergence"): variational inference with an f-divergence whose
 * `f` adapts to the tail of the importance weights. From `P` vectorized particles `z_p ~ q`
 * (reparameterized) with log weights `ℓ_p = log p(x, z_p) - log q(z_p)`, each particle gets the
 * weight of its tail rank
 *
 * $$r_p = \#\{j : \ell_j \ge \ell_p\},\qquad \gamma_p = \frac{r_p^{\beta}}{\sum_j r_j^{\beta}}$$
 *
 * (`β = tailAdaptiveBeta`, default -1: `r_p / P` is the empirical tail probability
 * `\hat F(w_p)` of the paper's Eq. 8, whose `1/P` cancels in the normalization; the largest weight has
 * rank 1 and, for `β < 0`, the largest `γ`), and the gradient is the weighted reparameterized one
 *
 * $$\nabla_\phi \mathcal L = \sum_p \gamma_p\, \nabla_z \log\frac{p(x, z)}{q_\phi(z)}\Big|_{z = z_p(\phi)}
 *   \frac{\partial z_p}{\partial \phi},$$
 *
 * `γ` held fixed (no gradient). This is the paper's pathwise gradient (and its authors' code): the
 * score term `∂_φ log q_φ(z)` at fixed `z`, which has mean 0 under equal weights but not under
 * rank weights, is left out (with it, the fixed point of a Normal guide's location moves away from
 * the posterior's, by about `0.6 σ` for `P = 8`, `β = -1`). `β = 0` gives equal weights: the
 * ELBO's path-derivative gradient (unbiased). The value of the loss is the plain `-ELBO` estimate
 * `-(1/P) Σ_p ℓ_p` (Pyro leaves it unimplemented); its gradient is the tail-adaptive one above.
 *
 * Pyro's code takes `argsort(ℓ) + 1` as the ranks (the inverse permutation of the ascending
 * ranks) and keeps the score term; the ranks here are the paper's tail ranks.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { booleanOption, checkOptionKeys } from '../../utils/options.js';
import { stopGradient } from '../../utils/tensor.js';
import { replay } from '../handlers/replay.js';
import { trace } from '../handlers/trace.js';
import { isValidationEnabled } from '../site_validation.js';
import { Trace } from '../trace.js';
import { checkedReplay, checkModelGuideMatch } from './check.js';
import { detach } from './detach.js';
import { ELBOEstimator, guessMaxPlateNesting, inParticlePlate, type Callable } from './elbo.js';
import { guideFactorSites } from './guide_terms.js';
import { particleLogProb } from './particle_log_prob.js';
import { inParticlePlateRun } from './particle_run.js';

/** Options of {@link TraceTailAdaptiveELBO}. */
export interface TraceTailAdaptiveELBOOptions {
  /** Number of vectorized particles `P` (an integer >= 1; use several). Default 1 (Pyro's). */
  numParticles?: number;
  /** Must be true (the default): the weights rank particles drawn in one vectorized run. */
  vectorizeParticles?: boolean;
  /** The largest number of nested plates in model and guide; default: found by one trial run. */
  maxPlateNesting?: number;
  /** The exponent `β` of the tail ranks (a finite number; the paper uses -1 or -0.5). Default -1. */
  tailAdaptiveBeta?: number;
}

/**
 * The normalized tail-adaptive weights of log importance weights `ℓ` (host arithmetic, float64):
 *
 * $$r_p = \#\{j : \ell_j \ge \ell_p\},\qquad \gamma_p = r_p^{\beta} \Big/ \sum_j r_j^{\beta}.$$
 *
 * Tied log weights share the larger count; a log weight of `-Infinity` ranks last.
 * @param logWeights `ℓ_1..ℓ_P` (no NaN).
 * @param beta the exponent `β` (finite).
 * @returns `γ`, summing to 1.
 * @throws ArgumentError naming `logWeights` (empty, NaN or `+Infinity`) or `beta` (not finite).
 * @example
 * ```ts
 * tailAdaptiveWeights([0, -1, 2], -1); // ranks [2, 3, 1] -> [1/2, 1/3, 1] / (11/6)
 * ```
 */
export function tailAdaptiveWeights(logWeights: ArrayLike<number>, beta: number): Float64Array {
  if (typeof beta !== 'number' || !Number.isFinite(beta)) {
    throw new ArgumentError('beta', `expected a finite number, got ${String(beta)}`);
  }
  const n = logWeights?.length;
  if (typeof n !== 'number' || n < 1) {
    throw new ArgumentError('logWeights', 'expected a non-empty array of log weights');
  }
  for (let i = 0; i < n; i++) {
    const l = logWeights[i] as number;
    if (typeof l !== 'number' || Number.isNaN(l) || l === Infinity) {
      throw new ArgumentError(
        'logWeights',
        `expected log weights in [-Infinity, Infinity), got ${String(l)} at particle ${i} ` +
          '(the model or guide gave a NaN or infinite log-density)',
      );
    }
  }
  const gamma = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const li = logWeights[i] as number;
    let r = 0;
    for (let j = 0; j < n; j++) if ((logWeights[j] as number) >= li) r++;
    gamma[i] = Math.pow(r, beta);
    total += gamma[i] as number;
  }
  for (let i = 0; i < n; i++) gamma[i] = (gamma[i] as number) / total;
  return gamma;
}

/**
 * The tail-adaptive f-divergence objective (reparameterized guides, vectorized particles).
 *
 * @example
 * ```ts
 * const elbo = new TraceTailAdaptiveELBO({ numParticles: 16, vectorizeParticles: true });
 * const svi = new SVI(model, guide, tf.train.adam(0.02), elbo);
 * ```
 */
export class TraceTailAdaptiveELBO extends ELBOEstimator {
  readonly numParticles: number;
  readonly vectorizeParticles: boolean;
  readonly tailAdaptiveBeta: number;
  /** The plate nesting of the model (given, or found on the first estimate). */
  protected maxPlateNesting: number | undefined;

  /**
   * @param options {@link TraceTailAdaptiveELBOOptions}.
   * @throws ArgumentError naming an unknown option, `numParticles`, `vectorizeParticles` (false),
   *   `maxPlateNesting` or `tailAdaptiveBeta`.
   */
  constructor(options: TraceTailAdaptiveELBOOptions = {}) {
    super();
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an object, got ${String(options)}`);
    }
    checkOptionKeys(
      options,
      ['numParticles', 'vectorizeParticles', 'maxPlateNesting', 'tailAdaptiveBeta'],
      'TraceTailAdaptiveELBO',
    );
    const p = options.numParticles ?? 1;
    if (!Number.isInteger(p) || p < 1) {
      throw new ArgumentError('numParticles', `expected an integer >= 1, got ${String(p)}`);
    }
    const v = booleanOption(options.vectorizeParticles, 'vectorizeParticles', true);
    if (!v) {
      throw new ArgumentError(
        'vectorizeParticles',
        'TraceTailAdaptiveELBO ranks the particles of one vectorized run: it needs ' +
          'vectorizeParticles true (as Pyro), with a model that broadcasts over the particle dim',
      );
    }
    const m = options.maxPlateNesting;
    if (m !== undefined && (!Number.isInteger(m) || m < 0)) {
      throw new ArgumentError('maxPlateNesting', `expected an integer >= 0, got ${String(m)}`);
    }
    const b = options.tailAdaptiveBeta ?? -1;
    if (typeof b !== 'number' || !Number.isFinite(b)) {
      throw new ArgumentError('tailAdaptiveBeta', `expected a finite number, got ${String(b)}`);
    }
    this.numParticles = p;
    this.vectorizeParticles = v;
    this.maxPlateNesting = m;
    this.tailAdaptiveBeta = b;
  }

  /**
   * The per-particle log weights `ℓ_p`, `[P]`, of one vectorized run (untidied), after checking
   * that every latent guide site is reparameterized.
   */
  protected particleLogWeights<A extends unknown[]>(
    model: Callable<A>,
    guide: Callable<A>,
    args: A,
  ): tf.Tensor {
    this.maxPlateNesting ??= guessMaxPlateNesting(model, guide, args);
    const nest = this.maxPlateNesting;
    const P = this.numParticles;
    const dim = -(nest + 1);
    const { guideTrace, modelTrace } = inParticlePlateRun('model', P, dim, () => {
      const g = trace(inParticlePlate(guide, P, dim)).getTraceUntidied(...args).trace;
      checkReparameterized(g);
      const m = inParticlePlate(model, P, dim);
      const validate = isValidationEnabled();
      const replayed = validate ? checkedReplay(m, g, nest) : replay(m, { trace: g });
      const mt: Trace = trace(replayed).getTraceUntidied(...args).trace;
      if (validate) checkModelGuideMatch(mt, g);
      return { guideTrace: g, modelTrace: mt };
    });
    const logP = particleLogProb(modelTrace, P, dim);
    const logQ = particleLogProb(guideTrace, P, dim);
    // + (s - sg(s)), s = log q_phi(sg(z)): value 0, cancels the score term -d/dphi log q_phi(z)
    // at fixed z in the gradient of -log q, leaving the paper's pathwise grad_z log(p/q) dz/dphi
    const score = particleLogProb(detachedValues(guideTrace), P, dim, (s) => !s.isObserved);
    return tf.add(tf.sub(logP, logQ), tf.sub(score, stopGradient(score)));
  }

  differentiableLoss<A extends unknown[]>(
    model: Callable<A>,
    guide: Callable<A>,
    args: A,
  ): tf.Scalar {
    return tf.tidy(() => {
      const lw = this.particleLogWeights(model, guide, args);
      const gamma = tailAdaptiveWeights(lw.dataSync(), this.tailAdaptiveBeta);
      const g = tf.tensor1d(Float32Array.from(gamma));
      const surrogate = tf.neg(tf.sum(tf.mul(lw, g)));
      const plain = tf.neg(tf.mean(lw));
      // value: the -ELBO estimate; gradient: the tail-adaptive surrogate's
      return tf.add(surrogate, stopGradient(tf.sub(plain, surrogate))) as tf.Scalar;
    });
  }
}

/** A copy of `t` whose sample values are detached (their log-densities keep `phi`'s gradient). */
function detachedValues(t: Trace): Trace {
  const out = new Trace();
  for (const s of t.sites()) out.add(s.value === null ? s : { ...s, value: detach(s.value) });
  return out;
}

/** Refuse a guide site that cannot be reparameterized, naming it. */
function checkReparameterized(guideTrace: Trace): void {
  for (const s of guideTrace.latentSites()) {
    if (s.fn !== null && !s.fn.hasRsample) {
      throw new ArgumentError(
        s.name,
        `TraceTailAdaptiveELBO: guide site '${s.name}' (${s.fn.name}) cannot be ` +
          'reparameterized; this objective needs a fully reparameterized guide (use ' +
          'TraceELBO, TraceGraphELBO or ReweightedWakeSleep for discrete guide sites)',
      );
    }
  }
  guideFactorSites(guideTrace, 'TraceTailAdaptiveELBO', true);
}
