/**
 * Audit of the CPU engine's edge cases (issue 19): IEEE special values through the native GEMM,
 * convolution and ReLU (NaN and infinities propagate as in a plain loop), int32 operands, NCHW
 * convolutions, the transposed convolution and conv1d built on the convolution kernels, large
 * batches sharing one weight matrix, and convolutions whose im2col buffer spans several chunks.
 * Each against a float64 loop (`audit15_ref.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { expectNoLeak } from '../helpers.js';
import { conv2dRef, matmulRef, numel, values, worstRatio } from './audit15_ref.js';

/** `tf.tensor` without rank inference from a later cast (shapes here are plain arrays). */
function tens(v: ArrayLike<number> | Int32Array, shape: number[], dtype?: tf.DataType): tf.Tensor {
  return tf.tensor(v as Float32Array, shape, dtype);
}

describe('engine audit: special values', () => {
  it('NaN and Inf in a GEMM operand reach exactly the outputs a plain loop gives', () => {
    for (const [m, k, n] of [
      [5, 7, 9],
      [33, 300, 47],
    ] as [number, number, number][]) {
      const av = values(1, m * k);
      const bv = values(2, k * n);
      av[2 * k + 3] = NaN; // row 2 of A
      bv[4 * n + 5] = Infinity; // column 5 of B: +-Inf, and NaN in row 2
      bv[1 * n + 6] = -Infinity;
      const ref = matmulRef(av, [m, k], bv, [k, n], false, false);
      expectNoLeak(() => {
        const a = tens(av, [m, k]);
        const b = tens(bv, [k, n]);
        const aT = tf.transpose(a);
        const bT = tf.transpose(b);
        for (const tA of [false, true]) {
          const c = tA ? tf.matMul(aT, bT, true, true) : tf.matMul(a, b);
          const got = c.dataSync();
          for (let i = 0; i < ref.out.v.length; i++) {
            const w = ref.out.v[i] as number;
            const g = got[i] as number;
            if (Number.isFinite(w))
              expect(Math.abs(g - w)).toBeLessThan(1e-4 * (1 + (ref.abs[i] as number)));
            else expect(g, `entry ${i}`).toBe(w);
          }
          tf.dispose(c);
        }
        tf.dispose([a, b, aT, bT]);
      });
    }
  });

  it('relu and fused relu keep NaN as NaN (large tensors: the native path)', () => {
    expectNoLeak(() =>
      tf.tidy(() => {
        const v = values(3, 8192);
        v[17] = NaN;
        v[4000] = -Infinity;
        v[5000] = Infinity;
        const y = tf.relu(tens(v, [8192])).dataSync();
        expect(y[17]).toBeNaN();
        expect(y[4000]).toBe(0);
        expect(y[5000]).toBe(Infinity);
        const a = tens(values(4, 64 * 40), [64, 40]);
        const b = tens(values(5, 40 * 128), [40, 128]);
        const bias = new Float32Array(128);
        bias[7] = NaN;
        const f = tf.fused.matMul({
          a: a as tf.Tensor2D,
          b: b as tf.Tensor2D,
          bias: tf.tensor1d(bias),
          activation: 'relu',
        });
        const fv = f.dataSync();
        for (let i = 0; i < 64; i++) expect(fv[i * 128 + 7]).toBeNaN();
      }),
    );
  });

  it('a NaN pixel makes NaN exactly the conv outputs whose window covers it', () => {
    const xs = [1, 7, 7, 3];
    const ws = [3, 3, 3, 8];
    const xv = values(6, numel(xs));
    xv[(3 * 7 + 3) * 3 + 1] = NaN;
    const ref = conv2dRef(xv, xs, values(7, numel(ws)), ws, [1, 1], [1, 1], 'same');
    expectNoLeak(() =>
      tf.tidy(() => {
        const y = tf.conv2d(
          tens(xv, xs) as tf.Tensor4D,
          tens(values(7, numel(ws)), ws) as tf.Tensor4D,
          1,
          'same',
        );
        const got = y.dataSync();
        let nans = 0;
        for (let i = 0; i < got.length; i++) {
          expect(Number.isNaN(got[i]), `entry ${i}`).toBe(Number.isNaN(ref.y.v[i]));
          if (Number.isNaN(got[i])) nans++;
        }
        expect(nans).toBe(9 * 8);
      }),
    );
  });
});

describe('engine audit: dtypes, layouts and derived ops', () => {
  it('int32 matMul is exact', () => {
    expectNoLeak(() =>
      tf.tidy(() => {
        const av = Int32Array.from(values(8, 6 * 9), (v) => Math.round(v * 100));
        const bv = Int32Array.from(values(9, 9 * 4), (v) => Math.round(v * 100));
        const c = tf.matMul(tens(av, [6, 9], 'int32'), tens(bv, [9, 4], 'int32'));
        expect(c.dtype).toBe('int32');
        const ref = matmulRef(av, [6, 9], bv, [9, 4], false, false);
        expect(Array.from(c.dataSync())).toEqual(Array.from(ref.out.v));
        // transposed and fused (bias + relu), as the cpu backend gives it
        const ct = tf.matMul(tens(av, [9, 6], 'int32'), tens(bv, [4, 9], 'int32'), true, true);
        const reft = matmulRef(av, [9, 6], bv, [4, 9], true, true);
        expect(Array.from(ct.dataSync())).toEqual(Array.from(reft.out.v));
        const f = tf.fused.matMul({
          a: tens(av, [6, 9], 'int32') as tf.Tensor2D,
          b: tens(bv, [9, 4], 'int32') as tf.Tensor2D,
          bias: tf.tensor1d([1, -2, 3, -400], 'int32'),
          activation: 'relu',
        });
        expect(f.dtype).toBe('int32');
        expect(Array.from(f.dataSync())).toEqual(
          Array.from(ref.out.v, (v, i) => Math.max(0, v + ([1, -2, 3, -400][i % 4] as number))),
        );
      }),
    );
  });

  it('NCHW convolutions match the NHWC float64 reference', () => {
    const xs = [2, 9, 8, 3];
    const ws = [3, 2, 3, 5];
    const xv = values(10, numel(xs));
    const wv = values(11, numel(ws));
    const ref = conv2dRef(xv, xs, wv, ws, [2, 1], [1, 1], 'same');
    expectNoLeak(() =>
      tf.tidy(() => {
        const xNchw = tf.transpose(tens(xv, xs), [0, 3, 1, 2]) as tf.Tensor4D;
        let y: tf.Tensor;
        try {
          y = tf.conv2d(xNchw, tens(wv, ws) as tf.Tensor4D, [2, 1], 'same', 'NCHW');
        } catch (e) {
          // a backend may refuse NCHW, but then with an error, never wrong numbers
          expect(String(e)).toMatch(/NCHW|channels|not.*supported/i);
          return;
        }
        const back = tf.transpose(y, [0, 2, 3, 1]);
        expect(back.shape).toEqual(ref.y.shape);
        expect(worstRatio(back.dataSync(), ref.y.v, ref.abs, 2e-5, 1e-6)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('conv2dTranspose is the adjoint of conv2d (strides 1-3, same/valid, odd channels)', () => {
    let seed = 20;
    for (const [ys, ws, s, pad, xs] of [
      [[2, 4, 5, 7], [3, 3, 3, 7], 2, 'same', [2, 8, 10, 3]],
      [[1, 3, 3, 17], [2, 3, 5, 17], 3, 'valid', [1, 9, 11, 5]],
      [[3, 6, 6, 4], [1, 1, 2, 4], 1, 'same', [3, 6, 6, 2]],
      [[1, 5, 4, 64], [3, 3, 32, 64], 2, 'same', [1, 9, 8, 32]],
    ] as [number[], number[], number, 'same' | 'valid', number[]][]) {
      // conv2dTranspose(dy, w, xs) = dL/dx of L = sum(dy * conv2d(x, w))
      const dyv = values(seed++, numel(ys));
      const wv = values(seed++, numel(ws));
      const ref = conv2dRef(new Float32Array(numel(xs)), xs, wv, ws, [s, s], [1, 1], pad, dyv);
      expect(ref.y.shape).toEqual(ys);
      expectNoLeak(() =>
        tf.tidy(() => {
          const got = tf.conv2dTranspose(
            tens(dyv, ys) as tf.Tensor4D,
            tens(wv, ws) as tf.Tensor4D,
            xs as [number, number, number, number],
            s,
            pad,
          );
          expect(got.shape).toEqual(xs);
          expect(got).toBeAllclose(ref.dx as Float64Array, { rtol: 1e-4, atol: 1e-4 });
        }),
      );
    }
  });

  it('conv1d with stride and dilation matches float64', () => {
    const xs = [3, 29, 5];
    const ws = [4, 5, 11];
    const xv = values(30, numel(xs));
    const wv = values(31, numel(ws));
    for (const [s, d, pad] of [
      [1, 1, 'same'],
      [2, 1, 'valid'],
      [3, 1, 'same'],
      [1, 2, 'same'],
      [1, 3, 'valid'],
    ] as [number, number, 'same' | 'valid'][]) {
      const ref = conv2dRef(xv, [3, 1, 29, 5], wv, [1, 4, 5, 11], [1, s], [1, d], pad);
      expectNoLeak(() =>
        tf.tidy(() => {
          const y = tf.conv1d(
            tens(xv, xs) as tf.Tensor3D,
            tens(wv, ws) as tf.Tensor3D,
            s,
            pad,
            'NWC',
            d,
          );
          expect(y.shape).toEqual([3, ref.y.shape[2] as number, 11]);
          expect(
            worstRatio(y.dataSync(), ref.y.v, ref.abs, 2e-5, 1e-6),
            `${s} ${d} ${pad}`,
          ).toBeLessThanOrEqual(1);
        }),
      );
    }
  });
});

describe('engine audit: sizes', () => {
  it('a batch of 300 products sharing one right operand ([300, 3, 17] @ [17, 5]) and its gradient', () => {
    const av = values(40, 300 * 3 * 17);
    const bv = values(41, 17 * 5);
    const ref = matmulRef(av, [300, 3, 17], bv, [17, 5], false, false);
    // d/dB of sum(A @ B) = sum over the batch of A^T 1
    const dB = new Float64Array(17 * 5);
    for (let t = 0; t < 300 * 3; t++)
      for (let p = 0; p < 17; p++)
        for (let j = 0; j < 5; j++)
          dB[p * 5 + j] = (dB[p * 5 + j] as number) + (av[t * 17 + p] as number);
    expectNoLeak(() =>
      tf.tidy(() => {
        const a = tens(av, [300, 3, 17]);
        const b = tens(bv, [17, 5]);
        const c = tf.matMul(a, b);
        expect(worstRatio(c.dataSync(), ref.out.v, ref.abs, 1e-5, 1e-6)).toBeLessThanOrEqual(1);
        const g = tf.grad((w: tf.Tensor) => tf.sum(tf.matMul(a, w)))(b);
        expect(g.shape).toEqual([17, 5]);
        expect(g).toBeAllclose(dB, { rtol: 1e-5, atol: 1e-3 });
      }),
    );
  });

  it('a convolution whose im2col spans several chunks and rows far from the tile sizes', () => {
    // K = 5*5*37 = 925 taps x channels, 2 * 31 * 29 output pixels, 70 filters
    const xs = [2, 33, 31, 37];
    const ws = [5, 5, 37, 70];
    const xv = values(50, numel(xs));
    const wv = values(51, numel(ws));
    const ref = conv2dRef(xv, xs, wv, ws, [1, 1], [1, 1], 'valid');
    expectNoLeak(() =>
      tf.tidy(() => {
        const y = tf.conv2d(tens(xv, xs) as tf.Tensor4D, tens(wv, ws) as tf.Tensor4D, 1, 'valid');
        expect(y.shape).toEqual(ref.y.shape);
        expect(worstRatio(y.dataSync(), ref.y.v, ref.abs, 2e-5, 1e-6)).toBeLessThanOrEqual(1);
      }),
    );
  });
});
