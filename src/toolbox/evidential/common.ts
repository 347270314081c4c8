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

/**
 * Targets as a one-hot float matrix `[N, K]`: accepts one-hot (or soft) rows of shape `[N, K]`
 * or integer labels of shape `[N]`.
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
  return toFloat(t, 'target') as tf.Tensor2D;
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
