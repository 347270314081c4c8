/**
 * `AutoHierarchicalNormalMessenger` (Pyro's): the mean-field Normal guide of
 * {@link AutoNormalMessenger} whose location also follows the site's prior mean given the
 * upstream draws,
 *
 * $$q(z \mid \text{upstream}) = T_{\#}\,\mathcal N\big(\mathrm{loc} + w \odot T^{-1}(\mathbb E_p[z
 *   \mid \text{upstream}]),\ \mathrm{scale}^2\big),\qquad w > 0,$$
 *
 * so a hierarchical model's local latents move with their group-level draws (`w = 1`: centered
 * on the prior mean, `loc` the deviation from it; `w -> 0`: plain mean field). `loc` starts at
 * `T^{-1}(z_0) - w_0\, T^{-1}(\mathbb E_p[z])` at the `initLoc` point `z_0`, so the guide starts
 * centered there; `w` starts at `initWeight` (default 1), element-wise per site or one scalar
 * (`weightType`). Sites outside `hierarchicalSites` (when given) are plain mean field. A site
 * whose prior has no mean (e.g. a Cauchy) must be left out of `hierarchicalSites`.
 */
import * as tf from '@tensorflow/tfjs';
import type { Bijector } from '../../bijectors/bijector.js';
import type { Distribution } from '../../distributions/distribution.js';
import { ArgumentError } from '../../utils/errors.js';
import { positive } from '../constraints.js';
import type { Fn } from '../messenger.js';
import { param } from '../runtime.js';
import type { PosteriorOrValue } from './auto_messenger.js';
import {
  AutoNormalMessenger,
  transformedNormal,
  type AutoNormalMessengerOptions,
} from './auto_normal_messenger.js';

/** The error for a hierarchical site whose prior has no (finite) mean. */
function noMean(name: string, prior: Distribution, why: string): ArgumentError {
  return new ArgumentError(
    name,
    `site '${name}': its prior ${prior.name} has no mean (${why}); leave it out of ` +
      'hierarchicalSites',
  );
}

/** Options of {@link AutoHierarchicalNormalMessenger}. */
export interface AutoHierarchicalNormalMessengerOptions extends AutoNormalMessengerOptions {
  /** Initial weight `w` of the prior mean (> 0); default 1 (as Pyro's `init_weight`). */
  initWeight?: number;
  /** The sites with a weighted prior mean (Pyro's `hierarchical_sites`); default: all. */
  hierarchicalSites?: readonly string[];
  /** One weight per element of the site (default, Pyro's) or one scalar per site. */
  weightType?: 'element-wise' | 'scalar';
}

/**
 * Mean-field Normal guide centered on each site's prior mean given the upstream draws (Pyro's
 * `AutoHierarchicalNormalMessenger`). Parameters `${prefix}.locs.${site}`,
 * `${prefix}.scales.${site}`, `${prefix}.weights.${site}`.
 *
 * @example
 * ```ts
 * const guide = new AutoHierarchicalNormalMessenger(eightSchools, { hierarchicalSites: ['theta'] });
 * const svi = new SVI(eightSchools, guide, tf.train.adam(0.01), new TraceELBO());
 * ```
 */
export class AutoHierarchicalNormalMessenger<A extends unknown[]> extends AutoNormalMessenger<A> {
  readonly initWeight: number;
  readonly hierarchicalSites: readonly string[] | undefined;
  readonly weightType: 'element-wise' | 'scalar';

  constructor(model: Fn<A, unknown>, options: AutoHierarchicalNormalMessengerOptions = {}) {
    super(model, options, 'AutoHierarchicalNormalMessenger', [
      'initWeight',
      'hierarchicalSites',
      'weightType',
    ]);
    const w = options.initWeight ?? 1;
    if (typeof w !== 'number' || !(w > 0) || !Number.isFinite(w)) {
      throw new ArgumentError('initWeight', `expected a finite number > 0, got ${String(w)}`);
    }
    this.initWeight = w;
    const hs = options.hierarchicalSites;
    if (hs !== undefined && (!Array.isArray(hs) || hs.some((n) => typeof n !== 'string'))) {
      throw new ArgumentError('hierarchicalSites', 'expected an array of site names');
    }
    this.hierarchicalSites = hs === undefined ? undefined : [...(hs as string[])];
    const wt = options.weightType ?? 'element-wise';
    if (wt !== 'element-wise' && wt !== 'scalar') {
      throw new ArgumentError(
        'weightType',
        `expected 'element-wise' or 'scalar', got ${JSON.stringify(wt)}`,
      );
    }
    this.weightType = wt;
  }

  /** Name of the weight parameter of site `name`. */
  weightName(name: string): string {
    return `${this.prefix}.weights.${name}`;
  }

  /** Whether site `name` has a weighted prior mean. */
  isHierarchical(name: string): boolean {
    return this.hierarchicalSites === undefined || this.hierarchicalSites.includes(name);
  }

  /** `T^{-1}(E_p[z])`, the prior mean in the unconstrained space (error naming the site). */
  private priorMeanU(name: string, prior: Distribution, bij: Bijector): tf.Tensor {
    let m: tf.Tensor;
    try {
      m = prior.mean();
    } catch (e) {
      throw noMean(name, prior, (e as Error).message);
    }
    return bij.inverse(tf.broadcastTo(m, [...prior.batchShape, ...prior.eventShape]));
  }

  /** `T_# N(loc + w T^{-1}(E_p[z]), scale)` (its median `T(loc + w T^{-1}(E_p[z]))` in `median`). */
  override getPosterior(name: string, prior: Distribution): PosteriorOrValue {
    if (!this.isHierarchical(name)) return super.getPosterior(name, prior);
    const bij = this.bijectorOf(name, prior);
    const meanU = this.priorMeanU(name, prior, bij);
    const { loc, scale } = this.locScale(name, prior, bij, (u0, shape) => {
      // checked once, as the parameters are made (a Cauchy's mean is NaN)
      if (tf.all(tf.isFinite(meanU)).dataSync()[0] !== 1) throw noMean(name, prior, 'not finite');
      return tf.sub(u0, tf.mul(this.initWeight, this.reduceToParam(meanU, prior, shape)));
    });
    const shape = this.paramShape(prior, bij);
    const eventRank = this.uShape(prior, bij).length - prior.batchShape.length;
    const weight = this.visited(
      name,
      param(
        this.weightName(name),
        () => tf.fill(this.weightType === 'scalar' ? [] : shape, this.initWeight),
        { constraint: positive },
      ),
      prior,
      this.weightType === 'scalar' ? 0 : eventRank,
    );
    const total = tf.add(loc, tf.mul(weight, meanU));
    if (this.computingMedian) return bij.forward(total);
    return transformedNormal(prior, bij, total, scale);
  }
}
