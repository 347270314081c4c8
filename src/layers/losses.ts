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
