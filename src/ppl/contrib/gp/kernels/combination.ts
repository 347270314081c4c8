/**
 * Kernels built from kernels (Pyro's `Combination`, `Sum`, `Product`, `Exponent`,
 * `VerticalScaling`, `Warping`): sums and products of kernels (or of a kernel and a constant),
 * the exponential of a kernel, a kernel scaled by a function of the inputs, a kernel on warped
 * inputs with a polynomial output warping.
 */
import * as tf from '@tensorflow/tfjs';
import { Kernel } from './kernel.js';
import { moduleName } from '../module_name.js';
import type { Parameterized } from '../parameterized.js';
import { ArgumentError } from '../../../../utils/errors.js';
import { checkOptionKeys } from '../../../../utils/options.js';

/** Options of the combination kernels. */
export interface CombinationOptions {
  /** The module name; default the class name, unique. */
  name?: string;
}

function checkKernel(k: unknown, arg: string): Kernel {
  if (!(k instanceof Kernel)) {
    throw new ArgumentError(arg, `expected a gp kernel, got ${k === null ? 'null' : typeof k}`);
  }
  return k;
}

/** The union of the parts' active features, sorted. */
function unionDims(parts: Kernel[]): number[] {
  return [...new Set(parts.flatMap((p) => p.activeDims))].sort((a, b) => a - b);
}

/** The base of the kernels made of other kernels. */
export abstract class Combination extends Kernel {
  /** The kernels combined. */
  readonly parts: Kernel[];

  protected constructor(parts: Kernel[], options: CombinationOptions, className: string) {
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an object, got ${String(options)}`);
    }
    checkOptionKeys(options, ['name'], className);
    const dims = unionDims(parts);
    super(
      { inputDim: dims.length, activeDims: dims, name: moduleName(options.name, className) },
      className,
      [],
    );
    this.parts = parts;
  }

  protected override children(): Parameterized[] {
    return this.parts;
  }

  override requiredFeatures(): number {
    return Math.max(...this.parts.map((p) => p.requiredFeatures()));
  }
}

/** A kernel or a scalar constant, the second operand of {@link Sum} and {@link Product}. */
export type KernelOrConstant = Kernel | number | tf.Tensor;

/** The second operand checked: a kernel, or a finite scalar (kept as a number). */
function operand(k: unknown): Kernel | number {
  if (typeof k === 'number' && Number.isFinite(k)) return k;
  if (k instanceof tf.Tensor && !k.isDisposed && k.size === 1) {
    const v = k.dataSync()[0] as number;
    if (Number.isFinite(v)) return v;
  }
  if (k instanceof Kernel) return k;
  throw new ArgumentError('kern1', 'expected a gp kernel or a finite scalar');
}

/**
 * The base of {@link Sum} and {@link Product}: a kernel `k_0` joined by a binary operation `∘`
 * to a kernel `k_1` or a constant `c`,
 * $$k(x, z) = k_0(x, z) \circ k_1(x, z)\quad\text{or}\quad k_0(x, z) \circ c.$$
 * @internal
 */
export abstract class BinaryCombination extends Combination {
  /** The constant operand, when `kern1` is one. */
  readonly constant: number | undefined;

  protected constructor(
    kern0: Kernel,
    kern1: KernelOrConstant,
    options: CombinationOptions,
    className: string,
  ) {
    const k0 = checkKernel(kern0, 'kern0');
    const k1 = operand(kern1);
    super(k1 instanceof Kernel ? [k0, k1] : [k0], options, className);
    this.constant = typeof k1 === 'number' ? k1 : undefined;
  }

  /** The binary operation `a ∘ b`. */
  protected abstract op(a: tf.Tensor, b: tf.Tensor | number): tf.Tensor;

  /** @internal */
  gram(x: tf.Tensor2D, z: tf.Tensor2D | undefined, diag: boolean): tf.Tensor {
    const k0 = (this.parts[0] as Kernel).gram(x, z, diag);
    const k1 = this.parts[1];
    return this.op(k0, k1 === undefined ? (this.constant as number) : k1.gram(x, z, diag));
  }
}

/**
 * The sum of two kernels, or of a kernel and a constant `c`:
 * $$k(x, z) = k_0(x, z) + k_1(x, z)\quad\text{or}\quad k_0(x, z) + c.$$
 *
 * @example
 * ```ts
 * const k = new gp.kernels.Sum(new gp.kernels.RBF({ inputDim: 1 }), new gp.kernels.WhiteNoise({ inputDim: 1 }));
 * ```
 */
export class Sum extends BinaryCombination {
  /**
   * @param kern0 a kernel.
   * @param kern1 a kernel or a scalar.
   * @param options `name`.
   */
  constructor(kern0: Kernel, kern1: KernelOrConstant, options: CombinationOptions = {}) {
    super(kern0, kern1, options, 'Sum');
  }
  protected op(a: tf.Tensor, b: tf.Tensor | number): tf.Tensor {
    return tf.add(a, b);
  }
}

/**
 * The product of two kernels, or of a kernel and a constant `c`:
 * $$k(x, z) = k_0(x, z)\, k_1(x, z)\quad\text{or}\quad c\, k_0(x, z).$$
 */
export class Product extends BinaryCombination {
  /**
   * @param kern0 a kernel.
   * @param kern1 a kernel or a scalar.
   * @param options `name`.
   */
  constructor(kern0: Kernel, kern1: KernelOrConstant, options: CombinationOptions = {}) {
    super(kern0, kern1, options, 'Product');
  }
  protected op(a: tf.Tensor, b: tf.Tensor | number): tf.Tensor {
    return tf.mul(a, b);
  }
}

/**
 * The exponential of a kernel (Pyro's `Exponent`): a positive semi-definite kernel again, the
 * exponential being a limit of polynomials with non-negative coefficients,
 * $$k(x, z) = \exp\big(k_0(x, z)\big)$$
 * (with `diag`, `exp(k_0(x_i, x_i))`).
 *
 * @example
 * ```ts
 * const k = new gp.kernels.Exponent(new gp.kernels.Linear({ inputDim: 1, variance: 0.5 }));
 * ```
 */
export class Exponent extends Combination {
  /**
   * @param kern a kernel.
   * @param options `name`.
   */
  constructor(kern: Kernel, options: CombinationOptions = {}) {
    super([checkKernel(kern, 'kern')], options, 'Exponent');
  }
  /** @internal */
  gram(x: tf.Tensor2D, z: tf.Tensor2D | undefined, diag: boolean): tf.Tensor {
    return tf.exp((this.parts[0] as Kernel).gram(x, z, diag));
  }
}

/** A function of the inputs `[N, F] -> [N]` (must be built of tfjs ops; may read parameters). */
export type InputFn = (x: tf.Tensor2D) => tf.Tensor;

/**
 * A kernel scaled by a function of the inputs (Pyro's `VerticalScaling`):
 * $$k(x, z) = f(x)\, k_0(x, z)\, f(z).$$
 */
export class VerticalScaling extends Combination {
  private readonly fn: InputFn;
  /**
   * @param kern a kernel.
   * @param vscalingFn `f: [N, F] -> [N]`.
   * @param options `name`.
   */
  constructor(kern: Kernel, vscalingFn: InputFn, options: CombinationOptions = {}) {
    const k = checkKernel(kern, 'kern');
    if (typeof vscalingFn !== 'function') {
      throw new ArgumentError('vscalingFn', `expected a function, got ${typeof vscalingFn}`);
    }
    super([k], options, 'VerticalScaling');
    this.fn = vscalingFn;
  }
  private scale(x: tf.Tensor2D): tf.Tensor {
    const s = this.fn(x);
    if (!(s instanceof tf.Tensor) || s.size !== x.shape[0]) {
      throw new ArgumentError('vscalingFn', `expected a tensor of ${x.shape[0]} values`);
    }
    return tf.reshape(s, [x.shape[0] as number]);
  }
  /** @internal */
  gram(x: tf.Tensor2D, z: tf.Tensor2D | undefined, diag: boolean): tf.Tensor {
    const k = (this.parts[0] as Kernel).gram(x, z, diag);
    const fx = this.scale(x);
    if (diag) return tf.mul(k, tf.square(fx));
    const fz = z === undefined ? fx : this.scale(z);
    return tf.mul(tf.mul(tf.expandDims(fx, 1), k), tf.expandDims(fz, 0));
  }
}

/** Options of {@link Warping}. */
export interface WarpingOptions extends CombinationOptions {
  /** The input warping `w: [N, F] -> [N, F']` (the kernel reads the warped features). */
  iwarpingFn?: (x: tf.Tensor2D) => tf.Tensor2D;
  /** The coefficients `a_0, a_1, ...` (>= 0) of the output warping polynomial. */
  owarpingCoef?: number[];
}

/**
 * A kernel on warped inputs with a polynomial output warping (Pyro's `Warping`):
 * $$k(x, z) = \sum_i a_i\, k_0\big(w(x), w(z)\big)^i$$
 * (no `owarpingCoef`: `k_0(w(x), w(z))`; no `iwarpingFn`: `w` the identity). Non-negative
 * coefficients keep the kernel positive semi-definite (Schur product theorem).
 */
export class Warping extends Combination {
  private readonly iwarp: ((x: tf.Tensor2D) => tf.Tensor2D) | undefined;
  private readonly coef: number[] | undefined;
  /**
   * @param kern a kernel.
   * @param options `iwarpingFn`, `owarpingCoef`, `name`.
   */
  constructor(kern: Kernel, options: WarpingOptions = {}) {
    const k = checkKernel(kern, 'kern');
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an object, got ${String(options)}`);
    }
    checkOptionKeys(options, ['name', 'iwarpingFn', 'owarpingCoef'], 'Warping');
    const { iwarpingFn, owarpingCoef } = options;
    if (iwarpingFn !== undefined && typeof iwarpingFn !== 'function') {
      throw new ArgumentError('iwarpingFn', `expected a function, got ${typeof iwarpingFn}`);
    }
    if (
      owarpingCoef !== undefined &&
      (!Array.isArray(owarpingCoef) ||
        owarpingCoef.length === 0 ||
        owarpingCoef.some((c) => typeof c !== 'number' || !(c >= 0) || !Number.isFinite(c)))
    ) {
      throw new ArgumentError('owarpingCoef', 'expected a non-empty array of finite numbers >= 0');
    }
    super([k], { name: options.name }, 'Warping');
    this.iwarp = iwarpingFn;
    this.coef = owarpingCoef === undefined ? undefined : [...owarpingCoef];
  }
  override requiredFeatures(): number {
    return this.iwarp === undefined ? super.requiredFeatures() : 1;
  }
  /** @internal */
  gram(x: tf.Tensor2D, z: tf.Tensor2D | undefined, diag: boolean): tf.Tensor {
    const base = this.parts[0] as Kernel;
    const warp = (t: tf.Tensor2D): tf.Tensor2D => {
      if (this.iwarp === undefined) return t;
      const w = this.iwarp(t);
      if (!(w instanceof tf.Tensor) || w.rank !== 2 || w.shape[0] !== t.shape[0]) {
        throw new ArgumentError('iwarpingFn', `expected a tensor [${t.shape[0]}, F']`);
      }
      if ((w.shape[1] as number) < base.requiredFeatures()) {
        throw new ArgumentError(
          'iwarpingFn',
          `the kernel reads ${base.requiredFeatures()} features, the warping gives ${w.shape[1]}`,
        );
      }
      return w;
    };
    const k = base.gram(warp(x), z === undefined ? undefined : warp(z), diag);
    if (this.coef === undefined) return k;
    let out: tf.Tensor = tf.mul(tf.onesLike(k), this.coef[0] as number);
    let power: tf.Tensor = tf.onesLike(k);
    for (let i = 1; i < this.coef.length; i++) {
      power = tf.mul(power, k);
      out = tf.add(out, tf.mul(power, this.coef[i] as number));
    }
    return out;
  }
}
