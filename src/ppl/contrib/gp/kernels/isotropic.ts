/**
 * Stationary isotropic kernels (Pyro's `Isotropy` family), functions of the scaled distance
 *
 * $$r^2(x, z) = \sum_d \frac{(x_d - z_d)^2}{\ell_d^2},$$
 *
 * with a positive `variance` `σ²` and a positive `lengthscale` `ℓ` (one value, or one per input
 * feature: automatic relevance determination). All have `k(x, x) = σ²`.
 */
import * as tf from '@tensorflow/tfjs';
import { Kernel, type KernelOptions } from './kernel.js';
import { positive } from '../../../constraints.js';
import { checkScalar, type ParamValue } from '../param_value.js';
import { ArgumentError } from '../../../../utils/errors.js';

/** Options of the isotropic kernels. */
export interface IsotropyOptions extends KernelOptions {
  /** `σ² > 0`, a scalar. Default 1. */
  variance?: ParamValue;
  /** `ℓ > 0`: a scalar or one per input feature `[inputDim]`. Default 1. */
  lengthscale?: ParamValue;
}

/**
 * Check a lengthscale-like value: a scalar or a vector of `inputDim` values.
 * @internal
 */
export function checkPerDim(v: ParamValue, arg: string, inputDim: number): void {
  const shape = v instanceof tf.Tensor ? v.shape : Array.isArray(v) ? [v.length] : [];
  const nested = Array.isArray(v) && v.some((e) => Array.isArray(e));
  if (nested || shape.length > 1 || (shape.length === 1 && shape[0] !== inputDim)) {
    throw new ArgumentError(
      arg,
      `expected a scalar or a vector of inputDim = ${inputDim} values, got shape [${shape.join(',')}]`,
    );
  }
}

/** Check a scalar hyperparameter value (defined with the modules). @internal */
export { checkScalar } from '../param_value.js';

/** The base of the isotropic kernels: `variance`, `lengthscale` and the scaled distances. */
export abstract class Isotropy extends Kernel {
  protected constructor(options: IsotropyOptions, className: string, extraKeys: string[] = []) {
    super(options, className, ['variance', 'lengthscale', ...extraKeys]);
    const variance = options.variance ?? 1;
    const lengthscale = options.lengthscale ?? 1;
    checkScalar(variance, 'variance');
    checkPerDim(lengthscale, 'lengthscale', this.inputDim);
    this.registerParam('variance', variance, positive);
    this.registerParam('lengthscale', lengthscale, positive);
  }

  /** `r²(x_i, z_j)`, `[N, M]`, from differences (exact zeros on the diagonal of `K(X, X)`). */
  protected squaredScaledDist(x: tf.Tensor2D, z: tf.Tensor2D | undefined): tf.Tensor {
    const ls = this.hp('lengthscale');
    const xs = tf.div(this.active(x), ls);
    const zs = z === undefined ? xs : tf.div(this.active(z), ls);
    return tf.sum(tf.square(tf.sub(tf.expandDims(xs, 1), tf.expandDims(zs, 0))), -1);
  }

  /** `r = sqrt(r² + 1e-12)` (Pyro's `_torch_sqrt`: a finite gradient at `r = 0`). */
  protected scaledDist(x: tf.Tensor2D, z: tf.Tensor2D | undefined): tf.Tensor {
    return tf.sqrt(tf.add(this.squaredScaledDist(x, z), 1e-12));
  }

  /** @internal */
  gram(x: tf.Tensor2D, z: tf.Tensor2D | undefined, diag: boolean): tf.Tensor {
    const variance = this.hp('variance');
    if (diag) return this.constDiag(x, variance);
    return tf.mul(variance, this.shape(x, z));
  }

  /** The correlation `k(x, z) / σ²` as a matrix. */
  protected abstract shape(x: tf.Tensor2D, z: tf.Tensor2D | undefined): tf.Tensor;
}

/**
 * The squared exponential (radial basis function) kernel:
 * $$k(x, z) = σ^2 \exp\big(-\tfrac12 r^2\big).$$
 *
 * @example
 * ```ts
 * const k = new gp.kernels.RBF({ inputDim: 1, variance: 2, lengthscale: 0.5 });
 * const K = k.forward(X);   // [N, N]
 * ```
 */
export class RBF extends Isotropy {
  /** @param options `inputDim`, `variance`, `lengthscale`, `activeDims`, `name`. */
  constructor(options: IsotropyOptions) {
    super(options, 'RBF');
  }
  protected shape(x: tf.Tensor2D, z: tf.Tensor2D | undefined): tf.Tensor {
    return tf.exp(tf.mul(-0.5, this.squaredScaledDist(x, z)));
  }
}

/** Options of {@link RationalQuadratic}. */
export interface RationalQuadraticOptions extends IsotropyOptions {
  /** The scale mixture `α > 0` (scalar). Default 1. */
  scaleMixture?: ParamValue;
}

/**
 * The rational quadratic kernel (a scale mixture of RBFs):
 * $$k(x, z) = σ^2 \Big(1 + \frac{r^2}{2α}\Big)^{-α}.$$
 */
export class RationalQuadratic extends Isotropy {
  /** @param options the isotropic options and `scaleMixture`. */
  constructor(options: RationalQuadraticOptions) {
    super(options, 'RationalQuadratic', ['scaleMixture']);
    this.registerPositiveScalar('scaleMixture', options.scaleMixture);
  }
  protected shape(x: tf.Tensor2D, z: tf.Tensor2D | undefined): tf.Tensor {
    const a = this.hp('scaleMixture');
    const base = tf.add(1, tf.div(this.squaredScaledDist(x, z), tf.mul(2, a)));
    return tf.exp(tf.mul(tf.neg(a), tf.log(base)));
  }
}

/**
 * The exponential (Matérn ν = 1/2, Ornstein–Uhlenbeck) kernel:
 * $$k(x, z) = σ^2 \exp(-r).$$
 */
export class Exponential extends Isotropy {
  /** @param options `inputDim`, `variance`, `lengthscale`, `activeDims`, `name`. */
  constructor(options: IsotropyOptions) {
    super(options, 'Exponential');
  }
  protected shape(x: tf.Tensor2D, z: tf.Tensor2D | undefined): tf.Tensor {
    return tf.exp(tf.neg(this.scaledDist(x, z)));
  }
}

/** The Matérn ν = 1/2 kernel, `σ² exp(-r)`: the same as {@link Exponential}. */
export class Matern12 extends Exponential {}

/**
 * The Matérn ν = 3/2 kernel:
 * $$k(x, z) = σ^2 \big(1 + \sqrt3\, r\big) \exp\big(-\sqrt3\, r\big).$$
 */
export class Matern32 extends Isotropy {
  /** @param options `inputDim`, `variance`, `lengthscale`, `activeDims`, `name`. */
  constructor(options: IsotropyOptions) {
    super(options, 'Matern32');
  }
  protected shape(x: tf.Tensor2D, z: tf.Tensor2D | undefined): tf.Tensor {
    const s = tf.mul(Math.sqrt(3), this.scaledDist(x, z));
    return tf.mul(tf.add(1, s), tf.exp(tf.neg(s)));
  }
}

/**
 * The Matérn ν = 5/2 kernel:
 * $$k(x, z) = σ^2 \big(1 + \sqrt5\, r + \tfrac53 r^2\big) \exp\big(-\sqrt5\, r\big).$$
 */
export class Matern52 extends Isotropy {
  /** @param options `inputDim`, `variance`, `lengthscale`, `activeDims`, `name`. */
  constructor(options: IsotropyOptions) {
    super(options, 'Matern52');
  }
  protected shape(x: tf.Tensor2D, z: tf.Tensor2D | undefined): tf.Tensor {
    const r2 = this.squaredScaledDist(x, z);
    const s = tf.mul(Math.sqrt(5), tf.sqrt(tf.add(r2, 1e-12)));
    return tf.mul(tf.add(tf.add(1, s), tf.mul(5 / 3, r2)), tf.exp(tf.neg(s)));
  }
}

/**
 * The cosine kernel (Pyro's `Cosine`, on the scaled distance):
 * $$k(x, z) = σ^2 \cos(r).$$
 */
export class Cosine extends Isotropy {
  /** @param options `inputDim`, `variance`, `lengthscale`, `activeDims`, `name`. */
  constructor(options: IsotropyOptions) {
    super(options, 'Cosine');
  }
  protected shape(x: tf.Tensor2D, z: tf.Tensor2D | undefined): tf.Tensor {
    return tf.cos(this.scaledDist(x, z));
  }
}
