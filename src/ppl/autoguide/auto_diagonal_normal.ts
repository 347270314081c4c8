/**
 * `AutoDiagonalNormal` (Pyro's): all latent sites mapped to the unconstrained space and
 * concatenated into `u ∈ R^D`, with
 *
 * $$q(u) = \mathcal N\big(\mathrm{loc}, \mathrm{diag}(\mathrm{scale}^2)\big)$$
 *
 * (one `loc` and one positive `scale` vector of length `D`); each site receives `T_s(u_s)`.
 */
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../../distributions/distribution.js';
import { MultivariateNormalDiag } from '../../distributions/mvn_diag.js';
import { ArgumentError } from '../../utils/errors.js';
import { positive } from '../constraints.js';
import type { Fn } from '../messenger.js';
import { getParamStore } from '../param_store.js';
import { param } from '../runtime.js';
import { AffineLatentTransform, type LatentTransform } from './latent_transform.js';
import { AutoContinuous, unpackLatent } from './continuous.js';
import type { AutoGuideOptions } from './guide.js';

/**
 * A diagonal Normal guide over the concatenated unconstrained latent vector.
 *
 * @example
 * ```ts
 * const guide = new AutoDiagonalNormal(model);
 * const svi = new SVI(model, guide, tf.train.adam(0.01), new TraceELBO());
 * ```
 */
export class AutoDiagonalNormal<A extends unknown[]> extends AutoContinuous<A> {
  readonly initScale: number;
  constructor(model: Fn<A, unknown>, options: AutoGuideOptions = {}) {
    super(model, options, 'AutoDiagonalNormal');
    this.initScale = options.initScale ?? 0.1;
    if (!(this.initScale > 0) || !Number.isFinite(this.initScale)) {
      throw new ArgumentError('initScale', `expected a finite number > 0, got ${this.initScale}`);
    }
  }
  protected latentDistribution(): Distribution {
    const loc = param(`${this.prefix}.loc`, () => this.initLatent());
    const scale = param(`${this.prefix}.scale`, () => tf.fill([this.latentDim], this.initScale), {
      constraint: positive,
    });
    return new MultivariateNormalDiag(loc, scale);
  }
  locAndScale(): { loc: tf.Tensor; scale: tf.Tensor } {
    return {
      loc: getParamStore().value(`${this.prefix}.loc`),
      scale: getParamStore().value(`${this.prefix}.scale`),
    };
  }
  /** Unconstrained posterior scales by site, new tensors. */
  scales(): Record<string, tf.Tensor> {
    const v = getParamStore().value(`${this.prefix}.scale`);
    const parts = unpackLatent(v, this.specs);
    v.dispose();
    const out: Record<string, tf.Tensor> = {};
    this.specs.forEach((s, i) => (out[s.name] = parts[i] as tf.Tensor));
    return out;
  }
  /** `u = loc + scale ⊙ z` (see `AutoContinuous.getTransform`). */
  override getTransform(): LatentTransform {
    const { loc, scale } = this.locAndScale();
    return new AffineLatentTransform(loc, scale);
  }
  override getPosterior(): Distribution {
    const { loc, scale } = this.locAndScale();
    const d = new MultivariateNormalDiag(
      loc.arraySync() as number[],
      scale.arraySync() as number[],
    );
    loc.dispose();
    scale.dispose();
    return d;
  }
}
