/**
 * Predicting one benchmark set with one method, in batches, to host arrays: the mean predictive
 * `pbar = (1/S) sum_s p_s`, its entropy `H[pbar] = -sum_k pbar_k log pbar_k` and the mutual
 * information `H[pbar] - (1/S) sum_s H[p_s]` per input; errors about the returned samples name
 * the method and the set.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { meanProbs, mutualInformation, predictiveEntropy } from '../decomposition.js';
import { checkProbRows } from '../host.js';
import type { ShiftMethod } from './benchmark_types.js';

/** One set predicted by one method: `pbar` rows `[rows, cols]`, entropy and MI per input. */
export interface Predicted {
  probs: Float64Array;
  rows: number;
  cols: number;
  entropy: Float64Array;
  mi: Float64Array;
}

/** Run `fn`; an `ArgumentError` from inside (about the returned samples) names the method and set. */
function named<T>(m: ShiftMethod, where: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ArgumentError && !e.argument.startsWith('methods[')) {
      throw new ArgumentError(`methods[${m.name}].predict on ${where}`, e.message);
    }
    throw e;
  }
}

/**
 * Predict a set in batches: mean probabilities, entropy and mutual information on the host; the
 * mean rows are checked to be probabilities, naming the method and `where` (the set).
 */
export function predictSet(
  m: ShiftMethod,
  x: tf.Tensor,
  batchSize: number,
  where: string,
): Predicted {
  const n = x.shape[0] as number;
  const parts: { p: Float32Array; h: Float32Array; mi: Float32Array; k: number }[] = [];
  for (let i = 0; i < n; i += batchSize) {
    const size = Math.min(batchSize, n - i);
    const r = named(m, where, () =>
      tf.tidy(() => {
        const samples = m.predict(tf.slice(x, [i], [size]));
        if (samples.rank !== 3 || samples.shape[1] !== size) {
          throw new ArgumentError(
            `methods[${m.name}].predict`,
            `expected [S, ${size}, K] probabilities, got [${samples.shape.join(',')}]`,
          );
        }
        return {
          p: meanProbs(samples).dataSync() as Float32Array,
          h: predictiveEntropy(samples).dataSync() as Float32Array,
          mi: mutualInformation(samples).dataSync() as Float32Array,
          k: samples.shape[2],
        };
      }),
    );
    parts.push(r);
  }
  const k = parts[0]?.k ?? 0;
  if (parts.some((part) => part.k !== k)) {
    throw new ArgumentError(
      `methods[${m.name}].predict`,
      `returned different class counts on ${where}`,
    );
  }
  const probs = new Float64Array(n * k);
  const entropy = new Float64Array(n);
  const mi = new Float64Array(n);
  let off = 0;
  for (const part of parts) {
    probs.set(part.p, off * k);
    entropy.set(part.h, off);
    mi.set(part.mi, off);
    off += part.h.length;
  }
  if (n > 0) checkProbRows(probs, n, k, `methods[${m.name}].predict on ${where}`);
  return { probs, rows: n, cols: k, entropy, mi };
}

/** The `[rows][cols]` mean probabilities as nested arrays. */
export function rowsOf(p: Predicted): number[][] {
  return Array.from({ length: p.rows }, (_, i) =>
    Array.from(p.probs.subarray(i * p.cols, (i + 1) * p.cols)),
  );
}

/** The arithmetic mean `(1/n) sum_i a_i` (NaN when empty). */
export function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] as number;
  return a.length > 0 ? s / a.length : NaN;
}
