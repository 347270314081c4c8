/**
 * The central percentile interval of draws (Pyro's `pyro.ops.stats.pi`, ArviZ's equal-tailed
 * interval): the sample quantiles at `(1 - prob)/2` and `(1 + prob)/2`,
 *
 * $$\mathrm{PI}_{p} = \bigl[Q\bigl(\tfrac{1-p}{2}\bigr),\; Q\bigl(\tfrac{1+p}{2}\bigr)\bigr]$$
 *
 * with `Q` the linearly interpolated quantile ({@link quantiles}).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { quantiles } from '../infer/hpdi.js';

/**
 * The interval of mass `prob` along `dim`: shape of `input` with `dim` of size 2 (lower, upper),
 * a new tensor.
 * @param input draws. @param prob the mass, in (0, 1). @param dim the draws' axis (default 0).
 * @throws ArgumentError naming `input`, `prob` or `dim`.
 * @example
 * ```ts
 * const [lo, hi] = tf.unstack(ppl.stats.pi(draws, 0.9)); // the 5% and 95% quantiles
 * ```
 */
export function pi(input: tf.Tensor, prob: number, dim = 0): tf.Tensor {
  if (typeof prob !== 'number' || !(prob > 0 && prob < 1)) {
    throw new ArgumentError('prob', `expected a number in (0, 1), got ${String(prob)}`);
  }
  return quantiles(input, [(1 - prob) / 2, (1 + prob) / 2], dim);
}
