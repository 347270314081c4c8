/**
 * Data losses of the Bayesian loss cells (the negative log-likelihood term of the ELBO).
 * Argument order is MindSpore's: `lossFn(output, target)`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';

/** A data loss `lossFn(output, target)` returning a scalar (the mean over the batch). */
export type LossFn = (output: tf.Tensor, target: tf.Tensor) => tf.Scalar;

/** Built-in losses by name. */
export type LossName = 'softmaxCrossEntropy' | 'crossEntropy' | 'mse' | 'meanSquaredError';

function shapeStr(t: tf.Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

/**
 * Softmax cross-entropy from logits, averaged over the batch (MindSpore
 * `SoftmaxCrossEntropyWithLogits(sparse, reduction='mean')`, BayesianCNN `nll_loss(log_softmax)`):
 *
 * $$\mathrm{CE} = -\frac1B\sum_b \sum_c t_{bc}\,\log\operatorname{softmax}(z_b)_c$$
 *
 * with `t` one-hot for integer labels. Labels may be integer class indices of shape `[batch]`
 * (any dtype; out-of-range labels contribute 0, they are not checked to avoid a device sync) or
 * one-hot / probability vectors of the logits' shape.
 * @param logits `[batch, classes]` (or `[..., classes]`).
 * @param labels `[batch]` class indices or `[batch, classes]` one-hot.
 * @throws ArgumentError naming `labels` when the shapes do not fit.
 * @example
 * ```ts
 * softmaxCrossEntropy(tf.tensor2d([[2, 0], [0, 2]]), tf.tensor1d([0, 1], 'int32')); // 0.127
 * ```
 */
export function softmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  checkLive(logits, 'logits');
  checkLive(labels, 'labels');
  return tf.tidy(() => {
    const classes = logits.shape[logits.rank - 1] as number;
    const logp = tf.logSoftmax(logits);
    let target: tf.Tensor;
    if (labels.rank === logits.rank - 1 && labels.shape.every((d, i) => d === logits.shape[i])) {
      const idx = labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
      target = tf.oneHot(idx, classes);
    } else if (labels.rank === logits.rank && labels.shape.every((d, i) => d === logits.shape[i])) {
      target = labels.dtype === 'float32' ? labels : tf.cast(labels, 'float32');
    } else {
      throw new ArgumentError(
        'labels',
        `expected class indices of shape [${logits.shape.slice(0, -1).join(', ')}] or one-hot ` +
          `labels of shape ${shapeStr(logits)} for logits ${shapeStr(logits)}, got ${shapeStr(labels)}`,
      );
    }
    return tf.neg(tf.mean(tf.sum(tf.mul(target, logp), -1))) as tf.Scalar;
  });
}

/**
 * Mean squared error `mean((output - target)^2)` (the Gaussian NLL up to constants).
 * @throws ArgumentError naming `target` when the shapes differ.
 */
export function meanSquaredError(output: tf.Tensor, target: tf.Tensor): tf.Scalar {
  checkLive(output, 'output');
  checkLive(target, 'target');
  if (output.rank !== target.rank || output.shape.some((d, i) => d !== target.shape[i])) {
    throw new ArgumentError(
      'target',
      `expected the output's shape ${shapeStr(output)}, got ${shapeStr(target)}`,
    );
  }
  return tf.tidy(
    () => tf.mean(tf.squaredDifference(output, tf.cast(target, 'float32'))) as tf.Scalar,
  );
}

/**
 * Check class targets of a minibatch before a training step (one small host read of the labels):
 * either class indices of shape `[batch]` (int32, or float32 holding integers) with every
 * `0 <= y_b < K`, or one-hot / probability rows of shape `[batch, K]` with entries in `[0, 1]`
 * summing to 1 (to 1e-3).
 * @param labels the targets.
 * @param batch the batch size of the inputs.
 * @param classes `K`, the number of classes (the network's last output dimension), when known.
 * @param name the argument name used in errors (default `y`).
 * @throws ArgumentError naming `name` for a non-tensor, a wrong dtype, shape or value.
 * @example
 * ```ts
 * checkClassTargets(tf.tensor1d([0, 2], 'int32'), 2, 3); // ok
 * checkClassTargets(tf.tensor1d([0, 3], 'int32'), 2, 3); // ArgumentError: y: ... in [0, 3) ...
 * ```
 */
export function checkClassTargets(
  labels: unknown,
  batch: number,
  classes: number | undefined,
  name = 'y',
): void {
  if (!(labels instanceof tf.Tensor)) {
    throw new ArgumentError(name, `expected a tf.Tensor of class labels, got ${typeof labels}`);
  }
  if (labels.isDisposed) throw new ArgumentError(name, 'the tensor is disposed');
  if (labels.dtype !== 'int32' && labels.dtype !== 'float32') {
    throw new ArgumentError(name, `expected int32 or float32 labels, got dtype ${labels.dtype}`);
  }
  const k = classes !== undefined && classes > 0 ? classes : undefined;
  const range = k === undefined ? 'integers >= 0' : `integers in [0, ${k})`;
  if (labels.rank === 1) {
    if (labels.shape[0] !== batch) {
      throw new ArgumentError(
        name,
        `expected ${batch} labels (the batch size), got ${shapeStr(labels)}`,
      );
    }
    const v = labels.dataSync();
    for (let i = 0; i < v.length; i++) {
      const c = v[i] as number;
      if (!Number.isInteger(c) || c < 0 || (k !== undefined && c >= k)) {
        throw new ArgumentError(name, `expected class indices (${range}), got ${c} at index ${i}`);
      }
    }
    return;
  }
  if (
    labels.rank === 2 &&
    labels.shape[0] === batch &&
    (k === undefined || labels.shape[1] === k)
  ) {
    const cols = labels.shape[1] as number;
    const v = labels.dataSync();
    for (let i = 0; i < batch; i++) {
      let sum = 0;
      for (let j = 0; j < cols; j++) {
        const p = v[i * cols + j] as number;
        if (!(p >= 0 && p <= 1)) {
          throw new ArgumentError(
            name,
            `expected one-hot or probability rows in [0, 1], got ${p} in row ${i}`,
          );
        }
        sum += p;
      }
      if (Math.abs(sum - 1) > 1e-3) {
        throw new ArgumentError(
          name,
          `expected one-hot or probability rows summing to 1, row ${i} sums to ${sum}`,
        );
      }
    }
    return;
  }
  throw new ArgumentError(
    name,
    `expected class indices of shape [${batch}] or one-hot labels of shape [${batch}, ${k ?? 'K'}], ` +
      `got ${shapeStr(labels)}`,
  );
}

/** Resolve a loss given by name or function. */
export function resolveLoss(loss: LossFn | LossName | undefined): LossFn {
  if (loss === undefined) return softmaxCrossEntropy;
  if (typeof loss === 'function') return loss;
  switch (loss) {
    case 'softmaxCrossEntropy':
    case 'crossEntropy':
      return softmaxCrossEntropy;
    case 'mse':
    case 'meanSquaredError':
      return meanSquaredError;
    default:
      throw new ArgumentError(
        'lossFn',
        `expected a function or one of 'softmaxCrossEntropy', 'mse', got '${String(loss)}'`,
      );
  }
}

/** @throws ArgumentError naming `name` unless `t` is a live tensor. */
function checkLive(t: unknown, name: string): void {
  if (!(t instanceof tf.Tensor) || t.isDisposed) {
    throw new ArgumentError(
      name,
      `expected a live tf.Tensor, got ${t instanceof tf.Tensor ? 'a disposed tensor' : String(t)}`,
    );
  }
}
