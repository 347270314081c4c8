/**
 * Dataset checks before training or evaluating (`deepprob train`, `eval`, `uncertainty`): the
 * splits are checked against each other and against the model before the first step, so that a
 * bad dataset fails at once with an error naming its files and what was expected, never after an
 * epoch or never.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../data/dataset.js';
import { ArgumentError } from '../utils/errors.js';

/** How a split is named in errors: its files when known, else its name. */
export function describeSet(set: ImageSet): string {
  return set.files !== undefined && set.files.length > 0 ? set.files.join(', ') : set.name;
}

/**
 * Check the geometry of the training and test splits before any model is built:
 * both non-empty, images at least 1x1 with at least one channel, and the test images of the
 * training images' size and channels.
 * @param train the training split.
 * @param test the test split.
 * @param argument the option naming the data (default `data-dir`).
 * @throws ArgumentError naming `argument` and the offending files.
 * @example
 * ```ts
 * checkSplits(loadSplit(cfg, 'train'), loadSplit(cfg, 'test'));
 * ```
 */
export function checkSplits(train: ImageSet, test: ImageSet, argument = 'data-dir'): void {
  for (const [what, set] of [
    ['training', train],
    ['test', test],
  ] as const) {
    if (set.count === 0) {
      throw new ArgumentError(argument, `${describeSet(set)}: the ${what} split holds no images`);
    }
    if (set.height < 1 || set.width < 1 || set.channels < 1) {
      throw new ArgumentError(
        argument,
        `${describeSet(set)}: expected ${what} images of at least 1x1 pixels and 1 channel, got ` +
          `${set.height}x${set.width}x${set.channels}`,
      );
    }
    if (set.numClasses < 2) {
      throw new ArgumentError(
        argument,
        `${describeSet(set)}: expected labels of at least 2 classes, got ${set.numClasses}`,
      );
    }
  }
  if (test.height !== train.height || test.width !== train.width) {
    throw new ArgumentError(
      argument,
      `${describeSet(test)}: expected test images of the training images' size ` +
        `${train.height}x${train.width} (${describeSet(train)}), got ${test.height}x${test.width}`,
    );
  }
  if (test.channels !== train.channels) {
    throw new ArgumentError(
      argument,
      `${describeSet(test)}: expected test images with the training images' ${train.channels} ` +
        `channel(s) (${describeSet(train)}), got ${test.channels}`,
    );
  }
}

/** Which options {@link checkSetsAgainstModel}'s errors name. */
export interface ModelCheckArguments {
  /** A shape mismatch (default `input-size`, or `data-dir` when the channels differ). */
  shape?: string;
  /** Labels outside the model's classes (default `data-dir`). */
  labels?: string;
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
 * @throws ArgumentError naming the files (or the option) and what the model expects.
 */
export function checkSetsAgainstModel(
  model: tf.LayersModel,
  inputShape: readonly number[],
  sets: readonly ImageSet[],
  args: ModelCheckArguments = {},
): void {
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
