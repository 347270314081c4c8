/**
 * Dataset checks before training or evaluating (`deepprob train`, `eval`, `uncertainty`): the
 * splits are checked against each other and against the model before the first step, so that a
 * bad dataset fails at once with an error naming its files and what was expected, never after an
 * epoch or never.
 */
import { describeSet, type ImageSet } from '../data/dataset.js';
import { ArgumentError } from '../utils/errors.js';

export { describeSet } from '../data/dataset.js';
export { checkSetsAgainstModel, type ModelCheckArguments } from '../train/set_checks.js';

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
