/**
 * `AutoLowRankMultivariateNormal` (Pyro's): a Normal over the concatenated unconstrained latent
 * vector with a low-rank-plus-diagonal covariance,
 *
 * $$q(u) = \mathcal N\big(\mathrm{loc},\; W W^T + \mathrm{diag}(d^2)\big),\qquad W \in \mathbb R^{D\times r},$$
 *
 * `O(D r)` parameters instead of `O(D^2)`; `rank` defaults to `ceil(sqrt(D))` as in Pyro.
 */
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../../distributions/distribution.js';
import { ArgumentError } from '../../utils/errors.js';
import { nextSeed } from '../../utils/seed.js';
import { positive } from '../constraints.js';
import type { Fn } from '../messenger.js';
import { getParamStore } from '../param_store.js';
import { param } from '../runtime.js';
import { AffineLatentTransform, type LatentTransform } from './latent_transform.js';
import { cholesky } from '../../utils/linalg.js';
import { AutoContinuous } from './continuous.js';
import type { AutoGuideOptions } from './guide.js';
import { LowRankNormal } from './latent.js';

/** Options of {@link AutoLowRankMultivariateNormal}. */
export interface AutoLowRankOptions extends AutoGuideOptions {
  /** Rank `r` of the covariance factor; default `ceil(sqrt(D))`. */
  rank?: number;
}

/**
 * A low-rank-plus-diagonal Normal guide.
 *
 * @example
 * ```ts
 * const guide = new AutoLowRankMultivariateNormal(model, { rank: 2 });
 * ```
 */
export class AutoLowRankMultivariateNormal<A extends unknown[]> extends AutoContinuous<A> {
  readonly initScale: number;
  private readonly rankOption: number | undefined;
  constructor(model: Fn<A, unknown>, options: AutoLowRankOptions = {}) {
    super(model, options, 'AutoLowRankMultivariateNormal', ['rank']);
    this.initScale = options.initScale ?? 0.1;
    if (!(this.initScale > 0) || !Number.isFinite(this.initScale)) {
      throw new ArgumentError('initScale', `expected a finite number > 0, got ${this.initScale}`);
    }
    if (options.rank !== undefined && (!Number.isInteger(options.rank) || options.rank < 1)) {
      throw new ArgumentError('rank', `expected an integer >= 1, got ${options.rank}`);
    }
    this.rankOption = options.rank;
  }
  /** The rank `r` (after the first call). */
  get rank(): number {
    return this.rankOption ?? Math.ceil(Math.sqrt(this.latentDim));
  }
  protected latentDistribution(): Distribution {
    const d = this.latentDim;
    const r = this.rank;
    const loc = param(`${this.prefix}.loc`, () => this.initLatent());
    const w = param(`${this.prefix}.cov_factor`, () =>
      tf.randomNormal([d, r], 0, this.initScale / Math.sqrt(r), 'float32', nextSeed()),
    );
    const scale = param(`${this.prefix}.scale`, () => tf.fill([d], this.initScale), {
      constraint: positive,
    });
    return new LowRankNormal(loc, w, scale);
  }
  locAndScale(): { loc: tf.Tensor; scale: tf.Tensor } {
    const loc = getParamStore().value(`${this.prefix}.loc`);
    const scale = tf.tidy(() => {
      const w = getParamStore().value(`${this.prefix}.cov_factor`);
      const s = getParamStore().value(`${this.prefix}.scale`);
      return tf.sqrt(tf.add(tf.sum(tf.square(w), -1), tf.square(s)));
    });
    return { loc, scale };
  }
  /**
   * `u = loc + L z` with `L L^T = W W^T + diag(s²)` (the Cholesky factor of the covariance, as
   * NumPyro's `get_transform`; see `AutoContinuous.getTransform`).
   */
  override getTransform(): LatentTransform {
    const loc = getParamStore().value(`${this.prefix}.loc`);
    const l = tf.tidy(() => {
      const w = getParamStore().value(`${this.prefix}.cov_factor`);
      const s = getParamStore().value(`${this.prefix}.scale`);
      return cholesky(tf.add(tf.matMul(w, w, false, true), tf.diag(tf.square(s))));
    });
    return new AffineLatentTransform(loc, l);
  }
  override getPosterior(): Distribution {
    const [loc, w, s] = ['loc', 'cov_factor', 'scale'].map((n) =>
      getParamStore().value(`${this.prefix}.${n}`),
    ) as [tf.Tensor, tf.Tensor, tf.Tensor];
    const d = new LowRankNormal(
      loc.arraySync() as number[],
      w.arraySync() as number[][],
      s.arraySync() as number[],
    );
    tf.dispose([loc, w, s]);
    return d;
  }
}
