/**
 * Audit of the native path's memory-bound kernels (issue 19) on shapes the benchmarks never used,
 * each above the size from which it runs natively (`MIN_BINARY_ELEMENTS`,
 * `MIN_POINTWISE_ELEMENTS` and up): broadcasting `Add` / `Sub` / `Multiply` over
 * ranks 1-6, `Sum` over leading, trailing and middle axes, constant `pad` and `slice` at ranks 1-5,
 * `softplus` over its whole range with infinities and NaN, each against a float64 loop.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { expectNoLeak } from '../helpers.js';
import { numel, values } from './audit15_ref.js';
import { nativeAddon } from '../../src/backend/native/kernels.js';

/** Strides of a row-major shape. */
function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--)
    s[i] = (s[i + 1] as number) * (shape[i + 1] as number);
  return s;
}

/** `f(a, b)` with numpy broadcasting, in float64. */
function broadcastRef(
  a: Float32Array,
  as: number[],
  b: Float32Array,
  bs: number[],
  f: (x: number, y: number) => number,
): { shape: number[]; v: Float64Array } {
  const r = Math.max(as.length, bs.length);
  const pa = [...Array<number>(r - as.length).fill(1), ...as];
  const pb = [...Array<number>(r - bs.length).fill(1), ...bs];
  const out = pa.map((d, i) => Math.max(d, pb[i] as number));
  const sa = strides(pa);
  const sb = strides(pb);
  const so = strides(out);
  const v = new Float64Array(numel(out));
  for (let o = 0; o < v.length; o++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < r; d++) {
      const idx = Math.floor(o / (so[d] as number)) % (out[d] as number);
      if ((pa[d] as number) !== 1) ia += idx * (sa[d] as number);
      if ((pb[d] as number) !== 1) ib += idx * (sb[d] as number);
    }
    v[o] = f(a[ia] as number, b[ib] as number);
  }
  return { shape: out, v };
}

describe('engine audit: broadcasting binary ops', () => {
  it('add, sub, mul over ranks 1-6 and every broadcast pattern match float64', () => {
    const cases: [number[], number[]][] = [
      [[16411], [16411]],
      [[16411], [1]],
      [[1], [16411]],
      [
        [64, 1, 33],
        [1, 50, 1],
      ],
      [[15, 16, 17, 8], [8]],
      [
        [15, 16, 17, 8],
        [16, 1, 8],
      ],
      [
        [2, 1, 3, 1, 5, 8],
        [1, 4, 3, 9, 1, 8],
      ],
      [
        [3, 1, 17, 1, 29],
        [3, 13, 1, 7, 1],
      ],
      [
        [67, 257],
        [67, 1],
      ],
      [
        [1, 1, 6000],
        [3, 1, 1],
      ],
    ];
    let seed = 1;
    const ops: [
      string,
      (a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
      (x: number, y: number) => number,
    ][] = [
      ['add', tf.add, (x, y) => x + y],
      ['sub', tf.sub, (x, y) => x - y],
      ['mul', tf.mul, (x, y) => x * y],
    ];
    for (const [as, bs] of cases) {
      const av = values(seed++, numel(as));
      const bv = values(seed++, numel(bs));
      for (const [name, op, f] of ops) {
        const ref = broadcastRef(av, as, bv, bs, f);
        expectNoLeak(() =>
          tf.tidy(() => {
            const y = op(tf.tensor(av, as), tf.tensor(bv, bs));
            expect(y.shape, `${name} ${JSON.stringify([as, bs])}`).toEqual(ref.shape);
            expect(y, `${name} ${JSON.stringify([as, bs])}`).toBeAllclose(ref.v, {
              rtol: 1e-6,
              atol: 1e-7,
            });
          }),
        );
      }
    }
  });
});

describe('engine audit: reductions, pad and slice', () => {
  it('sum over leading, trailing, middle and all axes (with keepDims) matches float64', () => {
    const cases: [number[], number | number[]][] = [
      [[3001, 3], 0],
      [
        [40, 50, 7],
        [0, 1],
      ],
      [[40, 50, 7], 2],
      [[40, 50, 7], 1],
      [[6, 700], -1],
      [
        [9, 11, 13, 3],
        [0, 1, 2],
      ],
      [[5000], 0],
      [
        [33, 65, 3],
        [0, 2],
      ],
    ];
    let seed = 100;
    for (const [shape, axis] of cases) {
      const v = values(seed++, numel(shape));
      const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + shape.length : a));
      const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const ref = new Float64Array(numel(outShape));
      const si = strides(shape);
      const so = strides(outShape);
      for (let i = 0; i < v.length; i++) {
        let o = 0;
        for (let d = 0; d < shape.length; d++) {
          const idx = Math.floor(i / (si[d] as number)) % (shape[d] as number);
          if (!axes.includes(d)) o += idx * (so[d] as number);
        }
        ref[o] = (ref[o] as number) + (v[i] as number);
      }
      expectNoLeak(() =>
        tf.tidy(() => {
          const x = tf.tensor(v, shape);
          const s = tf.sum(x, axis);
          expect(s.shape).toEqual(shape.filter((_, i) => !axes.includes(i)));
          expect(s, JSON.stringify([shape, axis])).toBeAllclose(ref, { rtol: 1e-5, atol: 1e-4 });
          expect(tf.sum(x, axis, true).shape).toEqual(outShape);
        }),
      );
    }
  });

  it('constant pad and slice at ranks 1-5 match index loops', () => {
    const cases: [number[], [number, number][], number][] = [
      [[3000], [[5, 2]], 0],
      [
        [30, 40, 3],
        [
          [1, 2],
          [0, 3],
          [2, 0],
        ],
        3.5,
      ],
      [
        [7, 9, 11, 5],
        [
          [0, 0],
          [3, 1],
          [0, 0],
          [1, 1],
        ],
        -1,
      ],
      [
        [2, 3, 5, 7, 11],
        [
          [1, 0],
          [0, 1],
          [2, 2],
          [0, 0],
          [1, 3],
        ],
        0.25,
      ],
    ];
    let seed = 200;
    for (const [shape, pads, value] of cases) {
      const v = values(seed++, numel(shape));
      const outShape = shape.map(
        (d, i) => d + (pads[i] as [number, number])[0] + (pads[i] as [number, number])[1],
      );
      const want = new Float64Array(numel(outShape)).fill(value);
      const si = strides(shape);
      const so = strides(outShape);
      for (let i = 0; i < v.length; i++) {
        let o = 0;
        for (let d = 0; d < shape.length; d++) {
          const idx = Math.floor(i / (si[d] as number)) % (shape[d] as number);
          o += (idx + (pads[d] as [number, number])[0]) * (so[d] as number);
        }
        want[o] = v[i] as number;
      }
      expectNoLeak(() =>
        tf.tidy(() => {
          const x = tf.tensor(v, shape);
          const p = tf.pad(x, pads, value);
          expect(p.shape).toEqual(outShape);
          expect(p, `pad ${JSON.stringify(shape)}`).toBeAllclose(want, { rtol: 0, atol: 0 });
          // slicing the padding off gives x back
          const back = tf.slice(
            p,
            pads.map((q) => q[0]),
            shape,
          );
          expect(back, `slice ${JSON.stringify(shape)}`).toBeAllclose(v, { rtol: 0, atol: 0 });
          // a slice with -1 sizes and an offset: the tail of every axis
          const begin = shape.map((d) => Math.floor(d / 3));
          const tail = tf.slice(
            x,
            begin,
            shape.map(() => -1),
          );
          const ts = shape.map((d, i) => d - (begin[i] as number));
          const tv = new Float64Array(numel(ts));
          const st = strides(ts);
          for (let o = 0; o < tv.length; o++) {
            let i = 0;
            for (let d = 0; d < shape.length; d++) {
              const idx = Math.floor(o / (st[d] as number)) % (ts[d] as number);
              i += (idx + (begin[d] as number)) * (si[d] as number);
            }
            tv[o] = v[i] as number;
          }
          expect(tail.shape).toEqual(ts);
          expect(tail).toBeAllclose(tv, { rtol: 0, atol: 0 });
        }),
      );
    }
  });
});

describe('engine audit: softplus', () => {
  it('softplus and its gradient over the whole range, infinities and NaN', () => {
    const n = 4096;
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = -120 + (240 * i) / (n - 1);
    v[0] = -Infinity;
    v[1] = Infinity;
    v[2] = NaN;
    v[3] = 0;
    v[4] = -1e-30;
    v[5] = 88.5;
    v[6] = -88.5;
    v[7] = 15.9;
    const sp = (x: number): number =>
      x > 30 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
    const sig = (x: number): number => 1 / (1 + Math.exp(-x));
    expectNoLeak(() =>
      tf.tidy(() => {
        const x = tf.tensor(v);
        const y = tf.softplus(x).dataSync();
        const g = tf
          .grad((t: tf.Tensor) => tf.sum(tf.softplus(t)))(x)
          .dataSync();
        for (let i = 0; i < n; i++) {
          const xi = v[i] as number;
          const w = sp(xi);
          const dw = sig(xi);
          if (Number.isNaN(xi)) {
            expect(y[i]).toBeNaN();
            continue;
          }
          if (!Number.isFinite(xi)) {
            // the wasm SIMD module (no native addon) still clamps e^x at e^-87.3 (documented)
            const floor = xi < 0 && nativeAddon() === undefined ? 1.3e-38 : 0;
            expect(
              y[i] === w || Math.abs((y[i] as number) - w) <= floor,
              `softplus(${xi}) = ${y[i]}`,
            ).toBe(true);
            expect(
              g[i] === dw || Math.abs((g[i] as number) - dw) <= floor,
              `sigmoid(${xi}) = ${g[i]}`,
            ).toBe(true);
            continue;
          }
          expect(Math.abs((y[i] as number) - w), `softplus(${xi})`).toBeLessThanOrEqual(
            4e-7 * Math.abs(w) + 1e-30,
          );
          expect(Math.abs((g[i] as number) - dw), `sigmoid(${xi})`).toBeLessThanOrEqual(
            4e-7 * Math.abs(dw) + 1e-30,
          );
        }
      }),
    );
  });
});

describe('engine audit: fused Adam', () => {
  it('tf.train.adam on a large variable follows the float64 Adam recursion', () => {
    const n = 5003;
    const x0 = values(300, n);
    const grads = [
      values(301, n),
      values(302, n).map((v) => v * 1e-3),
      values(303, n).map((v) => v * 50),
    ];
    const [lr, b1, b2, eps] = [0.01, 0.9, 0.999, 1e-7];
    const x = Float64Array.from(x0);
    const m = new Float64Array(n);
    const v = new Float64Array(n);
    grads.forEach((g, s) => {
      const t = s + 1;
      for (let i = 0; i < n; i++) {
        const gi = g[i] as number;
        m[i] = b1 * (m[i] as number) + (1 - b1) * gi;
        v[i] = b2 * (v[i] as number) + (1 - b2) * gi * gi;
        const mh = (m[i] as number) / (1 - b1 ** t);
        const vh = (v[i] as number) / (1 - b2 ** t);
        x[i] = (x[i] as number) - (lr * mh) / (Math.sqrt(vh) + eps);
      }
    });
    const before = tf.memory().numTensors;
    const init = tf.tensor(x0);
    const w = tf.variable(init);
    init.dispose();
    const opt = tf.train.adam(lr, b1, b2, eps);
    for (const g of grads) {
      const gt = tf.tensor(g);
      opt.applyGradients([{ name: w.name, tensor: gt }]);
      gt.dispose();
    }
    expect(w).toBeAllclose(x, { rtol: 1e-5, atol: 1e-6 });
    opt.dispose();
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
