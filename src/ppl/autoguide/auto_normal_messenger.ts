/**
 * `AutoNormalMessenger` (Pyro's): the effect-handler mean-field Normal guide. Every latent site
 * `z` with support `S` and `T = bijectTo(S)` gets
 *
 * $$q(z) = T_{\#}\,\mathcal N(\mathrm{loc}_z, \mathrm{scale}_z^2),\qquad
 *   \log q(z) = \log \mathcal N(u) - \log\lvert\det J_T(u)\rvert,\ u = T^{-1}(z)$$
 *
 * with learnable `loc_z` and `scale_z > 0` in the unconstrained space, created when the site is
 * first reached (the same family as {@link AutoNormal}), but as an {@link AutoMessenger}: a
 * subclass may override {@link AutoNormalMessenger.getPosterior} for chosen sites and fall back
 * to `super.getPosterior(name, prior)` for the others.
 */
import * as tf from '@tensorflow/tfjs';
import type { Bijector } from '../../bijectors/bijector.js';
import type { Distribution } from '../../distributions/distribution.js';
import { Independent } from '../../distributions/independent.js';
import { Normal } from '../../distributions/normal.js';
import { ArgumentError } from '../../utils/errors.js';
import { positive } from '../constraints.js';
import type { Fn } from '../messenger.js';
import { param } from '../runtime.js';
import {
  AutoMessenger,
  resolveInitLoc,
  type AutoMessengerOptions,
  type PosteriorOrValue,
} from './auto_messenger.js';
import type { InitLoc } from './prototype.js';
import { Pushforward } from './pushforward.js';

/** Options of {@link AutoNormalMessenger}. */
export interface AutoNormalMessengerOptions extends AutoMessengerOptions {
  /** Initial locations (Pyro's `init_loc_fn`); default `'mean'` (Pyro's `init_to_mean`). */
  initLoc?: InitLoc;
  /** Initial scale in the unconstrained space; default 0.1 (as Pyro). */
  initScale?: number;
}

/** Check an `initScale` option (a finite number > 0). @internal */
export function checkInitScale(v: number | undefined, fallback: number): number {
  const s = v ?? fallback;
  if (typeof s !== 'number' || !(s > 0) || !Number.isFinite(s)) {
    throw new ArgumentError('initScale', `expected a finite number > 0, got ${String(s)}`);
  }
  return s;
}

/** Whether `bijector` maps the site's shape to itself elementwise on the real line. */
function isIdentityReal(prior: Distribution): boolean {
  const c = prior.support as { kind: string; base?: { kind: string } };
  return c.kind === 'real' || (c.kind === 'independent' && c.base?.kind === 'real');
}

/**
 * The distribution `T_# N(loc, scale)` of a site with `prior` (loc and scale broadcast to the
 * site's unconstrained shape); a plain (Independent) Normal on real supports, so that
 * `TraceMeanFieldELBO` finds its analytic KL. @internal
 */
export function transformedNormal(
  prior: Distribution,
  bijector: Bijector,
  loc: tf.Tensor,
  scale: tf.Tensor,
): Distribution {
  const batch = prior.batchShape;
  const full = [...batch, ...prior.eventShape];
  const uShape = bijector.inverseShape(full);
  const base = new Normal(tf.broadcastTo(loc, uShape), tf.broadcastTo(scale, uShape));
  const uEventRank = uShape.length - batch.length;
  if (isIdentityReal(prior) && uShape.length === full.length) {
    return uEventRank === 0 ? base : new Independent(base, uEventRank);
  }
  return new Pushforward(base, bijector, prior.support, { batchDims: batch.length });
}

/**
 * Mean-field Normal guide as an effect handler (Pyro's `AutoNormalMessenger`). Parameters are
 * named `${prefix}.locs.${site}` and `${prefix}.scales.${site}` (prefix `AutoNormalMessenger`).
 *
 * @example
 * ```ts
 * const guide = new AutoNormalMessenger(model);
 * const svi = new SVI(model, guide, tf.train.adam(0.01), new TraceELBO());
 * svi.step(data);
 * guide.median(data); // {site: T(loc)}
 * // a custom posterior at one site, mean field elsewhere
 * class MyGuide extends AutoNormalMessenger<[tf.Tensor]> {
 *   override getPosterior(name: string, prior: Distribution) {
 *     if (name !== 'c') return super.getPosterior(name, prior);
 *     const w = param('c_weight', 1);
 *     return new Normal(tf.mul(w, prior.mean()), param('c_scale', 1, { constraint: positive }));
 *   }
 * }
 * ```
 */
export class AutoNormalMessenger<A extends unknown[]> extends AutoMessenger<A> {
  readonly initScale: number;
  protected readonly initLoc: InitLoc;
  /** Set while `median` runs: posteriors are their medians. */
  protected computingMedian = false;

  constructor(
    model: Fn<A, unknown>,
    options: AutoNormalMessengerOptions = {},
    defaultPrefix = 'AutoNormalMessenger',
    extraKeys: readonly string[] = [],
  ) {
    super(model, options, defaultPrefix, ['initLoc', 'initScale', ...extraKeys]);
    this.initScale = checkInitScale(options.initScale, 0.1);
    this.initLoc = resolveInitLoc(options.initLoc);
  }

  /** Name of the unconstrained location parameter of site `name`. */
  locName(name: string): string {
    return `${this.prefix}.locs.${name}`;
  }
  /** Name of the unconstrained scale parameter of site `name`. */
  scaleName(name: string): string {
    return `${this.prefix}.scales.${name}`;
  }

  /** The mean-field posterior `T_# N(loc, scale)` of the site (its median `T(loc)` in `median`). */
  getPosterior(name: string, prior: Distribution): PosteriorOrValue {
    const bij = this.bijectorOf(name, prior);
    const { loc, scale } = this.locScale(name, prior, bij);
    if (this.computingMedian) return bij.forward(tf.broadcastTo(loc, this.uShape(prior, bij)));
    return transformedNormal(prior, bij, loc, scale);
  }

  /** The site's unconstrained shape. */
  protected uShape(prior: Distribution, bij: Bijector): number[] {
    return bij.inverseShape([...prior.batchShape, ...prior.eventShape]);
  }

  /**
   * The site's `loc` and `scale` (created at the first visit: `loc` at the `initLoc` point, or
   * `adjustInit` of it, `scale = initScale`), restricted to the members its subsampled plates
   * visit.
   */
  protected locScale(
    name: string,
    prior: Distribution,
    bij: Bijector,
    adjustInit?: (u0: tf.Tensor, shape: readonly number[]) => tf.Tensor,
  ): { loc: tf.Tensor; scale: tf.Tensor } {
    const shape = this.paramShape(prior, bij);
    const eventRank = this.uShape(prior, bij).length - prior.batchShape.length;
    const loc = param(this.locName(name), () => {
      const u0 = this.initUnconstrained(name, prior, bij, this.initLoc, shape);
      if (adjustInit === undefined) return u0;
      try {
        return tf.tidy(() => adjustInit(u0, shape));
      } finally {
        u0.dispose();
      }
    });
    const scale = param(this.scaleName(name), () => tf.fill(shape, this.initScale), {
      constraint: positive,
    });
    return {
      loc: this.visited(name, loc, prior, eventRank),
      scale: this.visited(name, scale, prior, eventRank),
    };
  }

  /**
   * Posterior medians `T(loc)` of the latent sites, by name (Pyro's `median(*args)`): the model
   * runs with each site at its median, so later sites see the earlier medians.
   * @param args the model's arguments.
   */
  median(...args: A): Record<string, tf.Tensor> {
    this.computingMedian = true;
    try {
      return this.call(...args);
    } finally {
      this.computingMedian = false;
    }
  }
}
