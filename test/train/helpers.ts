import type { ImageSet } from '../../src/data/index.js';

/** A tiny learnable set: class k has a bright k-th row band. */
export function bands(n: number, size: number, k = 4): ImageSet {
  const images = new Uint8Array(n * size * size);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % k;
    labels[i] = c;
    const rows = Math.floor(size / k);
    for (let y = c * rows; y < (c + 1) * rows; y++) {
      for (let x = 0; x < size; x++)
        images[i * size * size + y * size + x] = 200 + ((i * 13 + x) % 50);
    }
  }
  return {
    name: 'bands',
    images,
    labels,
    count: n,
    height: size,
    width: size,
    channels: 1,
    numClasses: k,
  };
}
