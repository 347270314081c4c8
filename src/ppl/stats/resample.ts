/**
 * Draw a random subset of the entries of a tensor along one axis (Pyro's
 * `pyro.ops.stats.resample`), e.g. to thin posterior draws: `numSamples` indices, uniformly
 * without replacement (a partial Fisher–Yates shuffle) or with replacement, from deepprob's seed
 * stream (`setSeed`) or the given `seed`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { makeRng } from '../../utils/seed.js';
import { checkAxis, checkTensor } from './columns.js';

/** Options of {@link resample}. */
export interface ResampleOptions {
  /** The axis to draw along (default 0). */
  dim?: number;
  /** Draw with replacement (default false). */
  replacement?: boolean;
  /** A seed for this call. */
  seed?: number;
}

/**
 * `numSamples` entries of `input` along `dim`, chosen at random (a new tensor, `dim` of size
 * `numSamples`). Called as Pyro's `resample(input, numSamples, dim, replacement)` or with
 * `{dim, replacement, seed}`.
 * @throws ArgumentError naming `input`, `numSamples` (not an integer >= 1, or more than there are
 *   without replacement) or `dim`.
 * @example
 * ```ts
 * const thinned = ppl.stats.resample(draws, 100); // 100 of the draws, without replacement
 * ```
 */
export function resample(
  input: tf.Tensor,
  numSamples: number,
  dimOrOptions: number | ResampleOptions = {},
  withReplacement?: boolean,
): tf.Tensor {
  checkTensor(input, 'input');
  // Pyro's positional form resample(input, n, dim, replacement) as well as the options object
  const options: ResampleOptions =
    typeof dimOrOptions === 'number'
      ? {
          dim: dimOrOptions,
          ...(withReplacement === undefined ? {} : { replacement: withReplacement }),
        }
      : dimOrOptions;
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError(
      'options',
      `expected a dim or {dim?, replacement?, seed?}, got ${String(options)}`,
    );
  }
  if (options.replacement !== undefined && typeof options.replacement !== 'boolean') {
    throw new ArgumentError(
      'replacement',
      `expected a boolean, got ${String(options.replacement)}`,
    );
  }
  const ax = checkAxis(options.dim ?? 0, input.rank, 'dim');
  const n = input.shape[ax] as number;
  const replacement = options.replacement ?? false;
  if (!Number.isInteger(numSamples) || numSamples < 1 || (!replacement && numSamples > n)) {
    throw new ArgumentError(
      'numSamples',
      `expected an integer in [1, ${replacement ? 'inf' : n}]${
        replacement ? '' : ` (the size of dim ${ax}; pass replacement: true for more)`
      }, got ${String(numSamples)}`,
    );
  }
  const rng = makeRng(options.seed);
  const idx = new Int32Array(numSamples);
  if (replacement) {
    for (let i = 0; i < numSamples; i++) idx[i] = Math.floor(rng() * n);
  } else {
    const perm = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < numSamples; i++) {
      const j = i + Math.floor(rng() * (n - i));
      const t = perm[i] as number;
      perm[i] = perm[j] as number;
      perm[j] = t;
    }
    idx.set(perm.subarray(0, numSamples));
  }
  return tf.tidy(() => tf.gather(input, tf.tensor1d(idx, 'int32'), ax));
}
