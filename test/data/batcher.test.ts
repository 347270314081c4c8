import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  Batcher,
  checkImageSet,
  limitImageSet,
  resolveTransform,
  type ImageSet,
} from '../../src/data/index.js';

/** n images h x w x c where pixel value = (image index * 7 + position) % 256, label = index % k. */
function synthetic(n: number, h = 4, w = 4, c = 1, k = 10): ImageSet {
  const per = h * w * c;
  const images = new Uint8Array(n * per).map((_, i) => (Math.floor(i / per) * 7 + (i % per)) % 256);
  const labels = new Uint8Array(n).map((_, i) => i % k);
  return { name: 'syn', images, labels, count: n, height: h, width: w, channels: c, numClasses: k };
}

describe('Batcher', () => {
  it('visits every image exactly once per epoch, with the last batch partial', () => {
    const set = synthetic(23);
    set.labels = new Uint8Array(23).map((_, i) => i % 10);
    const b = new Batcher(set, { batchSize: 5, seed: 3 });
    expect(b.numBatches).toBe(5);
    const seen: number[] = [];
    const sizes: number[] = [];
    for (const batch of b.batches(0)) {
      sizes.push(batch.size);
      // the first pixel identifies the image: (k * 7) % 256 with k < 23 is unique
      const x = batch.x.dataSync();
      for (let i = 0; i < batch.size; i++) seen.push(Math.round((x[i * 16] as number) * 255) / 7);
      batch.dispose();
    }
    expect(sizes).toEqual([5, 5, 5, 5, 3]);
    expect(seen.sort((a, c) => a - c)).toEqual(Array.from({ length: 23 }, (_, i) => i));
  });

  it('is deterministic for a seed, differs between epochs and seeds, keeps labels aligned', () => {
    const set = synthetic(50);
    const a = new Batcher(set, { batchSize: 10, seed: 7 });
    const b = new Batcher(set, { batchSize: 10, seed: 7 });
    const c = new Batcher(set, { batchSize: 10, seed: 8 });
    expect(Array.from(a.order(0))).toEqual(Array.from(b.order(0)));
    expect(Array.from(a.order(0))).not.toEqual(Array.from(a.order(1)));
    expect(Array.from(a.order(0))).not.toEqual(Array.from(c.order(0)));
    const order = a.order(2);
    const batch = a.gather(order.subarray(0, 10));
    expect(Array.from(batch.y.dataSync())).toEqual(
      Array.from(order.subarray(0, 10), (k) => k % 10),
    );
    expect(batch.y.dtype).toBe('int32');
    batch.dispose();
    const plain = new Batcher(set, { batchSize: 10, shuffle: false });
    expect(Array.from(plain.order(5))).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('drops the remainder on request', () => {
    const b = new Batcher(synthetic(23), { batchSize: 5, dropRemainder: true });
    expect(b.numBatches).toBe(4);
    expect([...b.batches(0)].map((x) => (x.dispose(), x.size))).toEqual([5, 5, 5, 5]);
  });

  it('makes only the tensors of the current batch', () => {
    const b = new Batcher(synthetic(40), {
      batchSize: 8,
      transform: { normalize: 'mnist', size: 8 },
    });
    const before = tf.memory().numTensors;
    for (const batch of b.batches(1)) {
      expect(tf.memory().numTensors).toBe(before + 2);
      expect(batch.x.shape).toEqual([8, 8, 8, 1]);
      batch.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('normalises with the MNIST mean/std and pads with the normalised background', () => {
    const set = synthetic(1, 2, 2);
    set.images = new Uint8Array([0, 255, 51, 102]);
    const b = new Batcher(set, { batchSize: 1, transform: { normalize: 'mnist', size: 4 } });
    const batch = b.gather([0]);
    const x = Array.from(batch.x.dataSync());
    batch.dispose();
    const f = (v: number): number => (v / 255 - 0.1307) / 0.3081;
    const bg = f(0);
    // 2x2 image centred in 4x4: rows 1-2, cols 1-2
    expect(x).toBeAllclose(
      [bg, bg, bg, bg, bg, f(0), f(255), bg, bg, f(51), f(102), bg, bg, bg, bg, bg],
      {
        atol: 1e-6,
      },
    );
  });

  it('bilinear resizing matches tf.image.resizeBilinear with half-pixel centres', () => {
    const set = synthetic(2, 5, 7, 3);
    const b = new Batcher(set, {
      batchSize: 2,
      shuffle: false,
      transform: { size: 9, resize: 'bilinear' },
    });
    const batch = b.gather([0, 1]);
    const ref = tf.tidy(() => {
      const raw = tf.div(tf.tensor4d(Float32Array.from(set.images), [2, 5, 7, 3]), 255);
      return tf.image.resizeBilinear(raw as tf.Tensor4D, [9, 9], false, true);
    });
    expect(batch.x).toBeAllclose(ref, { atol: 1e-5 });
    tf.dispose([ref]);
    batch.dispose();
  });

  it('uses per-channel normalisation for 3-channel data', () => {
    const set = synthetic(1, 1, 1, 3);
    set.images = new Uint8Array([255, 0, 128]);
    const t = resolveTransform(set, { normalize: 'cifar10' });
    const b = new Batcher(set, { batchSize: 1, transform: { normalize: 'cifar10' } });
    const batch = b.gather([0]);
    expect(batch.x).toBeAllclose(
      [(1 - 0.4914) / 0.247, (0 - 0.4822) / 0.2435, (128 / 255 - 0.4465) / 0.2616],
      { atol: 1e-5 },
    );
    expect(t.size).toEqual([1, 1]);
    batch.dispose();
  });

  it('rejects bad arguments with their names', () => {
    const set = synthetic(4);
    expect(() => new Batcher(set, { batchSize: 0 })).toThrow(
      /batchSize: expected a positive integer/,
    );
    expect(() => new Batcher(set, { batchSize: 2, transform: { normalize: 'nope' } })).toThrow(
      /normalize: expected one of unit, mnist/,
    );
    expect(() => new Batcher(set, { batchSize: 2, transform: { size: 3 } })).toThrow(
      /size: cannot pad 4x4 images to 3x3/,
    );
    expect(() => resolveTransform(set, { normalize: { mean: [0], std: [0] } })).toThrow(
      /normalize\.std/,
    );
    expect(
      () =>
        new Batcher(
          { ...set, count: 0, images: new Uint8Array(0), labels: new Uint8Array(0) },
          { batchSize: 1 },
        ),
    ).toThrow(/set: dataset 'syn' is empty/);
  });
});

describe('ImageSet helpers', () => {
  it('limitImageSet returns views, not copies', () => {
    const set = synthetic(10);
    const small = limitImageSet(set, 3);
    expect(small.count).toBe(3);
    expect(small.images.buffer).toBe(set.images.buffer);
    expect(small.images.length).toBe(48);
    expect(limitImageSet(set, 100)).toBe(set);
    expect(() => limitImageSet(set, 0)).toThrow(/limit: expected a positive integer/);
  });

  it('checkImageSet catches inconsistent arrays and labels', () => {
    const set = synthetic(3);
    expect(() => checkImageSet({ ...set, count: 4 })).toThrow(
      /set.images: expected 4x4x4x1 = 64 values, got 48/,
    );
    expect(() => checkImageSet({ ...set, labels: new Uint8Array([0, 1, 12]) })).toThrow(
      /set.labels: expected labels in \[0, 10\), got 12 at index 2/,
    );
  });
});
