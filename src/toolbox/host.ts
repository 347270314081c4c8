/**
 * Host-side views of predictions for the metrics: a probability matrix as a flat row-major
 * `Float64Array` plus its shape, built from a tensor or from nested arrays.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';

/** A matrix of class probabilities `[N, K]`: a rank-2 tensor or an array of rows. */
export type ProbMatrix = tf.Tensor | ArrayLike<number>[];

/** A flat row-major matrix on the host. */
export interface HostMatrix {
  values: Float64Array;
  rows: number;
  cols: number;
}

/** Read `m` into a flat row-major `Float64Array` (synchronously), naming `name` in errors. */
export function toHostMatrix(m: ProbMatrix, name: string): HostMatrix {
  if (m instanceof tf.Tensor) {
    if (m.rank !== 2) {
      throw new ArgumentError(name, `expected a rank-2 tensor [N, K], got [${m.shape.join(',')}]`);
    }
    return {
      values: Float64Array.from(m.dataSync()),
      rows: m.shape[0] as number,
      cols: m.shape[1] as number,
    };
  }
  if (!Array.isArray(m)) throw new ArgumentError(name, 'expected a tensor or an array of rows');
  const rows = m.length;
  const cols = rows > 0 ? (m[0] as ArrayLike<number>).length : 0;
  const values = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const r = m[i] as ArrayLike<number>;
    if (!Array.isArray(r) && !ArrayBuffer.isView(r)) {
      throw new ArgumentError(name, `expected an array of rows, got ${typeof r} at row ${i}`);
    }
    if (r.length !== cols) {
      throw new ArgumentError(name, `row ${i} has ${r.length} entries, expected ${cols}`);
    }
    for (let j = 0; j < cols; j++) values[i * cols + j] = r[j] as number;
  }
  return { values, rows, cols };
}

/** Tolerance of the probability checks (float32 softmax rows sum to 1 within ~1e-6). */
const PROB_TOL = 1e-3;

/**
 * Throw an `ArgumentError(name)` unless the `rows x cols` row-major `values` are probability
 * rows: at least one row and one class, every entry finite in `[0, 1]`, every row summing to 1
 * (within {@link PROB_TOL}).
 */
export function checkProbRows(
  values: ArrayLike<number>,
  rows: number,
  cols: number,
  name: string,
): void {
  if (rows < 1 || cols < 1) {
    throw new ArgumentError(
      name,
      `expected at least one row and one class, got [${rows}, ${cols}]`,
    );
  }
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const v = values[i * cols + j] as number;
      if (!(v >= -PROB_TOL && v <= 1 + PROB_TOL)) {
        throw new ArgumentError(name, `expected probabilities in [0, 1], got ${v} at [${i}, ${j}]`);
      }
      sum += v;
    }
    if (!(Math.abs(sum - 1) <= PROB_TOL)) {
      const hint =
        cols === 1
          ? " (one column: a binary classifier's p(y = 1)? give both classes, tf.concat([tf.sub(1, p), p], -1))"
          : '';
      throw new ArgumentError(
        name,
        `expected each row to sum to 1, row ${i} sums to ${sum}${hint}`,
      );
    }
  }
}

/**
 * Whether `rows x cols` row-major values are probability rows (every entry in `[0, 1]`, every row
 * summing to 1 within 1e-4): the screen that keeps probabilities out of functions that take
 * logits. Logits pass it only by accident.
 */
export function rowsLookLikeProbs(values: ArrayLike<number>, rows: number, cols: number): boolean {
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const v = values[i * cols + j] as number;
      if (!(v >= 0 && v <= 1)) return false;
      sum += v;
    }
    if (!(Math.abs(sum - 1) <= 1e-4)) return false;
  }
  return rows > 0;
}

/** The message of a probability matrix passed where logits are expected. */
export const PROBS_NOT_LOGITS =
  'expected logits, got probabilities (every row in [0, 1] summing to 1): pass the logits, or log(p) for a model that ends in a softmax';

/** {@link toHostMatrix} of a probability matrix, checked by {@link checkProbRows}. */
export function toHostProbs(m: ProbMatrix, name: string): HostMatrix {
  const h = toHostMatrix(m, name);
  checkProbRows(h.values, h.rows, h.cols, name);
  return h;
}

/**
 * Class probabilities as the metrics take them: a matrix `[N, K]` ({@link ProbMatrix}) or, for a
 * binary classifier with one sigmoid output, the vector `[N]` of `p(y = 1)` (a rank-1 tensor or an
 * array of numbers, as scikit-learn's `brier_score_loss` and torchmetrics' binary metrics take it).
 */
export type ClassProbs = ProbMatrix | ArrayLike<number>;

/** Probability rows read by {@link toHostClassProbs}. */
export interface HostClassProbs extends HostMatrix {
  /** True when the input was a binary vector `p(y = 1)`, read as the rows `[1 - p, p]`. */
  binary: boolean;
}

/**
 * {@link toHostProbs} of a matrix, or of a binary vector `p` (rank-1 tensor, typed array or array
 * of numbers: at least one entry, each finite in `[0, 1]`) as the rows `[1 - p_n, p_n]`.
 */
export function toHostClassProbs(probs: ClassProbs, name: string): HostClassProbs {
  const vector =
    (probs instanceof tf.Tensor && probs.rank === 1) ||
    ArrayBuffer.isView(probs) ||
    (Array.isArray(probs) && probs.length > 0 && probs.every((v) => typeof v === 'number'));
  if (!vector) {
    const h = toHostMatrix(probs as ProbMatrix, name);
    if (h.cols === 1 && h.values.some((v) => !(Math.abs(v - 1) <= PROB_TOL))) {
      throw new ArgumentError(
        name,
        `expected each row to sum to 1, got one column [${h.rows}, 1] that is not all ones: a binary classifier's p(y = 1)? pass it as a vector [N] (tf.reshape(p, [-1]))`,
      );
    }
    checkProbRows(h.values, h.rows, h.cols, name);
    return { ...h, binary: false };
  }
  const p = probs instanceof tf.Tensor ? probs.dataSync() : (probs as ArrayLike<number>);
  if (p.length === 0) {
    throw new ArgumentError(name, 'expected at least one probability p(y = 1), got none');
  }
  const values = new Float64Array(2 * p.length);
  for (let i = 0; i < p.length; i++) {
    const v = p[i] as number;
    if (!(v >= 0 && v <= 1)) {
      throw new ArgumentError(
        name,
        `a vector is read as binary probabilities p(y = 1): expected values in [0, 1], got ${v} at ${i} (logits? apply tf.sigmoid first)`,
      );
    }
    values[2 * i] = 1 - v;
    values[2 * i + 1] = v;
  }
  return { values, rows: p.length, cols: 2, binary: true };
}

/**
 * Read labels (a tensor or an array of integers) into an `Int32Array` of length `n`.
 * @param rowsOf what the `n` rows are, for the message (default `'probs'`).
 */
export function toHostLabels(
  labels: tf.Tensor | ArrayLike<number>,
  n: number,
  numClasses: number,
  name = 'labels',
  rowsOf = 'probs',
): Int32Array {
  if (labels instanceof tf.Tensor && labels.rank !== 1) {
    const oneHot = labels.rank === 2 && labels.shape[0] === n && labels.shape[1] === numClasses;
    throw new ArgumentError(
      name,
      `expected a rank-1 tensor [N], got [${labels.shape.join(',')}]${oneHot ? ' (one-hot rows? pass their class indices, tf.argMax(y, 1))' : ''}`,
    );
  }
  if (Array.isArray(labels) && labels.some((v) => Array.isArray(v) || ArrayBuffer.isView(v))) {
    throw new ArgumentError(
      name,
      `expected ${n} integer labels, got an array of rows (one-hot rows? pass their class indices)`,
    );
  }
  if (!(labels instanceof tf.Tensor) && !Array.isArray(labels) && !ArrayBuffer.isView(labels)) {
    throw new ArgumentError(
      name,
      `expected a tensor or an array of integers, got ${typeof labels}`,
    );
  }
  const vals = labels instanceof tf.Tensor ? labels.dataSync() : labels;
  if (vals.length !== n) {
    throw new ArgumentError(
      name,
      `expected ${n} labels (one per row of ${rowsOf}), got ${vals.length}`,
    );
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = vals[i] as number;
    if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
      throw new ArgumentError(name, `expected integers in [0, ${numClasses}), got ${v} at ${i}`);
    }
    out[i] = v;
  }
  return out;
}

/** Read a 1-D score vector (tensor or array) into a `Float64Array`. */
export function toHostVector(v: tf.Tensor | ArrayLike<number>, name: string): Float64Array {
  if (v instanceof tf.Tensor && v.rank !== 1) {
    throw new ArgumentError(name, `expected rank 1, got [${v.shape.join(',')}]`);
  }
  if (!(v instanceof tf.Tensor) && !Array.isArray(v) && !ArrayBuffer.isView(v)) {
    throw new ArgumentError(
      name,
      `expected a rank-1 tensor or an array of numbers, got ${v === null ? 'null' : typeof v}`,
    );
  }
  const out = Float64Array.from(v instanceof tf.Tensor ? v.dataSync() : v);
  for (let i = 0; i < out.length; i++) {
    if (Number.isNaN(out[i] as number)) throw new ArgumentError(name, `NaN at index ${i}`);
  }
  return out;
}

/** Index of the largest entry of row `i` (first one on ties). */
export function argmaxRow(m: HostMatrix, i: number): number {
  let best = 0;
  let bv = -Infinity;
  for (let j = 0; j < m.cols; j++) {
    const v = m.values[i * m.cols + j] as number;
    if (v > bv) {
      bv = v;
      best = j;
    }
  }
  return best;
}
