/**
 * Fit a generalized Pareto distribution to data (Pyro's `pyro.ops.stats.fit_generalized_pareto`):
 * the data are sorted and passed to Zhang & Stephens' (2009) estimate with the weakly informative
 * prior on the shape that PSIS uses ({@link gpdFit}). The density of the fitted law is
 *
 * $$p(x) = \frac1\sigma\Bigl(1 + \frac{k x}{\sigma}\Bigr)^{-1/k - 1}, \quad x > 0$$
 */
import { ArgumentError } from '../../utils/errors.js';
import { gpdFit, type GeneralizedPareto } from '../infer/psis.js';

/**
 * The shape `k` and scale `sigma` of a generalized Pareto law fitted to `x` (positive values, at
 * least 5, any order).
 * @throws ArgumentError naming `x` (fewer than 5 values, or a value that is not finite and > 0).
 * @example
 * ```ts
 * const { k, sigma } = ppl.stats.fitGeneralizedPareto(exceedances);
 * ```
 */
export function fitGeneralizedPareto(x: ArrayLike<number>): GeneralizedPareto {
  if (x === null || typeof x !== 'object' || typeof x.length !== 'number') {
    throw new ArgumentError('x', `expected an array of positive numbers, got ${String(x)}`);
  }
  const s = Float64Array.from(x);
  const bad = s.findIndex((v) => !(v > 0 && Number.isFinite(v)));
  if (bad >= 0) {
    throw new ArgumentError('x', `expected finite values > 0, got ${s[bad]} at ${bad}`);
  }
  return gpdFit(s.sort());
}
