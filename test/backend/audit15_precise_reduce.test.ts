/**
 * Audit of issue 2 (session 15): long float32 reductions. tfjs-backend-wasm's `Sum` and `Mean`
 * accumulate in float32 one element after another (`tf.mean` of 1e6 copies of 1.3862944 was
 * 1.37739); the kernel pack sums reductions of 2048 or more elements per output in float64.
 * References: float64 sums in plain JS. Runs on the backend `ready()` picks (wasm here).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { expectNoLeak } from '../helpers.js';

describe('Sum and Mean of long reductions against float64', () => {
  it('constants: mean of 1e6 copies of 1.3862944 and sum of 1e5 copies of 1e-5', () => {
    const a = tf.fill([1_000_000], 1.3862944);
    const b = tf.fill([100_000], 1e-5);
    expect(expectNoLeak(() => tf.mean(a))).toBeAllclose([Math.fround(1.3862944)], { rtol: 1e-6 });
    expect(expectNoLeak(() => tf.sum(b))).toBeAllclose([Math.fround(1e-5) * 1e5], { rtol: 1e-6 });
    tf.dispose([a, b]);
  });
  it('every axis pattern and keepDims of a [300, 50, 40] tensor', () => {
    const dims = [300, 50, 40];
    const x = tf.randomNormal(dims, 1, 1, 'float32', 3);
    const xv = x.dataSync();
    const patterns: Array<[number | number[], boolean]> = [
      [0, false],
      [1, true],
      [[0, 2], false],
      [[1, 2], true],
      [[0, 1, 2], false],
      [-1, false],
    ];
    for (const [ax, keep] of patterns) {
      const axes = (Array.isArray(ax) ? ax : [ax]).map((a) => (a + 3) % 3);
      const shp = dims.map((d, i) => (axes.includes(i) ? 1 : d));
      const ref = new Float64Array((shp[0] as number) * (shp[1] as number) * (shp[2] as number));
      for (let i = 0; i < 300; i++) {
        for (let j = 0; j < 50; j++) {
          for (let k = 0; k < 40; k++) {
            const o =
              (axes.includes(0) ? 0 : i) * (shp[1] as number) * (shp[2] as number) +
              (axes.includes(1) ? 0 : j) * (shp[2] as number) +
              (axes.includes(2) ? 0 : k);
            ref[o] = (ref[o] as number) + (xv[(i * 50 + j) * 40 + k] as number);
          }
        }
      }
      const r = (300 * 50 * 40) / ref.length;
      let shape: number[] = [];
      const s = expectNoLeak(() => {
        const out = tf.sum(x, ax, keep);
        shape = out.shape;
        return out;
      });
      const expShape = keep ? shp : dims.filter((_, i) => !axes.includes(i));
      expect(shape).toEqual(expShape);
      expect(s).toBeAllclose(Array.from(ref), { rtol: 1e-5, atol: 1e-4 * Math.sqrt(r) });
      const m = expectNoLeak(() => tf.mean(x, ax, keep));
      expect(m).toBeAllclose(
        Array.from(ref, (v) => v / r),
        { rtol: 1e-5, atol: 1e-6 },
      );
    }
    x.dispose();
  });
  it('the gradient of a parameter broadcast over 1e5 rows is exact', () => {
    const loc = tf.scalar(0.3);
    const z = tf.zeros([100_000]);
    const g = expectNoLeak(() => tf.grad((l: tf.Tensor) => tf.mean(tf.add(l, z)))(loc));
    expect(g).toEqual([1]);
    tf.dispose([loc, z]);
  });
  it('int32 sums stay exact', () => {
    const x = tf.ones([5000], 'int32');
    expect(expectNoLeak(() => tf.sum(x))).toEqual([5000]);
    x.dispose();
  });
});
