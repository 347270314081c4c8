/**
 * `AutoNormal`: a mean-field Normal guide built from the model (Pyro's `AutoNormal`). For every
 * latent site `z` with support `S` and `T = bijectTo(S)`:
 *
 * $$u_z \sim \mathcal N(\mathrm{loc}_z, \mathrm{scale}_z^2),\qquad z = T(u_z),\qquad
 *   \log q(z) = \log \mathcal N(u_z) - \log\lvert\det J_T(u_z)\rvert$$
 *
 * with learnable `loc_z` and `scale_z = softplus(.) > 0` in the unconstrained space, so draws
 * always lie in the support (a `HalfCauchy` scale stays positive, a `Beta` probability in (0, 1),
 * a `Dirichlet` draw on the simplex). Real-valued sites are sampled from the Normal itself (so
 * `TraceMeanFieldELBO` finds their analytic KL).
 */
import * as tf from '@tensorflow/tfjs';
import { Independent } from '../../distributions/independent.js';
import { Normal } from '../../distributions/normal.js';
import type { Distribution } from '../../distributions/distribution.js';
import { ArgumentError } from '../../utils/errors.js';
import { positive } from '../constraints.js';
import type { Fn } from '../messenger.js';
import { getParamStore } from '../param_store.js';
import { param, sample } from '../runtime.js';
import {
  AutoGuide,
  checkNumSamples,
  isRealSupport,
  normalQuantiles,
  visitedMembers,
  type AutoGuideOptions,
} from './guide.js';
import { scale as scaleHandler } from '../handlers/scale.js';
import type { LatentSpec } from './prototype.js';
import { Pushforward } from './pushforward.js';

export type { AutoGuideOptions } from './guide.js';

/**
 * A mean-field Normal guide in the unconstrained space of the model's latent sites.
 *
 * @example
 * ```ts
 * const guide = new AutoNormal(model);
 * const svi = new SVI(model, guide, tf.train.adam(0.01), new TraceELBO());
 * svi.step(data);
 * guide.median();              // {siteName: T(loc)}
 * guide.quantiles([0.05, 0.95]);
 * ```
 */
export class AutoNormal<A extends unknown[]> extends AutoGuide<A> {
  readonly initScale: number;

  constructor(model: Fn<A, unknown>, options: AutoGuideOptions = {}) {
    super(model, options, 'AutoNormal');
    this.initScale = options.initScale ?? 0.1;
    if (!(this.initScale > 0) || !Number.isFinite(this.initScale)) {
      throw new ArgumentError('initScale', `expected a finite number > 0, got ${this.initScale}`);
    }
  }

  /** Name of the (unconstrained) location parameter of site `name`. */
  locName(name: string): string {
    return `${this.prefix}.locs.${name}`;
  }
  /** Name of the (unconstrained) scale parameter of site `name`. */
  scaleName(name: string): string {
    return `${this.prefix}.scales.${name}`;
  }

  /** The site's guide distribution at the current parameters. */
  private siteDist(s: LatentSpec, loc: tf.Tensor, scale: tf.Tensor): Distribution {
    const base = new Normal(loc, scale);
    if (isRealSupport(s) && s.unconstrainedShape.length === s.shape.length) {
      return s.eventDim === 0 ? base : new Independent(base, s.eventDim);
    }
    // the site's batch dims (plates) stay batch dims, so that an outer plate (vectorized
    // particles) broadcasts the guide's draw as it does the model's site
    return new Pushforward(base, s.bijector, s.support, {
      batchDims: s.shape.length - s.eventDim,
    });
  }

  protected override get perSite(): boolean {
    return true;
  }

  /**
   * The guide: samples every latent site. A local latent of a subsampled plate uses the
   * parameters of the members the plate visits (its subsample site is drawn here and replayed by
   * the model), its log-density scaled by `size / subsampleSize` as the model's.
   */
  call(...args: A): Record<string, tf.Tensor> {
    return this.standalone(() => {
      const out: Record<string, tf.Tensor> = {};
      const indices = new Map<string, tf.Tensor>();
      for (const s of this.setup(args)) {
        const locAll = param(this.locName(s.name), s.init);
        const scaleAll = param(
          this.scaleName(s.name),
          () => tf.fill(s.unconstrainedShape, this.initScale),
          {
            constraint: positive,
          },
        );
        const { params, scale: factor } = visitedMembers(s, [locAll, scaleAll], indices);
        const [loc, scale] = params as [tf.Tensor, tf.Tensor];
        const draw = (): tf.Tensor => sample(s.name, this.siteDist(s, loc, scale));
        out[s.name] = factor === 1 ? draw() : scaleHandler(draw, factor)();
      }
      this.releaseInits();
      return out;
    });
  }

  /** Posterior medians `T(loc)`, new tensors by site name. */
  median(...args: A | []): Record<string, tf.Tensor> {
    this.setUpWith(args);
    return this.collect((s) =>
      tf.tidy(() => {
        const loc = getParamStore().value(this.locName(s.name));
        return s.bijector.forward(loc);
      }),
    );
  }

  /** Marginal quantiles `T(loc + scale * Phi^{-1}(q))`, shape `[qs.length, ...siteShape]`. */
  quantiles(qs: number[]): Record<string, tf.Tensor> {
    const z = normalQuantiles(qs);
    return this.collect((s) =>
      tf.tidy(() => {
        const loc = getParamStore().value(this.locName(s.name));
        const scale = getParamStore().value(this.scaleName(s.name));
        return tf.stack(z.map((zq) => s.bijector.forward(tf.add(loc, tf.mul(scale, zq)))));
      }),
    );
  }

  /** `n` draws by site, shape `[n, ...siteShape]` (new tensors). */
  samplePosterior(n: number): Record<string, tf.Tensor> {
    checkNumSamples(n);
    return this.collect((s) =>
      tf.tidy(() => {
        const loc = getParamStore().value(this.locName(s.name));
        const scale = getParamStore().value(this.scaleName(s.name));
        return s.bijector.forward(new Normal(loc, scale).sample([n]));
      }),
    );
  }

  /** Posterior scales in the unconstrained space, new tensors by site name. */
  scales(): Record<string, tf.Tensor> {
    return this.collect((s) => getParamStore().value(this.scaleName(s.name)));
  }

  /**
   * The posterior of each site as a distribution over its constrained value (new objects holding
   * copies of the parameters; `dispose()` them).
   */
  getPosterior(): Record<string, Distribution> {
    const out: Record<string, Distribution> = {};
    for (const s of this.specs) {
      const loc = getParamStore().value(this.locName(s.name));
      const scale = getParamStore().value(this.scaleName(s.name));
      const base = new Normal(loc.arraySync() as number, scale.arraySync() as number);
      loc.dispose();
      scale.dispose();
      out[s.name] = new Pushforward(base, s.bijector, s.support, { ownsBase: true });
    }
    return out;
  }
}
