/**
 * `TraceGraphELBO` (Pyro's `TraceGraph_ELBO`): the ELBO whose gradient for guide sites without a
 * reparameterization uses score-function (REINFORCE) terms with variance reduction:
 *
 * $$\nabla\mathcal L = \mathbb E_q\Big[\nabla_{\text{rep}}\big(\log p - \log q\big) +
 *   \sum_{s\ \text{non-rep}} \nabla\log q(z_s)\,\big(\mathrm{cost}_s - b_s\big)\Big]$$
 *
 * - **downstream costs**: `cost_s` counts only the terms `log p - log q` of sites at or after
 *   `s` in execution order (a site cannot depend on a later one; Pyro's dense graph);
 * - **Rao-Blackwellization by plates**: for a site inside plates, the terms sharing its plates
 *   keep their per-member values, so member `i`'s score is weighted by member `i`'s cost only;
 * - **baselines**: a decaying average of each site's mean cost, `b ← β b + (1-β) cost`
 *   (`baselineBeta`, default 0.9; a site with `{infer: {baseline: false}}` gets none).
 */
import * as tf from '@tensorflow/tfjs';
import { stopGradient } from '../../utils/tensor.js';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import type { Message } from '../runtime.js';
import { siteLogProb, type Trace } from '../trace.js';
import { ELBOEstimator, guideAndModelTraces, guideLogProbSum, type Callable } from './elbo.js';

/** Options of {@link TraceGraphELBO}. */
export interface TraceGraphELBOOptions {
  /** Number of particles averaged per estimate. Default 1. */
  numParticles?: number;
  /** Decay of the moving-average baselines, in [0, 1). Default 0.9. */
  baselineBeta?: number;
}

/** Sum `lp` (a term of site `t`) over every axis except the plate dims shared with `s`. */
function rbReduce(lp: tf.Tensor, t: Message, s: Message, targetRank: number): tf.Tensor {
  const shared = new Set(
    s.cond.filter((f) => t.cond.some((g) => g.name === f.name)).map((f) => f.dim),
  );
  const axes: number[] = [];
  for (let i = 0; i < lp.rank; i++) if (!shared.has(i - lp.rank)) axes.push(i);
  let r = axes.length > 0 ? tf.sum(lp, axes, true) : lp;
  if (r.rank > targetRank) r = tf.reshape(r, r.shape.slice(r.rank - targetRank));
  return r;
}

/**
 * The ELBO with Rao-Blackwellized, baselined score-function terms.
 *
 * @example
 * ```ts
 * // a discrete latent with a Bernoulli guide
 * const svi = new SVI(model, guide, tf.train.adam(0.05), new TraceGraphELBO());
 * ```
 */
export class TraceGraphELBO extends ELBOEstimator {
  readonly numParticles: number;
  readonly baselineBeta: number;
  /** The decaying-average baselines by site name. */
  readonly baselines = new Map<string, number>();
  constructor(options: TraceGraphELBOOptions = {}) {
    super();
    checkOptionKeys(options, ['numParticles', 'baselineBeta'], 'TraceGraphELBO');
    const n = options.numParticles ?? 1;
    if (!Number.isInteger(n) || n < 1) {
      throw new ArgumentError('numParticles', `expected an integer >= 1, got ${n}`);
    }
    const b = options.baselineBeta ?? 0.9;
    if (!(b >= 0 && b < 1))
      throw new ArgumentError('baselineBeta', `expected a number in [0, 1), got ${b}`);
    this.numParticles = n;
    this.baselineBeta = b;
  }

  /** One particle: the ELBO plus the score-function surrogate (value 0, gradient only). */
  private particle(guideTrace: Trace, modelTrace: Trace): tf.Tensor {
    const elbo = tf.sub(
      modelTrace.logProbSum(),
      guideLogProbSum(guideTrace, 'TraceGraphELBO', true),
    );
    const guideSites = guideTrace.latentSites();
    const modelSites = modelTrace.sampleSites();
    let surrogate: tf.Tensor = tf.scalar(0);
    guideSites.forEach((s, gi) => {
      if (s.fn === null || s.fn.hasRsample) return;
      const lq = siteLogProb(s);
      const rank = lq.rank;
      let cost: tf.Tensor = tf.zeros(lq.shape);
      const mi = modelSites.findIndex((m) => m.name === s.name);
      for (const m of mi < 0 ? [] : modelSites.slice(mi)) {
        cost = tf.add(cost, rbReduce(siteLogProb(m), m, s, rank));
      }
      for (const g of guideSites.slice(gi)) {
        cost = tf.sub(cost, rbReduce(siteLogProb(g), g, s, rank));
      }
      cost = stopGradient(cost);
      let centred = cost;
      if (s.infer.baseline !== false) {
        const mean = tf.mean(cost).dataSync()[0] as number;
        const prev = this.baselines.get(s.name);
        const b =
          prev === undefined ? mean : this.baselineBeta * prev + (1 - this.baselineBeta) * mean;
        this.baselines.set(s.name, b);
        if (prev !== undefined) centred = tf.sub(cost, prev);
      }
      const term = tf.sum(tf.mul(lq, centred));
      surrogate = tf.add(surrogate, tf.sub(term, stopGradient(term)));
    });
    return tf.add(elbo, surrogate);
  }

  differentiableLoss<A extends unknown[]>(
    model: Callable<A>,
    guide: Callable<A>,
    args: A,
  ): tf.Scalar {
    return tf.tidy(() => {
      let total: tf.Tensor = tf.scalar(0);
      for (let p = 0; p < this.numParticles; p++) {
        const { guideTrace, modelTrace } = guideAndModelTraces(model, guide, args);
        total = tf.add(total, this.particle(guideTrace, modelTrace));
      }
      return tf.div(tf.neg(total), this.numParticles) as tf.Scalar;
    });
  }
}
