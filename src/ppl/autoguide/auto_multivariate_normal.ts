/**
 * `AutoMultivariateNormal` (Pyro's): a full-covariance Normal over the concatenated
 * unconstrained latent vector `u ∈ R^D`,
 *
 * $$q(u) = \mathcal N(\mathrm{loc}, L L^T),$$
 *
 * with `L` (`scale_tril`) a learnable lower-triangular matrix with positive diagonal (constraint
 * `lowerCholesky`), started at `initScale · I`. Exact for Gaussian posteriors (e.g. the weights of
 * a linear regression with known noise), including their correlations.
 */
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../../distributions/distribution.js';
import { ArgumentError } from '../../utils/errors.js';
import { lowerCholesky, trilMask } from '../constraints.js';
import type { Fn } from '../messenger.js';
import { getParamStore } from '../param_store.js';
import { param } from '../runtime.js';
import { AffineLatentTransform, type LatentTransform } from './latent_transform.js';
import { AutoContinuous } from './continuous.js';
import type { AutoGuideOptions } from './guide.js';
import { ScaleTrilNormal } from './latent.js';

/**
 * A full-covariance Normal guide.
 *
 * @example
 * ```ts
 * const guide = new AutoMultivariateNormal(model);
 * // ... SVI ...
 * const q = guide.getPosterior(); // N(loc, L L^T) over the unconstrained latents
 * ```
 */
export class AutoMultivariateNormal<A extends unknown[]> extends AutoContinuous<A> {
  readonly initScale: number;
  constructor(model: Fn<A, unknown>, options: AutoGuideOptions = {}) {
    super(model, options, 'AutoMultivariateNormal');
    this.initScale = options.initScale ?? 0.1;
    if (!(this.initScale > 0) || !Number.isFinite(this.initScale)) {
      throw new ArgumentError('initScale', `expected a finite number > 0, got ${this.initScale}`);
    }
  }
  /** Name of the Cholesky-factor parameter. */
  get scaleTrilName(): string {
    return `${this.prefix}.scale_tril`;
  }
  protected latentDistribution(): Distribution {
    const loc = param(`${this.prefix}.loc`, () => this.initLatent());
    const l = param(this.scaleTrilName, () => tf.mul(tf.eye(this.latentDim), this.initScale), {
      constraint: lowerCholesky,
    });
    return new ScaleTrilNormal(loc, l);
  }
  locAndScale(): { loc: tf.Tensor; scale: tf.Tensor } {
    const loc = getParamStore().value(`${this.prefix}.loc`);
    const scale = tf.tidy(() => {
      const l = tf.mul(getParamStore().value(this.scaleTrilName), trilMask(this.latentDim));
      return tf.sqrt(tf.sum(tf.square(l), -1));
    });
    return { loc, scale };
  }
  /** The posterior covariance `L L^T` of the unconstrained latent vector, `[D, D]`. */
  covariance(): tf.Tensor {
    return tf.tidy(() => {
      const l = tf.mul(getParamStore().value(this.scaleTrilName), trilMask(this.latentDim));
      return tf.matMul(l, l, false, true);
    });
  }
  /** `u = loc + L z` (see `AutoContinuous.getTransform`). */
  override getTransform(): LatentTransform {
    const loc = getParamStore().value(`${this.prefix}.loc`);
    const l = tf.tidy(() =>
      tf.mul(getParamStore().value(this.scaleTrilName), trilMask(this.latentDim)),
    );
    return new AffineLatentTransform(loc, l);
  }
  override getPosterior(): Distribution {
    const loc = getParamStore().value(`${this.prefix}.loc`);
    const l = getParamStore().value(this.scaleTrilName);
    const d = new ScaleTrilNormal(loc.arraySync() as number[], l.arraySync() as number[][]);
    loc.dispose();
    l.dispose();
    return d;
  }
}
