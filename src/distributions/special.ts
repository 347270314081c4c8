/**
 * Special functions as differentiable tensor ops (tfjs has no `lgamma`, `digamma` or incomplete
 * gamma/beta): every function here is a composition of elementwise tfjs ops, differentiated by
 * autodiff, except the few-kernel `lgamma`, `digamma`, `stirlingError` and `bd0`, which carry
 * custom gradients (their closed-form derivatives; a kernel saved per op at backward time).
 *
 * Accuracy targets float32: `lgamma` 5e-6 relative (2.5e-6 absolute near its zeros at 1 and 2),
 * `digamma` 3e-6 relative (4e-7 absolute near its zero) on `[1e-6, 1e6]`; `erfc` uses
 * Numerical Recipes' Chebyshev fit (1.2e-7 relative in exact arithmetic, ~1e-5 in float32 at
 * |x| = 5); the regularized incomplete gamma functions reach 2e-5 relative (1e-6 absolute) for
 * shapes from 1e-3 to 1e7 (Temme's expansion near `x = a` for `a >= 20`), the incomplete beta
 * ~1e-6 on moderate parameters and ~2e-5 for parameters in the hundreds. These are internal
 * helpers of the distribution families.
 *
 * This module gathers them; each concept lives in its own file: `gamma_functions.ts`, `stirling.ts`,
 * `saddle_point.ts`, `digamma_shift.ts`, `normal_cdf.ts`, `log1m_exp_neg.ts`,
 * `incomplete_gamma_beta.ts`, `support_ops.ts`.
 */
export { digamma, lbeta, lgamma, mvdigamma, mvlgamma, trigamma } from './gamma_functions.js';
export { bd0, logFactorial, stirlingError, stirlingErrors } from './stirling.js';
export {
  betaLogDensity,
  betaLogDensityAndLbeta,
  binomialSaddleLogPmf,
  dirichletLogDensity,
  dirichletLogDensityAndLogNorm,
  dirichletMultinomialLogPmf,
  gammaLogDensity,
} from './saddle_point.js';
export { digammaMinusLog, digammaShift, lgammaShift } from './digamma_shift.js';
export { erfc, logNdtr, ndtr, ndtri } from './normal_cdf.js';
export { log1mExpNeg } from './log1m_exp_neg.js';
export { betainc, gammaincPQ } from './incomplete_gamma_beta.js';
export {
  andB,
  bshape,
  eq,
  ge,
  gt,
  isCount,
  le,
  lt,
  maskLogProb,
  mulNoNan,
  noGrad,
  notB,
  openUniform,
  orB,
  safe,
  select,
  whereB,
} from './support_ops.js';
