/**
 * What the multinomial families (`Multinomial`, `DirichletMultinomial`) share: the `totalCount`
 * check (`n` a non-negative integer) and the host loop of their draws, one count vector
 * `x ∈ {0..n}^K` with `sum_k x_k = n` per draw and batch row, written in place into one float32
 * buffer of shape `[...sampleShape, ...batchShape, K]`.
 */
import * as tf from '@tensorflow/tfjs';
import { makeRng } from '../utils/seed.js';
import { valuesOf } from '../utils/tensor.js';

/**
 * Why `totalCount` is not a number of trials, or `undefined` when it is (a non-negative integer
 * `n ∈ {0, 1, 2, ...}`).
 */
export function totalCountProblem(totalCount: number): string | undefined {
  if (!Number.isInteger(totalCount) || totalCount < 0) {
    return `expected a non-negative integer, got ${String(totalCount)}`;
  }
  return undefined;
}

/**
 * Why a number or tensor of `totalCount`s is not one of numbers of trials (the first element that
 * is not a non-negative integer, named by its flat index), or `undefined` when every one is.
 */
export function totalCountsProblem(totalCount: number | tf.Tensor): string | undefined {
  if (typeof totalCount === 'number') return totalCountProblem(totalCount);
  const v = valuesOf(totalCount);
  for (let i = 0; i < v.length; i++) {
    const problem = totalCountProblem(v[i] as number);
    if (problem !== undefined) return `${problem} at index ${i}`;
  }
  return undefined;
}

/**
 * Fill one row's count vector: `out[at .. at + K)` for batch row `r`, drawing from `rng`.
 */
export type CountRowDraw = (out: Float32Array, at: number, r: number, rng: () => number) => void;

/**
 * Draws of count vectors: for each of the `prod(shape)` draws `s` and `prod(batch)` batch rows
 * `r`, `drawRow` fills the `K` counts at offset `(s * rows + r) * K`, in that order from one
 * stream seeded by `seed`.
 *
 * @param shape the sample shape.
 * @param batch the batch shape.
 * @param k the number of categories `K`.
 * @param seed the stream's seed.
 * @param drawRow the family's draw of one row.
 * @returns a float32 tensor `[...shape, ...batch, K]`.
 */
export function countDraws(
  shape: readonly number[],
  batch: readonly number[],
  k: number,
  seed: number,
  drawRow: CountRowDraw,
): tf.Tensor {
  const rows = batch.reduce((a, b) => a * b, 1);
  const reps = shape.reduce((a, b) => a * b, 1);
  const rng = makeRng(seed);
  const out = new Float32Array(reps * rows * k);
  for (let s = 0; s < reps; s++) {
    for (let r = 0; r < rows; r++) drawRow(out, (s * rows + r) * k, r, rng);
  }
  return tf.tensor(out, [...shape, ...batch, k], 'float32');
}
