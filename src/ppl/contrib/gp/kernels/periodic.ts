/**
 * The periodic kernel (MacKay; Pyro's `Periodic`), with `variance` `σ²`, `lengthscale` `ℓ` and
 * `period` `p`, each positive (`ℓ`, `p` a scalar or one per feature):
 *
 * $$k(x, z) = σ^2 \exp\Big(-2 \sum_d \frac{\sin^2\big(π (x_d - z_d) / p_d\big)}{ℓ_d^2}\Big).$$
 */
import * as tf from '@tensorflow/tfjs';
import { Kernel, type KernelOptions } from './kernel.js';
import { positive } from '../../../constraints.js';
import type { ParamValue } from '../param_value.js';
import { checkPerDim, checkScalar } from './isotropic.js';

/** Options of {@link Periodic}. */
export interface PeriodicOptions extends KernelOptions {
  /** `σ² > 0` (scalar). Default 1. */
  variance?: ParamValue;
  /** `ℓ > 0`: a scalar or `[inputDim]`. Default 1. */
  lengthscale?: ParamValue;
  /** `p > 0`: a scalar or `[inputDim]`. Default 1. */
  period?: ParamValue;
}

/**
 * The periodic kernel.
 *
 * @example
 * ```ts
 * const k = new gp.kernels.Periodic({ inputDim: 1, period: 2, lengthscale: 0.7 });
 * ```
 */
export class Periodic extends Kernel {
  /** @param options `inputDim`, `variance`, `lengthscale`, `period`, `activeDims`, `name`. */
  constructor(options: PeriodicOptions) {
    super(options, 'Periodic', ['variance', 'lengthscale', 'period']);
    const variance = options.variance ?? 1;
    const lengthscale = options.lengthscale ?? 1;
    const period = options.period ?? 1;
    checkScalar(variance, 'variance');
    checkPerDim(lengthscale, 'lengthscale', this.inputDim);
    checkPerDim(period, 'period', this.inputDim);
    this.registerParam('variance', variance, positive);
    this.registerParam('lengthscale', lengthscale, positive);
    this.registerParam('period', period, positive);
  }

  /** @internal */
  gram(x: tf.Tensor2D, z: tf.Tensor2D | undefined, diag: boolean): tf.Tensor {
    const variance = this.hp('variance');
    if (diag) return this.constDiag(x, variance);
    const xa = this.active(x);
    const za = z === undefined ? xa : this.active(z);
    const d = tf.sub(tf.expandDims(xa, 1), tf.expandDims(za, 0)); // [N, M, D]
    const s = tf.div(tf.sin(tf.div(tf.mul(Math.PI, d), this.hp('period'))), this.hp('lengthscale'));
    return tf.mul(variance, tf.exp(tf.mul(-2, tf.sum(tf.square(s), -1))));
  }
}
