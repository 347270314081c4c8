/**
 * `HaarReparam(dim, flip)` (Pyro's): a time-series site sampled in the Haar wavelet domain,
 * `x_haar = H(B^{-1}(x))` along `dim` (the orthonormal, unit-Jacobian Haar transform),
 *
 * $$x_{haar} \sim (H \circ B^{-1})_\# p,\qquad x = B\big(H^{-1}(x_{haar})\big),$$
 *
 * for sequential latents with long-range coupling along a time axis: local in time and in scale,
 * the wavelet coefficients of a random walk are nearly uncorrelated.
 */
import { HaarTransform } from '../../../bijectors/haar.js';
import { ArgumentError } from '../../../utils/errors.js';
import { checkOptionKeys } from '../../../utils/options.js';
import { UnitJacobianReparam } from './unit_jacobian.js';

/** Pyro's keyword arguments of {@link HaarReparam}. */
export interface HaarReparamOptions {
  /** The time dim, a negative event dim of the site (default -1). */
  dim?: number;
  /** Reverse the time axis first (default false). */
  flip?: boolean;
}

/**
 * Reparameterize a time-series site by a Haar wavelet transform along `dim`.
 *
 * @example
 * ```ts
 * const m = reparam(model, { x: new HaarReparam(-1) }); // x sampled as x_haar
 * ```
 */
export class HaarReparam extends UnitJacobianReparam {
  /**
   * @param dim the time dim, a negative event dim of the site (default -1), or the options
   *   `{dim, flip}` (Pyro's keywords).
   * @param flip reverse the time axis before the transform (default false).
   * @throws ArgumentError naming `dim`, `flip` or an unknown option key.
   */
  constructor(dim: number | HaarReparamOptions = -1, flip = false) {
    if (dim !== null && typeof dim === 'object') {
      checkOptionKeys(dim, ['dim', 'flip'], 'HaarReparam');
      if (flip !== false) {
        throw new ArgumentError('flip', 'give flip in the options object or positionally');
      }
      super(new HaarTransform(dim.dim ?? -1, dim.flip ?? false), 'haar');
    } else super(new HaarTransform(dim, flip), 'haar');
  }
}
