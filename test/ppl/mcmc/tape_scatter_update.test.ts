/**
 * The tape records `tensorScatterUpdate` with constant indices (JAX's `x.at[idx].set(v)`, the
 * imputation idiom) as an element map over its two data inputs: the replayed value and gradient
 * against tfjs (whose gradient is `scatter_grads.ts`) at points other than the recorded one.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { TapeReplay, recordTape } from '../../../src/ppl/mcmc/index.js';

describe('tape replay of tensorScatterUpdate', () => {
  it('records it as an element map; values and gradients match tfjs at other points', () => {
    const idx = tf.tensor2d([[3], [0]], [2, 1], 'int32');
    const w = tf.tensor1d([0.5, -1, 2, 0.25, 1.5]);
    // f(x, v) = sum(w * y^2) + sum(y), y = x with y[3] = v[0], y[0] = v[1]
    const f = (x: tf.Tensor, v: tf.Tensor): tf.Tensor => {
      const y = tf.tensorScatterUpdate(x, idx, v);
      return tf.add(tf.sum(tf.mul(w, tf.square(y))), tf.sum(y));
    };
    const before = tf.memory().numTensors;
    const inputs = [tf.tensor1d([0.3, -1.2, 0.7, 2, 1.1]), tf.tensor1d([0.4, -0.6])];
    const program = recordTape((x, v) => f(x as tf.Tensor, v as tf.Tensor), inputs);
    tf.dispose(inputs);
    expect(tf.memory().numTensors).toBe(before);
    expect(program.nodes.some((n) => n.op === 'Gather')).toBe(true);
    expect(program.nodes.some((n) => n.op === 'TensorScatterUpdate')).toBe(false);
    const replay = new TapeReplay(program);
    for (const [x, v] of [
      [
        [0.3, -1.2, 0.7, 2, 1.1],
        [0.4, -0.6],
      ],
      [
        [-1, 0.5, 0.2, -0.3, 0.8],
        [2.5, 1.5],
      ],
    ] as const) {
      const grad = new Float64Array(7);
      const got = replay.valueAndGrad(Float64Array.from([...x, ...v]), grad);
      const ref = tf.tidy(() => {
        const { value, grads } = tf.valueAndGrads(
          (a: tf.Tensor, b: tf.Tensor) => f(a, b) as tf.Scalar,
        )([tf.tensor1d([...x]), tf.tensor1d([...v])]);
        return [value.dataSync()[0] as number, [...grads.flatMap((g) => Array.from(g.dataSync()))]];
      }) as unknown as [number, number[]];
      expect(got).toBeCloseTo(ref[0], 5);
      Array.from(grad).forEach((g, k) => expect(g).toBeCloseTo(ref[1][k] as number, 5));
      // the overwritten entries of x get no gradient
      expect(grad[0]).toBe(0);
      expect(grad[3]).toBe(0);
    }
    tf.dispose([idx, w]);
  });
});
