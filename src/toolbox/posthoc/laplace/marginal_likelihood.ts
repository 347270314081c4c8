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
import { logDetPosterior, type EigenCurvature } from './posterior.js';

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
