/**
 * The multivariate normal of the GP sites: a `MultivariateNormal` from a Cholesky factor whose
 * log-density and KL use the one-op host solves of `host_linalg.ts` (same values as the base
 * class; the base's solve costs `O(D)` tfjs ops on the tape):
 *
 * $$\log p(x) = -\tfrac12\lVert L^{-1}(x-μ)\rVert^2 - \sum_i \log L_{ii} - \tfrac D2 \log 2π,$$
 *
 * $$\mathrm{KL}(p\,\|\,q) = \tfrac12\big(\lVert L_q^{-1}L_p\rVert_F^2 + \lVert L_q^{-1}(μ_q-μ_p)\rVert^2 - D\big)
 *   + \sum_i \log (L_q)_{ii} - \sum_i \log (L_p)_{ii}.$$
 *
 * Batch shapes the host solve does not take (a factor broadcast against more batch dims) fall
 * back to the base class.
 * @internal
 */
import * as tf from '@tensorflow/tfjs';
import { MultivariateNormal, klMvnMvn } from '../../../distributions/mvn.js';
import { registerKL } from '../../../distributions/kl.js';
import { matrixDiag } from '../../../utils/linalg.js';
import { LowRankMultivariateNormal } from '../../../distributions/lowrank_mvn.js';
import { cholesky, triangularSolve } from './host_linalg.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Whether `l [..., D, D]` solves `b [..., D, m]` in one host op (shared or same batch). */
function hostSolvable(l: tf.Tensor, b: tf.Tensor): boolean {
  if (l.rank === 2) return true;
  const lb = l.shape.slice(0, -2);
  const bb = b.shape.slice(0, -2);
  return lb.length === bb.length && lb.every((d, i) => d === bb[i]);
}

/** A `MultivariateNormal` given by `scaleTril`, with host-solved log-density and KL. @internal */
export class GPMultivariateNormal extends MultivariateNormal {
  /**
   * @param loc the mean `[..., D]`.
   * @param scaleTril the lower Cholesky factor `[..., D, D]` (not validated: built by the GP).
   */
  constructor(loc: tf.Tensor, scaleTril: tf.Tensor) {
    // named as the family it computes (traces, render legends, errors), as Pyro's
    super(loc, { scaleTril }, { validateArgs: false, name: 'MultivariateNormal' });
  }

  protected override _logProb(x: tf.Tensor): tf.Tensor {
    const diff = tf.expandDims(tf.sub(x, this.loc), -1);
    if (!hostSolvable(this.scaleTril, diff)) return super._logProb(x);
    const z = triangularSolve(this.scaleTril, diff);
    const maha = tf.sum(tf.square(z), [-2, -1]);
    const halfLogDet = tf.sum(tf.log(matrixDiag(this.scaleTril)), -1);
    const d = this.eventShape[0] as number;
    return tf.sub(tf.mul(-0.5, tf.add(maha, d * LOG_2PI)), halfLogDet);
  }
}

/** `KL(p || q)` of two GP normals by host solves (the base formula otherwise). @internal */
export function klGPMvn(p: GPMultivariateNormal, q: GPMultivariateNormal): tf.Tensor {
  return tf.tidy(() => {
    const d = p.eventShape[0] as number;
    const batch = q.batchShape;
    const same =
      p.batchShape.length === batch.length && p.batchShape.every((s, i) => s === batch[i]);
    const lp = tf.broadcastTo(p.scaleTril, [...batch, d, d]);
    const diff = tf.expandDims(tf.broadcastTo(tf.sub(q.loc, p.loc), [...batch, d]), -1);
    if (!same || !hostSolvable(q.scaleTril, lp)) return klMvnMvn(p, q);
    const m = triangularSolve(q.scaleTril, lp);
    const z = triangularSolve(q.scaleTril, diff);
    const tr = tf.sum(tf.square(m), [-2, -1]);
    const maha = tf.sum(tf.square(z), [-2, -1]);
    const ld = tf.sub(
      tf.sum(tf.log(matrixDiag(q.scaleTril)), -1),
      tf.sum(tf.log(matrixDiag(p.scaleTril)), -1),
    );
    return tf.broadcastTo(tf.add(tf.mul(0.5, tf.sub(tf.add(tr, maha), d)), ld), batch);
  });
}

registerKL(GPMultivariateNormal, GPMultivariateNormal, klGPMvn);

/**
 * A `LowRankMultivariateNormal` `N(μ, W Wᵀ + diag(d))` whose log-density uses the host
 * Cholesky and solve of the capacitance `C = I + Wᵀ D⁻¹ W = L_C L_Cᵀ` (Woodbury and the matrix
 * determinant lemma):
 *
 * $$\log p(x) = -\tfrac12\Big(r^\top D^{-1} r - \lVert L_C^{-1} W^\top D^{-1} r\rVert^2
 *   + 2\sum_i \log (L_C)_{ii} + \sum_j \log d_j + D \log 2π\Big),\quad r = x - μ.$$
 *
 * Batched parameters fall back to the base class. @internal
 */
export class GPLowRankMultivariateNormal extends LowRankMultivariateNormal {
  /**
   * @param loc the mean `[D]`.
   * @param covFactor `W`, `[D, R]`.
   * @param covDiag `d > 0`, `[D]` (not validated: built by the GP).
   */
  constructor(loc: tf.Tensor, covFactor: tf.Tensor, covDiag: tf.Tensor) {
    super(loc, covFactor, covDiag, { validateArgs: false, name: 'LowRankMultivariateNormal' });
  }

  protected override _logProb(x: tf.Tensor): tf.Tensor {
    const w = this.covFactor;
    const d = this.covDiag;
    if (w.rank !== 2 || d.rank !== 1 || this.loc.rank !== 1) return super._logProb(x);
    const dim = this.eventShape[0] as number;
    const rank = w.shape[1] as number;
    const r = tf.sub(x, this.loc); // [..., D]
    const wd = tf.div(w, tf.expandDims(d, -1));
    const lc = cholesky(tf.add(tf.eye(rank), tf.matMul(w, wd, true, false)));
    const rd = tf.div(r, d);
    const r2 = tf.reshape(rd, [-1, dim]); // [B, D]
    const wtr = tf.matMul(w, r2, true, true); // [R, B]
    const v = triangularSolve(lc, wtr);
    const maha = tf.sub(
      tf.sum(tf.mul(r, rd), -1),
      tf.reshape(tf.sum(tf.square(v), 0), r.shape.slice(0, -1)),
    );
    const logDet = tf.add(tf.mul(2, tf.sum(tf.log(matrixDiag(lc)))), tf.sum(tf.log(d)));
    return tf.mul(-0.5, tf.add(tf.add(maha, logDet), dim * LOG_2PI));
  }
}
