/**
 * The inverse of a bijector: swaps its forward and inverse maps.
 */
import type * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import type { Constraint } from '../constraints/constraints.js';
import {
  Bijector,
  type BijectorOptions,
  type ForwardResult,
  type InverseResult,
} from './bijector.js';

/**
 * Inverse bijector (MindSpore `Invert`): for a bijector `f`,
 *
 * $$g(x) = f^{-1}(x),\qquad g^{-1}(y) = f(y),\qquad
 *   \log|\det J_g(x)| = \log|\det J_{f^{-1}}(x)|,\qquad
 *   \log|\det J_{g^{-1}}(y)| = \log|\det J_f(y)|.$$
 *
 * The wrapped bijector stays the caller's: `dispose()` does not free it.
 *
 * @example
 * ```ts
 * const log = new Invert(new Exp());   // y = log x
 * log.forward([Math.E]);               // [1]
 * log.forwardLogDetJacobian([2]);      // [-log 2]
 * ```
 */
export class Invert extends Bijector {
  /** The bijector whose inverse this is. */
  readonly bijector: Bijector;

  /**
   * @param bijector the bijector `f` to invert.
   * @param options name and validation flag; the name defaults to `Invert<f.name>`.
   */
  constructor(bijector: Bijector, options: BijectorOptions = {}) {
    if (!(bijector instanceof Bijector)) {
      throw new ArgumentError('bijector', 'expected a Bijector instance');
    }
    super({ name: `Invert${bijector.name}`, ...options });
    this.bijector = bijector;
  }

  override get eventRank(): number {
    return this.bijector.codomainEventDim;
  }
  override get domainEventDim(): number {
    return this.bijector.codomainEventDim;
  }
  override get codomainEventDim(): number {
    return this.bijector.domainEventDim;
  }
  override get domain(): Constraint {
    return this.bijector.codomain;
  }
  override get codomain(): Constraint {
    return this.bijector.domain;
  }
  override forwardShape(shape: readonly number[]): number[] {
    return this.bijector.inverseShape(shape);
  }
  override inverseShape(shape: readonly number[]): number[] {
    return this.bijector.forwardShape(shape);
  }
  /** The inverse of a monotone map is monotone in the same direction. */
  override get isIncreasing(): boolean | undefined {
    return this.bijector.isIncreasing;
  }
  override get paramShape(): number[] {
    return this.bijector.paramShape;
  }
  /** As the inverted bijector (a `Chain` checks in its parts). */
  override get pointBroadcastsWithParams(): boolean {
    return this.bijector.pointBroadcastsWithParams;
  }

  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    const { x: y, logDet } = this.bijector.inverseAndLogDet(x);
    return { y, logDet };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    return this.bijector.forward(y);
  }
  protected override _inverseAndLogDet(y: tf.Tensor): InverseResult {
    const { y: x, logDet } = this.bijector.forwardAndLogDet(y);
    return { x, logDet };
  }
}
