/**
 * The point mass used by {@link deterministic} sites and the `AutoDelta` guide.
 *
 * $$\log p(x) = \begin{cases}0 & x = v\\ -\infty & \text{otherwise}\end{cases}$$
 *
 * summed over the rightmost `eventDim` dimensions. Sampling returns `v` itself, so gradients flow
 * to `v` (a MAP estimate when `v` is a parameter).
 */
import * as tf from '@tensorflow/tfjs';
import { Distribution, type DistributionOptions } from '../distributions/distribution.js';
import type { TensorInput } from '../utils/tensor.js';

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

/** A point mass at `v` (local to the probabilistic language). */
export class Delta extends Distribution {
  readonly v: tf.Tensor;
  private readonly eventDim: number;

  /**
   * @param v the location.
   * @param eventDim how many rightmost dims of `v` form one event. Default 0.
   */
  constructor(v: TensorInput, eventDim = 0, options: DistributionOptions = {}) {
    super(options);
    this.v = this.param(v, 'v');
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
  override get hasRsample(): boolean {
    return true;
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
    const lp = pointMassLogProb(x, this.v);
    if (this.eventDim === 0) return lp;
    const axes = Array.from({ length: this.eventDim }, (_, i) => lp.rank - 1 - i);
    return tf.sum(lp, axes);
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
