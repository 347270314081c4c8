/**
 * Unconstrained vectors to Cholesky factors of correlation matrices (Pyro's
 * `CorrCholeskyTransform`, `biject_to(corrCholesky)`).
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import type { BijectorOptions, ForwardResult } from './bijector.js';
import { VectorToTrilBijector } from './vector_to_tril.js';
import { ArgumentError } from '../utils/errors.js';
import { corrCholesky, type Constraint } from '../constraints/constraints.js';
import { cumsumLast, trilIndices, trilToVec, vecToTril } from '../utils/linalg.js';
import { logOneMinusTanhSq } from './tanh.js';

/**
 * CorrCholesky bijector. `x` of length `D(D-1)/2` fills the strictly-lower triangle row-major
 * (as `torch.tril_indices`); `t = tanh(x)` are partial correlations, broken into unit rows:
 *
 * $$L_{ij} = t_{ij}\prod_{k<j}\sqrt{1 - t_{ik}^2}\ (j < i),\qquad
 *   L_{ii} = \prod_{k<i}\sqrt{1 - t_{ik}^2},$$
 * $$\log|\det J| = \sum_{i>k}\Big(1 + \tfrac{i-1-k}{2}\Big)\log(1 - t_{ik}^2)$$
 *
 * (the Jacobian with respect to the strictly-lower entries of `L`; `log(1 - tanh^2)` in its
 * stable softplus form). Inverse: `t_ij = L_ij / sqrt(1 - sum_{k<j} L_ik^2)`, `x = atanh t`.
 * Domain event dim 1, codomain event dim 2.
 *
 * @example
 * ```ts
 * new CorrCholeskyTransform().forward([0]); // [[1, 0], [0, 1]]
 * ```
 */
export class CorrCholeskyTransform extends VectorToTrilBijector {
  /** @param options name and validation flag. */
  constructor(options: BijectorOptions = {}) {
    super(options, true);
  }
  override get codomain(): Constraint {
    return corrCholesky;
  }
  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    const n = this.sideOf(x);
    const l1m = logOneMinusTanhSq(x); // log(1 - t^2)
    const t = vecToTril(tf.tanh(x), n, -1);
    const halfLog = vecToTril(tf.mul(0.5, l1m), n, -1);
    const logRem = cumsumLast(halfLog, true); // log prod_{k<j} sqrt(1 - t_ik^2)
    const y = tf.mul(tf.add(t, tf.eye(n)), tf.exp(logRem));
    const weights = tf.tensor1d(trilIndices(n, -1).map(([i, k]) => 1 + (i - 1 - k) / 2));
    return { y, logDet: tf.sum(tf.mul(l1m, weights), -1) };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    if (y.rank < 2) throw new ArgumentError('y', 'expected matrices [..., D, D]');
    const rem = tf.sub(1, cumsumLast(tf.square(y), true));
    const t = tf.div(trilToVec(y, -1), tf.sqrt(trilToVec(rem, -1)));
    const tc = tf.clipByValue(t, -1 + 1e-7, 1 - 1e-7);
    return tf.mul(0.5, tf.sub(log1p(tc), log1p(tf.neg(tc))));
  }
}
