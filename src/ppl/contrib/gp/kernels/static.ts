/**
 * Kernels that do not look at the inputs' values (Pyro's `Constant` and `WhiteNoise`).
 */
import * as tf from '@tensorflow/tfjs';
import { Kernel, type KernelOptions } from './kernel.js';
import type { ParamValue } from '../param_value.js';

/** Options of {@link Constant} and {@link WhiteNoise}. */
export interface StaticOptions extends KernelOptions {
  /** `σ² > 0` (scalar). Default 1. */
  variance?: ParamValue;
}

/**
 * The constant kernel: a random offset shared by every input,
 * $$k(x, z) = σ^2.$$
 */
export class Constant extends Kernel {
  /** @param options `inputDim`, `variance`, `activeDims`, `name`. */
  constructor(options: StaticOptions) {
    super(options, 'Constant', ['variance']);
    this.registerPositiveScalar('variance', options.variance);
  }
  /** @internal */
  gram(x: tf.Tensor2D, z: tf.Tensor2D | undefined, diag: boolean): tf.Tensor {
    const v = this.hp('variance');
    if (diag) return this.constDiag(x, v);
    const m = (z ?? x).shape[0] as number;
    return tf.mul(tf.ones([x.shape[0] as number, m]), v);
  }
}

/**
 * The white-noise kernel: independent noise at each input. As in Pyro it is `σ² I` for
 * `K(X, X)` (no `Z` given) and zero between two input sets:
 * $$K(X) = σ^2 I_N,\qquad K(X, Z) = 0_{N \times M}.$$
 */
export class WhiteNoise extends Kernel {
  /** @param options `inputDim`, `variance`, `activeDims`, `name`. */
  constructor(options: StaticOptions) {
    super(options, 'WhiteNoise', ['variance']);
    this.registerPositiveScalar('variance', options.variance);
  }
  /** @internal */
  gram(x: tf.Tensor2D, z: tf.Tensor2D | undefined, diag: boolean): tf.Tensor {
    const v = this.hp('variance');
    const n = x.shape[0] as number;
    if (diag) return this.constDiag(x, v);
    if (z !== undefined) return tf.zeros([n, z.shape[0] as number]);
    return tf.mul(tf.eye(n), v);
  }
}
