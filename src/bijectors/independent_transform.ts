/**
 * Reinterpret batch dims of a bijector as event dims (Pyro's `IndependentTransform`): the
 * log-det is summed over `reinterpretedBatchNdims` more trailing dimensions.
 */
import * as tf from '@tensorflow/tfjs';
import {
  Bijector,
  type BijectorOptions,
  type ForwardResult,
  type InverseResult,
} from './bijector.js';
import { ArgumentError } from '../utils/errors.js';
import { independent, type Constraint } from '../constraints/constraints.js';

/**
 * Independent (reinterpreted) bijector:
 *
 * $$y = f(x),\qquad \log|\det J| = \sum_{\text{last } n \text{ batch dims}} \log|\det J_f|.$$
 *
 * The wrapped bijector stays the caller's (not disposed) unless adopted.
 *
 * @example
 * ```ts
 * new IndependentTransform(new Exp(), 1).forwardLogDetJacobian([1, 2]); // 3 (a scalar)
 * ```
 */
export class IndependentTransform extends Bijector {
  /** The wrapped bijector. */
  readonly base: Bijector;
  /** Extra trailing dims read as event dims. */
  readonly reinterpretedBatchNdims: number;

  /**
   * @param base the bijector to wrap.
   * @param reinterpretedBatchNdims how many more trailing dims form one event.
   * @param options name and validation flag.
   */
  constructor(base: Bijector, reinterpretedBatchNdims: number, options: BijectorOptions = {}) {
    if (!(base instanceof Bijector)) throw new ArgumentError('base', 'expected a Bijector');
    if (!Number.isInteger(reinterpretedBatchNdims) || reinterpretedBatchNdims < 0) {
      throw new ArgumentError(
        'reinterpretedBatchNdims',
        `expected a non-negative integer, got ${reinterpretedBatchNdims}`,
      );
    }
    super({ name: `Independent${base.name}`, ...options });
    this.base = base;
    this.reinterpretedBatchNdims = reinterpretedBatchNdims;
  }
  override get eventRank(): number {
    return this.base.domainEventDim + this.reinterpretedBatchNdims;
  }
  override get domainEventDim(): number {
    return this.base.domainEventDim + this.reinterpretedBatchNdims;
  }
  override get codomainEventDim(): number {
    return this.base.codomainEventDim + this.reinterpretedBatchNdims;
  }
  override get domain(): Constraint {
    return independent(this.base.domain, this.reinterpretedBatchNdims);
  }
  override get codomain(): Constraint {
    return independent(this.base.codomain, this.reinterpretedBatchNdims);
  }
  override get isIncreasing(): boolean | undefined {
    return this.base.isIncreasing;
  }
  override get paramShape(): number[] {
    return this.base.paramShape;
  }
  /** As the wrapped bijector (a `Chain` checks in its parts). */
  override get pointBroadcastsWithParams(): boolean {
    return this.base.pointBroadcastsWithParams;
  }
  override forwardShape(shape: readonly number[]): number[] {
    return this.base.forwardShape(shape);
  }
  override inverseShape(shape: readonly number[]): number[] {
    return this.base.inverseShape(shape);
  }
  private reduce(t: tf.Tensor): tf.Tensor {
    const n = this.reinterpretedBatchNdims;
    if (n === 0) return t;
    return tf.sum(
      t,
      Array.from({ length: n }, (_, i) => t.rank - n + i),
    );
  }
  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    const r = this.base.forwardAndLogDet(x);
    return { y: r.y, logDet: this.reduce(r.logDet) };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    return this.base.inverse(y);
  }
  protected override _inverseAndLogDet(y: tf.Tensor): InverseResult {
    const r = this.base.inverseAndLogDet(y);
    return { x: r.x, logDet: this.reduce(r.logDet) };
  }
}
