/**
 * `Unit`: the empty-event distribution behind {@link factor} (Pyro's `dist.Unit`). Its only value
 * is a placeholder; its log-density is a given log-weight, whatever the value:
 *
 * $$\log p(x) = \ell \quad\text{for every } x$$
 *
 * so a site `sample(name, new Unit(l), {obs})` adds `l` to the model's log-joint.
 */
import * as tf from '@tensorflow/tfjs';
import { Distribution, type DistributionOptions } from '../distributions/distribution.js';
import { real, type Constraint } from '../constraints/constraints.js';
import type { TensorInput } from '../utils/tensor.js';

/** A log-weight as a distribution (batch shape = the log-weight's shape, event shape `[]`). */
export class Unit extends Distribution {
  /** The log-weight `l` (any real or `-inf`). */
  readonly logFactor: tf.Tensor;
  /**
   * Whether `l` comes from reparameterized draws (Pyro's `has_rsample`); `undefined` when not
   * given, which a model does not need and a guide must not leave (see {@link factor}).
   */
  readonly rsampled: boolean | undefined;

  /**
   * @param logFactor the log-weight added to the log-joint.
   * @param options name, validation and `hasRsample` (Pyro's `has_rsample`).
   */
  constructor(
    logFactor: TensorInput,
    options: DistributionOptions & { hasRsample?: boolean } = {},
  ) {
    const { hasRsample, ...rest } = options;
    super(rest);
    this.logFactor = this.param(logFactor, 'logFactor');
    this.rsampled = hasRsample;
  }
  /** `hasRsample` as given (default false, as Pyro's `Unit`). */
  override get hasRsample(): boolean {
    return this.rsampled ?? false;
  }
  get batchShape(): number[] {
    return this.logFactor.shape;
  }
  get eventShape(): number[] {
    return [];
  }
  override get support(): Constraint {
    return real;
  }
  /** The factor does not depend on the value (no limit rule at `±Infinity` or `NaN`). */
  protected override get limitsAtNonFinite(): boolean {
    return false;
  }
  /** The placeholder value: zeros of the batch shape. */
  protected override _sample(shape: number[], seed: number): tf.Tensor {
    void seed;
    return tf.zeros([...shape, ...this.batchShape]);
  }
  /** `l`, broadcast against the value's batch dimensions. */
  protected _logProb(x: tf.Tensor): tf.Tensor {
    return tf.add(this.logFactor, tf.mul(tf.zerosLike(x), 0));
  }
}
