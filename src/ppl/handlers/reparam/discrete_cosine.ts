/**
 * `DiscreteCosineReparam(dim, smooth)` (Pyro's): a time-series site sampled in the frequency
 * domain, `x_dct = DCT_s(B^{-1}(x))` along `dim` (the orthonormal DCT-II with Pyro's frequency
 * weights `w_k ∝ (k + ½)^s`, unit Jacobian),
 *
 * $$x_{dct} \sim (\mathrm{DCT}_s \circ B^{-1})_\# p,\qquad x = B\big(\mathrm{DCT}_s^{-1}(x_{dct})\big),$$
 *
 * for sequential latents whose coupling along a time axis (a random walk, a banded precision)
 * gives long-range posterior correlation: in the frequency domain the posterior covariance is
 * closer to diagonal (better diagonal guides in SVI, a better diagonal mass matrix in HMC). Use
 * `smooth = 1` for paths that are roughly continuous in time (a Gaussian random walk), `smooth =
 * 2` for roughly continuously differentiable ones.
 */
import { DiscreteCosineTransform } from '../../../bijectors/discrete_cosine.js';
import { ArgumentError } from '../../../utils/errors.js';
import { checkOptionKeys } from '../../../utils/options.js';
import { UnitJacobianReparam } from './unit_jacobian.js';

/** Pyro's keyword arguments of {@link DiscreteCosineReparam}. */
export interface DiscreteCosineReparamOptions {
  /** The time dim, a negative event dim of the site (default -1). */
  dim?: number;
  /** The smoothing exponent `s` (default 0). */
  smooth?: number;
}

/**
 * Reparameterize a time-series site by a discrete cosine transform along `dim`.
 *
 * @example
 * ```ts
 * // x ~ GaussianRandomWalk(sigma, 50): sample its smoothed DCT as x_dct
 * const m = reparam(model, { x: new DiscreteCosineReparam(-1, 1) });
 * ```
 */
export class DiscreteCosineReparam extends UnitJacobianReparam {
  /**
   * @param dim the time dim, a negative event dim of the site (default -1), or the options
   *   `{dim, smooth}` (Pyro's keywords).
   * @param smooth the smoothing exponent `s`, a finite number (default 0).
   * @throws ArgumentError naming `dim`, `smooth` or an unknown option key.
   */
  constructor(dim: number | DiscreteCosineReparamOptions = -1, smooth = 0) {
    if (dim !== null && typeof dim === 'object') {
      checkOptionKeys(dim, ['dim', 'smooth'], 'DiscreteCosineReparam');
      if (smooth !== 0) {
        throw new ArgumentError('smooth', 'give smooth in the options object or positionally');
      }
      super(new DiscreteCosineTransform(dim.dim ?? -1, dim.smooth ?? 0), 'dct');
    } else super(new DiscreteCosineTransform(dim, smooth), 'dct');
  }
}
