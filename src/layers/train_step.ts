/**
 * The one training step of deepprob: minimise a loss over variables with a tfjs optimizer and
 * keep the parts of the loss the caller asked for. Every trainer calls it: the loss cells'
 * `trainStep` (kept tensors, MindSpore API), the trainer's `trainStep` of `train/step.ts` (host
 * statistics of any objective) and the toolbox's small loop (`toolbox/fit.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { disposeAbortedTape } from '../utils/tape.js';
import { DeepProbError } from '../utils/errors.js';

/** What a loss evaluation returns to {@link minimizeStep}: the scalar to minimise and its parts. */
export interface StepTerms {
  /** The minimised scalar. */
  loss: tf.Scalar;
  /** The data term (kept when given). */
  nll?: tf.Scalar;
  /** The regulariser as added to the loss, or the unweighted KL (kept when given). */
  kl?: tf.Scalar;
  /** The network output (kept only with `keepOutput`). */
  output?: tf.Tensor;
}

/** The kept result of {@link minimizeStep}: the caller disposes every tensor. */
export interface KeptStep {
  loss: tf.Scalar;
  nll?: tf.Scalar;
  kl?: tf.Scalar;
  output?: tf.Tensor;
}

/**
 * One optimizer update: `theta <- update(theta, grad_theta L(theta))` with `L = terms().loss`,
 * over `varList`, keeping `nll`, `kl` (and `output` with `keepOutput`) out of the step's tidy.
 * When `terms` or the update throws, whatever was kept is freed before the error propagates.
 *
 * @param optimizer any tfjs optimizer.
 * @param varList the variables to update.
 * @param terms the loss evaluation (runs inside `optimizer.minimize`).
 * @param keepOutput also keep `output`. Default false.
 * @returns kept scalars (and output) that the caller disposes.
 * @example
 * ```ts
 * const r = minimizeStep(opt, vars, () => ({ loss: tf.losses.meanSquaredError(y, f(x)) }));
 * r.loss.dispose();
 * ```
 */
export function minimizeStep(
  optimizer: tf.Optimizer,
  varList: tf.Variable[],
  terms: () => StepTerms,
  keepOutput = false,
): KeptStep {
  let nll: tf.Scalar | undefined;
  let kl: tf.Scalar | undefined;
  let output: tf.Tensor | undefined;
  let loss: tf.Scalar | null;
  try {
    loss = optimizer.minimize(
      () => {
        const t = terms();
        if (t.nll !== undefined) nll = tf.keep(t.nll);
        if (t.kl !== undefined) kl = tf.keep(t.kl);
        if (keepOutput && t.output !== undefined) output = tf.keep(t.output);
        return t.loss;
      },
      true,
      varList,
    );
  } catch (e) {
    disposeAbortedTape(); // the tensors tfjs saved for the backward pass that never ran
    tf.dispose([nll ?? [], kl ?? [], output ?? []]);
    throw e;
  }
  if (loss === null) {
    tf.dispose([nll ?? [], kl ?? [], output ?? []]);
    throw new DeepProbError('minimizeStep: the optimizer returned no loss');
  }
  const out: KeptStep = { loss };
  if (nll !== undefined) out.nll = nll;
  if (kl !== undefined) out.kl = kl;
  if (output !== undefined) out.output = output;
  return out;
}

/** The trainable variables of a model or layer, in a stable order (optimizer state is index-based). */
export function trainableVariables(model: tf.LayersModel | tf.layers.Layer): tf.Variable[] {
  if (!(model instanceof tf.LayersModel) && !(model instanceof tf.layers.Layer)) {
    throw new ArgumentError(
      'model',
      `expected a tf.LayersModel or a tf.layers.Layer, got ${String(model)}`,
    );
  }
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}
