/**
 * The distribution of `x = T(u)` for `u ~ base` over the unconstrained space of a site and `T`
 * the bijection onto the site's support (Pyro's `TransformedDistribution(base, biject_to(support))`
 * as used by `AutoNormal`), with the whole value one event:
 *
 * $$\log q(x) = \sum \log q_{\text{base}}(u) - \sum \log\lvert\det J_T(u)\rvert,\qquad u = T^{-1}(x).$$
 *
 * The last reparameterized draw keeps its `u` and log-determinant, so scoring that draw (what
 * the ELBOs do) never inverts `T` (exact even where `T` saturates in float32, as Pyro's cache).
 */
import * as tf from '@tensorflow/tfjs';
import type { Bijector } from '../../bijectors/bijector.js';
import type { Constraint } from '../../constraints/constraints.js';
import { Distribution, type DistributionOptions } from '../../distributions/distribution.js';

/** Sum the last `n` dims of `t`. */
function sumLast(t: tf.Tensor, n: number): tf.Tensor {
  if (n <= 0) return t;
  return tf.sum(
    t,
    Array.from({ length: n }, (_, i) => t.rank - n + i),
  );
}

/** `T_# base` for a site: batch shape `[]`, event shape the site's shape. */
export class Pushforward extends Distribution {
  private cachedY: tf.Tensor | null = null;
  private cachedU: tf.Tensor | null = null;
  private cachedLogDet: tf.Tensor | null = null;
  private readonly shape: number[];

  /**
   * @param base distribution of `u` (batch + event shape = the unconstrained shape).
   * @param bijector `T`, onto the support.
   * @param targetSupport the support of `x` (the model site's).
   * @param options `ownsBase`: `dispose()` also frees `base` (default false: the caller's).
   */
  constructor(
    readonly base: Distribution,
    readonly bijector: Bijector,
    readonly targetSupport: Constraint,
    options: DistributionOptions & { ownsBase?: boolean } = {},
  ) {
    super(options);
    this.ownsBase = options.ownsBase === true;
    this.shape = bijector.forwardShape([...base.batchShape, ...base.eventShape]);
  }
  private readonly ownsBase: boolean;
  /** Free the owned tensors (and the base distribution when it was given with `ownsBase`). */
  override dispose(): void {
    super.dispose();
    if (this.ownsBase) this.base.dispose();
  }
  get batchShape(): number[] {
    return [];
  }
  get eventShape(): number[] {
    return [...this.shape];
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
    const lq = sumLast(this.base.logProb(u), this.base.batchShape.length);
    const ld = sumLast(logDet, uRank - this.bijector.domainEventDim);
    return tf.add(lq, ld);
  }
}
