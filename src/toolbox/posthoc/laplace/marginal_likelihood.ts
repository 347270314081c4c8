/**
 * The Laplace marginal likelihood over a block-diagonal curvature (one {@link EigenCurvature} per
 * block: the last layer, or every layer) and its maximiser in the isotropic prior precision
 * `delta`, shared by the last-layer and the all-layers approximations:
 *
 * $$\log p(\mathcal D\mid\delta) \approx \log p(\mathcal D\mid\theta_*)
 *   - \tfrac12\Big[\sum_b \log\det(H_b + \delta I) - P\log\delta\Big] - \tfrac\delta2\lVert\theta_*\rVert^2 ,$$
 *
 * with `P = sum_b (D_b + 1) K_b` parameters. Its derivative in `delta`,
 * `1/2 [P/delta - sum_i 1/(lambda_i + delta) - ||theta||^2]`, is decreasing, so the maximiser is
 * its unique root.
 */
import {
  denseFromEigen,
  logDetPosterior,
  withParamPrior,
  type EigenCurvature,
} from './posterior.js';

/** Number of parameters `P = sum_b (D_b + 1) K_b` of the blocks. */
export function numLaplaceParams(eigs: readonly EigenCurvature[]): number {
  return eigs.reduce((s, e) => s + e.d1 * e.k, 0);
}

/**
 * The Laplace log marginal likelihood at prior precision `delta` (formula above), with the
 * curvature scaled by `hScale` (`H -> c H`; 1 by default):
 * `log det(c H_b + delta I) = sum_i log(c lambda_i + delta)`.
 *
 * @param eigs the curvature blocks; @param logLikelihood `log p(D | theta_*)`;
 * @param thetaSq `||theta_*||^2`; @param delta the prior precision (> 0, checked by the caller);
 * @param hScale the factor `c > 0` of the curvature (a Gaussian likelihood's `sigma_0^2 / sigma^2`).
 */
export function laplaceLogMarginal(
  eigs: readonly EigenCurvature[],
  logLikelihood: number,
  thetaSq: number,
  delta: number,
  hScale = 1,
): number {
  const logDet = eigs.reduce((s, e) => {
    if (hScale === 1) return s + logDetPosterior(e, delta);
    let b = 0;
    for (let i = 0; i < e.lambda.length; i++)
      b += Math.log(hScale * (e.lambda[i] as number) + delta);
    return s + b;
  }, 0);
  const ratio = logDet - numLaplaceParams(eigs) * Math.log(delta);
  return logLikelihood - 0.5 * (ratio + delta * thetaSq);
}

/**
 * The prior precision maximising {@link laplaceLogMarginal}: the root of its decreasing derivative,
 * by bisection in `log delta` on `[1e-8, 1e8]` (clamped to an end when the root lies outside).
 */
export function maximizeLaplaceMarginal(eigs: readonly EigenCurvature[], thetaSq: number): number {
  const p = numLaplaceParams(eigs);
  const grad = (d: number): number => {
    let s = 0;
    for (const e of eigs)
      for (let i = 0; i < e.lambda.length; i++) s += 1 / ((e.lambda[i] as number) + d);
    return p / d - s - thetaSq;
  };
  let lo = Math.log(1e-8);
  let hi = Math.log(1e8);
  if (grad(Math.exp(hi)) > 0) lo = hi;
  else if (grad(Math.exp(lo)) < 0) hi = lo;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = 0.5 * (lo + hi);
    if (grad(Math.exp(mid)) > 0) lo = mid;
    else hi = mid;
  }
  return Math.exp(0.5 * (lo + hi));
}

/**
 * The Laplace log marginal likelihood with one prior precision per block (laplace-torch's
 * `prior_structure='layerwise'`), the prior `theta_b ~ N(0, I / delta_b)`:
 *
 * $$\log p(\mathcal D\mid\delta) \approx \log p(\mathcal D\mid\theta_*) - \tfrac12\sum_b\Big[
 *   \log\det(c H_b + \delta_b I) - P_b\log\delta_b + \delta_b\lVert\theta_{*,b}\rVert^2\Big].$$
 *
 * @param thetaSqs `||theta_{*,b}||^2` per block; @param deltas `delta_b` per block (> 0, checked
 * by the caller); @param hScale the curvature factor `c` (1 by default).
 */
export function laplaceLogMarginalBlocks(
  eigs: readonly EigenCurvature[],
  logLikelihood: number,
  thetaSqs: readonly number[],
  deltas: readonly number[],
  hScale = 1,
): number {
  let s = 0;
  eigs.forEach((e, b) => {
    const d = deltas[b] as number;
    for (let i = 0; i < e.lambda.length; i++) s += Math.log(hScale * (e.lambda[i] as number) + d);
    s += -e.d1 * e.k * Math.log(d) + d * (thetaSqs[b] as number);
  });
  return logLikelihood - 0.5 * s;
}

/**
 * The Laplace log marginal likelihood with one prior precision per parameter (laplace-torch's
 * `prior_precision` of length `P`, `prior_structure='diag'`), the prior `theta_i ~ N(0, 1/delta_i)`:
 *
 * $$\log p(\mathcal D\mid\delta) \approx \log p(\mathcal D\mid\theta_*) - \tfrac12\sum_b\Big[
 *   \log\det\big(c H_b + \operatorname{diag}(\delta_b)\big) - \sum_{i\in b}\log\delta_i
 *   + \sum_{i\in b}\delta_i\,\theta_{*,i}^2\Big],$$
 *
 * with `log det(c H_b + diag(delta_b)) = sum_i log(c lambda_i + delta_i)` for `diag` and the
 * eigenvalues of the dense matrix for `full` (`kron` is refused by the caller).
 *
 * @param thetas `theta_{*,b}` per block (ordered as the block's parameters); @param deltas
 * `delta_b` per block (`> 0`, checked by the caller); @param hScale the curvature factor `c`.
 */
export function laplaceLogMarginalParams(
  eigs: readonly EigenCurvature[],
  logLikelihood: number,
  thetas: readonly Float64Array[],
  deltas: readonly Float64Array[],
  hScale = 1,
): number {
  let s = 0;
  eigs.forEach((e, b) => {
    const d = deltas[b] as Float64Array;
    const th = thetas[b] as Float64Array;
    const scaled =
      hScale === 1 ? e : { ...e, lambda: Float64Array.from(e.lambda, (v) => hScale * v) };
    s += logDetPosterior(withParamPrior(scaled, d), 0);
    for (let i = 0; i < d.length; i++) {
      const di = d[i] as number;
      s += -Math.log(di) + di * (th[i] as number) ** 2;
    }
  });
  return logLikelihood - 0.5 * s;
}

/**
 * The per-parameter prior precisions maximising {@link laplaceLogMarginalParams} of one block
 * (laplace-torch's `prior_structure='diag'`), each clamped to `[1e-8, 1e8]`. The stationarity
 * condition in `delta_i` is `1/delta_i - Sigma_ii - theta_i^2 = 0`, `Sigma = (H + diag(delta))^{-1}`:
 *
 * - `diag`: `Sigma_ii = 1/(lambda_i + delta_i)`, so `theta_i^2 delta_i^2 + theta_i^2 lambda_i delta_i
 *   - lambda_i = 0`, whose positive root is
 *   $$\delta_i = \frac{2\lambda_i}{\theta_i^2\lambda_i + \sqrt{\theta_i^4\lambda_i^2 + 4\theta_i^2\lambda_i}};$$
 * - `full`: coordinate ascent, each `delta_i` set to its exact maximiser with the others fixed: by
 *   the determinant lemma `log det(P + t e_i e_i^T) = log det P + log(1 + t Sigma_ii)`, the terms in
 *   `delta_i` are the `diag` ones with `lambda_i` replaced by the Schur complement
 *   `c_i = 1/Sigma_ii - delta_i >= 0`, so the closed form above applies; `Sigma` follows by
 *   Sherman-Morrison and is recomputed every sweep. The marginal likelihood increases at every
 *   step; sweeps stop when the largest relative change is `< 1e-9` (at most 2000 sweeps).
 *
 * @param theta `theta_*` of the block; `kron` is refused by the caller.
 */
export function maximizeParamMarginal(e: EigenCurvature, theta: Float64Array): Float64Array {
  const p = e.d1 * e.k;
  const clamp = (v: number): number => Math.min(1e8, Math.max(1e-8, Number.isNaN(v) ? 1e8 : v));
  const closed = (lam: number, t2: number): number =>
    clamp((2 * lam) / (t2 * lam + Math.sqrt(t2 * t2 * lam * lam + 4 * t2 * lam)));
  if (e.structure === 'diag') {
    return Float64Array.from(e.lambda, (lam, i) => closed(lam, (theta[i] as number) ** 2));
  }
  const h = denseFromEigen(e, 0, 1);
  const delta = Float64Array.from({ length: p }, (_, i) =>
    closed(Math.max(h[i * p + i] as number, 0), (theta[i] as number) ** 2),
  );
  const col = new Float64Array(p);
  for (let sweep = 0; sweep < 2000; sweep++) {
    const cov = denseFromEigen(withParamPrior(e, delta), 0, -1);
    let change = 0;
    for (let i = 0; i < p; i++) {
      const sii = cov[i * p + i] as number;
      const d = delta[i] as number;
      const next = closed(Math.max(1 / sii - d, 0), (theta[i] as number) ** 2);
      const t = next - d;
      if (t === 0) continue;
      change = Math.max(change, Math.abs(t) / d);
      // Sigma <- Sigma - t Sigma e_i e_i^T Sigma / (1 + t Sigma_ii)
      for (let a = 0; a < p; a++) col[a] = cov[a * p + i] as number;
      const f = t / (1 + t * sii);
      for (let a = 0; a < p; a++) {
        const ca = (col[a] as number) * f;
        for (let b = 0; b < p; b++)
          cov[a * p + b] = (cov[a * p + b] as number) - ca * (col[b] as number);
      }
      delta[i] = next;
    }
    if (change < 1e-9) break;
  }
  return delta;
}
