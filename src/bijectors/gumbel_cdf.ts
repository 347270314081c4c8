/**
 * The Gumbel CDF bijector `y = exp(-exp(-(x - loc) / scale))`, mapping the real line onto (0, 1).
 */
import * as tf from '@tensorflow/tfjs';
import {
  Bijector,
  type BijectorOptions,
  type ForwardResult,
  type InverseResult,
} from './bijector.js';
import { broadcastShapes, type TensorInput } from '../utils/tensor.js';
import { unitInterval, type Constraint } from '../constraints/constraints.js';

/**
 * Gumbel-CDF bijector (MindSpore `GumbelCDF`): the CDF of a Gumbel(loc, scale) distribution.
 * With `z = (x - loc) / scale`:
 *
 * $$y = \exp(-e^{-z}),\qquad x = \mathrm{loc} - \mathrm{scale}\,\log(-\log y),$$
 * $$\log\frac{dy}{dx} = -z - e^{-z} - \log\mathrm{scale},\qquad
 *   \log\frac{dx}{dy} = \log\mathrm{scale} - \log y - \log(-\log y).$$
 *
 * @example
 * ```ts
 * const b = new GumbelCDF(0, 1);
 * b.forward([0]);                  // [exp(-1)]
 * b.forwardLogDetJacobian([0]);    // [-1]
 * b.inverse([Math.exp(-1)]);       // [0]
 * ```
 */
export class GumbelCDF extends Bijector {
  /** Strictly increasing (torch's `sign = +1`). */
  override get isIncreasing(): boolean {
    return true;
  }
  /** Location `loc`. */
  readonly loc: tf.Tensor;
  /** Scale `scale > 0`. */
  readonly scale: tf.Tensor;
  private readonly _paramShape: number[];

  /**
   * @param loc location, finite. Default 0.
   * @param scale scale, finite and > 0. Default 1.
   * @param options name and validation flag.
   */
  constructor(loc: TensorInput = 0, scale: TensorInput = 1, options: BijectorOptions = {}) {
    super(options);
    this.loc = this.param(loc, 'loc');
    this.scale = this.param(scale, 'scale');
    this.checkFinite(this.loc, 'loc');
    this.checkPositive(this.scale, 'scale');
    this._paramShape = this.guard(() =>
      broadcastShapes({ loc: this.loc.shape, scale: this.scale.shape }),
    );
  }

  /** The unit interval: `log p` of a `TransformedDistribution` is `-inf` outside it, not NaN. */
  override get codomain(): Constraint {
    return unitInterval;
  }

  override get paramShape(): number[] {
    return [...this._paramShape];
  }

  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    const z = tf.div(tf.sub(x, this.loc), this.scale);
    const expNegZ = tf.exp(tf.neg(z));
    return {
      y: tf.exp(tf.neg(expNegZ)),
      logDet: tf.sub(tf.neg(tf.add(z, expNegZ)), tf.log(this.scale)),
    };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    return tf.sub(this.loc, tf.mul(this.scale, tf.log(tf.neg(tf.log(y)))));
  }
  protected override _inverseAndLogDet(y: tf.Tensor): InverseResult {
    const logY = tf.log(y);
    const logNegLogY = tf.log(tf.neg(logY));
    return {
      x: tf.sub(this.loc, tf.mul(this.scale, logNegLogY)),
      logDet: tf.sub(tf.sub(tf.log(this.scale), logY), logNegLogY),
    };
  }
}
