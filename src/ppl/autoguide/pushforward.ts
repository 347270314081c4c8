/**
 * The distribution of `x = T(u)` for `u ~ base` over the unconstrained space of a site and `T`
 * the bijection onto the site's support (Pyro's `TransformedDistribution(base, biject_to(support))`
 * as used by `AutoNormal`), with the whole value one event, or with its `batchDims` leading dims
 * as batch dims (the site's plate and batch dims, which the bijection acts along elementwise):
 *
 * $$\log q(x) = \sum \log q_{\text{base}}(u) - \sum \log\lvert\det J_T(u)\rvert,\qquad u = T^{-1}(x),$$
 *
 * the sums over the event dims. With batch dims, an outer plate (vectorized particles) expands
 * the site along new dims on their left, as it does a Normal guide's.
 *
 * The last reparameterized draw keeps its `u` and log-determinant, so scoring that draw (what
 * the ELBOs do) never inverts `T` (exact even where `T` saturates in float32, as Pyro's cache).
 */
import * as tf from '@tensorflow/tfjs';
import type { Bijector } from '../../bijectors/bijector.js';
import type { Constraint } from '../../constraints/constraints.js';
import { Distribution, type DistributionOptions } from '../../distributions/distribution.js';
import { ArgumentError } from '../../utils/errors.js';
import { sumRightmost } from '../../utils/tensor.js';

/** `T_# base` for a site: batch shape its first `batchDims` dims (default none), event the rest. */
export class Pushforward extends Distribution {
  /** The base's option keys, `ownsBase` and `batchDims`. */
  static override readonly optionKeys: readonly string[] = [
    ...Distribution.optionKeys,
    'ownsBase',
    'batchDims',
  ];
  private cachedY: tf.Tensor | null = null;
  private cachedU: tf.Tensor | null = null;
  private cachedLogDet: tf.Tensor | null = null;
  private readonly shape: number[];
  private readonly nBatch: number;

  /**
   * @param base distribution of `u` (batch + event shape = the unconstrained shape).
   * @param bijector `T`, onto the support.
   * @param targetSupport the support of `x` (the model site's).
   * @param options `ownsBase`: `dispose()` also frees `base` (default false: the caller's);
   *   `batchDims`: how many leading dims of the value are batch dims (default 0), at most the
   *   dims `T` leaves alone (the site's batch rank: its shape's rank less its event dims).
   */
  constructor(
    readonly base: Distribution,
    readonly bijector: Bijector,
    readonly targetSupport: Constraint,
    options: DistributionOptions & { ownsBase?: boolean; batchDims?: number } = {},
  ) {
    super(options);
    this.ownsBase = options.ownsBase === true;
    this.shape = bijector.forwardShape([...base.batchShape, ...base.eventShape]);
    const nb = options.batchDims ?? 0;
    const maxNb = Math.min(base.batchShape.length, this.shape.length - bijector.codomainEventDim);
    if (!Number.isInteger(nb) || nb < 0 || nb > maxNb) {
      throw new ArgumentError(
        'batchDims',
        `Pushforward: expected an integer in [0, ${maxNb}] (dims the bijection leaves alone), got ${nb}`,
      );
    }
    this.nBatch = nb;
  }
  private readonly ownsBase: boolean;
  /** Free the owned tensors (and the base distribution when it was given with `ownsBase`). */
  override dispose(): void {
    super.dispose();
    if (this.ownsBase) this.base.dispose();
  }
  get batchShape(): number[] {
    return this.shape.slice(0, this.nBatch);
  }
  get eventShape(): number[] {
    return this.shape.slice(this.nBatch);
  }
  override get support(): Constraint {
    return this.targetSupport;
  }
  override get hasRsample(): boolean {
    return this.base.hasRsample;
  }
  /** A draw `T(u)`; a single draw (`shape = []`) is cached for {@link Pushforward.logProb}. */
  override rsample(shape: number[] = [], seed?: number): tf.Tensor {
    if (shape.length > 0) return super.rsample(shape, seed);
    const u = this.base.rsample([], seed);
    const { y, logDet } = this.bijector.forwardAndLogDet(u);
    this.cachedY = y;
    this.cachedU = u;
    this.cachedLogDet = logDet;
    return y;
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    return this.bijector.forward(this.base.rsample(shape, seed));
  }
  protected override _sample(shape: number[], seed: number): tf.Tensor {
    return this.bijector.forward(this.base.sample(shape, seed));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    let u: tf.Tensor;
    let logDet: tf.Tensor;
    if (x === this.cachedY && this.cachedU !== null && this.cachedLogDet !== null) {
      u = this.cachedU;
      logDet = tf.neg(this.cachedLogDet);
    } else {
      const r = this.bijector.inverseAndLogDet(x);
      u = r.x;
      logDet = r.logDet;
    }
    const uRank = this.base.batchShape.length + this.base.eventShape.length;
    const lq = sumRightmost(this.base.logProb(u), this.base.batchShape.length - this.nBatch);
    const ld = sumRightmost(logDet, uRank - this.bijector.domainEventDim - this.nBatch);
    return tf.add(lq, ld);
  }
}
