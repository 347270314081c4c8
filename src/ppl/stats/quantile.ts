/**
 * Pyro's `pyro.ops.stats.quantile(input, probs, dim)`: the linearly interpolated sample quantiles
 * ({@link quantiles}, NumPy's default) at a level or a list of levels. A single level drops the
 * `dim` axis, as Pyro's squeezes it.
 */
import * as tf from '@tensorflow/tfjs';
import { quantiles } from '../infer/hpdi.js';
import { checkAxis, checkTensor } from './columns.js';

/**
 * Quantiles of `input` along `dim` at `probs`: `dim` of size `probs.length` for a list, removed
 * for one number (a new tensor).
 * @throws ArgumentError naming `samples`/`input`, `probs` or `axis`/`dim`.
 * @example
 * ```ts
 * ppl.stats.quantile(draws, 0.5);          // the medians, [...rest]
 * ppl.stats.quantile(draws, [0.05, 0.95]); // [2, ...rest]
 * ```
 */
export function quantile(input: tf.Tensor, probs: number | number[], dim = 0): tf.Tensor {
  if (typeof probs !== 'number') return quantiles(input, probs, dim);
  checkTensor(input, 'input');
  const ax = checkAxis(dim, input.rank, 'dim');
  const q = quantiles(input, [probs], ax);
  const out = tf.squeeze(q, [ax]);
  q.dispose();
  return out;
}
