/**
 * The pack's PadV2 (src/backend/kernels/pad.ts) against the cpu backend's tf.pad.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { padInto } from '../../src/backend/kernels/pad.js';
import { onCpu, randTensor, rng } from './reference.js';

type Pads = [number, number][];

const CASES: { shape: number[]; pads: Pads; value: number }[] = [
  { shape: [5], pads: [[2, 3]], value: 0 },
  {
    shape: [3, 4],
    pads: [
      [1, 0],
      [0, 2],
    ],
    value: -1.5,
  },
  {
    shape: [2, 28, 28, 1],
    pads: [
      [0, 0],
      [2, 2],
      [2, 2],
      [0, 0],
    ],
    value: 0,
  }, // LeNet-5's 32x32
  {
    shape: [2, 5, 5, 16],
    pads: [
      [0, 0],
      [4, 4],
      [4, 4],
      [0, 0],
    ],
    value: 0,
  }, // long rows
  {
    shape: [2, 3, 4, 5],
    pads: [
      [1, 2],
      [0, 0],
      [0, 0],
      [0, 0],
    ],
    value: 7,
  }, // first axis only
  {
    shape: [2, 3, 4, 5],
    pads: [
      [0, 0],
      [0, 0],
      [0, 0],
      [1, 1],
    ],
    value: 0.5,
  }, // last axis only
  {
    shape: [2, 3, 2, 2, 3],
    pads: [
      [1, 0],
      [0, 1],
      [2, 0],
      [0, 0],
      [1, 1],
    ],
    value: 0,
  }, // rank 5
  {
    shape: [2, 3],
    pads: [
      [0, 0],
      [0, 0],
    ],
    value: 3,
  }, // no padding
  {
    shape: [0, 3],
    pads: [
      [1, 1],
      [1, 0],
    ],
    value: 2,
  }, // empty input
];

describe('PadV2 (constant padding) as block copies', () => {
  it('padInto equals tf.pad on the cpu backend', async () => {
    const r = rng(11);
    for (const c of CASES) {
      const x = randTensor(r, c.shape);
      const want = await onCpu(() => {
        const y = tf.pad(tf.tensor(x.dataSync(), c.shape), c.pads, c.value);
        const v = y.dataSync().slice();
        y.dispose();
        return v;
      });
      const out = new Float32Array(want.length).fill(NaN);
      padInto(x.dataSync() as Float32Array, c.shape, c.pads, c.value, out);
      expect(Array.from(out)).toEqual(Array.from(want));
      x.dispose();
    }
  });

  it('the wasm kernel gives the cpu result for float32 and defers int32 to the stock kernel', async () => {
    expect(tf.getBackend()).toBe('wasm');
    const r = rng(12);
    const x = randTensor(r, [3, 6, 7, 2]);
    const pads: Pads = [
      [0, 0],
      [2, 1],
      [1, 3],
      [0, 0],
    ];
    const ids = tf.engine().backend.numDataIds();
    const y = tf.pad(x, pads, 0.25);
    expect(tf.engine().backend.numDataIds()).toBe(ids + 1); // the output only
    const want = await onCpu(() =>
      tf.tidy(() => tf.pad(tf.tensor(x.dataSync(), x.shape), pads, 0.25).dataSync()),
    );
    expect(y.shape).toEqual([3, 9, 11, 2]);
    expect(Array.from(y.dataSync())).toEqual(Array.from(want));
    const xi = tf.tensor2d(
      [
        [1, 2],
        [3, 4],
      ],
      [2, 2],
      'int32',
    );
    const yi = tf.pad(
      xi,
      [
        [1, 0],
        [0, 1],
      ],
      9,
    );
    expect(yi.dtype).toBe('int32');
    expect(await yi.array()).toEqual([
      [9, 9, 9],
      [1, 2, 9],
      [3, 4, 9],
    ]);
    tf.dispose([x, y, xi, yi]);
  });
});
