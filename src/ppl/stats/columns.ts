/**
 * Host-side column views of a tensor along one axis, shared by the `stats` functions: each
 * element of the other axes becomes one float64 column of the draws along `axis`. @internal
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';

/** The columns of `x` along `axis`, the shape of the other axes and the axis (non-negative). */
export interface Columns {
  cols: Float64Array[];
  rest: number[];
  ax: number;
  /** The length of `axis`. */
  n: number;
}

/** Check `axis` against `rank`; returns it non-negative. @throws ArgumentError naming `name`. */
export function checkAxis(axis: unknown, rank: number, name: string): number {
  if (!Number.isInteger(axis) || (axis as number) < -rank || (axis as number) >= rank) {
    throw new ArgumentError(
      name,
      `expected an integer in [${-rank}, ${rank}), got ${String(axis)}`,
    );
  }
  return (axis as number) < 0 ? (axis as number) + rank : (axis as number);
}

/** Throw unless `x` is a live numeric tensor of rank at least `minRank`. */
export function checkTensor(x: unknown, name: string, minRank = 1): tf.Tensor {
  if (!(x instanceof tf.Tensor) || x.isDisposed || x.dtype === 'string' || x.rank < minRank) {
    throw new ArgumentError(
      name,
      `expected a live numeric tensor with at least ${minRank} dimension(s), got ${
        x instanceof tf.Tensor
          ? x.isDisposed
            ? 'a disposed tensor'
            : `shape [${x.shape}]`
          : typeof x
      }`,
    );
  }
  return x;
}

/** Read `x` as columns along `axis` (no NaN allowed when `noNaN`). */
export function columnsOf(x: tf.Tensor, axis: number, name: string): Columns {
  const ax = checkAxis(axis, x.rank, 'dim');
  const n = x.shape[ax] as number;
  if (n < 1) throw new ArgumentError(name, `expected at least one element along dim ${ax}`);
  const perm = [ax, ...x.shape.map((_, i) => i).filter((i) => i !== ax)];
  const v = tf.tidy(() => tf.transpose(x, perm).dataSync());
  const rest = perm.slice(1).map((i) => x.shape[i] as number);
  const size = v.length / n;
  const cols = Array.from({ length: size }, (_, e) => {
    const c = new Float64Array(n);
    for (let i = 0; i < n; i++) c[i] = v[i * size + e] as number;
    return c;
  });
  return { cols, rest, ax, n };
}

/** `rows[r][e]` as a float32 tensor `[rows.length, ...rest]` with the first axis moved to `ax`. */
export function assembleRows(rows: ArrayLike<number>[], rest: number[], ax: number): tf.Tensor {
  return tf.tidy(() => {
    const size = rest.reduce((a, b) => a * b, 1);
    const flat = new Float32Array(rows.length * size);
    rows.forEach((r, i) => flat.set(r, i * size));
    const t = tf.tensor(flat, [rows.length, ...rest]);
    const perm = rest.map((_, i) => i + 1);
    perm.splice(ax, 0, 0);
    return tf.transpose(t, perm);
  });
}

/** The columns `cols[e][i]` as rows `[n][e]`, for {@link assembleRows}. */
export function transposeCols(cols: Float64Array[], n: number): Float64Array[] {
  return Array.from({ length: n }, (_, i) => Float64Array.from(cols, (c) => c[i] as number));
}
