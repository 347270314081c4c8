/**
 * `EnergyDistance` (Pyro's `EnergyDistance`; Székely & Rizzo 2003, Gneiting & Raftery 2007): the
 * posterior predictive energy score, a strictly proper scoring rule, as a likelihood-free
 * objective with optional prior regularization. With the model `p(x, z) = p(z) p(x | z)`, the
 * guide `q(z | x)`, the data `x` and `P` vectorized particles `Z_p ~ q`, `X_p ~ p(x | Z_p)`:
 *
 * $$\mathcal L = \frac1P\sum_p \|X_p - x\|^\beta
 *   - \frac12\,\binom P2^{-1}\sum_{i>j} \|X_i - X_j\|^\beta
 *   - \lambda\,\frac1P\sum_p \log p(Z_p),$$
 *
 * `β ∈ (0, 2)` (`beta`), `λ ≥ 0` (`priorScale`), with `‖·‖` the Euclidean norm over every observed
 * site's elements together, each squared difference weighted by its site's scale and mask. It
 * needs only draws of the likelihood (reparameterized, for gradients), never its density; it is
 * strictly proper for distributions with a finite `β`-th moment (small `β` for heavy tails). The
 * guide must be fully reparameterized; model latents need not be (their density enters only the
 * prior term). Pyro sums the prior term over the particles; here it is their mean, as its formula.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { replay } from '../handlers/replay.js';
import { trace } from '../handlers/trace.js';
import { uncondition } from '../handlers/uncondition.js';
import type { Message } from '../runtime.js';
import { siteMask } from '../trace.js';
import { guessMaxPlateNesting, inParticlePlate, type Callable, type ELBOLoss } from './elbo.js';
import { particleLogProb } from './particle_log_prob.js';
import { inParticlePlateRun } from './particle_run.js';

/** Options of {@link EnergyDistance}. */
export interface EnergyDistanceOptions {
  /** The exponent `β`, in the open interval (0, 2). Default 1. */
  beta?: number;
  /** The weight `λ >= 0` of the prior term; 0 (default) skips the model's latent densities. */
  priorScale?: number;
  /** Number of vectorized particles `P` (an integer >= 2). Default 2. */
  numParticles?: number;
  /** The largest number of nested plates in model and guide; default: found by one trial run. */
  maxPlateNesting?: number;
}

function checkBeta(beta: unknown, name: string): number {
  if (typeof beta !== 'number' || !(beta > 0 && beta < 2)) {
    throw new ArgumentError(
      name,
      `expected a number in the open interval (0, 2), got ${String(beta)}`,
    );
  }
  return beta;
}

/**
 * `Σ_b w_b Σ_e (a - b)²` over the last two dims of `[..., B, E]` tensors, weights `w: [B]` or
 * undefined (untidied).
 */
function weightedSquared(d: tf.Tensor, w: tf.Tensor | undefined): tf.Tensor {
  const sq = tf.sum(tf.square(d), -1);
  return tf.sum(w === undefined ? sq : tf.mul(sq, w), -1);
}

/**
 * The squared distances of the energy score from draws `X: [P, B, E]` and data `x: [B, E]`
 * (weights `w: [B]`): to the data `[P]` and between the pairs `i > j`, `[P (P - 1) / 2]`.
 */
function squaredDistances(
  X: tf.Tensor,
  x: tf.Tensor,
  w: tf.Tensor | undefined,
): { toData: tf.Tensor; pairs: tf.Tensor } {
  const P = X.shape[0] as number;
  const toData = weightedSquared(tf.sub(X, x), w);
  const idx: number[] = [];
  for (let i = 0; i < P; i++) for (let j = 0; j < i; j++) idx.push(i * P + j);
  const all = weightedSquared(tf.sub(tf.expandDims(X, 1), tf.expandDims(X, 0)), w);
  const pairs = tf.gather(tf.reshape(all, [P * P]), tf.tensor1d(idx, 'int32'));
  return { toData, pairs };
}

/** `mean(d²^{β/2}) - ½ mean(p²^{β/2})` (untidied). */
function energyFrom(toData: tf.Tensor, pairs: tf.Tensor, beta: number): tf.Tensor {
  const pw = (t: tf.Tensor): tf.Tensor => (beta === 1 ? tf.sqrt(t) : tf.pow(t, beta / 2));
  return tf.sub(tf.mean(pw(toData)), tf.mul(tf.mean(pw(pairs)), 0.5));
}

/**
 * The energy score of draws `X_1..X_P` of a predictive distribution at the observation `x`:
 *
 * $$\mathrm{ES} = \frac1P\sum_p \|X_p - x\|^\beta - \frac12\binom P2^{-1}\sum_{i>j}\|X_i - X_j\|^\beta,$$
 *
 * the Euclidean norm over all elements of `x`. A scalar tensor (differentiable in the draws).
 * @param samples `[P, ...x.shape]`, `P >= 2`.
 * @param observed `x`.
 * @param beta `β` in (0, 2). Default 1.
 * @throws ArgumentError naming `samples` (shape) or `beta`.
 * @example
 * ```ts
 * energyScore(tf.tensor2d([[0, 1], [2, 1], [1, 3]]), tf.tensor1d([1, 1]), 1);
 * ```
 */
export function energyScore(samples: tf.Tensor, observed: tf.Tensor, beta = 1): tf.Scalar {
  checkBeta(beta, 'beta');
  if (!(samples instanceof tf.Tensor) || !(observed instanceof tf.Tensor)) {
    throw new ArgumentError('samples', 'expected tensors samples [P, ...x.shape] and observed x');
  }
  const ok =
    samples.rank === observed.rank + 1 &&
    (samples.shape[0] as number) >= 2 &&
    observed.shape.every((d, i) => samples.shape[i + 1] === d);
  if (!ok) {
    throw new ArgumentError(
      'samples',
      `expected shape [P >= 2, ${observed.shape.join(', ')}] (draws of the observed value), got ` +
        `[${samples.shape.join(', ')}]`,
    );
  }
  return tf.tidy(() => {
    const P = samples.shape[0] as number;
    const X = tf.reshape(tf.cast(samples, 'float32'), [P, 1, -1]);
    const x = tf.reshape(tf.cast(observed, 'float32'), [1, -1]);
    const { toData, pairs } = squaredDistances(X, x, undefined);
    return energyFrom(toData, pairs, beta) as tf.Scalar;
  });
}

/** The elementwise weight `[B]` of an observed site (its scales and mask), or undefined. */
function siteWeights(site: Message, batchShape: number[]): tf.Tensor | undefined {
  const B = batchShape.reduce((a, b) => a * b, 1);
  let w: tf.Tensor | undefined;
  const st = site.scaleTensor as tf.Tensor | null | undefined;
  if (st !== null && st !== undefined) {
    // leading size-1 dims beyond the data's batch dims (e.g. [1, N] against [N]) dropped
    const extra = st.rank - batchShape.length;
    const tail = st.shape.slice(Math.max(0, extra));
    const fits =
      (extra <= 0 || st.shape.slice(0, extra).every((d) => d === 1)) &&
      tail.every((d, i) => d === 1 || d === batchShape[batchShape.length - tail.length + i]);
    if (!fits) {
      throw new ArgumentError(
        site.name,
        `EnergyDistance: the scale of site '${site.name}' has shape [${st.shape.join(',')}], ` +
          `which does not broadcast to the data's batch shape [${batchShape.join(',')}]`,
      );
    }
    w = tf.broadcastTo(extra > 0 ? tf.reshape(st, st.shape.slice(extra)) : st, batchShape);
  }
  if (site.mask === false) w = tf.zeros(batchShape);
  else if (site.mask instanceof tf.Tensor) {
    const m = tf.cast(siteMask(site, batchShape), 'float32');
    w = w === undefined ? m : tf.mul(w, m);
  }
  if (site.scale !== 1)
    w = w === undefined ? tf.fill(batchShape, site.scale) : tf.mul(w, site.scale);
  return w === undefined ? undefined : tf.reshape(w, [B]);
}

/**
 * The energy distance objective (likelihood-free; fully reparameterized guide).
 *
 * @example
 * ```ts
 * const svi = new SVI(model, guide, tf.train.adam(0.05), new EnergyDistance({ numParticles: 16 }));
 * ```
 */
export class EnergyDistance implements ELBOLoss {
  readonly beta: number;
  readonly priorScale: number;
  readonly numParticles: number;
  /** The plate nesting of the model (given, or found on the first estimate). */
  protected maxPlateNesting: number | undefined;

  /**
   * @param options {@link EnergyDistanceOptions}.
   * @throws ArgumentError naming an unknown option, `beta`, `priorScale`, `numParticles` or
   *   `maxPlateNesting`.
   */
  constructor(options: EnergyDistanceOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an object, got ${String(options)}`);
    }
    checkOptionKeys(
      options,
      ['beta', 'priorScale', 'numParticles', 'maxPlateNesting'],
      'EnergyDistance',
    );
    this.beta = checkBeta(options.beta ?? 1, 'beta');
    const l = options.priorScale ?? 0;
    if (typeof l !== 'number' || !(l >= 0) || !Number.isFinite(l)) {
      throw new ArgumentError('priorScale', `expected a finite number >= 0, got ${String(l)}`);
    }
    const p = options.numParticles ?? 2;
    if (!Number.isInteger(p) || p < 2) {
      throw new ArgumentError('numParticles', `expected an integer >= 2, got ${String(p)}`);
    }
    const m = options.maxPlateNesting;
    if (m !== undefined && (!Number.isInteger(m) || m < 0)) {
      throw new ArgumentError('maxPlateNesting', `expected an integer >= 0, got ${String(m)}`);
    }
    this.priorScale = l;
    this.numParticles = p;
    this.maxPlateNesting = m;
  }

  /** The loss as a scalar, differentiable in the guide's (and, with a prior term, model's) parameters. */
  differentiableLoss<A extends unknown[]>(
    model: Callable<A>,
    guide: Callable<A>,
    args: A,
  ): tf.Scalar {
    return tf.tidy(() => {
      const nest = (this.maxPlateNesting ??= guessMaxPlateNesting(model, guide, args));
      const P = this.numParticles;
      const dim = -(nest + 1);
      const { modelTrace } = inParticlePlateRun('model', P, dim, () => {
        const g = trace(inParticlePlate(guide, P, dim)).getTraceUntidied(...args).trace;
        for (const s of g.latentSites()) {
          if (s.fn !== null && !s.fn.hasRsample) {
            throw new ArgumentError(
              s.name,
              `EnergyDistance: guide site '${s.name}' (${s.fn.name}) cannot be ` +
                'reparameterized; this objective needs a fully reparameterized guide',
            );
          }
        }
        const replayed = replay(inParticlePlate(model, P, dim), { trace: g });
        const mt = trace(uncondition(replayed)).getTraceUntidied(...args).trace;
        return { modelTrace: mt };
      });
      let toData: tf.Tensor = tf.zeros([P]);
      let pairs: tf.Tensor = tf.zeros([(P * (P - 1)) / 2]);
      let found = false;
      for (const s of modelTrace.sampleSites()) {
        if (s.infer['wasObserved'] !== true || s.infer['deterministic'] === true) continue;
        const obs = s.infer['obs'];
        if (s.fn === null || s.value === null || !(obs instanceof tf.Tensor)) continue;
        if (!s.fn.hasRsample) {
          throw new ArgumentError(
            s.name,
            `EnergyDistance: observed site '${s.name}' (${s.fn.name}) cannot be drawn by ` +
              'reparameterization; this objective needs reparameterized likelihoods',
          );
        }
        const e = s.fn.eventShape.length;
        const batch: number[] = obs.shape.slice(0, Math.max(0, obs.rank - e));
        const B = batch.reduce((a: number, b: number) => a * b, 1);
        const E = obs.size / Math.max(B, 1);
        if (s.value.size !== P * obs.size) {
          throw new ArgumentError(
            s.name,
            `EnergyDistance: the draws of observed site '${s.name}' have shape ` +
              `[${s.value.shape.join(',')}], not ${P} particles of the data's shape ` +
              `[${obs.shape.join(',')}]`,
          );
        }
        const X = tf.reshape(s.value, [P, B, E]);
        const x = tf.reshape(tf.cast(obs, 'float32'), [B, E]);
        const d = squaredDistances(X, x, siteWeights(s, batch));
        toData = tf.add(toData, d.toData);
        pairs = tf.add(pairs, d.pairs);
        found = true;
      }
      if (!found) {
        throw new ArgumentError(
          'model',
          'EnergyDistance: the model has no observed sites (it scores draws of the ' +
            'observations against the data)',
        );
      }
      let loss = energyFrom(toData, pairs, this.beta);
      if (this.priorScale > 0) {
        const latent = (s: Message): boolean => !s.isObserved && s.infer['wasObserved'] !== true;
        const logPrior = tf.mean(particleLogProb(modelTrace, P, dim, latent));
        loss = tf.sub(loss, tf.mul(logPrior, this.priorScale));
      }
      return loss as tf.Scalar;
    });
  }

  /** The loss estimate as a number (no gradients). */
  loss<A extends unknown[]>(model: Callable<A>, guide: Callable<A>, ...args: A): number {
    const l = tf.tidy(() => this.differentiableLoss(model, guide, args));
    try {
      return l.dataSync()[0] as number;
    } finally {
      l.dispose();
    }
  }
}
