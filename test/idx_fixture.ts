/**
 * Tiny synthetic IDX datasets for tests of the runners and the CLI: MNIST-layout files
 * (`train-images-idx3-ubyte`, ...) written into a folder, with the geometry, labels and counts a
 * test asks for. Images are seeded noise plus a class-dependent bright band, so a model can learn.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRng } from '../src/utils/seed.js';

/** Encode a uint8 IDX file of the given shape. */
export function idxBytes(shape: number[], data: Uint8Array): Uint8Array {
  const head = new Uint8Array(4 + 4 * shape.length);
  const view = new DataView(head.buffer);
  head[2] = 0x08;
  head[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(head.length + data.length);
  out.set(head);
  out.set(data, head.length);
  return out;
}

/** One split of a synthetic dataset. */
export interface SplitSpec {
  count: number;
  height?: number;
  width?: number;
  /** Channels; 1 writes `[n, h, w]`, more writes `[n, h, w, c]`. */
  channels?: number;
  /** Labels count (default `count`). */
  labels?: number;
  /** Classes drawn (default 10), or fixed labels. */
  classes?: number;
  /** Overwrite label `i` with this value (out-of-range tests). */
  badLabel?: number;
}

/** Write one split (`train` or `t10k`) into `dir`. */
export function writeSplit(dir: string, prefix: 'train' | 't10k', s: SplitSpec, seed = 1): void {
  const h = s.height ?? 12;
  const w = s.width ?? 12;
  const c = s.channels ?? 1;
  const k = s.classes ?? 10;
  const rng = makeRng(seed);
  const per = h * w * c;
  const images = new Uint8Array(s.count * per);
  const labels = new Uint8Array(s.labels ?? s.count);
  for (let i = 0; i < labels.length; i++) labels[i] = i % k;
  if (s.badLabel !== undefined && labels.length > 0) labels[labels.length - 1] = s.badLabel;
  for (let n = 0; n < s.count; n++) {
    const y = labels[n] ?? 0;
    for (let p = 0; p < per; p++) {
      const row = Math.floor(p / (w * c));
      const band = h > 0 && Math.floor((row * k) / h) === y ? 160 : 0;
      images[n * per + p] = Math.min(255, band + Math.floor(rng() * 60));
    }
  }
  const shape = c === 1 ? [s.count, h, w] : [s.count, h, w, c];
  writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), idxBytes(shape, images));
  writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), idxBytes([labels.length], labels));
}

/**
 * A folder with a synthetic MNIST-layout dataset (`--dataset mnist --data-dir <it>`).
 * @param train the training split (default 96 images of 12x12).
 * @param test the test split (default 32 images of 12x12).
 */
export function idxDataset(
  train: SplitSpec = { count: 96 },
  test: SplitSpec = { count: 32 },
): string {
  const dir = mkdtempSync(join(tmpdir(), 'deepprob-idx-'));
  mkdirSync(dir, { recursive: true });
  writeSplit(dir, 'train', train, 1);
  writeSplit(dir, 't10k', test, 2);
  return dir;
}
