/**
 * The Brownian motion kernel (Pyro's `Brownian`) on one feature: a Wiener process started at 0,
 * run forward for positive inputs and backward for negative ones,
 *
 * $$k(x, z) = σ^2 \min(|x|, |z|)\ \text{if}\ \operatorname{sign}(x) = \operatorname{sign}(z),
 *   \quad 0\ \text{otherwise};\qquad k(x, x) = σ^2 |x|.$$
 */
import * as tf from '@tensorflow/tfjs';
import { Kernel, type KernelOptions } from './kernel.js';
import type { ParamValue } from '../param_value.js';
import { ArgumentError } from '../../../../utils/errors.js';

/** Options of {@link Brownian}. */
export interface BrownianOptions extends KernelOptions {
  /** `σ² > 0` (scalar). Default 1. */
  variance?: ParamValue;
}

/**
 * The Brownian motion kernel (`inputDim` must be 1, as in Pyro).
 *
 * @example
 * ```ts
 * const k = new gp.kernels.Brownian({ inputDim: 1, variance: 0.5 });
 * const K = k.forward(tf.tensor1d([0.5, 1, 2]));   // 0.5 * min(x_i, x_j)
 * ```
 */
export class Brownian extends Kernel {
  /**
   * @param options `inputDim` (1), `variance`, `activeDims`, `name`.
   * @throws ArgumentError naming `inputDim` unless it is 1, or the option.
   */
  constructor(options: BrownianOptions) {
    if (options !== null && typeof options === 'object' && options.inputDim !== 1) {
      throw new ArgumentError(
        'inputDim',
        `the Brownian kernel reads one feature: expected 1, got ${String(options.inputDim)}`,
      );
    }
    super(options, 'Brownian', ['variance']);
    this.registerPositiveScalar('variance', options.variance);
  }

  /** @internal */
  gram(x: tf.Tensor2D, z: tf.Tensor2D | undefined, diag: boolean): tf.Tensor {
    const v = this.hp('variance');
    const xa = tf.reshape(this.active(x), [-1]);
    if (diag) return tf.mul(v, tf.abs(xa));
    const za = z === undefined ? xa : tf.reshape(this.active(z), [-1]);
    const xc = tf.expandDims(xa, 1); // [N, 1]
    const zr = tf.expandDims(za, 0); // [1, M]
    const same = tf.equal(tf.sign(xc), tf.sign(zr));
    const m = tf.minimum(tf.abs(xc), tf.abs(zr));
    return tf.mul(v, tf.where(same, m, tf.zerosLike(m)));
  }
}
