/**
 * The LKJ distribution over Cholesky factors of correlation matrices (Lewandowski, Kurowicka &
 * Joe, 2009), as Pyro's / NumPyro's `LKJCholesky(dim, concentration)`: the correlation matrix
 * `C = L L^T` has density proportional to `det(C)^{eta - 1}`; on `L`:
 *
 * $$\log p(L) = \sum_{i=2}^{D} \big(D - i + 2(\eta - 1)\big)\log L_{ii} - \log Z,$$
 * $$\log Z = \tfrac{D-1}2\log\pi + \log\Gamma_{D-1}\big(\eta + \tfrac{D-2}2\big)
 *   - (D-1)\log\Gamma\big(\eta + \tfrac{D-1}2\big)$$
 *
 * (`Gamma_p` the multivariate gamma function; the density is with respect to the strictly-lower
 * entries of `L`, the coordinates of `CorrCholeskyTransform`). Sampling: the onion method
 * (Beta-distributed squared row norms, uniform directions), seeded; not reparameterized.
 */
import * as tf from '@tensorflow/tfjs';
import { LKJBase } from './lkj_base.js';
import { corrCholesky, type Constraint } from '../constraints/constraints.js';
import { Beta } from './beta.js';
import { lgamma, mvlgamma } from './special.js';
import { matrixDiag, vecToTril } from '../utils/linalg.js';
import { deriveSeeds } from '../utils/seed.js';
import { FLOAT32_TINY } from '../utils/float32.js';
import './expanded.js';
import './independent.js';

/**
 * The log-normalizer of the LKJ densities (over `L` and over `C = L L^T` alike), shape of `eta`:
 *
 * $$\log Z = \tfrac{D-1}2\log\pi + \log\Gamma_{D-1}\big(\eta + \tfrac{D-2}2\big)
 *   - (D-1)\log\Gamma\big(\eta + \tfrac{D-1}2\big).$$
 *
 * @param eta the concentration. @param d the dimension D >= 2.
 */
export function lkjLogNormalizer(eta: tf.Tensor, d: number): tf.Tensor {
  return tf.tidy(() => {
    const dm1 = d - 1;
    const alpha = tf.add(eta, 0.5 * dm1);
    return tf.add(
      tf.sub(mvlgamma(tf.sub(alpha, 0.5), dm1), tf.mul(dm1, lgamma(alpha))),
      0.5 * dm1 * Math.log(Math.PI),
    );
  });
}

/**
 * LKJ distribution on `D x D` correlation Cholesky factors.
 *
 * @example
 * ```ts
 * const d = new LKJCholesky(3, 2);
 * const L = d.sample();   // [3, 3], lower triangular, unit rows
 * d.logProb(L);
 * ```
 */
export class LKJCholesky extends LKJBase {
  /** Support: Cholesky factors of correlation matrices. */
  override get support(): Constraint {
    return corrCholesky;
  }

  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const d = this.dim;
    const [sb, sn] = deriveSeeds(seed, 2) as [number, number];
    const batch = this.batchShape;
    // Beta(i/2, eta + (D - 2 - i)/2) ... for rows i = 1..D-1 (onion method)
    const offset = tf.tensor1d(Array.from({ length: d - 1 }, (_, i) => 0.5 * i));
    const marginal = tf.add(this.concentration, 0.5 * (d - 2));
    const conc0 = tf.sub(tf.expandDims(marginal, -1), offset);
    const conc1 = tf.add(offset, 0.5);
    const beta = new Beta(tf.broadcastTo(conc1, conc0.shape), conc0);
    let y: tf.Tensor;
    try {
      y = beta.sample(shape, sb); // [..., D-1]
    } finally {
      beta.dispose();
    }
    const m = ((d - 1) * d) / 2;
    const normal = tf.randomNormal([...shape, ...batch, m], 0, 1, 'float32', sn);
    const tri = vecToTril(normal, d - 1, 0); // [..., D-1, D-1]
    const u = tf.div(tri, tf.norm(tri, 'euclidean', -1, true));
    const w = tf.mul(tf.expandDims(tf.sqrt(y), -1), u);
    // place w in rows 1.., columns ..D-2 of a D x D matrix
    const lead = w.shape.slice(0, -2);
    const top = tf.zeros([...lead, 1, d - 1]);
    const withTop = tf.concat([top, w], -2); // [..., D, D-1]
    const lower = tf.concat([withTop, tf.zeros([...lead, d, 1])], -1); // [..., D, D]
    // torch's clamp at the smallest normal float32: a Beta draw at 1 - 2^-24 can round the row's
    // off-diagonal squares to >= 1, and a zero diagonal lies outside corrCholesky (its own draw
    // refused by logProb)
    const diag = tf.sqrt(tf.maximum(tf.sub(1, tf.sum(tf.square(lower), -1)), FLOAT32_TINY));
    return tf.add(lower, tf.mul(tf.expandDims(diag, -1), tf.eye(d)));
  }
  protected _logProb(l: tf.Tensor): tf.Tensor {
    const d = this.dim;
    const eta = this.concentration;
    const diag = matrixDiag(l); // [..., D]
    const logDiag = tf.slice(
      tf.log(diag),
      [...Array(diag.rank - 1).fill(0), 1],
      [...diag.shape.slice(0, -1), d - 1],
    );
    // order_i = D - i + 2(eta - 1) for i = 2..D (1-based)
    const order = tf.add(
      tf.expandDims(tf.mul(2, tf.sub(eta, 1)), -1),
      tf.tensor1d(Array.from({ length: d - 1 }, (_, j) => d - (j + 2))),
    );
    const unnorm = tf.sum(tf.mul(order, logDiag), -1);
    return tf.sub(unnorm, lkjLogNormalizer(eta, d));
  }
}
