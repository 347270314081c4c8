/**
 * Audit (#16, fresh eyes): dataset files a user may point `--data-dir` at, off the seed paths:
 * IDX headers whose sizes overflow (no allocation of petabytes: an error naming the file), a
 * file named `.gz` that is not gzip, a gzip stream cut short, labels stored as an image file,
 * CIFAR files one byte short, an empty file. Each is a DataFormatError naming the file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadIdxImageSet, readCifarFiles, readIdxFile } from '../../src/data/file_readers.js';
import { DeepProbError } from '../../src/utils/errors.js';
import { idxBytes } from '../idx_fixture.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'deepprob-audit14-data-'));

function expectNamed(fn: () => unknown, file: string, what: RegExp): void {
  let err: Error | undefined;
  try {
    fn();
  } catch (e) {
    err = e as Error;
  }
  expect(err, 'no error').toBeDefined();
  expect(err, err?.message).toBeInstanceOf(DeepProbError);
  expect(err?.message).toContain(file);
  expect(err?.message).toMatch(what);
  expect(err?.message).not.toMatch(/Invalid typed array|RangeError|Array buffer allocation/);
}

describe('dataset files', () => {
  it('an IDX header of 2^32-1 x 2^32-1 x 2^32-1 images is refused as truncated, without allocating', () => {
    const dir = tmp();
    const f = join(dir, 'train-images-idx3-ubyte');
    const b = idxBytes([1, 1, 1], new Uint8Array([7]));
    const v = new DataView(b.buffer);
    for (let i = 0; i < 3; i++) v.setUint32(4 + 4 * i, 0xffffffff, false);
    writeFileSync(f, b);
    expectNamed(() => readIdxFile(f), f, /truncated|bytes|size/);
  });

  it('a .gz file that is not gzip is read as raw IDX; a gzip stream cut short is named', () => {
    const dir = tmp();
    const data = idxBytes([2, 2, 2], new Uint8Array(8).fill(3));
    const raw = join(dir, 'train-images-idx3-ubyte.gz');
    writeFileSync(raw, data);
    expect(readIdxFile(raw).shape).toEqual([2, 2, 2]);
    const gz = gzipSync(idxBytes([50, 20, 20], new Uint8Array(20000).fill(9)));
    const cut = join(dir, 'cut.gz');
    writeFileSync(cut, gz.subarray(0, Math.floor(gz.length / 2)));
    expectNamed(() => readIdxFile(cut), cut, /gzip/);
  });

  it('labels stored as an image file, and images as a labels file, are refused naming the file', () => {
    const dir = tmp();
    const images = join(dir, 'imgs');
    const labels = join(dir, 'labs');
    writeFileSync(images, idxBytes([4, 3, 3], new Uint8Array(36)));
    writeFileSync(labels, idxBytes([4, 3, 3], new Uint8Array(36)));
    expectNamed(() => loadIdxImageSet({ images, labels, name: 'x' }), labels, /dimension|\[n\]/);
    writeFileSync(labels, idxBytes([4], new Uint8Array(4)));
    writeFileSync(images, idxBytes([4], new Uint8Array(4)));
    expectNamed(() => loadIdxImageSet({ images, labels, name: 'x' }), images, /dimension|shape/);
  });

  it('an empty file and a CIFAR file one byte short are refused naming the file', () => {
    const dir = tmp();
    const empty = join(dir, 'empty');
    writeFileSync(empty, new Uint8Array(0));
    expectNamed(() => readIdxFile(empty), empty, /empty|truncated|magic|bytes/);
    const c = join(dir, 'data_batch_1.bin');
    writeFileSync(c, new Uint8Array(2 * 3073 - 1));
    expectNamed(() => readCifarFiles([c], 'cifar10', 'cifar10'), c, /truncated or corrupt/);
  });
});
