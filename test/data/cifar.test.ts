import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseCifar } from '../../src/data/index.js';
import { loadCifar10, loadCifar100 } from '../../src/node.js';

const PLANE = 1024;

/** A CIFAR record: labels, then R plane = r, G plane = g, B plane = pixel index % 251. */
function record(labels: number[], r: number, g: number): Uint8Array {
  const out = new Uint8Array(labels.length + 3 * PLANE);
  out.set(labels);
  out.fill(r, labels.length, labels.length + PLANE);
  out.fill(g, labels.length + PLANE, labels.length + 2 * PLANE);
  for (let i = 0; i < PLANE; i++) out[labels.length + 2 * PLANE + i] = i % 251;
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('parseCifar', () => {
  it('interleaves the R, G, B planes into HWC and reads labels', () => {
    const bytes = concat([record([3], 10, 20), record([9], 30, 40)]);
    const r = parseCifar(bytes, 'cifar10', 'b.bin');
    expect(r.count).toBe(2);
    expect(Array.from(r.labels)).toEqual([3, 9]);
    // image 1, pixel 5 (row 0, col 5): R 30, G 40, B 5
    const at = (1 * PLANE + 5) * 3;
    expect(Array.from(r.images.subarray(at, at + 3))).toEqual([30, 40, 5]);
    expect(r.images[(0 * PLANE + 1000) * 3 + 2]).toBe(1000 % 251);
  });

  it('CIFAR-100 has two label bytes: fine (default) or coarse', () => {
    const bytes = record([4, 77], 1, 2);
    expect(parseCifar(bytes, 'cifar100').labels[0]).toBe(77);
    expect(parseCifar(bytes, 'cifar100', 'x', 'coarse').labels[0]).toBe(4);
  });

  it('rejects truncated files and out-of-range labels, naming the file', () => {
    const bytes = concat([record([1], 0, 0), record([2], 0, 0)]);
    expect(() => parseCifar(bytes.subarray(0, 5000), 'cifar10', 'data_batch_1.bin')).toThrow(
      /data_batch_1\.bin: truncated or corrupt: 5000 bytes is not a whole number of 3073-byte cifar10 records \(expected 3073 or 6146 bytes\)/,
    );
    expect(() => parseCifar(record([10], 0, 0), 'cifar10', 'f.bin')).toThrow(
      /f\.bin: corrupt: record 0 has label 10, expected < 10/,
    );
    expect(() => parseCifar(new Uint8Array(0), 'cifar10', 'e.bin')).toThrow(/e\.bin: truncated/);
  });

  it('loads CIFAR-10/100 directories', () => {
    const dir = mkdtempSync(join(tmpdir(), 'deepprob-cifar-'));
    const sub = join(dir, 'cifar-10-batches-bin');
    mkdirSync(sub);
    writeFileSync(join(sub, 'data_batch_1.bin'), concat([record([1], 0, 0), record([2], 0, 0)]));
    writeFileSync(join(sub, 'data_batch_2.bin'), record([3], 0, 0));
    writeFileSync(join(sub, 'test_batch.bin'), record([4], 0, 0));
    const train = loadCifar10({ dir });
    expect(train.count).toBe(3);
    expect(Array.from(train.labels)).toEqual([1, 2, 3]);
    expect([train.height, train.width, train.channels, train.numClasses]).toEqual([32, 32, 3, 10]);
    expect(loadCifar10({ dir, split: 'test' }).labels[0]).toBe(4);
    writeFileSync(join(dir, 'train.bin'), record([5, 55], 0, 0));
    writeFileSync(join(dir, 'test.bin'), record([6, 66], 0, 0));
    expect(loadCifar100({ dir }).labels[0]).toBe(55);
    expect(loadCifar100({ dir, split: 'test', label: 'coarse' }).numClasses).toBe(20);
    expect(() => loadCifar10({})).toThrow(/dir: CIFAR-10 is not bundled/);
  });

  it('reads gzip training batches too, and names a missing folder or a file given as one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'deepprob-cifar-gz-'));
    writeFileSync(join(dir, 'data_batch_1.bin.gz'), gzipSync(record([7], 0, 0)));
    writeFileSync(join(dir, 'data_batch_2.bin'), record([8], 0, 0));
    writeFileSync(join(dir, 'test_batch.bin.gz'), gzipSync(record([9], 0, 0)));
    expect(Array.from(loadCifar10({ dir }).labels)).toEqual([7, 8]);
    expect(loadCifar10({ dir, split: 'test' }).labels[0]).toBe(9);
    expect(() => loadCifar10({ dir: join(dir, 'nope') })).toThrow(/nope: no such directory/);
    expect(() => loadCifar10({ dir: join(dir, 'data_batch_2.bin') })).toThrow(/not a directory/);
    // an empty file and CIFAR-10 data read as CIFAR-100 say what they are
    expect(() => parseCifar(new Uint8Array(0), 'cifar10', 'e.bin')).toThrow(
      /expected 3073 bytes\)/,
    );
    expect(() => parseCifar(record([1], 0, 0), 'cifar100', 'c.bin')).toThrow(
      /expected 3074 bytes\); it is a whole number of 3073-byte cifar10 records: is it cifar10\?/,
    );
  });
});
