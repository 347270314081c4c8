/**
 * One optimisation step with bookkeeping: minimise the loss, and read back (in one transfer)
 * the loss, its parts and the number of correct predictions of the batch.
 */
import * as tf from '@tensorflow/tfjs';
import type { TrainLoss, TrainProgress } from './loss.js';

/** Host-side statistics of one step. */
export interface StepStats {
  /** Loss minimised. */
  loss: number;
  /** NLL part. */
  nll: number;
  /** KL (regulariser) part. */
  kl: number;
  /** Correct argmax predictions in the batch. */
  correct: number;
  /** Batch size. */
  size: number;
}

/**
 * Run one optimizer update on `(x, y)` and return its statistics. Leaves no tensors behind.
 *
 * @param model the network.
 * @param optimizer any tfjs optimizer.
 * @param loss the objective.
 * @param x inputs `[B, H, W, C]`.
 * @param y labels `[B]` int32.
 * @param progress where training is.
 * @param varList variables to train (default: the model's trainable weights).
 */
export function trainStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  loss: TrainLoss,
  x: tf.Tensor,
  y: tf.Tensor1D,
  progress: TrainProgress,
  varList: tf.Variable[] = trainableVariables(model),
): StepStats {
  let stats: tf.Tensor | undefined;
  const total = optimizer.minimize(
    () => {
      const t = loss(model, x, y, progress);
      const pred = tf.argMax(t.logits, -1);
      const correct = tf.sum(tf.cast(tf.equal(pred, tf.cast(y, pred.dtype)), 'float32'));
      stats = tf.keep(tf.stack([t.nll, t.kl, correct]));
      return t.loss;
    },
    true,
    varList,
  );
  try {
    const [nll, kl, correct] = stats === undefined ? [NaN, NaN, 0] : Array.from(stats.dataSync());
    const l = total === null ? NaN : (total.dataSync()[0] as number);
    return { loss: l, nll: nll ?? NaN, kl: kl ?? NaN, correct: correct ?? 0, size: y.shape[0] };
  } finally {
    tf.dispose([total ?? [], stats ?? []]);
  }
}

/** The trainable variables of a model, in a stable order (optimizer state is index-based). */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}
