/**
 * Seeded, shuffled mini-batching over a host-side {@link ImageSet}.
 *
 * Only the current batch is materialised as tensors (`x: [b, H, W, C]` float32 after the
 * {@link ImageTransform}, `y: [b]` int32); the dataset itself is never copied to the device.
 * Epoch `e` visits the images in a Fisher-Yates permutation drawn from a generator seeded with
 * `(seed, e)`, so a resumed run sees the same order as an uninterrupted one.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { makeRng } from '../utils/seed.js';
import { booleanOption, integerOption, optionsObject } from '../utils/options.js';
import { checkImageSet, type ImageSet } from './dataset.js';
import {
  resolveTransform,
  writeImage,
  type ImageTransform,
  type ResolvedTransform,
} from './transform.js';

/** Options of {@link Batcher}. */
export interface BatcherOptions {
  /** Images per batch (> 0). */
  batchSize: number;
  /** Shuffle each epoch (default true). */
  shuffle?: boolean;
  /** Seed of the shuffling (default 0). */
  seed?: number;
  /** Preprocessing (normalisation, pad/resize). */
  transform?: ImageTransform;
  /** Drop a last incomplete batch (default false). */
  dropRemainder?: boolean;
}

/** One mini-batch; the caller owns (and must dispose) its tensors. */
export interface Batch {
  /** Inputs, `[size, H, W, C]` float32. */
  x: tf.Tensor4D;
  /** Labels, `[size]` int32. */
  y: tf.Tensor1D;
  /** Number of images in this batch. */
  size: number;
  /** Dispose `x` and `y`. */
  dispose(): void;
}

/** The option names of {@link Batcher}. */
const BATCHER_OPTIONS = ['batchSize', 'shuffle', 'seed', 'transform', 'dropRemainder'];

/**
 * Mini-batch iterator over an {@link ImageSet}.
 *
 * @example
 * ```ts
 * const b = new Batcher(train, { batchSize: 64, seed: 1, transform: { normalize: 'mnist', size: 32 } });
 * for (const batch of b.batches(epoch)) { step(batch.x, batch.y); batch.dispose(); }
 * ```
 */
export class Batcher {
  /** The dataset iterated over. */
  readonly set: ImageSet;
  /** Images per batch. */
  readonly batchSize: number;
  private readonly shuffle: boolean;
  private readonly seed: number;
  private readonly dropRemainder: boolean;
  private readonly t: ResolvedTransform;

  /**
   * @param set the images (checked with {@link checkImageSet}: pixel count, finite float pixels,
   *   labels in `[0, numClasses)`).
   * @param options `batchSize` (required), `shuffle`, `seed`, `transform`, `dropRemainder`.
   * @throws ArgumentError naming the set's field or the option (an unknown key too; `batchSize`
   *   larger than the set with `dropRemainder`, which would leave no batch).
   */
  constructor(set: ImageSet, options: BatcherOptions) {
    if (options === undefined) {
      throw new ArgumentError(
        'options',
        'expected {batchSize, shuffle?, seed?, transform?, dropRemainder?}',
      );
    }
    optionsObject(options, BATCHER_OPTIONS, 'Batcher');
    const { batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize <= 0) {
      throw new ArgumentError('batchSize', `expected a positive integer, got ${batchSize}`);
    }
    checkImageSet(set);
    if (set.count === 0) throw new ArgumentError('set', `dataset '${set.name}' is empty`);
    const seed = options.seed ?? 0;
    if (typeof seed !== 'number' || !Number.isInteger(seed)) {
      throw new ArgumentError('seed', `expected an integer, got ${String(seed)}`);
    }
    const dropRemainder = booleanOption(options.dropRemainder, 'dropRemainder', false);
    if (dropRemainder && batchSize > set.count) {
      // no batch at all: a loop over it would train nothing (and fail later on an empty epoch)
      throw new ArgumentError(
        'batchSize',
        `expected at most the ${set.count} images of '${set.name}' with dropRemainder (a larger batch leaves no full batch), got ${batchSize}`,
      );
    }
    this.set = set;
    this.batchSize = batchSize;
    this.shuffle = booleanOption(options.shuffle, 'shuffle', true);
    this.seed = seed;
    this.dropRemainder = dropRemainder;
    this.t = resolveTransform(set, options.transform);
  }

  /** Input shape of one image after the transform, `[H, W, C]`. */
  get inputShape(): [number, number, number] {
    return [this.t.size[0], this.t.size[1], this.set.channels];
  }

  /** Batches per epoch. */
  get numBatches(): number {
    const n = this.set.count / this.batchSize;
    return this.dropRemainder ? Math.floor(n) : Math.ceil(n);
  }

  /** The visiting order of epoch `epoch` (identity when not shuffling). */
  order(epoch: number): Int32Array {
    integerOption(epoch, 'epoch', 0, 0);
    const n = this.set.count;
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    if (!this.shuffle) return idx;
    const rng = makeRng((Math.imul(this.seed >>> 0, 0x9e3779b1) + epoch * 0x85ebca6b) >>> 0);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      const t = idx[i] as number;
      idx[i] = idx[j] as number;
      idx[j] = t;
    }
    return idx;
  }

  /** Materialise the images `indices` as one batch. */
  gather(indices: ArrayLike<number>): Batch {
    const [oh, ow] = this.t.size;
    const c = this.set.channels;
    const per = oh * ow * c;
    const b = indices.length;
    const count = this.set.count;
    for (let i = 0; i < b; i++) {
      const k = indices[i] as number;
      if (!(Number.isInteger(k) && k >= 0 && k < count)) {
        throw new ArgumentError('indices', `expected integers in [0, ${count}), got ${k} at ${i}`);
      }
    }
    const xs = new Float32Array(b * per);
    const ys = new Int32Array(b);
    for (let i = 0; i < b; i++) {
      const k = indices[i] as number;
      writeImage(this.set, k, this.t, xs, i * per);
      ys[i] = this.set.labels[k] as number;
    }
    const x = tf.tensor4d(xs, [b, oh, ow, c]);
    const y = tf.tensor1d(ys, 'int32');
    return { x, y, size: b, dispose: () => tf.dispose([x, y]) };
  }

  /**
   * Iterate over the batches of epoch `epoch`, starting at batch `start`.
   * Each yielded batch must be disposed by the caller.
   */
  *batches(epoch = 0, start = 0): Generator<Batch> {
    const order = this.order(epoch);
    for (let i = start; i < this.numBatches; i++) {
      const lo = i * this.batchSize;
      const hi = Math.min(lo + this.batchSize, this.set.count);
      yield this.gather(order.subarray(lo, hi));
    }
  }
}
