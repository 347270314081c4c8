/**
 * The substituting handler of the MCMC potential: each latent site `x_i` set to `T_i(z_i)`,
 * `T_i = bijectTo(S_i)` of its support (the identity on the real line), and, when scoring, each
 * scored site's `scale · Σ mask · log p(x)` and each `log|det J_{T_i}(z_i)|` collected while the
 * model runs (reduced per chain for a batch of chains); with the per-site tensors of the flat
 * unconstrained vector `z` (one point, or a batch `[chains, 1, ..., 1, ...shape]`) it is given.
 */
import * as tf from '@tensorflow/tfjs';
import { IndependentConstraint, type Constraint } from '../../constraints/constraints.js';
import { bijectTo } from '../../distributions/transform_to.js';
import { ArgumentError } from '../../utils/errors.js';
import { Messenger } from '../messenger.js';
import type { Message } from '../runtime.js';
import { enableValidation, isValidationEnabled } from '../site_validation.js';
import { applySiteScaleTensor, siteLogProbSum, siteMask } from '../trace.js';
import type { LatentSite } from './potential.js';
import { checkContinuous, isUnscoredSite } from './site_kinds.js';

/** Whether `c` is the real line (possibly with event dims): its bijector is the identity. */
function isReal(c: Constraint): boolean {
  if (c.kind === 'real') return true;
  return c instanceof IndependentConstraint && isReal(c.base);
}

/** A batched evaluation whose shapes show that the model does not batch that way. @internal */
export class BatchLayoutError extends Error {}

/**
 * Substitutes latent sites by `T(z_i)`; when scoring, also collects each scored site's
 * `scale * sum(mask * log p)` and the log-determinants while the model runs (no trace kept).
 */
export class UnconstrainedSubstitute extends Messenger {
  /** Log-density terms and log-determinants, summed by the caller. */
  readonly terms: tf.Tensor[] = [];
  /** What each of {@link terms} is (`site 'y'`, `the log-determinant of site 's'`), in order. */
  readonly termNames: string[] = [];
  /**
   * @param sites each latent site's unconstrained value.
   * @param withLogDet score the run (else only substitute).
   * @param batch with a leading chain dimension of this size: terms are reduced per chain, to
   *   shape `[batch]` (terms without that leading dimension do not depend on the latents and are
   *   summed to a scalar).
   * @param chainRank with the chain dimension as a plate at dim `-chainRank`: every scored
   *   site's log-density must have rank `chainRank` (checked).
   */
  constructor(
    private readonly sites: Map<string, { site: LatentSite; z: tf.Tensor }>,
    private readonly withLogDet: boolean,
    private readonly batch?: number,
    private readonly chainRank?: number,
    private readonly enumerated = false,
  ) {
    super();
  }
  /**
   * Sum `t` over everything but the chain dimension (or over everything without batching). With
   * the chain plate (`chainRank`: its rank, the plate nesting + 1) a term of another rank, or
   * without the chain dimension in front, means the model broadcast its sites beyond their plates:
   * an error, so that the caller evaluates the chains one by one instead.
   */
  private reduce(t: tf.Tensor, what: string): tf.Tensor {
    if (t.rank === 0) return t;
    const b = this.batch;
    if (b !== undefined && this.chainRank !== undefined && t.shape[0] !== b) {
      throw new BatchLayoutError(
        `${what} has shape [${t.shape}], no chain dim of size ${b} in front`,
      );
    }
    if (b === undefined || t.shape[0] !== b) return tf.sum(t);
    if (t.rank === 1) return t;
    return tf.sum(
      t,
      Array.from({ length: t.rank - 1 }, (_, i) => i + 1),
    );
  }
  override postprocessMessage(msg: Message): void {
    if (!this.withLogDet || msg.type !== 'sample' || isUnscoredSite(msg)) return;
    if (this.enumerated) return; // the sites are scored by the contraction
    if (this.batch === undefined) {
      this.terms.push(siteLogProbSum(msg));
      this.termNames.push(`site '${msg.name}'`);
      return;
    }
    const fn = msg.fn;
    if (fn === null || msg.value === null) return;
    let lp = fn.logProb(msg.value);
    const mask = msg.mask;
    if (mask === false) return;
    if (mask !== null && mask !== true) {
      lp = tf.where(siteMask(msg, lp.shape), lp, tf.zerosLike(lp));
    }
    lp = applySiteScaleTensor(msg, lp);
    if (this.chainRank !== undefined && lp.rank !== this.chainRank) {
      throw new BatchLayoutError(
        `site '${msg.name}': log-density of shape [${lp.shape}], expected rank ${this.chainRank}`,
      );
    }
    const r = this.reduce(lp, `site '${msg.name}'`);
    this.terms.push(msg.scale === 1 ? r : tf.mul(r, msg.scale));
    this.termNames.push(`site '${msg.name}'`);
  }
  override processMessage(msg: Message): void {
    if (msg.type !== 'sample' || msg.isObserved || msg.value !== null) return;
    const entry = this.sites.get(msg.name);
    if (entry === undefined) {
      throw new ArgumentError(
        'model',
        `MCMC: latent site '${msg.name}' was not in the model's first run (the set of latent ` +
          'sites must not change between runs)',
      );
    }
    checkContinuous(msg);
    const support = (msg.fn as NonNullable<Message['fn']>).support;
    const u = entry.z;
    if (isReal(support)) {
      msg.value = u; // identity: no transform, log-determinant 0
      return;
    }
    const bij = bijectTo(support);
    if (this.withLogDet) {
      const { y, logDet } = bij.forwardAndLogDet(u);
      msg.value = y;
      this.terms.push(this.reduce(logDet, `the log-determinant of site '${msg.name}'`));
      this.termNames.push(`the log-determinant of site '${msg.name}'`);
    } else {
      msg.value = bij.forward(u);
    }
    const got = msg.value.shape;
    const want = entry.site.shape;
    if (this.enumerated && (got.length !== want.length || got.some((d, i) => d !== want[i]))) {
      throw new ArgumentError(
        'model',
        `MCMC: latent site '${msg.name}' has the support ${support.name}, which depends on an ` +
          `enumerated discrete site (its value takes the shape [${got.join(',')}], not ` +
          `[${want.join(',')}]): a continuous latent's support must not depend on discrete latents`,
      );
    }
  }
}

/**
 * Run `fn` with site-value validation off: latent values are in their supports by construction
 * and the observed ones were checked by the initialization run.
 */
export function unvalidated<T>(fn: () => T): T {
  const was = isValidationEnabled();
  enableValidation(false);
  try {
    return fn();
  } finally {
    enableValidation(was);
  }
}

/** Per-site tensors of shape `unconstrainedShape` holding the sites' slices of `z` (float32). */
export function siteTensors(z: Float64Array, sites: readonly LatentSite[]): tf.Tensor[] {
  return sites.map((s) =>
    tf.tensor(
      Float32Array.from(z.subarray(s.offset, s.offset + s.size)),
      s.unconstrainedShape,
      'float32',
    ),
  );
}

/**
 * Per-site tensors `[batch, ...unconstrainedShape]` stacking the sites' slices of each `z`, with
 * `pads[i]` dims of size 1 after the batch dim of site `i` when given.
 */
export function batchedSiteTensors(
  zs: Float64Array[],
  sites: readonly LatentSite[],
  pads?: readonly number[],
): tf.Tensor[] {
  return sites.map((s, i) => {
    const v = new Float32Array(zs.length * s.size);
    zs.forEach((z, c) => v.set(z.subarray(s.offset, s.offset + s.size), c * s.size));
    const ones = new Array<number>(pads?.[i] ?? 0).fill(1);
    return tf.tensor(v, [zs.length, ...ones, ...s.unconstrainedShape], 'float32');
  });
}
