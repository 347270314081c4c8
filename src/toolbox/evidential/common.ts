/** Shared argument handling of the evidential losses. */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import {
  allWithin,
  checkValues,
  peekValues,
  toFloat,
  type TensorInput,
} from '../../utils/tensor.js';

const MAX_FLOAT32 = 3.4028234663852886e38;

/** How a per-input loss is reduced: the batch mean (default), the sum, or no reduction. */
export type Reduction = 'mean' | 'sum' | 'none';

/**
 * Convert evidence `[N, K]` to a float tensor, checking its rank and values: finite and
 * non-negative (`e_k >= 0`, so `alpha = e + 1 >= 1`; raw network outputs go through an evidence
 * function first).
 */
export function checkEvidence(evidence: TensorInput): tf.Tensor2D {
  const e = toFloat(evidence, 'evidence');
  if (e.rank !== 2) {
    if (e !== evidence) e.dispose();
    throw new ArgumentError('evidence', `expected [batch, classes], got [${e.shape.join(',')}]`);
  }
  if ((e.shape[1] as number) < 2) {
    if (e !== evidence) e.dispose();
    throw new ArgumentError(
      'evidence',
      `expected at least 2 classes (a Dirichlet over K >= 2 class probabilities), got [${e.shape.join(',')}]`,
    );
  }
  if (!allWithin(peekValues(e), 0, MAX_FLOAT32)) {
    try {
      checkValues(
        e,
        'evidence',
        (v) => v >= 0 && Number.isFinite(v),
        'finite non-negative evidence (map raw outputs with an evidence function, e.g. softplusEvidence)',
      );
    } finally {
      if (e !== evidence) e.dispose();
    }
  }
  return e as tf.Tensor2D;
}

/** How far a target row's sum may be from 1 (float32 label smoothing stays well within it). */
const ROW_SUM_TOLERANCE = 1e-3;

/**
 * Targets as a one-hot float matrix `[N, K]`: accepts one-hot (or soft) rows of shape `[N, K]`
 * or integer labels of shape `[N]`. A row must be a probability vector: `y_k in [0, 1]`,
 * `|sum_k y_k - 1| <= 1e-3` (one-hot or label-smoothed); anything else (a `2`, a `-1`, a NaN, a
 * multi-hot row) is refused, since `alphã = y + (1 - y) alpha` and the Bayes risks are only the
 * paper's quantities for such rows.
 */
export function checkTarget(target: TensorInput, shape: readonly number[]): tf.Tensor2D {
  const t = target instanceof tf.Tensor ? target : tf.tensor(target);
  const [n, k] = shape as [number, number];
  if (t.rank === 1) {
    if (t.shape[0] !== n) {
      throw new ArgumentError('target', `expected ${n} labels, got [${t.shape.join(',')}]`);
    }
    const labels = peekValues(t);
    for (let i = 0; i < labels.length; i++) {
      const v = labels[i] as number;
      if (!(Number.isInteger(v) && v >= 0 && v < k)) {
        throw new ArgumentError('target', `expected integer labels in [0, ${k}), got ${v} at ${i}`);
      }
    }
    return tf.oneHot(tf.cast(t, 'int32'), k).toFloat() as tf.Tensor2D;
  }
  if (t.rank !== 2 || t.shape[0] !== n || t.shape[1] !== k) {
    throw new ArgumentError(
      'target',
      `expected one-hot [${n},${k}] or labels [${n}], got [${t.shape.join(',')}]`,
    );
  }
  const y = toFloat(t, 'target') as tf.Tensor2D;
  checkTargetRows(peekValues(y), k);
  return y;
}

function checkTargetRows(v: ArrayLike<number>, k: number): void {
  for (let i = 0; i < v.length / k; i++) {
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const x = v[i * k + j] as number;
      if (!(x >= 0 && x <= 1)) {
        throw new ArgumentError(
          'target',
          `expected one-hot (or soft) rows with entries in [0, 1], got ${x} at [${i},${j}]`,
        );
      }
      sum += x;
    }
    if (!(Math.abs(sum - 1) <= ROW_SUM_TOLERANCE)) {
      throw new ArgumentError(
        'target',
        `expected one-hot (or soft) rows summing to 1, got a sum of ${sum} in row ${i}`,
      );
    }
  }
}

/** Apply a {@link Reduction} to a per-input loss `[N]`. */
export function reduce(loss: tf.Tensor, reduction: Reduction): tf.Tensor {
  switch (reduction) {
    case 'mean':
      if (loss.size === 0) {
        throw new ArgumentError('evidence', "expected at least one input for reduction 'mean'");
      }
      return tf.mean(loss);
    case 'sum':
      return tf.sum(loss);
    case 'none':
      return loss;
    default:
      throw new ArgumentError(
        'reduction',
        `expected 'mean', 'sum' or 'none', got '${String(reduction)}'`,
      );
  }
}
