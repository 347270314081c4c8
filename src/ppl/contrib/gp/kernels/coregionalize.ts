/**
 * The coregionalization kernel (Pyro's `Coregionalize`) of a multi-output GP: inputs are
 * (one-hot, or soft) output indicators `x ∈ R^D`, `D = inputDim` outputs, with a low-rank plus
 * diagonal covariance between outputs,
 *
 * $$k(x, z) = x^\top \big(W W^\top + \operatorname{diag}(d)\big)\, z,\qquad
 *   k(x, x) = \lVert W^\top x \rVert^2 + \sum_i d_i x_i^2,$$
 *
 * `W [D, R]` (`components`, real) and `d > 0` (`diagonal`, `[D]`). Multiply it with a kernel of
 * the other input features (`Product`) for the intrinsic coregionalization model.
 */
import * as tf from '@tensorflow/tfjs';
import { Kernel, type KernelOptions } from './kernel.js';
import type { ParamValue } from '../param_value.js';
import { positive, real } from '../../../constraints.js';
import { ArgumentError } from '../../../../utils/errors.js';
import { makeRng } from '../../../../utils/seed.js';

/** Options of {@link Coregionalize}. */
export interface CoregionalizeOptions extends KernelOptions {
  /** The rank `R` of `W` when `components` is not given. Default `inputDim`. */
  rank?: number;
  /**
   * `W [inputDim, R]`. Default: entries `N(0, 0.5 / R)` from the global seed stream (Pyro's
   * `torch.randn(D, R) * sqrt(0.5 / R)`).
   */
  components?: ParamValue;
  /** `d > 0`, `[inputDim]`. Default 0.5 each. */
  diagonal?: ParamValue;
}

/** Standard normal draws from the global seed stream (Box–Muller on its uniforms). */
function randn(n: number): number[] {
  const u = makeRng();
  return Array.from({ length: n }, () => {
    const a = Math.max(u(), 1e-300);
    return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * u());
  });
}

/**
 * The coregionalization kernel.
 *
 * @example
 * ```ts
 * // 3 outputs indicated by one-hot columns 1..3 of X, the input in column 0
 * const outputs = new gp.kernels.Coregionalize({ inputDim: 3, rank: 1, activeDims: [1, 2, 3] });
 * const k = new gp.kernels.Product(new gp.kernels.RBF({ inputDim: 1, activeDims: [0] }), outputs);
 * ```
 */
export class Coregionalize extends Kernel {
  /** The rank `R` of `W`. */
  readonly rank: number;
  /**
   * @param options `inputDim`, `rank`, `components`, `diagonal`, `activeDims`, `name`.
   * @throws ArgumentError naming `rank`, `components` or `diagonal` for a wrong shape or value.
   */
  constructor(options: CoregionalizeOptions) {
    super(options, 'Coregionalize', ['rank', 'components', 'diagonal']);
    const d = this.inputDim;
    const { components, diagonal } = options;
    let rank: number;
    let w: ParamValue;
    if (components === undefined) {
      rank = options.rank ?? d;
      if (!Number.isInteger(rank) || rank < 1) {
        throw new ArgumentError('rank', `expected an integer >= 1, got ${String(options.rank)}`);
      }
      const s = Math.sqrt(0.5 / rank);
      const z = randn(d * rank).map((v) => v * s);
      w = Array.from({ length: d }, (_, i) => z.slice(i * rank, (i + 1) * rank));
    } else {
      const shape =
        components instanceof tf.Tensor
          ? components.shape
          : Array.isArray(components) && Array.isArray(components[0])
            ? [components.length, (components[0] as number[]).length]
            : [];
      if (shape.length !== 2 || shape[0] !== d) {
        throw new ArgumentError(
          'components',
          `expected a matrix [inputDim = ${d}, rank], got shape [${shape.join(',')}]`,
        );
      }
      rank = shape[1] as number;
      if (options.rank !== undefined && options.rank !== rank) {
        throw new ArgumentError(
          'rank',
          `components has rank ${rank}, rank says ${String(options.rank)}`,
        );
      }
      w = components;
    }
    const dg = diagonal ?? Array.from({ length: d }, () => 0.5);
    const dshape = dg instanceof tf.Tensor ? dg.shape : Array.isArray(dg) ? [dg.length] : [];
    if (dshape.length !== 1 || dshape[0] !== d) {
      throw new ArgumentError(
        'diagonal',
        `expected a vector of inputDim = ${d} values, got shape [${dshape.join(',')}]`,
      );
    }
    this.rank = rank;
    this.registerParam('components', w, real);
    this.registerParam('diagonal', dg, positive);
  }

  /** @internal */
  gram(x: tf.Tensor2D, z: tf.Tensor2D | undefined, diag: boolean): tf.Tensor {
    const w = this.hp('components');
    const dg = this.hp('diagonal');
    const xa = this.active(x);
    const xc = tf.matMul(xa, w); // [N, R]
    if (diag) return tf.add(tf.sum(tf.square(xc), -1), tf.sum(tf.mul(tf.square(xa), dg), -1));
    const za = z === undefined ? xa : this.active(z);
    const zc = z === undefined ? xc : tf.matMul(za, w);
    return tf.add(tf.matMul(xc, zc, false, true), tf.matMul(tf.mul(xa, dg), za, false, true));
  }
}
