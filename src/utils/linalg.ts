/**
 * Small batched linear algebra over tfjs ops that tfjs-core lacks: Cholesky factorization and
 * triangular solves, written as loops of differentiable ops (so gradients flow to the inputs),
 * plus triangular-vector packing. Cost is `O(n)` tfjs ops per call; meant for the modest matrix
 * sizes of covariance parameters (n up to a few dozen).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from './errors.js';

/** Check that `a` is a (batch of) square matrices; returns `n`. */
export function squareSize(a: tf.Tensor, name: string): number {
  const n = a.shape[a.rank - 1];
  if (a.rank < 2 || n === undefined || a.shape[a.rank - 2] !== n) {
    throw new ArgumentError(
      name,
      `expected square matrices [..., n, n], got [${a.shape.join(',')}]`,
    );
  }
  return n;
}

/** Column `j` of a batch of matrices: shape `[..., n]`. */
function column(a: tf.Tensor, j: number): tf.Tensor {
  const begin = Array<number>(a.rank).fill(0);
  begin[a.rank - 1] = j;
  const size = [...a.shape];
  size[a.rank - 1] = 1;
  return tf.squeeze(tf.slice(a, begin, size), [a.rank - 1]);
}
/** Element `j` of the last axis: shape `[..., 1]`. */
function entry(v: tf.Tensor, j: number): tf.Tensor {
  const begin = Array<number>(v.rank).fill(0);
  begin[v.rank - 1] = j;
  const size = [...v.shape];
  size[v.rank - 1] = 1;
  return tf.slice(v, begin, size);
}

/**
 * Lower Cholesky factor `L` of symmetric positive-definite matrices, `A = L L^T`
 * (column-by-column Cholesky–Banachiewicz):
 *
 * $$L_{jj} = \sqrt{A_{jj} - \textstyle\sum_{k<j} L_{jk}^2},\qquad
 *   L_{ij} = \Big(A_{ij} - \textstyle\sum_{k<j} L_{ik}L_{jk}\Big)/L_{jj}\quad (i > j).$$
 *
 * Differentiable; NaN appears where `A` is not positive definite (callers validate first).
 * @param a matrices `[..., n, n]`; only the lower triangle is read.
 */
export function cholesky(a: tf.Tensor): tf.Tensor {
  const n = squareSize(a, 'a');
  return tf.tidy(() => {
    const cols: tf.Tensor[] = [];
    for (let j = 0; j < n; j++) {
      let c = column(a, j); // [..., n]
      if (j > 0) {
        // subtract sum_{k<j} L[:, k] L[j, k] in one op over the columns found so far
        const prev = tf.stack(cols, -1); // [..., n, j]
        const rowJ = tf.slice(
          prev,
          [...Array<number>(prev.rank - 2).fill(0), j, 0],
          [...prev.shape.slice(0, -2), 1, j],
        ); // [..., 1, j]
        c = tf.sub(c, tf.sum(tf.mul(prev, rowJ), -1));
      }
      const d = tf.sqrt(entry(c, j));
      const mask = tf.tensor1d(Array.from({ length: n }, (_, i) => (i >= j ? 1 : 0)));
      cols.push(tf.mul(tf.div(c, d), mask));
    }
    return tf.stack(cols, -1);
  });
}

/**
 * Solve `L X = B` for lower-triangular `L` by forward substitution (or `L^T X = B` with
 * `transpose`, by back substitution):
 *
 * $$X_i = \Big(B_i - \textstyle\sum_{k<i} L_{ik} X_k\Big) / L_{ii}.$$
 *
 * Only the lower triangle of `l` is read. Differentiable in both arguments.
 * @param l lower-triangular matrices `[..., n, n]`.
 * @param b right-hand sides `[..., n, m]` (batch dims broadcast with `l`'s).
 * @param transpose solve with `L^T` instead of `L`.
 */
export function triangularSolve(l: tf.Tensor, b: tf.Tensor, transpose = false): tf.Tensor {
  const n = squareSize(l, 'l');
  if (b.rank < 2 || b.shape[b.rank - 2] !== n) {
    throw new ArgumentError('b', `expected [..., ${n}, m], got [${b.shape.join(',')}]`);
  }
  return tf.tidy(() => {
    // solve with T = L (forward, rows 0..n-1) or T = L^T (backward, rows n-1..0)
    const t = transpose ? matrixTranspose(l) : l;
    const lead = t.shape.slice(0, -2);
    const zeros = Array<number>(lead.length).fill(0);
    const bRow = (i: number): tf.Tensor =>
      tf.slice(b, [...Array<number>(b.rank - 2).fill(0), i, 0], [...b.shape.slice(0, -2), 1, -1]);
    const coef = (i: number, from: number, len: number): tf.Tensor =>
      tf.slice(t, [...zeros, i, from], [...lead, 1, len]); // [..., 1, len]
    const rows: tf.Tensor[] = new Array<tf.Tensor>(n);
    for (let s = 0; s < n; s++) {
      const i = transpose ? n - 1 - s : s;
      let acc = bRow(i); // [..., 1, m]
      if (s > 0) {
        const from = transpose ? i + 1 : 0;
        const known = tf.concat(rows.slice(from, from + s), -2); // [..., s, m]
        const c = matrixTranspose(coef(i, from, s)); // [..., s, 1]
        acc = tf.sub(acc, tf.sum(tf.mul(c, known), -2, true));
      }
      rows[i] = tf.div(acc, coef(i, i, 1));
    }
    return tf.concat(rows, -2);
  });
}

/** Diagonal of a batch of square matrices: `[..., n, n] -> [..., n]`. */
export function matrixDiag(a: tf.Tensor): tf.Tensor {
  const n = squareSize(a, 'a');
  return tf.tidy(() => tf.sum(tf.mul(a, tf.eye(n)), -1));
}

/** Batch of diagonal matrices from vectors: `[..., n] -> [..., n, n]`. */
export function diagMatrix(v: tf.Tensor): tf.Tensor {
  const n = v.shape[v.rank - 1] as number;
  return tf.tidy(() => tf.mul(tf.expandDims(v, -1), tf.eye(n)));
}

/** Swap the last two axes. */
export function matrixTranspose(a: tf.Tensor): tf.Tensor {
  const perm = Array.from({ length: a.rank }, (_, i) => i);
  perm[a.rank - 1] = a.rank - 2;
  perm[a.rank - 2] = a.rank - 1;
  return tf.transpose(a, perm);
}

/**
 * The matrix `L L^T` of a batch of lower Cholesky factors `L` `[..., n, n]` (a covariance or scale
 * matrix from its factor; a new tensor).
 */
export function trilGram(l: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.matMul(l, matrixTranspose(l)));
}

/**
 * The inverse `(L L^T)^{-1} = L^{-T} L^{-1}` of the matrix of a batch of lower Cholesky factors
 * `L` `[..., n, n]`, by one triangular solve `L^{-1} = solve(L, I)` (a precision matrix from the
 * covariance's factor; a new tensor).
 */
export function trilInverseGram(l: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inv = triangularSolve(l, tf.broadcastTo(tf.eye(l.shape[l.rank - 1] as number), l.shape));
    return tf.matMul(inv, inv, true, false);
  });
}

/**
 * Row-major positions `(i, j)` of the lower triangle of an `n x n` matrix, below the diagonal by
 * at least `-offset` (`offset = 0`: with the diagonal, `-1`: strictly lower), as in
 * `torch.tril_indices(n, n, offset)`.
 */
export function trilIndices(n: number, offset = 0): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) for (let j = 0; j <= i + offset && j < n; j++) out.push([i, j]);
  return out;
}

/**
 * Scatter vectors `[..., m]` into the lower triangle (row-major, `trilIndices(n, offset)`) of
 * `n x n` matrices filled with zeros elsewhere. Differentiable (a gather).
 */
export function vecToTril(v: tf.Tensor, n: number, offset = 0): tf.Tensor {
  const idx = trilIndices(n, offset);
  const m = v.shape[v.rank - 1] as number;
  if (m !== idx.length) {
    throw new ArgumentError('v', `expected a last dim of ${idx.length} for n = ${n}, got ${m}`);
  }
  return tf.tidy(() => {
    const padded = tf.concat([tf.zeros([...v.shape.slice(0, -1), 1]), v], -1);
    const map = new Int32Array(n * n); // 0 -> the zero slot
    idx.forEach(([i, j], k) => (map[i * n + j] = k + 1));
    const flat = tf.gather(padded, tf.tensor1d(map, 'int32'), v.rank - 1);
    return tf.reshape(flat, [...v.shape.slice(0, -1), n, n]);
  });
}

/** Gather the lower triangle (row-major, `trilIndices(n, offset)`) of matrices into vectors. */
export function trilToVec(a: tf.Tensor, offset = 0): tf.Tensor {
  const n = squareSize(a, 'a');
  const idx = trilIndices(n, offset);
  return tf.tidy(() => {
    const flat = tf.reshape(a, [...a.shape.slice(0, -2), n * n]);
    return tf.gather(
      flat,
      tf.tensor1d(
        idx.map(([i, j]) => i * n + j),
        'int32',
      ),
      flat.rank - 1,
    );
  });
}

/**
 * Cumulative sum over the last axis as a matrix product with a triangular 0/1 matrix
 * (`exclusive`: strictly triangular), i.e. `y_j = sum_{k <= j} x_k` (`k < j` when exclusive).
 * Used instead of `tf.cumsum`, whose wasm kernel in tfjs 4.22 corrupts memory on small inputs;
 * differentiable, exact up to float32 summation order.
 * @param x tensor `[..., K]`.
 * @param exclusive leave out the current element.
 */
export function cumsumLast(x: tf.Tensor, exclusive = false): tf.Tensor {
  const k = x.shape[x.rank - 1];
  if (x.rank < 1 || k === undefined) throw new ArgumentError('x', 'expected rank >= 1');
  return tf.tidy(() => {
    // tri[i, j] = 1 when i <= j (inclusive) / i < j (exclusive)
    const vals = new Float32Array(k * k);
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++) if (exclusive ? i < j : i <= j) vals[i * k + j] = 1;
    const tri = tf.tensor2d(vals, [k, k]);
    const flat = tf.reshape(x, [-1, k]);
    return tf.reshape(tf.matMul(flat, tri), x.shape);
  });
}
