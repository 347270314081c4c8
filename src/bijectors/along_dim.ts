/**
 * What the time-axis bijectors (`DiscreteCosineTransform`, `HaarTransform`) share: a transform of
 * the last axis applied along any negative `dim`, by swapping that axis with the last one
 * (`x.transpose(dim, -1)` in Pyro), and the check of the `dim` argument.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';

/**
 * Check a time dim: a negative integer (an absolute dim counted from the right, as Pyro's).
 * @throws ArgumentError naming `dim`.
 */
export function checkTimeDim(dim: unknown): number {
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim >= 0) {
    throw new ArgumentError(
      'dim',
      `expected a negative integer (the time dim counted from the right, e.g. -1), got ${String(dim)}`,
    );
  }
  return dim;
}

/**
 * Apply `f` (a map of the last axis that keeps its length) along axis `dim < 0` of `x`:
 * `swap(f(swap(x)))`, `swap` exchanging axes `dim` and `-1` (its own inverse).
 */
export function alongDim(x: tf.Tensor, dim: number, f: (t: tf.Tensor) => tf.Tensor): tf.Tensor {
  if (dim === -1) return f(x);
  const a = x.rank + dim;
  const perm = x.shape.map((_, i) => i);
  perm[a] = x.rank - 1;
  perm[x.rank - 1] = a;
  return tf.transpose(f(tf.transpose(x, perm)), perm);
}
