/**
 * Dot-product kernels (Pyro's `DotProduct` family) on the active features:
 * `Linear` `k(x, z) = σ² xᵀz` and `Polynomial` `k(x, z) = σ² (c + xᵀz)^q`.
 */
import * as tf from '@tensorflow/tfjs';
import { Kernel, type KernelOptions } from './kernel.js';
import type { ParamValue } from '../param_value.js';
import { ArgumentError } from '../../../../utils/errors.js';

/** Options of {@link Linear}, {@link DotProduct} (and {@link Polynomial}). */
export interface DotProductOptions extends KernelOptions {
  /** `σ² > 0` (scalar). Default 1. */
  variance?: ParamValue;
}

/** The base of the dot-product kernels (Pyro's `DotProduct` base class): `variance` and `xᵀz`. */
export abstract class DotProductKernel extends Kernel {
  protected constructor(options: DotProductOptions, className: string, extraKeys: string[] = []) {
    super(options, className, ['variance', ...extraKeys]);
    this.registerPositiveScalar('variance', options.variance);
  }

  /** `x zᵀ` `[N, M]`, or with `diag` `[xᵢᵀxᵢ]ᵢ` `[N]`. */
  protected dot(x: tf.Tensor2D, z: tf.Tensor2D | undefined, diag: boolean): tf.Tensor {
    const xa = this.active(x);
    if (diag) return tf.sum(tf.square(xa), -1);
    return tf.matMul(xa, z === undefined ? xa : this.active(z), false, true);
  }
}

/**
 * The linear kernel (Pyro's `Linear`, also known as `DotProduct`): a Bayesian linear regression
 * through the origin,
 * $$k(x, z) = σ^2\, x^\top z.$$
 */
export class Linear extends DotProductKernel {
  /** @param options `inputDim`, `variance`, `activeDims`, `name`. */
  constructor(options: DotProductOptions) {
    super(options, 'Linear');
  }
  /** @internal */
  gram(x: tf.Tensor2D, z: tf.Tensor2D | undefined, diag: boolean): tf.Tensor {
    return tf.mul(this.hp('variance'), this.dot(x, z, diag));
  }
}

/** Options of {@link Polynomial}. */
export interface PolynomialOptions extends DotProductOptions {
  /** The bias `c > 0` (scalar). Default 1. */
  bias?: ParamValue;
  /** The degree `q`, an integer >= 1. Default 1. */
  degree?: number;
}

/**
 * The polynomial kernel:
 * $$k(x, z) = σ^2 \big(c + x^\top z\big)^q.$$
 */
export class Polynomial extends DotProductKernel {
  /** The degree `q`. */
  readonly degree: number;
  /** @param options `inputDim`, `variance`, `bias`, `degree`, `activeDims`, `name`. */
  constructor(options: PolynomialOptions) {
    super(options, 'Polynomial', ['bias', 'degree']);
    const degree = options.degree ?? 1;
    if (!Number.isInteger(degree) || degree < 1) {
      throw new ArgumentError('degree', `expected an integer >= 1, got ${String(degree)}`);
    }
    this.degree = degree;
    this.registerPositiveScalar('bias', options.bias);
  }
  /** @internal */
  gram(x: tf.Tensor2D, z: tf.Tensor2D | undefined, diag: boolean): tf.Tensor {
    const base = tf.add(this.hp('bias'), this.dot(x, z, diag));
    let p = base;
    for (let i = 1; i < this.degree; i++) p = tf.mul(p, base);
    return tf.mul(this.hp('variance'), p);
  }
}

/** The linear kernel `σ² xᵀz` under its other name (the same as {@link Linear}). */
export class DotProduct extends Linear {}
