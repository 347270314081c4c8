/**
 * One optimisation step with bookkeeping for any {@link TrainLoss}: the layers' one step
 * ({@link minimizeStep}) plus, in one transfer, the loss, its parts and the number of correct
 * predictions of the batch.
 */
import * as tf from '@tensorflow/tfjs';
import type { StepStats } from '../layers/fit_loop.js';
import { checkClassTargets } from '../layers/losses.js';
import { minimizeStep, trainableVariables } from '../layers/train_step.js';
import { checkInputShape } from '../layers/model_input.js';
import { ArgumentError } from '../utils/errors.js';
import { checkFunction } from '../utils/options.js';
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
 * @throws ArgumentError naming `model`, `optimizer`, `loss`, `x` or `y` before any work: `x`
 *   not shaped as the model's input, `y` not `B` int32 labels in `[0, K)` of the model's `K`
 *   outputs.
 */
export function trainStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  loss: TrainLoss,
  x: tf.Tensor,
  y: tf.Tensor1D,
  progress: TrainProgress,
  varList?: tf.Variable[],
): StepStats {
  checkStepArguments(model, optimizer, loss, x, y);
  return uncheckedStep(
    model,
    optimizer,
    loss,
    x,
    y,
    progress,
    varList ?? trainableVariables(model),
  );
}

/**
 * The model's class count `K` (its output's last dimension), checked `>= 2`: the training losses
 * are over `K` classes.
 * @throws ArgumentError naming `model` otherwise.
 */
export function modelClasses(model: tf.LayersModel): number {
  const out = model.outputs[0]?.shape;
  const k = out?.[out.length - 1];
  if (typeof k !== 'number' || k < 2) {
    throw new ArgumentError(
      'model',
      `expected a classifier with K >= 2 outputs [N, K], got output shape [${(out ?? []).map((d) => d ?? 'N').join(', ')}]`,
    );
  }
  return k;
}

/**
 * The model, optimizer and loss of a training step ({@link trainStep}, `fit`).
 * @throws ArgumentError naming the first bad one.
 */
export function checkTrainer(model: unknown, optimizer: unknown, loss: unknown): void {
  if (!(model instanceof tf.LayersModel)) {
    throw new ArgumentError('model', `expected a tf.LayersModel, got ${String(model)}`);
  }
  modelClasses(model);
  // tf.Optimizer's instanceof reads `minimize` of its operand: test null/undefined first
  if (optimizer === null || typeof optimizer !== 'object' || !(optimizer instanceof tf.Optimizer)) {
    throw new ArgumentError('optimizer', `expected a tf.Optimizer, got ${String(optimizer)}`);
  }
  checkFunction(loss, 'loss', 'a TrainLoss, e.g. train.crossEntropyLoss()');
}

/**
 * The arguments of {@link trainStep}, checked before any work.
 * @throws ArgumentError naming the first bad one.
 */
function checkStepArguments(
  model: tf.LayersModel,
  optimizer: unknown,
  loss: unknown,
  x: unknown,
  y: unknown,
): void {
  checkTrainer(model, optimizer, loss);
  if (!(x instanceof tf.Tensor) || x.isDisposed) {
    throw new ArgumentError('x', 'expected a live tf.Tensor of inputs');
  }
  checkInputShape(model, x);
  if (!(y instanceof tf.Tensor) || y.rank !== 1 || y.dtype !== 'int32') {
    const got = y instanceof tf.Tensor ? `${y.dtype} [${y.shape.join(', ')}]` : String(y);
    throw new ArgumentError('y', `expected int32 labels [${x.shape[0]}], got ${got}`);
  }
  checkClassTargets(y, x.shape[0] as number, modelClasses(model), 'y');
}

/** {@link trainStep} on checked arguments (the loop of `fit`, whose data was checked once). */
export function uncheckedStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  loss: TrainLoss,
  x: tf.Tensor,
  y: tf.Tensor1D,
  progress: TrainProgress,
  varList: tf.Variable[],
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
