/**
 * One optimisation step with bookkeeping for any {@link TrainLoss}: the layers' one step
 * ({@link minimizeStep}) plus, in one transfer, the loss, its parts and the number of correct
 * predictions of the batch.
 */
import * as tf from '@tensorflow/tfjs';
import type { StepStats } from '../layers/fit_loop.js';
import { minimizeStep, trainableVariables } from '../layers/train_step.js';
import type { TrainLoss, TrainProgress } from './loss.js';

export type { StepStats } from '../layers/fit_loop.js';
export { trainableVariables } from '../layers/train_step.js';

/**
 * Run one optimizer update on `(x, y)` and return its statistics. Leaves no tensors behind, also
 * when it throws.
 *
 * @param model the network.
 * @param optimizer any tfjs optimizer.
 * @param loss the objective.
 * @param x inputs `[B, H, W, C]`.
 * @param y labels `[B]` int32.
 * @param progress where training is (the one {@link StepContext}, passed down to the loss).
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
  const r = minimizeStep(
    optimizer,
    varList,
    () => {
      const t = loss(model, x, y, progress);
      return { loss: t.loss, nll: t.nll, kl: t.kl, output: t.logits };
    },
    true,
  );
  try {
    const stats = tf.tidy(() => {
      const out = r.output as tf.Tensor;
      const pred = tf.argMax(out, -1);
      const correct = tf.sum(tf.cast(tf.equal(pred, tf.cast(y, pred.dtype)), 'float32'));
      return tf.stack([r.loss, r.nll ?? r.loss, r.kl ?? tf.scalar(0), correct]);
    });
    const [l, nll, kl, correct] = Array.from(stats.dataSync());
    stats.dispose();
    return {
      loss: l ?? NaN,
      nll: nll ?? NaN,
      kl: kl ?? NaN,
      correct: correct ?? 0,
      size: y.shape[0],
    };
  } finally {
    tf.dispose([r.loss, r.nll ?? [], r.kl ?? [], r.output ?? []]);
  }
}
