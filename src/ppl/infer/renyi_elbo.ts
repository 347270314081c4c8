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
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { ELBOEstimator, guideAndModelTraces, type Callable } from './elbo.js';
import { guideLogProbSum } from './guide_terms.js';

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
        logw.push(tf.sub(modelTrace.logProbSum(), guideLogProbSum(guideTrace, 'RenyiELBO', true)));
      }
      const lw = tf.mul(tf.stack(logw), 1 - this.alpha);
      const bound = tf.div(tf.sub(tf.logSumExp(lw), Math.log(this.numParticles)), 1 - this.alpha);
      return tf.neg(bound) as tf.Scalar;
    });
  }
}
