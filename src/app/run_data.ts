/**
 * The data pipeline of a training configuration: a split of its dataset loaded (with a limit), the
 * test images validated on when only the training set is limited, the normalisation of a dataset
 * and the image transform (resize, normalisation) the network's input size asks for, with the
 * options each command's input-size errors may suggest.
 */
import { limitImageSet, type ImageSet } from '../data/dataset.js';
import { loadDataset } from '../data/files.js';
import { ArgumentError } from '../utils/errors.js';
import type { ImageTransform } from '../data/transform.js';
import { getModelEntry } from '../models/registry.js';
import type { TrainConfig } from './run_config.js';

/** Normalisation name of a dataset (its mean/std; `unit` for unknown sets). */
export function datasetNormalization(dataset: string): string {
  if (dataset === 'mnist') return 'mnist';
  if (dataset === 'fashion-mnist' || dataset === 'fashion') return 'fashion-mnist';
  if (dataset === 'cifar10') return 'cifar10';
  if (dataset === 'cifar100') return 'cifar100';
  return 'unit';
}

/**
 * The options of a command that its input-size errors may suggest (each only where the command
 * has it): `deepprob train` sets the side with `--input-size` and the way with `--resize`;
 * `eval` and `uncertainty` take the checkpoint's side and have `--resize`; `shift` has neither.
 */
export interface SizeFlags {
  /** The option setting the input side, without dashes (`input-size`); absent: the checkpoint's. */
  inputSize?: string;
  /** The option choosing pad or bilinear resizing (`resize`); absent: the command has none. */
  resize?: string;
}

/** The size options of `deepprob train` (the default of {@link transformOf}). */
export const TRAIN_SIZE_FLAGS: SizeFlags = { inputSize: 'input-size', resize: 'resize' };

/**
 * The input transform of a configuration: normalisation, and padding (or bilinear resizing) of
 * the images to the model's side `config.inputSize` (default: the model's).
 * @param config the run's configuration.
 * @param set the images it will transform.
 * @param flags the command's options that an error may name and suggest (default `train`'s).
 * @param modelName the model's name in messages (default `config.model`; a bare saved model's
 *   configuration borrows a zoo name for its preprocessing, its messages give its own name).
 * @throws ArgumentError when padding would have to shrink the images: it names the command's
 *   option (`input-size`, else `resize`, else `checkpoint`) and suggests only options it has.
 */
export function transformOf(
  config: TrainConfig,
  set: ImageSet,
  flags: SizeFlags = TRAIN_SIZE_FLAGS,
  modelName: string = config.model,
): ImageTransform {
  const entry = getModelEntry(config.model);
  const height = config.inputSize ?? entry.defaultInputShape[0];
  const width = config.inputWidth ?? height;
  const t: ImageTransform = {
    normalize: config.normalize ?? datasetNormalization(config.dataset),
    resize: config.resize ?? 'pad',
  };
  if (height !== set.height || width !== set.width) t.size = [height, width];
  if (t.resize === 'pad' && (set.height > height || set.width > width)) {
    const images = `the ${set.height}x${set.width} images of ${set.files?.[0] ?? set.name}`;
    const bilinear = flags.resize !== undefined ? `--${flags.resize} bilinear` : undefined;
    if (flags.inputSize !== undefined) {
      throw new ArgumentError(
        flags.inputSize,
        `cannot pad ${images} to ${modelName}'s ${height}x${width} input; give ` +
          `--${flags.inputSize} ${Math.max(set.height, set.width)} or more` +
          (bilinear !== undefined ? `, or ${bilinear} to shrink them` : ''),
      );
    }
    throw new ArgumentError(
      flags.resize ?? 'checkpoint',
      `the checkpoint's ${modelName} takes ${height}x${width} inputs and its run pads the images ` +
        `to it, but ${images} are larger` +
        (bilinear !== undefined
          ? `; pass ${bilinear} to shrink them`
          : '; evaluate it on images of at most that size'),
    );
  }
  return t;
}

/**
 * The test images to validate on when only the training set is limited: the same fraction of the
 * test set, `ceil(testCount * min(1, limit / trainCount))` (undefined, i.e. all, without a limit),
 * so `deepprob train --limit 2000` on MNIST validates on 334 of the 10,000 test images.
 *
 * @param limit training images used, or undefined for all.
 * @param trainCount size of the full training split.
 * @param testCount size of the full test split.
 * @returns the test limit, or undefined for the whole test split.
 * @example
 * ```ts
 * proportionalTestLimit(2000, 60000, 10000); // 334
 * ```
 */
export function proportionalTestLimit(
  limit: number | undefined,
  trainCount: number,
  testCount: number,
): number | undefined {
  if (limit === undefined || limit >= trainCount || trainCount <= 0) return undefined;
  return Math.max(1, Math.ceil((testCount * limit) / trainCount));
}

/**
 * A split of the configuration's dataset (from `config.dataDir` when given), cut to `limit` images.
 */
export function loadSplit(config: TrainConfig, split: 'train' | 'test', limit?: number): ImageSet {
  const set = loadDataset(config.dataset, {
    split,
    ...(config.dataDir !== undefined ? { dir: config.dataDir } : {}),
  });
  return limit !== undefined ? limitImageSet(set, limit) : set;
}
