/**
 * The image sets of the shift benchmark's runner: slices of a split, a seeded shuffle of a split
 * (exchangeable evaluation and calibration halves for `--split random`), and a set as tensors
 * through a checkpoint's input pipeline.
 */
import * as tf from '@tensorflow/tfjs';
import { Batcher } from '../../data/batcher.js';
import type { ImageSet } from '../../data/dataset.js';
import { makeRng } from '../../utils/seed.js';
import { type TrainConfig } from '../run_config.js';
import { transformOf } from '../run_data.js';

/** The images `[start, start + count)` of a set (clipped to its end). */
export function sliceSet(set: ImageSet, start: number, count: number): ImageSet {
  const n = Math.max(0, Math.min(count, set.count - start));
  const per = set.height * set.width * set.channels;
  return {
    ...set,
    name: `${set.name}[${start}:${start + n}]`,
    images: set.images.slice(start * per, (start + n) * per),
    labels: set.labels.slice(start, start + n),
    count: n,
  };
}

/** The set with its images in a seeded random order (Fisher-Yates with {@link makeRng}). */
export function shuffledSet(set: ImageSet, seed: number): ImageSet {
  const rng = makeRng(seed);
  const order = Array.from({ length: set.count }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const per = set.height * set.width * set.channels;
  const images = new (set.images.constructor as new (n: number) => typeof set.images)(
    set.images.length,
  );
  const labels = new (set.labels.constructor as new (n: number) => typeof set.labels)(set.count);
  order.forEach((src, dst) => {
    images.set(set.images.subarray(src * per, (src + 1) * per), dst * per);
    labels[dst] = set.labels[src] as number;
  });
  return { ...set, name: `${set.name}(shuffled, seed ${seed})`, images, labels };
}

/** A whole set as one batch through the checkpoint's input pipeline: `x` and host labels. */
export function tensorsOf(set: ImageSet, cfg: TrainConfig): { x: tf.Tensor; labels: Int32Array } {
  const b = new Batcher(set, {
    batchSize: set.count,
    shuffle: false,
    // shift has neither --input-size nor --resize: an error names the checkpoint
    transform: transformOf(cfg, set, {}),
  });
  const batch = b.gather(Array.from({ length: set.count }, (_, i) => i));
  const labels = Int32Array.from(batch.y.dataSync());
  batch.y.dispose();
  return { x: batch.x, labels };
}
