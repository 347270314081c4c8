/**
 * The gradients registered for `GatherNd`, `ScatterNd` and `TensorScatterUpdate` (tfjs 4.22 has
 * none): each against central finite differences in float64 of the same function written in plain
 * JS, on the active backend, with no tensors leaked.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';

/** Central differences of `f` at `x` (float64). */
function fd(f: (x: number[]) => number, x: number[], h = 1e-5): number[] {
  return x.map((_, i) => {
    const p = x.slice();
    const m = x.slice();
    p[i] = p[i]! + h;
    m[i] = m[i]! - h;
    return (f(p) - f(m)) / (2 * h);
  });
}

// a fixed weighting of the output so the cotangent is not uniform
const w = (k: number): number => Math.sin(1.3 * k + 0.2) + 0.5 * k;

describe('scatter / gather gradients', () => {
  it('tensorScatterUpdate (x.at[idx].set(v)): d x zero at the updated rows, d v the cotangent there', () => {
    const xv = [0.5, -1, 2, 3, 0.1, -0.7];
    const vv = [4, -2];
    const idx = [[4], [1]];
    const plain = (x: number[], v: number[]): number[] => {
      const y = x.slice();
      idx.forEach(([i], k) => (y[i!] = v[k]!));
      return y;
    };
    const loss = (y: number[]): number => y.reduce((a, t, k) => a + w(k) * t * t, 0);
    const before = tf.memory().numTensors;
    const wt = tf.tensor1d(xv.map((_, k) => w(k)));
    const ti = tf.tensor2d(idx, [2, 1], 'int32');
    const g = tf.grads((x: tf.Tensor, v: tf.Tensor) =>
      tf.sum(tf.mul(wt, tf.square(tf.tensorScatterUpdate(x, ti, v)))),
    );
    const xt = tf.tensor1d(xv);
    const vt = tf.tensor1d(vv);
    const [gx, gv] = g([xt, vt]) as [tf.Tensor, tf.Tensor];
    const wantX = fd((x) => loss(plain(x, vv)), xv);
    const wantV = fd((v) => loss(plain(xv, v)), vv);
    expect(Array.from(gx.dataSync())).toEqual(wantX.map((v) => expect.closeTo(v, 3)));
    expect(Array.from(gv.dataSync())).toEqual(wantV.map((v) => expect.closeTo(v, 3)));
    expect(wantX[1]).toBe(0);
    expect(Math.abs(wantV[0]!)).toBeGreaterThan(1);
    tf.dispose([gx, gv, wt, ti, xt, vt]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('tensorScatterUpdate of rows of a matrix (2-d updates)', () => {
    const xv = [
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ];
    const uv = [[-1, 0.5, 2]];
    const wt = tf.tensor2d([0.3, -1, 2, 1.5, 0.7, -0.2, 1, 1, 0.4], [3, 3]);
    const ti = tf.tensor2d([[2]], [1, 1], 'int32');
    const [gx, gu] = tf.grads((x: tf.Tensor, u: tf.Tensor) =>
      tf.sum(tf.mul(wt, tf.tensorScatterUpdate(x, ti, u))),
    )([tf.tensor2d(xv), tf.tensor2d(uv)]) as [tf.Tensor, tf.Tensor];
    const wv = wt.arraySync() as number[][];
    expect(gx.arraySync()).toEqual([wv[0], wv[1], [0, 0, 0]]);
    expect(gu.arraySync()).toEqual([wv[2]]);
    tf.dispose([gx, gu, wt, ti]);
  });

  it('scatterND and gatherND: repeated indices add up', () => {
    const ti = tf.tensor2d([[1], [3], [1]], [3, 1], 'int32');
    const uv = [0.5, -2, 1.5];
    const plainScatter = (u: number[]): number[] => {
      const y = [0, 0, 0, 0, 0];
      [1, 3, 1].forEach((i, k) => (y[i] = y[i]! + u[k]!));
      return y;
    };
    const loss = (y: number[]): number => y.reduce((a, t, k) => a + w(k) * t * t * t, 0);
    const wt = tf.tensor1d([0, 1, 2, 3, 4].map(w));
    const gu = tf.grad((u: tf.Tensor) => tf.sum(tf.mul(wt, tf.pow(tf.scatterND(ti, u, [5]), 3))))(
      tf.tensor1d(uv),
    );
    expect(Array.from(gu.dataSync())).toEqual(
      fd((u) => loss(plainScatter(u)), uv).map((v) => expect.closeTo(v, 3)),
    );
    const pv = [0.2, -0.4, 1.1, 0.9, 2];
    const gp = tf.grad((p: tf.Tensor) => tf.sum(tf.square(tf.gatherND(p, ti))))(tf.tensor1d(pv));
    const plainGather = (p: number[]): number => [1, 3, 1].reduce((a, i) => a + p[i]! * p[i]!, 0);
    expect(Array.from(gp.dataSync())).toEqual(fd(plainGather, pv).map((v) => expect.closeTo(v, 3)));
    tf.dispose([gu, gp, wt, ti]);
  });
});
