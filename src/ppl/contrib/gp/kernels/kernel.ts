/**
 * The base of GP covariance functions (Pyro's `pyro.contrib.gp.kernels.Kernel`): a
 * {@link Parameterized} module mapping inputs `X: [N, F]` (a vector `[N]` is one feature) and
 * `Z: [M, F]` to the Gram matrix `K(X, Z)_{ij} = k(x_i, z_j)`, `[N, M]`, or its diagonal
 * `k(x_i, x_i)`, `[N]`. A kernel reads the features `activeDims` (default `0..inputDim-1`).
 */
import * as tf from '@tensorflow/tfjs';
import { moduleName } from '../module_name.js';
import { Parameterized } from '../parameterized.js';
import { ArgumentError } from '../../../../utils/errors.js';
import { checkOptionKeys } from '../../../../utils/options.js';

/** Options shared by every kernel. */
export interface KernelOptions {
  /** The number of input features the kernel reads (Pyro's `input_dim`). Required. */
  inputDim: number;
  /** Which features of `X` it reads (default `[0, ..., inputDim - 1]`). */
  activeDims?: number[];
  /** The module name (prefix of its parameters in the store); default the class name, unique. */
  name?: string;
}

/** Option keys of {@link KernelOptions}. @internal */
export const KERNEL_KEYS = ['inputDim', 'activeDims', 'name'] as const;

/**
 * Inputs as a float32 matrix `[N, F]`, checked: a vector is `[N, 1]`.
 * @throws ArgumentError naming `arg` for a non-tensor, a rank other than 1 or 2, no rows.
 * @internal
 */
export function inputMatrix(x: unknown, arg: string): tf.Tensor2D {
  if (!(x instanceof tf.Tensor)) {
    throw new ArgumentError(arg, `expected a tensor [N, D] or [N], got ${typeof x}`);
  }
  if (x.isDisposed) throw new ArgumentError(arg, 'expected a live tensor, got a disposed one');
  if (x.rank !== 1 && x.rank !== 2) {
    throw new ArgumentError(arg, `expected a tensor [N, D] or [N], got [${x.shape.join(',')}]`);
  }
  if (x.dtype === 'string' || x.dtype === 'complex64') {
    throw new ArgumentError(arg, `expected a numeric tensor, got ${x.dtype}`);
  }
  return tf.tidy(() => {
    const f = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
    return (x.rank === 1 ? tf.reshape(f, [x.shape[0] as number, 1]) : f.clone()) as tf.Tensor2D;
  });
}

/**
 * A covariance function `k(x, z)`. Subclasses write {@link gram} on full-width inputs (leaf
 * kernels slice their `activeDims` with {@link active}).
 */
export abstract class Kernel extends Parameterized {
  /** The number of features read. */
  readonly inputDim: number;
  /** The features read. */
  readonly activeDims: number[];

  /**
   * @param options `inputDim`, `activeDims`, `name` (and the subclass's own keys in `extraKeys`).
   * @param className the default name.
   * @param extraKeys the subclass's option keys.
   */
  protected constructor(options: KernelOptions, className: string, extraKeys: readonly string[]) {
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError(
        'options',
        `expected an options object with inputDim, got ${String(options)}`,
      );
    }
    checkOptionKeys(options, [...KERNEL_KEYS, ...extraKeys], className);
    const { inputDim, activeDims } = options;
    if (!Number.isInteger(inputDim) || inputDim < 1) {
      throw new ArgumentError('inputDim', `expected an integer >= 1, got ${String(inputDim)}`);
    }
    let dims: number[];
    if (activeDims === undefined) dims = Array.from({ length: inputDim }, (_, i) => i);
    else {
      if (
        !Array.isArray(activeDims) ||
        activeDims.length !== inputDim ||
        activeDims.some((d) => !Number.isInteger(d) || d < 0) ||
        new Set(activeDims).size !== activeDims.length
      ) {
        throw new ArgumentError(
          'activeDims',
          `expected ${inputDim} distinct feature indices >= 0, got ${JSON.stringify(activeDims)}`,
        );
      }
      dims = [...activeDims];
    }
    super(moduleName(options.name, className));
    this.inputDim = inputDim;
    this.activeDims = dims;
  }

  /** The number of input features `X` must have at least. */
  requiredFeatures(): number {
    return Math.max(...this.activeDims) + 1;
  }

  /**
   * The Gram matrix `K(X, Z)` (`Z` omitted: `K(X, X)`), or with `diag` its diagonal
   * `[k(x_i, x_i)]_i` (then `Z` is ignored, as in Pyro).
   * @param X inputs `[N, F]` or `[N]`.
   * @param Z inputs `[M, F]` or `[M]` (same `F`).
   * @param diag return the diagonal `[N]` only.
   * @returns a new tensor `[N, M]` (`[N, N]`), or `[N]` with `diag`.
   * @throws ArgumentError naming `X` or `Z` when a shape is wrong or features are missing.
   */
  forward(X: tf.Tensor, Z?: tf.Tensor, diag = false): tf.Tensor {
    if (typeof diag !== 'boolean') {
      throw new ArgumentError('diag', `expected a boolean, got ${typeof diag}`);
    }
    const x = inputMatrix(X, 'X');
    let z: tf.Tensor2D | undefined;
    try {
      const need = this.requiredFeatures();
      if ((x.shape[1] as number) < need) {
        throw new ArgumentError(
          'X',
          `${this.name} reads features [${this.activeDims.join(',')}]: expected at least ${need} columns, got [${X.shape.join(',')}]`,
        );
      }
      if (Z !== undefined && Z !== null && !diag) {
        z = inputMatrix(Z, 'Z');
        if (z.shape[1] !== x.shape[1]) {
          throw new ArgumentError(
            'Z',
            `expected ${x.shape[1]} features as X, got [${Z.shape.join(',')}]`,
          );
        }
      }
      const zz = z;
      return this.withLoaded(() => this.gram(x, zz, diag));
    } finally {
      x.dispose();
      z?.dispose();
    }
  }

  /**
   * The Gram matrix (or diagonal) on checked float32 inputs `[N, F]`, `[M, F]` (`z` undefined:
   * `K(x, x)`). Runs inside a `tf.tidy`; combinations call their parts' `gram`.
   * @internal
   */
  abstract gram(x: tf.Tensor2D, z: tf.Tensor2D | undefined, diag: boolean): tf.Tensor;

  /** The active features of checked inputs: `x[:, activeDims]`. */
  protected active(x: tf.Tensor2D): tf.Tensor2D {
    const all = this.activeDims.every((d, i) => d === i) && x.shape[1] === this.inputDim;
    return all ? x : tf.gather(x, this.activeDims, 1);
  }

  /** `ones([N]) * v`: a constant diagonal. */
  protected constDiag(x: tf.Tensor2D, v: tf.Tensor): tf.Tensor {
    return tf.mul(tf.ones([x.shape[0] as number]), v);
  }
}
