/**
 * Image sets against the model they train or validate: the one check of `train.fit`,
 * `train.evaluate` and the runners of `app` (`deepprob train`, `eval`, `uncertainty`, `shift`),
 * run before the first batch so that a model/data mismatch fails at once naming the data, never
 * as a raw tfjs shape error inside the first step.
 */
import type * as tf from '@tensorflow/tfjs';
import { describeSet, type ImageSet } from '../data/dataset.js';
import { ArgumentError } from '../utils/errors.js';

/** Which options {@link checkSetsAgainstModel}'s errors name. */
export interface ModelCheckArguments {
  /** A shape mismatch (default `input-size`, or `data-dir` when the channels differ). */
  shape?: string;
  /** Labels outside the model's classes (default `data-dir`). */
  labels?: string;
  /** A model that is not one image input to one output (default `model`). */
  model?: string;
}

/**
 * Check the splits against the model they train or validate (a resumed checkpoint's model, or
 * one built for them, or a checkpoint evaluated on a dataset): the batches' input shape `[H, W, C]`
 * equals the model's input `[null, H, W, C]` (a model on flat features `[null, F]` is named as
 * such), and every label of every split is a class of the model's `K` outputs (`max(K, 2)` for a
 * one-output binary model).
 * @param model the model.
 * @param inputShape the batches' image shape `[H, W, C]` after the input transform.
 * @param sets the splits.
 * @param args the options the errors name (defaults: `input-size` / `data-dir`).
 * @throws ArgumentError naming the files (or the option) and what the model expects; naming
 *   `args.model` (default `model`) when the model has several inputs or outputs.
 */
export function checkSetsAgainstModel(
  model: tf.LayersModel,
  inputShape: readonly number[],
  sets: readonly ImageSet[],
  args: ModelCheckArguments = {},
): void {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    // an image set feeds one input and scores one output: a raw tfjs feed error otherwise
    throw new ArgumentError(
      args.model ?? 'model',
      `expected a classifier with one image input and one output, got '${model.name}' with ` +
        `${model.inputs.length} inputs and ${model.outputs.length} outputs (image sets train and ` +
        'evaluate single-input models; for other models use the loss cells with layers.epochLoop, ' +
        'or toolbox.fit)',
    );
  }
  const input = model.inputs[0]?.shape.slice(1);
  if (
    input !== undefined &&
    (input.length !== inputShape.length || input.some((d, i) => d !== null && d !== inputShape[i]))
  ) {
    const where = sets.map(describeSet).join('; ');
    const sameChannels =
      input.length === inputShape.length && (input[2] === null || input[2] === inputShape[2]);
    throw new ArgumentError(
      args.shape ?? (sameChannels ? 'input-size' : 'data-dir'),
      `the model expects inputs of shape [${input.join(', ')}], but the data (${where}) gives ` +
        `[${inputShape.join(', ')}]` +
        (input.length === 1
          ? ' (a model on flat features: give it an input of the image shape followed by a Flatten layer)'
          : sameChannels || input.length !== inputShape.length
            ? ''
            : `: ${inputShape[2]} channel(s) instead of ${String(input[2])}`),
    );
  }
  const out = model.outputs[0]?.shape;
  const units = out?.[out.length - 1];
  if (typeof units !== 'number') return;
  const classes = Math.max(units, 2);
  for (const set of sets) {
    let max = -1;
    for (let i = 0; i < set.count; i++) max = Math.max(max, set.labels[i] as number);
    if (max >= classes || set.numClasses > classes) {
      throw new ArgumentError(
        args.labels ?? 'data-dir',
        `${describeSet(set)}: expected labels in [0, ${classes}) for the model's ${classes} ` +
          `classes, got ${Math.max(max + 1, set.numClasses)} classes`,
      );
    }
  }
}
