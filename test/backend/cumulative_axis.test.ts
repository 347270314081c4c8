/**
 * `tf.cumsum` / `tf.cumprod` with a negative axis after `ready()`: numpy's meaning (the stock
 * kernels gave shape `[undefined]` and corrupted the wasm heap). Reference: running sums and
 * products in plain JS.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { normalizeCumulativeAxis } from '../../src/backend/cumulative_axis.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { expectNoLeak } from '../helpers.js';

describe('cumulative ops along a negative axis', () => {
  it('cumsum and cumprod along -1 and -2 equal the JS running sums and products', () => {
    const rows = [
      [0.5, -1, 2],
      [3, 0.25, -0.5],
    ];
    const x = tf.tensor2d(rows);
    const v3 = tf.tensor1d([1, 2, 3]);
    expectNoLeak(() => {
      const s = tf.cumsum(x, -1);
      const p = tf.cumprod(x, -1);
      const s0 = tf.cumsum(x, -2);
      expect(s.shape).toEqual([2, 3]);
      const run = (r: number[], f: (a: number, b: number) => number): number[] =>
        r.map((_, i) => r.slice(0, i + 1).reduce(f));
      expect(s).toBeAllclose(rows.map((r) => run(r, (a, b) => a + b)));
      expect(p).toBeAllclose(rows.map((r) => run(r, (a, b) => a * b)));
      expect(s0).toBeAllclose([rows[0]!, rows[0]!.map((v, j) => v + rows[1]![j]!)]);
      // exclusive / reverse keep their meaning
      const e = tf.cumsum(v3, -1, true, true);
      expect(e).toBeAllclose([5, 3, 0]);
      // and a later op still sees a sound heap
      const after = tf.exp(s);
      expect(after.shape).toEqual([2, 3]);
      return [s, p, s0, e, after];
    });
    // the gradient along -1: d/dx_j sum_i cumsum(x)_i = (number of i >= j)
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.cumsum(v, -1)))(tf.tensor1d([1, 2, 3]));
    expect(g).toBeAllclose([3, 2, 1]);
    tf.dispose([x, v3, g]);
  });

  it('an axis outside [-rank, rank) is an ArgumentError naming axis', () => {
    expect(normalizeCumulativeAxis(-1, 2)).toBe(1);
    expect(normalizeCumulativeAxis(1, 2)).toBe(1);
    const x = tf.tensor1d([1, 2]);
    expect(() => tf.cumsum(x, -2)).toThrow(ArgumentError);
    expect(() => tf.cumprod(x, 1)).toThrow(/axis.*\[-1, 1\).*got 1/);
    x.dispose();
  });
});
