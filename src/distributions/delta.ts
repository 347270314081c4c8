/**
 * The point mass used by {@link deterministic} sites and the `AutoDelta` guide.
 *
 * $$\log p(x) = \begin{cases}0 & x = v\\ -\infty & \text{otherwise}\end{cases}$$
 *
 * summed over the rightmost `eventDim` dimensions, plus an optional `logDensity` (Pyro's
 * `Delta(v, log_density)`: the autoguides put `log q(u) - log|det J_T(u)|` there, the density of
 * the constrained value they push forward). Sampling returns `v` itself, so gradients flow to `v`
 * (a MAP estimate when `v` is a parameter) and to `logDensity`.
 */
import * as tf from '@tensorflow/tfjs';
import { Distribution, type DistributionOptions } from './distribution.js';
import type { TensorInput } from '../utils/tensor.js';
import { independent, real, type Constraint } from '../constraints/constraints.js';

/** Options of {@link Delta}. */
export interface DeltaOptions extends DistributionOptions {
  /** Added to the log-density at `v` (shape: broadcastable to the batch shape). Default 0. */
  logDensity?: TensorInput;
}

/**
 * `0` where `x == v`, `-inf` elsewhere. The density is piecewise constant, so its gradient is zero;
 * a custom gradient keeps the comparison (which has no gradient in tfjs) off the tape.
 */
const pointMassLogProb = (x: tf.Tensor, v: tf.Tensor): tf.Tensor => {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const a = args[0] as tf.Tensor;
    const b = args[1] as tf.Tensor;
    const same = tf.equal(a, b);
    return {
      value: tf.where(same, tf.zerosLike(same).toFloat(), tf.fill(same.shape, -Infinity)),
      // zeros of the inputs' shapes, not zerosLike: the inputs may be disposed by backward time
      gradFunc: (_dy: tf.Tensor) => [tf.zeros(a.shape, 'float32'), tf.zeros(b.shape, 'float32')],
    };
  });
  return f(x, v);
};

/** A point mass at `v` (Pyro's and NumPyro's `dist.Delta(v, log_density, event_dim)`); the PPL's `deterministic` sites and `AutoDelta` use it. */
export class Delta extends Distribution {
  readonly v: tf.Tensor;
  /** The log-density added at `v`, or null. */
  readonly logDensity: tf.Tensor | null;
  private readonly eventDim: number;
  /** The base's option keys and `logDensity`. */
  static override readonly optionKeys: readonly string[] = [
    ...Distribution.optionKeys,
    'logDensity',
  ];

  /**
   * @param v the location.
   * @param eventDim how many rightmost dims of `v` form one event. Default 0.
   * @param options `logDensity` and the usual distribution options.
   */
  constructor(v: TensorInput, eventDim = 0, options: DeltaOptions = {}) {
    super(options);
    this.v = this.param(v, 'v');
    this.logDensity =
      options.logDensity === undefined ? null : this.param(options.logDensity, 'logDensity');
    if (!Number.isInteger(eventDim) || eventDim < 0 || eventDim > this.v.rank) {
      throw this.argError(
        'eventDim',
        `expected an integer in [0, ${this.v.rank}], got ${eventDim}`,
      );
    }
    this.eventDim = eventDim;
  }
  get batchShape(): number[] {
    return this.v.shape.slice(0, this.v.rank - this.eventDim);
  }
  get eventShape(): number[] {
    return this.v.shape.slice(this.v.rank - this.eventDim);
  }
  override get support(): Constraint {
    return independent(real, this.eventDim);
  }
  /** The point mass scores its own point, also an infinite one (no limit rule at `±Infinity`). */
  protected override get limitsAtNonFinite(): boolean {
    return false;
  }
  protected override _sample(shape: number[], seed: number): tf.Tensor {
    return this._rsample(shape, seed);
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    void seed;
    return shape.length === 0
      ? tf.add(this.v, 0)
      : tf.add(tf.zeros([...shape, ...this.v.shape]), this.v); // (broadcastTo's gradient is O(reps) kernels)
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    let lp = pointMassLogProb(x, this.v);
    if (this.eventDim > 0) {
      const axes = Array.from({ length: this.eventDim }, (_, i) => lp.rank - 1 - i);
      lp = tf.sum(lp, axes);
    }
    return this.logDensity === null ? lp : tf.add(lp, this.logDensity);
  }
  protected override _mean(): tf.Tensor {
    return this.v.clone();
  }
  protected override _mode(): tf.Tensor {
    return this.v.clone();
  }
  protected override _variance(): tf.Tensor {
    return tf.zerosLike(this.v);
  }
}
