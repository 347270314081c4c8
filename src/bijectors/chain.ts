/**
 * Composition of bijectors, applied right to left as in TFP's `Chain`.
 */
import * as tf from '@tensorflow/tfjs';
import {
  Bijector,
  type BijectorOptions,
  type ForwardResult,
  type InverseResult,
} from './bijector.js';
import { ArgumentError } from '../utils/errors.js';
import { broadcastShapes } from '../utils/tensor.js';
import { independent, type Constraint } from '../constraints/constraints.js';

/**
 * Chain bijector: `Chain([f1, f2, ..., fn])` is the composition `f1 ∘ f2 ∘ ... ∘ fn` (the last
 * bijector is applied first, as in TFP). With `x_n = x`, `x_{i-1} = f_i(x_i)`, `y = x_0`:
 *
 * $$y = f_1(f_2(\cdots f_n(x))),\qquad x = f_n^{-1}(\cdots f_1^{-1}(y)),\qquad
 *   \log|\det J(x)| = \sum_{i=1}^n \log|\det J_{f_i}(x_i)|.$$
 *
 * The chain's domain event dim is found as in Pyro's `ComposeTransform`, walking from the first
 * applied part: `d <- max(d + dom_i - cod_i, dom_i)`; each part's log-det is summed over the
 * trailing dimensions it treats as batch, so every term has the shape of `x` minus the chain's
 * domain event dims. Parts may change the event shape (StickBreaking `K-1 -> K`). An empty chain
 * is the identity.
 * The parts stay the caller's: `dispose()` does not free them.
 *
 * @example
 * ```ts
 * // y = exp(2x + 1): the affine map is applied first
 * const b = new Chain([new Exp(), new ScalarAffine(2, 1)]);
 * b.forward([0]);                  // [e]
 * b.forwardLogDetJacobian([0]);    // [log 2 + 1]
 * ```
 */
export class Chain extends Bijector {
  /** The parts, in composition order (`bijectors[0]` is applied last). */
  readonly bijectors: readonly Bijector[];
  private readonly _domainEventDim: number;
  private readonly _codomainEventDim: number;
  private readonly _paramShape: number[];

  /**
   * @param bijectors the parts `[f1, ..., fn]`; `fn` is applied first.
   * @param options name and validation flag; the name defaults to `Chain<f1.name...>`.
   */
  constructor(bijectors: readonly Bijector[], options: BijectorOptions = {}) {
    if (!Array.isArray(bijectors)) {
      throw new ArgumentError('bijectors', 'expected an array of Bijector instances');
    }
    bijectors.forEach((b, i) => {
      if (!(b instanceof Bijector)) {
        throw new ArgumentError(`bijectors[${i}]`, 'expected a Bijector instance');
      }
    });
    super({ name: `Chain${bijectors.map((b) => b.name).join('')}`, ...options });
    this.bijectors = [...bijectors];
    // Pyro's ComposeTransform event-dim bookkeeping
    let dom = 0;
    for (let i = 0; i < bijectors.length; i++) {
      const b = bijectors[i] as Bijector;
      dom = Math.max(dom + b.domainEventDim - b.codomainEventDim, b.domainEventDim);
    }
    let cod = 0;
    for (let i = bijectors.length - 1; i >= 0; i--) {
      const b = bijectors[i] as Bijector;
      cod = Math.max(cod + b.codomainEventDim - b.domainEventDim, b.codomainEventDim);
    }
    this._domainEventDim = dom;
    this._codomainEventDim = cod;
    const shapes: Record<string, number[]> = {};
    bijectors.forEach((b, i) => (shapes[`bijectors[${i}]`] = b.paramShape));
    // Fails here, naming the parts, when their parameters cannot broadcast together.
    this._paramShape = broadcastShapes(shapes);
  }

  override get eventRank(): number {
    return this._domainEventDim;
  }
  override get domainEventDim(): number {
    return this._domainEventDim;
  }
  override get codomainEventDim(): number {
    return this._codomainEventDim;
  }
  override get domain(): Constraint {
    const first = this.bijectors[this.bijectors.length - 1];
    if (first === undefined) return super.domain;
    return independent(first.domain, this._domainEventDim - first.domainEventDim);
  }
  override get codomain(): Constraint {
    const last = this.bijectors[0];
    if (last === undefined) return super.codomain;
    return independent(last.codomain, this._codomainEventDim - last.codomainEventDim);
  }
  override forwardShape(shape: readonly number[]): number[] {
    let s = [...shape];
    for (let i = this.bijectors.length - 1; i >= 0; i--) {
      s = (this.bijectors[i] as Bijector).forwardShape(s);
    }
    return s;
  }
  override inverseShape(shape: readonly number[]): number[] {
    let s = [...shape];
    for (const b of this.bijectors) s = b.inverseShape(s);
    return s;
  }
  /** Increasing when an even number of parts is decreasing; undefined if any part is not monotone. */
  override get isIncreasing(): boolean | undefined {
    let increasing = true;
    for (const b of this.bijectors) {
      const inc = b.isIncreasing;
      if (inc === undefined) return undefined;
      if (!inc) increasing = !increasing;
    }
    return increasing;
  }
  override get paramShape(): number[] {
    return [...this._paramShape];
  }
  /** The parts act on the shapes in between: each checks its own input. @internal */
  override get pointBroadcastsWithParams(): boolean {
    return false;
  }

  /** Sum a part's log-det down to rank `batchRank` (the dims it treats as batch). */
  private reduceLogDet(logDet: tf.Tensor, batchRank: number): tf.Tensor {
    const extra = logDet.rank - batchRank;
    if (extra <= 0) return logDet;
    const axes = Array.from({ length: extra }, (_, i) => logDet.rank - extra + i);
    return tf.sum(logDet, axes);
  }

  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    let y: tf.Tensor = x;
    let total: tf.Tensor | undefined;
    const batchRank = x.rank - this._domainEventDim;
    for (let i = this.bijectors.length - 1; i >= 0; i--) {
      const b = this.bijectors[i] as Bijector;
      const r = b.forwardAndLogDet(y);
      y = r.y;
      const ld = this.reduceLogDet(r.logDet, batchRank);
      total = total === undefined ? ld : tf.add(total, ld);
    }
    return { y: y === x ? x.clone() : y, logDet: total ?? this.zeroLogDet(x) };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    let x: tf.Tensor = y;
    for (const b of this.bijectors) x = b.inverse(x);
    return x === y ? y.clone() : x;
  }
  protected override _inverseAndLogDet(y: tf.Tensor): InverseResult {
    let x: tf.Tensor = y;
    let total: tf.Tensor | undefined;
    const batchRank = y.rank - this._codomainEventDim;
    for (const b of this.bijectors) {
      const r = b.inverseAndLogDet(x);
      x = r.x;
      const ld = this.reduceLogDet(r.logDet, batchRank);
      total = total === undefined ? ld : tf.add(total, ld);
    }
    return {
      x: x === y ? y.clone() : x,
      logDet: total ?? tf.zeros(y.shape.slice(0, y.rank - this._codomainEventDim)),
    };
  }

  /** Zero log-det of the identity (empty chain), shape of `t` minus the event dimensions. */
  private zeroLogDet(t: tf.Tensor): tf.Tensor {
    return tf.zeros(t.shape.slice(0, t.rank - this._domainEventDim));
  }
}
