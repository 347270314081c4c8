/**
 * The tape's `GatherV2` and `OneHot` at indices computed from the recorded inputs (the Gibbs
 * kernels record a discrete value as an input; a Categorical's log-density one-hot encodes it, a
 * model gathers its component parameters at it): replayed values and gradients against tfjs at
 * other index values than the recorded ones.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { TapeReplay, recordTape } from '../../../src/ppl/mcmc/index.js';

describe('tape replay of a gather and a one-hot at indices held as inputs', () => {
  it('values and gradients match tfjs at other index values', () => {
    // f(x, c) = sum(gather(x, int(c), axis 1) * w) + sum(oneHot(int(c), 4) * v)
    const w = tf.tensor3d([
      [[0.5], [-1]],
      [[2], [0.25]],
    ]); // [2, 2, 1] after the gather
    const v = tf.tensor2d([
      [1, 2, 3, 4],
      [-1, 0.5, 0, 2],
    ]);
    const f = (x: tf.Tensor, c: tf.Tensor): tf.Tensor => {
      const i = tf.cast(c, 'int32');
      return tf.add(tf.sum(tf.mul(tf.gather(x, i, 1), w)), tf.sum(tf.mul(tf.oneHot(i, 4), v)));
    };
    const x0 = [0.3, -1.2, 0.7, 2.0, 1.1, -0.4, 0.9, -2.2]; // [2, 4, 1]
    const before = tf.memory().numTensors;
    const inputs = [tf.tensor3d(x0, [2, 4, 1]), tf.tensor1d([1, 3])];
    const program = recordTape((x, c) => f(x as tf.Tensor, c as tf.Tensor), inputs);
    tf.dispose(inputs);
    expect(tf.memory().numTensors).toBe(before);
    expect(program.nodes.some((n) => n.op === 'GatherV2')).toBe(true);
    expect(program.nodes.some((n) => n.op === 'OneHot')).toBe(true);
    const replay = new TapeReplay(program);
    for (const c of [
      [1, 3],
      [0, 2],
      [3, 3],
    ]) {
      const grad = new Float64Array(10);
      const got = replay.valueAndGrad(Float64Array.from([...x0, ...c]), grad);
      const ref = tf.tidy(() => {
        const { value, grads } = tf.valueAndGrads(
          (x: tf.Tensor) => f(x, tf.tensor1d(c)) as tf.Scalar,
        )([tf.tensor3d(x0, [2, 4, 1])]);
        return [value.dataSync()[0] as number, Array.from((grads[0] as tf.Tensor).dataSync())];
      }) as unknown as [number, number[]];
      expect(got).toBeCloseTo(ref[0], 5);
      Array.from(grad.subarray(0, 8)).forEach((g, k) =>
        expect(g).toBeCloseTo(ref[1][k] as number, 6),
      );
    }
  });
});
