/**
 * `AutoDelta` (Pyro's): a point-mass guide `q(z) = δ(z - ẑ)` with a learnable `ẑ` per latent
 * site, kept in the site's support by the parameter store (the parameter has the site's support
 * as its constraint, so it lives on the unconstrained scale `ẑ = T(u)`). SVI with it maximizes
 * `log p(x, ẑ)`: a MAP estimate.
 */
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../../distributions/distribution.js';
import { Delta } from '../../distributions/delta.js';
import type { Fn } from '../messenger.js';
import { getParamStore } from '../param_store.js';
import { param, sample } from '../runtime.js';
import {
  AutoGuide,
  checkNumSamples,
  normalQuantiles,
  visitedMembers,
  type AutoGuideOptions,
} from './guide.js';
import { scale as scaleHandler } from '../handlers/scale.js';

/**
 * A MAP guide.
 *
 * @example
 * ```ts
 * const guide = new AutoDelta(model);
 * new SVI(model, guide, tf.train.adam(0.05), new TraceELBO()).step(data);
 * guide.median(); // the MAP estimates
 * ```
 */
export class AutoDelta<A extends unknown[]> extends AutoGuide<A> {
  constructor(model: Fn<A, unknown>, options: Omit<AutoGuideOptions, 'initScale'> = {}) {
    super(model, { initLoc: 'sample', ...options }, 'AutoDelta');
  }

  /** Name of the parameter of site `name`. */
  paramName(name: string): string {
    return `${this.prefix}.${name}`;
  }

  protected override get perSite(): boolean {
    return true;
  }

  /**
   * The guide: every latent site is the point mass at its parameter (for a local latent of a
   * subsampled plate, at the visited members' parameters; the plate's subsample site is drawn
   * here and replayed by the model).
   */
  call(...args: A): Record<string, tf.Tensor> {
    return this.standalone(() => {
      const out: Record<string, tf.Tensor> = {};
      const indices = new Map<string, tf.Tensor>();
      for (const s of this.setup(args)) {
        const all = param(this.paramName(s.name), () => s.bijector.forward(s.init), {
          constraint: s.support,
        });
        const { params, scale: factor } = visitedMembers(s, [all], indices);
        const v = params[0] as tf.Tensor;
        const draw = (): tf.Tensor => sample(s.name, new Delta(v, s.eventDim));
        out[s.name] = factor === 1 ? draw() : scaleHandler(draw, factor)();
      }
      this.releaseInits();
      return out;
    });
  }

  /** The point estimates, new tensors by site name. */
  median(...args: A | []): Record<string, tf.Tensor> {
    this.setUpWith(args);
    return this.collect((s) => getParamStore().value(this.paramName(s.name)));
  }

  /** A point mass has every quantile at its location: shape `[qs.length, ...siteShape]`. */
  quantiles(qs: number[]): Record<string, tf.Tensor> {
    normalQuantiles(qs); // the same checks (and messages) as the Gaussian guides
    return this.collect((s) =>
      tf.tidy(() => {
        const v = getParamStore().value(this.paramName(s.name));
        return tf.stack(qs.map(() => v));
      }),
    );
  }

  /** `n` copies of the point estimates, shape `[n, ...siteShape]`. */
  samplePosterior(n: number): Record<string, tf.Tensor> {
    checkNumSamples(n);
    return this.collect((s) =>
      tf.tidy(() => {
        const v = getParamStore().value(this.paramName(s.name));
        return tf.tile(tf.expandDims(v, 0), [n, ...v.shape.map(() => 1)]);
      }),
    );
  }

  /** The point masses by site (new distributions; `dispose()` them). */
  getPosterior(): Record<string, Distribution> {
    const out: Record<string, Distribution> = {};
    for (const s of this.specs) {
      const v = getParamStore().value(this.paramName(s.name));
      out[s.name] = new Delta(v.arraySync() as number, s.eventDim);
      v.dispose();
    }
    return out;
  }
}
