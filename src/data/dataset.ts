/**
 * The in-memory image dataset type shared by the readers, loaders and the mini-batcher.
 *
 * Images stay on the host as one typed array in NHWC order (`count x height x width x channels`),
 * pixel values as stored in the file (0..255 for the IDX/CIFAR formats); tensors are made only for
 * the current mini-batch (see {@link Batcher}).
 */
import { ArgumentError } from '../utils/errors.js';
import { allWithin } from '../utils/tensor.js';

/** A labelled image dataset held as host typed arrays. */
export interface ImageSet {
  /** Short name, e.g. `mnist/train`. */
  name: string;
  /** Pixels, NHWC, length `count * height * width * channels`. */
  images: Uint8Array | Float32Array;
  /** Class labels in `[0, numClasses)`, length `count`. */
  labels: Uint8Array;
  /** Number of images. */
  count: number;
  /** Image height in pixels. */
  height: number;
  /** Image width in pixels. */
  width: number;
  /** Channels (1 for MNIST-like sets, 3 for CIFAR). */
  channels: number;
  /** Number of classes. */
  numClasses: number;
  /** Optional class names, length `numClasses`. */
  classNames?: string[];
  /** The files it was read from (for error messages), when read from files. */
  files?: string[];
}

/**
 * Check the internal consistency of an {@link ImageSet} (array lengths, label range).
 *
 * @param set the dataset to check.
 * @param name argument name used in errors.
 * @returns the same dataset.
 */
export function checkImageSet(set: ImageSet, name = 'set'): ImageSet {
  if (set === null || typeof set !== 'object') {
    throw new ArgumentError(
      name,
      `expected an image set {name, images, labels, count, height, width, channels, numClasses}, got ${String(set)}`,
    );
  }
  const { count, height, width, channels, numClasses } = set;
  for (const [k, v] of Object.entries({ count, height, width, channels, numClasses })) {
    if (!Number.isInteger(v) || v < 0) {
      throw new ArgumentError(`${name}.${k}`, `expected a non-negative integer, got ${v}`);
    }
  }
  if (!(set.images instanceof Uint8Array) && !(set.images instanceof Float32Array)) {
    throw new ArgumentError(
      `${name}.images`,
      `expected a Uint8Array or Float32Array of NHWC pixels, got ${describeValue(set.images)}`,
    );
  }
  const pixels = count * height * width * channels;
  if (set.images.length !== pixels) {
    throw new ArgumentError(
      `${name}.images`,
      `expected ${count}x${height}x${width}x${channels} = ${pixels} values, got ${set.images.length}`,
    );
  }
  if (set.images instanceof Float32Array) {
    const MAX = 3.4028234663852886e38;
    if (!allWithin(set.images, -MAX, MAX)) {
      const i = set.images.findIndex((v) => !Number.isFinite(v));
      throw new ArgumentError(
        `${name}.images`,
        `expected finite pixel values, got ${set.images[i]} at index ${i}`,
      );
    }
  }
  if (
    set.labels === null ||
    typeof set.labels !== 'object' ||
    typeof (set.labels as ArrayLike<number>).length !== 'number'
  ) {
    throw new ArgumentError(
      `${name}.labels`,
      `expected ${count} labels, got ${describeValue(set.labels)}`,
    );
  }
  if (set.labels.length !== count) {
    throw new ArgumentError(`${name}.labels`, `expected ${count} labels, got ${set.labels.length}`);
  }
  for (let i = 0; i < count; i++) {
    const l = set.labels[i] as number;
    if (!(Number.isInteger(l) && l >= 0 && l < numClasses)) {
      throw new ArgumentError(
        `${name}.labels`,
        `expected labels in [0, ${numClasses}), got ${l} at index ${i}`,
      );
    }
  }
  return set;
}

/** A value as an error message shows it: a typed array's class, else its type. */
function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/**
 * The first `n` images of a dataset, as views on the same typed arrays (no copy).
 *
 * @param set the dataset.
 * @param n how many images to keep (`n >= count` returns `set`).
 * @example
 * ```ts
 * const small = limitImageSet(train, 1000); // quick runs
 * ```
 */
export function limitImageSet(set: ImageSet, n: number): ImageSet {
  checkImageSet(set);
  if (!Number.isInteger(n) || n <= 0) {
    throw new ArgumentError('limit', `expected a positive integer, got ${n}`);
  }
  if (n >= set.count) return set;
  const per = set.height * set.width * set.channels;
  return {
    ...set,
    name: `${set.name}[:${n}]`,
    images: set.images.subarray(0, n * per),
    labels: set.labels.subarray(0, n),
    count: n,
  };
}

/** How a split is named in errors: its files when known, else its name. */
export function describeSet(set: ImageSet): string {
  return set.files !== undefined && set.files.length > 0 ? set.files.join(', ') : set.name;
}
