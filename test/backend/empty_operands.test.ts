/**
 * Empty operands on the wasm kernel pack (found by the distributions sweep): reductions over an
 * axis of size 0 give the reduction's identity (tfjs-backend-wasm 4.22 returned uninitialized heap
 * memory), and `BatchMatMul` with an empty batch or inner dim gives zeros of the right shape (the
 * stock kernel trapped with `remainder by zero`). Each is checked twice with heap traffic between,
 * so that garbage that happens to be zero once does not pass.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';

/** Values and shape of `f()`, with the heap stirred first (stale values must not leak through). */
function run(f: () => tf.Tensor): { v: number[]; shape: number[] } {
  const stir = tf.randomNormal([257]);
  stir.dataSync();
  stir.dispose();
  const before = tf.memory().numTensors;
  const t = tf.tidy(f);
  const out = { v: Array.from(t.dataSync()), shape: t.shape };
  t.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

describe('reductions over an empty axis', () => {
  const z = (): tf.Tensor => tf.zeros([2, 0]);
  const b = (): tf.Tensor => tf.zeros([2, 0], 'bool');
  const cases: [string, () => tf.Tensor, number[], number[]][] = [
    ['sum', () => tf.sum(z(), -1), [0, 0], [2]],
    ['sum keepDims', () => tf.sum(z(), 1, true), [0, 0], [2, 1]],
    ['sum of all', () => tf.sum(z()), [0], []],
    ['prod', () => tf.prod(z(), -1), [1, 1], [2]],
    ['max', () => tf.max(z(), -1), [-Infinity, -Infinity], [2]],
    ['min', () => tf.min(z(), 1), [Infinity, Infinity], [2]],
    ['all', () => tf.all(b(), 1), [1, 1], [2]],
    ['any', () => tf.any(b(), 1), [0, 0], [2]],
    ['logSumExp', () => tf.logSumExp(z(), -1), [-Infinity, -Infinity], [2]],
    ['sum over the non-empty axis', () => tf.sum(z(), 0), [], [0]],
    ['int32 max', () => tf.max(tf.zeros([0], 'int32')), [-2147483648], []],
  ];
  it.each(cases)('%s', (_, f, v, shape) => {
    for (let i = 0; i < 2; i++) {
      const out = run(f);
      expect(out.shape).toEqual(shape);
      expect(out.v).toEqual(v);
    }
  });

  it('non-empty inputs still reduce (stock kernel)', () => {
    expect(run(() => tf.sum(tf.tensor([[1, 2, 3]]), -1)).v).toEqual([6]);
    expect(run(() => tf.max(tf.tensor([[1, 5, 2]]), 1)).v).toEqual([5]);
  });
});

describe('BatchMatMul with an empty operand', () => {
  it('an empty batch gives [0, m, n] with no trap, also transposed', () => {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
    ] as const) {
      const out = run(() =>
        tf.matMul(
          tf.zeros(ta ? [0, 3, 2] : [0, 2, 3]),
          tf.zeros(tb ? [0, 4, 3] : [0, 3, 4]),
          ta,
          tb,
        ),
      );
      expect(out.shape).toEqual([0, 2, 4]);
    }
    // the heap is still sound: an ordinary product afterwards
    expect(run(() => tf.matMul(tf.ones([1, 2, 3]), tf.ones([1, 3, 2]))).v).toEqual([3, 3, 3, 3]);
  });

  it('an empty inner dim gives zeros [m, n] (a sum of no terms)', () => {
    for (let i = 0; i < 2; i++) {
      const out = run(() => tf.matMul(tf.zeros([2, 0]), tf.zeros([0, 3])));
      expect(out.shape).toEqual([2, 3]);
      expect(out.v).toEqual([0, 0, 0, 0, 0, 0]);
    }
  });
});
