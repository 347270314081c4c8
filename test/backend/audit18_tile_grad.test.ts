/**
 * The gradient of `Tile` at every rank (tfjs 4.22's threw beyond rank 4: NUTS on NumPyro's MACE
 * model, whose `tf.where` broadcasts rank-5 operands by `Tile`). Reference: the closed form
 * `d/dx_j sum(w * tile(x, r)) = sum over the copies of x_j of w` in float64 on the host, at ranks 1
 * to 6 with several repetition patterns, a zero-size input, and through `tf.where`'s broadcast.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { tileGradient } from '../../src/backend/kernels/tile_grad.js';

/** Row-major strides. */
const strides = (shape: number[]): number[] => {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
};

/** sum over copies: the cotangent of x for the weights w on tile(x, reps) (float64). */
function hostGrad(w: number[], xShape: number[], reps: number[]): number[] {
  const yShape = xShape.map((s, i) => s * reps[i]!);
  const ys = strides(yShape);
  const xs = strides(xShape);
  const g = new Array<number>(xShape.reduce((a, b) => a * b, 1)).fill(0);
  for (let k = 0; k < w.length; k++) {
    let xi = 0;
    for (let d = 0; d < yShape.length; d++) {
      const c = Math.floor(k / ys[d]!) % yShape[d]!;
      xi += (c % xShape[d]!) * xs[d]!;
    }
    g[xi] = g[xi]! + w[k]!;
  }
  return g;
}

describe('Tile gradient at every rank', () => {
  const cases: [number[], number[]][] = [
    [[3], [4]],
    [
      [2, 3],
      [2, 1],
    ],
    [
      [2, 1, 3],
      [1, 4, 2],
    ],
    [
      [2, 2, 1, 2],
      [3, 1, 2, 1],
    ],
    [
      [2, 1, 1, 3, 1],
      [1, 3, 2, 1, 4],
    ],
    [
      [1, 2, 1, 2, 1, 2],
      [2, 1, 3, 1, 2, 1],
    ],
    [
      [2, 0, 3],
      [2, 2, 1],
    ],
  ];
  for (const [xShape, reps] of cases) {
    it(`rank ${xShape.length}: x [${xShape.join(',')}] tiled by [${reps.join(',')}]`, () => {
      const n = xShape.reduce((a, b) => a * b, 1);
      const m = n * reps.reduce((a, b) => a * b, 1);
      const wV = Array.from({ length: m }, (_, k) => Math.sin(0.7 * k + 0.3));
      const x = tf.tensor(
        Array.from({ length: n }, (_, k) => k / 3),
        xShape,
      );
      const w = tf.tensor(
        wV,
        xShape.map((s, i) => s * reps[i]!),
      );
      const before = tf.memory().numTensors;
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.tile(t, reps), w)))(x);
      expect(g.shape).toEqual(xShape);
      const want = hostGrad(wV, xShape, reps);
      Array.from(g.dataSync()).forEach((v, k) => expect(v).toBeCloseTo(want[k]!, 4));
      g.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, w]);
    });
  }

  it('tileGradient itself leaves nothing behind, and tf.where broadcasting rank-5 operands differentiates', () => {
    const dy = tf.ones([4, 6]);
    const before = tf.memory().numTensors;
    const g = tileGradient(dy, [2, 3], [2, 2]);
    expect(Array.from(g.dataSync())).toEqual([4, 4, 4, 4, 4, 4]);
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    dy.dispose();
    // where(c [2,1,1,1,1], a [3,1,1,3], b [4,3]): d/db sum(where) counts the positions taking b
    const c = tf.tensor([true, false], [2, 1, 1, 1, 1], 'bool');
    const a = tf.ones([3, 1, 1, 3]);
    const b = tf.tensor2d(
      Array.from({ length: 12 }, (_, k) => k),
      [4, 3],
    );
    const gb = tf.grad((t: tf.Tensor) => tf.sum(tf.where(c, a, t)))(b);
    expect(gb.shape).toEqual([4, 3]);
    // the false half of c: 3 (a's leading dim) copies of each b entry
    expect(Array.from(gb.dataSync())).toEqual(new Array<number>(12).fill(3));
    tf.dispose([c, a, b, gb]);
  });
});
