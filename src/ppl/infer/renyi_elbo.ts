/**
 * `RenyiELBO` (Pyro's `RenyiELBO`; Li & Turner 2016): the variational Rényi bound of order
 * `α ≠ 1` from `K` importance samples `z_k ~ q`, with `w_k = p(x, z_k) / q(z_k)`:
 *
 * $$\mathcal L_\alpha = \frac{1}{1-\alpha}\log\frac1K\sum_{k=1}^K w_k^{\,1-\alpha}.$$
 *
 * `α = 0` is the importance-weighted bound (IWAE), `α → 1` the ELBO; for `α ≥ 0` it lower-bounds
 * `log p(x)` in expectation and tightens as `K` grows. When `q` is the exact posterior every
 * `w_k = p(x)`, so the estimate equals `log p(x)` exactly. Gradients flow by reparameterization
 * (every latent guide site must have `rsample`).
 *
 * As Pyro's, plates around every sample site of the model (e.g. the data plate of a model with
 * only local latents, a VAE) are independent: the weights are kept per member `n` of those plates,
 * `w_{kn}`, and the bound is summed over them,
 *
 * $$\mathcal L_\alpha = \sum_n \frac{1}{1-\alpha}\log\frac1K\sum_k w_{kn}^{\,1-\alpha},$$
 *
 * the per-datum importance-weighted bound, tighter than the bound on the joint weight
 * `Π_n w_{kn}` (the same in the limit `K → ∞`); every other plate is summed inside `w`, and so is
 * a subsampled plate (each particle's run visits its own members).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import type { Message } from '../runtime.js';
import { siteLogProb, type Trace } from '../trace.js';
import { ELBOEstimator, guideAndModelTraces, type Callable } from './elbo.js';
import { guideFactorSites, guideLogProbSum } from './guide_terms.js';

/**
 * The dims of the plates (by name) around every sample site of `trace` (Pyro's complement of
 * `get_dependent_plate_dims`).
 */
function commonPlateDims(trace: Trace): number[] {
  const sites = trace.sampleSites();
  const first = sites[0];
  if (first === undefined) return [];
  // a subsampled plate visits other members at each particle's run: summed (a joint weight)
  const common = new Map(
    first.cond.filter((f) => f.subsampleSize === f.size).map((f) => [f.name, f.dim]),
  );
  for (const s of sites.slice(1)) {
    const names = new Set(s.cond.map((f) => f.name));
    for (const k of [...common.keys()]) if (!names.has(k)) common.delete(k);
  }
  return [...common.values()];
}

/**
 * `Σ_sites` of each site's (masked, scaled) log-density summed over every dim but the plate
 * dims `keep`, kept with size 1 so that the sites' terms broadcast (untidied).
 */
function logProbKeeping(sites: Message[], keep: number[]): tf.Tensor {
  let total: tf.Tensor = tf.scalar(0);
  for (const s of sites) {
    const lp = siteLogProb(s);
    const axes: number[] = [];
    for (let a = 0; a < lp.rank; a++) if (!keep.includes(a - lp.rank)) axes.push(a);
    total = tf.add(total, axes.length === 0 ? lp : tf.sum(lp, axes, true));
  }
  return total;
}

/** Options of {@link RenyiELBO}. */
export interface RenyiELBOOptions {
  /** The order `α` (any real but 1). Default 0 (IWAE). */
  alpha?: number;
  /** Number of importance samples `K`. Default 2. */
  numParticles?: number;
}

/**
 * The Rényi (α-divergence) bound.
 *
 * @example
 * ```ts
 * const svi = new SVI(model, guide, tf.train.adam(0.01), new RenyiELBO({ alpha: 0, numParticles: 8 }));
 * ```
 */
export class RenyiELBO extends ELBOEstimator {
  readonly alpha: number;
  readonly numParticles: number;
  constructor(options: RenyiELBOOptions = {}) {
    super();
    checkOptionKeys(options, ['alpha', 'numParticles'], 'RenyiELBO');
    const a = options.alpha ?? 0;
    if (typeof a !== 'number' || !Number.isFinite(a) || a === 1) {
      throw new ArgumentError(
        'alpha',
        `expected a finite number other than 1 (use TraceELBO), got ${a}`,
      );
    }
    const k = options.numParticles ?? 2;
    if (!Number.isInteger(k) || k < 1) {
      throw new ArgumentError('numParticles', `expected an integer >= 1, got ${k}`);
    }
    this.alpha = a;
    this.numParticles = k;
  }

  differentiableLoss<A extends unknown[]>(
    model: Callable<A>,
    guide: Callable<A>,
    args: A,
  ): tf.Scalar {
    return tf.tidy(() => {
      const logw: tf.Tensor[] = [];
      for (let k = 0; k < this.numParticles; k++) {
        const { guideTrace, modelTrace } = guideAndModelTraces(model, guide, args);
        for (const s of guideTrace.latentSites()) {
          if (s.fn !== null && !s.fn.hasRsample) {
            throw new ArgumentError(
              s.name,
              `RenyiELBO: guide site '${s.name}' (${s.fn.name}) cannot be reparameterized`,
            );
          }
        }
        const keep = commonPlateDims(modelTrace);
        if (keep.length === 0) {
          logw.push(
            tf.sub(modelTrace.logProbSum(), guideLogProbSum(guideTrace, 'RenyiELBO', true)),
          );
        } else {
          const lq = logProbKeeping(
            [...guideTrace.latentSites(), ...guideFactorSites(guideTrace, 'RenyiELBO', true)],
            keep,
          );
          logw.push(tf.sub(logProbKeeping(modelTrace.sampleSites(), keep), lq));
        }
      }
      // [K, ...the common plates' shape]: one bound per member, summed
      const lw = tf.mul(tf.stack(broadcastAll(logw)), 1 - this.alpha);
      const perMember = tf.sub(tf.logSumExp(lw, 0), Math.log(this.numParticles));
      const bound = tf.div(tf.sum(perMember), 1 - this.alpha);
      return tf.neg(bound) as tf.Scalar;
    });
  }
}

/** The particles' log weights broadcast to one shape (a particle may lack a size-1 dim). */
function broadcastAll(ts: tf.Tensor[]): tf.Tensor[] {
  let shape: number[] = [];
  for (const t of ts) shape = tf.backend_util.assertAndGetBroadcastShape(shape, t.shape);
  return ts.map((t) => (t.shape.join(',') === shape.join(',') ? t : tf.broadcastTo(t, shape)));
}
