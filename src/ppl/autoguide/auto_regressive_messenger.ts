/**
 * `AutoRegressiveMessenger` (Pyro's): every latent site's posterior is a learned affine map of
 * its prior given the upstream draws, in the unconstrained space,
 *
 * $$z = T\big(\mathrm{loc} + \mathrm{scale} \odot T^{-1}(x)\big),\quad x \sim p(\cdot \mid
 *   \text{upstream}),\qquad \log q(z) = \log p(x) - \log\lvert\det J_T(v)\rvert
 *   - \textstyle\sum \log \mathrm{scale} + \log\lvert\det J_T(u)\rvert,$$
 *
 * `u = T^{-1}(x)`, `v = loc + scale * u`, so the guide inherits the model's dependency structure
 * (a site whose prior follows an upstream draw follows it in `q`). `loc` starts at
 * `(1 - initScale) T^{-1}(z_0)` at the `initLoc` point `z_0` and `scale` at `initScale`: the
 * start is `initScale * prior + (1 - initScale) * z_0` in the unconstrained space (Pyro's).
 */
import * as tf from '@tensorflow/tfjs';
import type { Bijector } from '../../bijectors/bijector.js';
import { Distribution } from '../../distributions/distribution.js';
import type { Constraint } from '../../constraints/constraints.js';
import { ArgumentError } from '../../utils/errors.js';
import { sumRightmost } from '../../utils/tensor.js';
import { positive } from '../constraints.js';
import type { Fn } from '../messenger.js';
import { param } from '../runtime.js';
import { AutoMessenger, resolveInitLoc, type PosteriorOrValue } from './auto_messenger.js';
import { checkInitScale, type AutoNormalMessengerOptions } from './auto_normal_messenger.js';
import type { InitLoc } from './prototype.js';

/** Options of {@link AutoRegressiveMessenger} (as {@link AutoNormalMessenger}'s). */
export type AutoRegressiveMessengerOptions = AutoNormalMessengerOptions;

/** `T(loc + scale * T^{-1}(x))` for `x ~ prior` (see the module). @internal */
class AffineOfPrior extends Distribution {
  private cached: { y: tf.Tensor; x: tf.Tensor; u: tf.Tensor; v: tf.Tensor } | null = null;
  private readonly nEvent: number;

  /**
   * @param prior the site's prior.
   * @param bijector `bijectTo(prior.support)`.
   * @param loc the location, broadcast to the unconstrained shape.
   * @param scale the scale (> 0), likewise.
   */
  constructor(
    readonly prior: Distribution,
    readonly bijector: Bijector,
    readonly loc: tf.Tensor,
    readonly scale: tf.Tensor,
  ) {
    super({});
    this.nEvent = loc.rank - prior.batchShape.length;
  }
  get batchShape(): number[] {
    return this.prior.batchShape;
  }
  get eventShape(): number[] {
    return this.prior.eventShape;
  }
  override get support(): Constraint {
    return this.prior.support;
  }
  override get hasRsample(): boolean {
    return this.prior.hasRsample;
  }
  private push(x: tf.Tensor): { y: tf.Tensor; u: tf.Tensor; v: tf.Tensor } {
    const u = this.bijector.inverse(x);
    const v = tf.add(this.loc, tf.mul(this.scale, u));
    return { y: this.bijector.forward(v), u, v };
  }
  /** A draw; a single one (`shape = []`) is cached for {@link AffineOfPrior.logProb}. */
  override rsample(shape: number[] = [], seed?: number): tf.Tensor {
    if (shape.length > 0) return super.rsample(shape, seed);
    const x = this.prior.rsample([], seed);
    const { y, u, v } = this.push(x);
    this.cached = { y, x, u, v };
    return y;
  }
  override sample(shape: number[] = [], seed?: number): tf.Tensor {
    if (shape.length > 0) return super.sample(shape, seed);
    const x = this.prior.sample([], seed);
    const { y, u, v } = this.push(x);
    this.cached = { y, x, u, v };
    return y;
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    return this.push(this.prior.rsample(shape, seed)).y;
  }
  protected override _sample(shape: number[], seed: number): tf.Tensor {
    return this.push(this.prior.sample(shape, seed)).y;
  }
  protected _logProb(y: tf.Tensor): tf.Tensor {
    let x: tf.Tensor;
    let u: tf.Tensor;
    let v: tf.Tensor;
    if (this.cached !== null && y === this.cached.y) ({ x, u, v } = this.cached);
    else {
      v = this.bijector.inverse(y);
      u = tf.div(tf.sub(v, this.loc), this.scale);
      x = this.bijector.forward(u);
    }
    const extra = this.nEvent - this.bijector.domainEventDim;
    const ldV = sumRightmost(this.bijector.forwardAndLogDet(v).logDet, extra);
    const ldU = sumRightmost(this.bijector.forwardAndLogDet(u).logDet, extra);
    const ldS = sumRightmost(tf.log(tf.broadcastTo(this.scale, u.shape)), this.nEvent);
    return tf.add(tf.sub(tf.sub(this.prior.logProb(x), ldV), ldS), ldU);
  }
}

/**
 * The prior of each site, affinely transformed in the unconstrained space (Pyro's
 * `AutoRegressiveMessenger`). Parameters `${prefix}.locs.${site}`, `${prefix}.scales.${site}`.
 * Continuous sites with a reparameterized prior only.
 *
 * @example
 * ```ts
 * const guide = new AutoRegressiveMessenger(model);
 * const svi = new SVI(model, guide, tf.train.adam(0.01), new TraceELBO());
 * ```
 */
export class AutoRegressiveMessenger<A extends unknown[]> extends AutoMessenger<A> {
  readonly initScale: number;
  protected readonly initLoc: InitLoc;

  constructor(model: Fn<A, unknown>, options: AutoRegressiveMessengerOptions = {}) {
    super(model, options, 'AutoRegressiveMessenger', ['initLoc', 'initScale']);
    this.initScale = checkInitScale(options.initScale, 0.1);
    this.initLoc = resolveInitLoc(options.initLoc);
  }

  /** Name of the location parameter of site `name`. */
  locName(name: string): string {
    return `${this.prefix}.locs.${name}`;
  }
  /** Name of the scale parameter of site `name`. */
  scaleName(name: string): string {
    return `${this.prefix}.scales.${name}`;
  }

  /** `T(loc + scale * T^{-1}(x))`, `x ~ prior`. */
  getPosterior(name: string, prior: Distribution): PosteriorOrValue {
    const bij = this.bijectorOf(name, prior);
    if (!prior.hasRsample) {
      throw new ArgumentError(
        name,
        `latent site '${name}': its prior ${prior.name} has no reparameterized sampler, which ` +
          'AutoRegressiveMessenger draws through',
      );
    }
    const shape = this.paramShape(prior, bij);
    const uShape = bij.inverseShape([...prior.batchShape, ...prior.eventShape]);
    const eventRank = uShape.length - prior.batchShape.length;
    const loc = param(this.locName(name), () =>
      tf.tidy(() =>
        tf.mul(this.initUnconstrained(name, prior, bij, this.initLoc, shape), 1 - this.initScale),
      ),
    );
    const scale = param(this.scaleName(name), () => tf.fill(shape, this.initScale), {
      constraint: positive,
    });
    return new AffineOfPrior(
      prior,
      bij,
      tf.broadcastTo(this.visited(name, loc, prior, eventRank), uShape),
      tf.broadcastTo(this.visited(name, scale, prior, eventRank), uShape),
    );
  }
}
