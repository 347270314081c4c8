/**
 * Bad input on `data` (image sets, the batcher, transforms, corruptions, parsers): each row must
 * throw an `ArgumentError` naming the argument, option or field before any work (never a
 * TypeError, an image set accepted with missing pixels or out-of-range labels that later give NaN
 * batches, or an option silently ignored).
 */
import { describe, it } from 'vitest';
import * as data from '../../src/data/index.js';
import type { ImageSet } from '../../src/data/index.js';
import { expectBadInput, type BadInputCase } from '../helpers.js';

const set: ImageSet = {
  name: 's',
  images: new Uint8Array(4 * 4 * 4),
  labels: new Uint8Array([0, 1, 0, 1]),
  count: 4,
  height: 4,
  width: 4,
  channels: 1,
  numClasses: 2,
};
const bad = (o: Record<string, unknown>): ImageSet => ({ ...set, ...o }) as unknown as ImageSet;
const batcher = (s: ImageSet, o: Record<string, unknown> = {}): data.Batcher =>
  new data.Batcher(s, { batchSize: 2, ...o } as data.BatcherOptions);
const b = batcher(set);
const loose = <T>(v: unknown): T => v as T;

const cases: BadInputCase[] = [
  { call: 'checkImageSet(null)', run: () => data.checkImageSet(loose(null)), arg: 'set' },
  {
    call: 'checkImageSet with images a plain array',
    run: () => data.checkImageSet(bad({ images: Array.from(set.images) })),
    arg: 'set.images',
  },
  {
    call: 'checkImageSet with a NaN pixel',
    run: () => data.checkImageSet(bad({ images: new Float32Array(64).fill(NaN) })),
    arg: 'set.images',
  },
  {
    call: 'checkImageSet with a negative label',
    run: () => data.checkImageSet(bad({ labels: [0, -1, 0, 1] })),
    arg: 'set.labels',
  },
  { call: 'limitImageSet(null, 2)', run: () => data.limitImageSet(loose(null), 2), arg: 'set' },
  // the batcher took any set and any option before
  {
    call: 'Batcher of a set missing pixels',
    run: () => batcher(bad({ images: new Uint8Array(3) })),
    arg: 'set.images',
  },
  {
    call: 'Batcher of a set with a label >= numClasses',
    run: () => batcher(bad({ labels: new Uint8Array([0, 1, 5, 1]) })),
    arg: 'set.labels',
  },
  { call: 'Batcher(null)', run: () => batcher(loose(null)), arg: 'set' },
  {
    call: 'Batcher without options',
    run: () => new data.Batcher(set, loose(undefined)),
    arg: 'options',
  },
  { call: 'Batcher unknown option', run: () => batcher(set, { batch_size: 3 }), arg: 'batch_size' },
  { call: 'Batcher seed a string', run: () => batcher(set, { seed: 'x' }), arg: 'seed' },
  { call: 'Batcher shuffle "yes"', run: () => batcher(set, { shuffle: 'yes' }), arg: 'shuffle' },
  { call: 'Batcher.gather index past the set', run: () => b.gather([9]), arg: 'indices' },
  { call: 'Batcher.gather index -1', run: () => b.gather([-1]), arg: 'indices' },
  { call: 'Batcher.order(-1)', run: () => b.order(-1), arg: 'epoch' },
  { call: 'Batcher.order(NaN)', run: () => b.order(NaN), arg: 'epoch' },
  // transforms
  {
    call: 'resolveTransform maxValue 0',
    run: () => data.resolveTransform(set, { maxValue: 0 }),
    arg: 'maxValue',
  },
  {
    call: 'resolveTransform maxValue -1',
    run: () => data.resolveTransform(set, { maxValue: -1 }),
    arg: 'maxValue',
  },
  {
    call: 'resolveTransform unknown key',
    run: () => data.resolveTransform(set, loose({ mormalize: 'unit' })),
    arg: 'mormalize',
  },
  {
    call: 'resolveTransform three means for one channel',
    run: () => data.resolveTransform(set, { normalize: { mean: [0, 0, 0], std: [1, 1, 1] } }),
    arg: 'normalize.mean',
  },
  {
    call: "resolveTransform 'cifar10' on grey images",
    run: () => data.resolveTransform(set, { normalize: 'cifar10' }),
    arg: 'normalize.mean',
  },
  { call: 'resolveTransform(null)', run: () => data.resolveTransform(loose(null)), arg: 'set' },
  // corruptions and parsers
  {
    call: 'uniformNoiseImages(null, 2)',
    run: () => data.uniformNoiseImages(loose(null), 2),
    arg: 'like',
  },
  {
    call: 'uniformNoiseImages height -1',
    run: () => data.uniformNoiseImages({ height: -1, width: 2, channels: 1, numClasses: 2 }, 2),
    arg: 'like.height',
  },
  {
    call: 'uniformNoiseImages height 2.5',
    run: () => data.uniformNoiseImages({ height: 2.5, width: 2, channels: 1, numClasses: 2 }, 2),
    arg: 'like.height',
  },
  { call: 'parseIdx(null)', run: () => data.parseIdx(loose(null)), arg: 'bytes' },
  { call: 'parseCifar(null)', run: () => data.parseCifar(loose(null), 'cifar10'), arg: 'bytes' },
  {
    call: "parseCifar variant 'cifar-10'",
    run: () => data.parseCifar(new Uint8Array(3073), loose('cifar-10')),
    arg: 'variant',
  },
  {
    call: "parseCifar label 'Fine'",
    run: () => data.parseCifar(new Uint8Array(3074), 'cifar100', 'f', loose('Fine')),
    arg: 'label',
  },
];

describe('data: bad input is an ArgumentError naming it, before any work', () => {
  it.each(cases.map((c) => [c.call, c] as const))('%s', async (_call, c) => {
    await expectBadInput(c);
  });
});
