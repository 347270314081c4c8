/**
 * The GP conditional (Pyro's `pyro.contrib.gp.util.conditional`): the distribution of
 * `f* = f(X*)` given a Gaussian `q(f) = N(m, S Sᵀ)` of `f = f(X)` under the prior
 * `f ~ GP(0, k)`. With `K = K(X, X) = L Lᵀ`, `W = L⁻¹ K(X, X*)`:
 *
 * $$\text{non-whitened:}\quad E[f_*] = W^\top L^{-1} m,\quad
 *   \mathrm{Cov}[f_*] = K_{**} - W^\top W + W^\top L^{-1} S S^\top L^{-\top} W;$$
 *
 * $$\text{whitened } (f = L u,\ q(u) = N(m, S S^\top)):\quad E[f_*] = W^\top m,\quad
 *   \mathrm{Cov}[f_*] = K_{**} - W^\top W + W^\top S S^\top W.$$
 *
 * The variances are clamped at 0 (rounding of `k** - wᵀw`). Without `S` (a point `f = m`) the
 * last term is absent: the exact GP posterior mean and
 * covariance when `m` is the observed residual and `K` includes the noise.
 */
import * as tf from '@tensorflow/tfjs';
import type { Kernel } from './kernels/kernel.js';
import { matrixTranspose } from '../../../utils/linalg.js';
import { cholesky, triangularSolve } from './host_linalg.js';

/** Options of {@link conditional}. */
export interface ConditionalOptions {
  /** The lower Cholesky factor of `K(X, X) (+ jitter I)`, when already computed. */
  Lff?: tf.Tensor;
  /** Return the full covariance `[..., M, M]` instead of the variances `[..., M]`. */
  fullCov?: boolean;
  /** `m`, `S` are of the whitened `u = L⁻¹ f`. Default false. */
  whiten?: boolean;
  /** Added to the diagonal of `K(X, X)` when `Lff` is not given. Default 1e-6. */
  jitter?: number;
}

/**
 * `K(X, X) + jitter I` and its Cholesky factor. Not tidied (callers are).
 * @internal
 */
export function kernelCholesky(kernel: Kernel, X: tf.Tensor, jitter: number): tf.Tensor {
  const K = kernel.forward(X);
  const n = K.shape[0] as number;
  return cholesky(tf.add(K, tf.mul(tf.eye(n), jitter)));
}

/**
 * The mean `[..., M]` and the variance `[..., M]` (or covariance `[..., M, M]`) of `f(X*)`
 * (see the module's formulas). Batch dims `...` of `fLoc [..., N]` and `fScaleTril [..., N, N]`
 * are independent latent functions sharing the kernel.
 * @param Xnew inputs `X*` `[M, F]`.
 * @param X inputs `X` `[N, F]`.
 * @param kernel the prior covariance.
 * @param fLoc `m`, `[..., N]`.
 * @param fScaleTril `S`, `[..., N, N]` (lower triangular), or undefined.
 * @param options `Lff`, `fullCov`, `whiten`, `jitter`.
 * @returns `[mean, variance or covariance]`, new tensors.
 */
export function conditional(
  Xnew: tf.Tensor,
  X: tf.Tensor,
  kernel: Kernel,
  fLoc: tf.Tensor,
  fScaleTril?: tf.Tensor,
  options: ConditionalOptions = {},
): [tf.Tensor, tf.Tensor] {
  const { fullCov = false, whiten = false, jitter = 1e-6 } = options;
  return tf.tidy(() => {
    const L = options.Lff ?? kernelCholesky(kernel, X, jitter);
    const n = L.shape[0] as number;
    const Kfs = kernel.forward(X, Xnew); // [N, M]
    const W = triangularSolve(L, Kfs); // L^{-1} Kfs, [N, M]
    // the whitened mean v = L^{-1} m (non-whitened) or m
    const batch = fLoc.shape.slice(0, -1);
    const m2 = tf.reshape(fLoc, [-1, n]); // [B, N]
    const v = whiten ? m2 : matrixTranspose(triangularSolve(L, matrixTranspose(m2)));
    const loc = tf.reshape(tf.matMul(v, W), [...batch, Kfs.shape[1] as number]);
    let SW: tf.Tensor | undefined;
    if (fScaleTril !== undefined) {
      const S = whiten ? fScaleTril : triangularSolve(L, fScaleTril);
      // broadcast W explicitly: tfjs's BatchMatMul gradient does not reduce broadcast batch dims
      const Wb =
        S.rank > 2 ? tf.broadcastTo(W, [...S.shape.slice(0, -2), n, W.shape[1] as number]) : W;
      SW = tf.matMul(S, Wb, true, false); // [..., N, M]: S^T W
    }
    if (fullCov) {
      const Kss = kernel.forward(Xnew);
      let cov = tf.sub(Kss, tf.matMul(W, W, true, false));
      if (SW !== undefined) cov = tf.add(cov, tf.matMul(SW, SW, true, false));
      else if (batch.length > 0) cov = tf.broadcastTo(cov, [...batch, ...cov.shape]);
      return [loc, cov] as [tf.Tensor, tf.Tensor];
    }
    const Kssdiag = kernel.forward(Xnew, undefined, true);
    // K** - W^T W >= 0 in exact arithmetic; clamp the float32 rounding below zero
    let variance = tf.relu(tf.sub(Kssdiag, tf.sum(tf.square(W), 0)));
    if (SW !== undefined) variance = tf.add(variance, tf.sum(tf.square(SW), -2));
    else if (batch.length > 0) variance = tf.broadcastTo(variance, [...batch, ...variance.shape]);
    return [loc, variance] as [tf.Tensor, tf.Tensor];
  });
}
