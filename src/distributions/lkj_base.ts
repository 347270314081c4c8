/**
 * What the two LKJ families share (Lewandowski, Kurowicka & Joe, 2009): the matrix size `D` and
 * the concentration `eta`, read and checked in one place, a batch shape that is `eta`'s and an
 * event shape `[D, D]`. `LKJCholesky` (over Cholesky factors `L`) and `LKJ` (over correlation
 * matrices `C = L L^T`, density proportional to `det(C)^{eta - 1}`) derive from it.
 */
import type * as tf from '@tensorflow/tfjs';
import { Distribution, type DistributionOptions, type TensorInput } from './distribution.js';

/**
 * Base of the LKJ families: `dim = D >= 2`, `concentration = eta > 0` (batch shape `eta.shape`),
 * event shape `[D, D]`.
 */
export abstract class LKJBase extends Distribution {
  /** The dimension D (>= 2). */
  readonly dim: number;
  /** The concentration eta > 0 (batch). */
  readonly concentration: tf.Tensor;

  /**
   * @param dim matrix size D, an integer >= 2.
   * @param concentration eta > 0 (1: uniform over correlation matrices; larger: nearer `I`).
   *   Default 1.
   * @param options validation flag and name.
   * @throws ArgumentError naming `dim` (not an integer >= 2) or `concentration` (not finite and
   *   positive), before any work.
   */
  constructor(dim: number, concentration: TensorInput = 1, options: DistributionOptions = {}) {
    super(options);
    if (!Number.isInteger(dim) || dim < 2) {
      throw this.constructionError('dim', `expected an integer >= 2, got ${String(dim)}`);
    }
    this.dim = dim;
    this.concentration = this.param(concentration, 'concentration');
    this.checkPositive(this.concentration, 'concentration');
  }

  get batchShape(): number[] {
    return [...this.concentration.shape];
  }
  get eventShape(): number[] {
    return [this.dim, this.dim];
  }
}
