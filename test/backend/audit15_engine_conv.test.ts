/**
 * Audit of the CPU engine's convolutions (issue 19) off the benchmark shapes: `tf.conv2d` over
 * every stride (1, 2, 3) x dilation (1, 2) x padding (same, valid, a number, explicit) on NHWC
 * inputs with channels 1 / 3 / 17 and batch 1 / 5, kernels larger than the input under 'same',
 * 1x1 kernels; both gradients; depthwise and separable convolutions; `tf.fused.conv2d` with a bias
 * and each activation forward and backward; max and average pooling with their gradients. Every
 * number against a float64 loop written here (`audit15_ref.ts`), some against the cpu backend.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { expectNoLeak } from '../helpers.js';
import { cpuKernel } from './reference.js';
import { nativeAddon, setNativeEnabled } from '../../src/backend/native/kernels.js';
import {
  activation,
  conv2dRef,
  depthwiseRef,
  numel,
  poolRef,
  values,
  worstRatio,
  type Pad,
} from './audit15_ref.js';

/** `tf.tensor` without rank inference from a later cast (shapes here are plain arrays). */
function tens(v: ArrayLike<number> | Int32Array, shape: number[], dtype?: tf.DataType): tf.Tensor {
  return tf.tensor(v as Float32Array, shape, dtype);
}

const RTOL = 2e-5;
const ATOL = 1e-6;

function expectClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  scale: ArrayLike<number> | undefined,
  label: string,
  rtol = RTOL,
  atol = ATOL,
): void {
  expect(worstRatio(got, want, scale, rtol, atol), label).toBeLessThanOrEqual(1);
}

/** Sum of |values| per entry of an adjoint, as its rounding scale (a loose but honest bound). */
function absScale(v: Float64Array, k: number): Float64Array {
  let m = 0;
  for (const x of v) m = Math.max(m, Math.abs(x));
  return v.map(() => Math.max(1, m) * k);
}

interface ConvCase {
  xs: number[];
  ws: number[];
  strides: [number, number];
  dil: [number, number];
  pad: Pad;
}

function checkConv(c: ConvCase, seed: number, grads: boolean): void {
  const xv = values(seed, numel(c.xs));
  const wv = values(seed + 1, numel(c.ws));
  const label = JSON.stringify(c);
  const ref0 = conv2dRef(xv, c.xs, wv, c.ws, c.strides, c.dil, c.pad);
  const gv = values(seed + 2, numel(ref0.y.shape));
  const ref = grads ? conv2dRef(xv, c.xs, wv, c.ws, c.strides, c.dil, c.pad, gv) : ref0;
  expectNoLeak(() => {
    const x = tens(xv, c.xs) as tf.Tensor4D;
    const w = tens(wv, c.ws) as tf.Tensor4D;
    const y = tf.conv2d(x, w, c.strides, c.pad as 'same', 'NHWC', c.dil);
    expect(y.shape, label).toEqual(ref.y.shape);
    expectClose(y.dataSync(), ref.y.v, ref.abs, label);
    tf.dispose(y);
    if (grads) {
      const g = tens(gv, ref.y.shape);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.conv2d(
              a as tf.Tensor4D,
              b as tf.Tensor4D,
              c.strides,
              c.pad as 'same',
              'NHWC',
              c.dil,
            ),
            g,
          ),
        ),
      )([x, w]);
      const taps = (c.ws[0] as number) * (c.ws[1] as number) * (c.ws[3] as number);
      const outs = numel(ref.y.shape) / (c.ws[3] as number);
      expectClose(
        dx?.dataSync() ?? [],
        ref.dx as Float64Array,
        absScale(ref.dx as Float64Array, 1),
        `dx ${label}`,
        1e-5 * Math.sqrt(taps),
      );
      expectClose(
        dw?.dataSync() ?? [],
        ref.dw as Float64Array,
        absScale(ref.dw as Float64Array, 1),
        `dw ${label}`,
        1e-5 * Math.sqrt(outs),
      );
      tf.dispose([g, dx as tf.Tensor, dw as tf.Tensor]);
    }
    tf.dispose([x, w]);
  });
}

const PADS: Pad[] = [
  'same',
  'valid',
  1,
  [
    [0, 0],
    [2, 0],
    [1, 3],
    [0, 0],
  ],
];

describe('engine audit: conv2d forward', () => {
  it('stride x dilation x padding x channels x batch grid matches float64', () => {
    let seed = 1000;
    let n = 0;
    for (const s of [1, 2, 3])
      for (const d of [1, 2]) {
        if (s > 1 && d > 1) continue; // tfjs refuses strides > 1 with dilations > 1
        for (const pad of PADS)
          for (const [C, CO, B] of [
            [1, 5, 1],
            [3, 8, 5],
            [17, 19, 2],
          ] as [number, number, number][]) {
            const kh = 3;
            const kw = typeof pad === 'number' ? 3 : 2; // numeric padding: square kernels only (tfjs)
            checkConv(
              { xs: [B, 9, 8, C], ws: [kh, kw, C, CO], strides: [s, s], dil: [d, d], pad },
              seed,
              false,
            );
            seed += 3;
            n++;
          }
      }
    expect(n).toBe(48);
  });

  it('asymmetric strides and dilations, 1x1 kernels, kernels larger than the input under same', () => {
    const cases: ConvCase[] = [
      { xs: [2, 7, 11, 3], ws: [2, 3, 3, 4], strides: [1, 3], dil: [1, 1], pad: 'same' },
      { xs: [2, 10, 7, 4], ws: [3, 2, 4, 5], strides: [3, 2], dil: [1, 1], pad: 'valid' },
      { xs: [1, 9, 9, 5], ws: [3, 3, 5, 2], strides: [1, 1], dil: [2, 1], pad: 'same' },
      { xs: [3, 6, 5, 17], ws: [1, 1, 17, 9], strides: [1, 1], dil: [1, 1], pad: 'valid' },
      { xs: [3, 7, 5, 13], ws: [1, 1, 13, 64], strides: [2, 2], dil: [1, 1], pad: 'same' },
      { xs: [2, 3, 2, 3], ws: [5, 5, 3, 4], strides: [1, 1], dil: [1, 1], pad: 'same' },
      { xs: [1, 2, 3, 1], ws: [7, 4, 1, 3], strides: [2, 1], dil: [1, 1], pad: 'same' },
      { xs: [1, 1, 1, 1], ws: [1, 1, 1, 1], strides: [1, 1], dil: [1, 1], pad: 'valid' },
      { xs: [1, 4, 4, 2], ws: [3, 3, 2, 3], strides: [1, 1], dil: [2, 2], pad: 'same' },
      // big enough for the im2col + GEMM path with >= 64 output channels
      { xs: [2, 13, 11, 32], ws: [3, 3, 32, 67], strides: [1, 1], dil: [1, 1], pad: 'same' },
      { xs: [1, 15, 15, 7], ws: [5, 5, 7, 65], strides: [2, 2], dil: [1, 1], pad: 'valid' },
    ];
    cases.forEach((c, i) => checkConv(c, 2000 + 3 * i, false));
  });

  it('numeric padding with dimRoundingMode ceil/round/floor sizes and fills the output as TensorFlow', () => {
    // 8 rows, 3x3 kernel, stride 2, pad 1: (8 - 3 + 2) / 2 + 1 = 4.5 -> floor 4, ceil / round 5;
    // 5 rows is the same as explicit pads (1, 2): the last window reads one more padded row
    const xs = [2, 8, 8, 3];
    const ws = [3, 3, 3, 4];
    const xv = values(71, numel(xs));
    const wv = values(72, numel(ws));
    for (const [mode, pad] of [
      [
        'floor',
        [
          [0, 0],
          [1, 0],
          [1, 0],
          [0, 0],
        ],
      ],
      [
        'ceil',
        [
          [0, 0],
          [1, 2],
          [1, 2],
          [0, 0],
        ],
      ],
      [
        'round',
        [
          [0, 0],
          [1, 2],
          [1, 2],
          [0, 0],
        ],
      ],
    ] as ['floor' | 'ceil' | 'round', Pad][]) {
      const ref = conv2dRef(xv, xs, wv, ws, [2, 2], [1, 1], pad);
      expectNoLeak(() =>
        tf.tidy(() => {
          const y = tf.conv2d(
            tens(xv, xs) as tf.Tensor4D,
            tens(wv, ws) as tf.Tensor4D,
            2,
            1,
            'NHWC',
            1,
            mode,
          );
          expect(y.shape, mode).toEqual(ref.y.shape);
          expectClose(y.dataSync(), ref.y.v, ref.abs, mode);
        }),
      );
    }
  });

  it('agrees with the cpu backend kernel on odd shapes', () => {
    for (const [xs, ws, strides, pad] of [
      [[5, 9, 7, 3], [3, 2, 3, 17], [2, 3], 'same'],
      [
        [1, 13, 13, 17],
        [4, 4, 17, 6],
        [3, 1],
        [
          [0, 0],
          [1, 2],
          [0, 1],
          [0, 0],
        ],
      ],
    ] as [number[], number[], [number, number], Pad][]) {
      const x = tens(values(31, numel(xs)), xs);
      const w = tens(values(32, numel(ws)), ws);
      const attrs = { strides, pad, dataFormat: 'NHWC', dilations: [1, 1] };
      const [want] = cpuKernel('Conv2D', { x, filter: w }, attrs);
      const got = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, strides, pad as 'same');
      expect(got).toBeAllclose(want?.values, { rtol: 1e-4, atol: 1e-5 });
      tf.dispose([x, w, got]);
    }
  });

  it('zero-size batch and an output of zero rows', () => {
    expectNoLeak(() =>
      tf.tidy(() => {
        const y = tf.conv2d(
          tf.zeros([0, 5, 5, 3]) as tf.Tensor4D,
          tf.ones([3, 3, 3, 4]) as tf.Tensor4D,
          1,
          'same',
        );
        expect(y.shape).toEqual([0, 5, 5, 4]);
        expect(y.dataSync().length).toBe(0);
        const z = tf.conv2d(
          tf.ones([2, 5, 5, 0]) as tf.Tensor4D,
          tf.ones([3, 3, 0, 4]) as tf.Tensor4D,
          1,
          'same',
        );
        expect(z.shape).toEqual([2, 5, 5, 4]);
        expect(Array.from(z.dataSync())).toEqual(new Array(200).fill(0));
        const f = tf.fused.conv2d({
          x: tf.ones([1, 3, 3, 0]) as tf.Tensor4D,
          filter: tf.ones([2, 2, 0, 2]) as tf.Tensor4D,
          strides: 1,
          pad: 'valid',
          bias: tf.tensor1d([-1, 0.5]),
          activation: 'relu',
        });
        expect(f.shape).toEqual([1, 2, 2, 2]);
        expect(Array.from(f.dataSync())).toEqual([0, 0.5, 0, 0.5, 0, 0.5, 0, 0.5]);
        // gradients over no images: dx empty, dW zeros (a sum of no terms)
        const x0 = tf.zeros([0, 4, 4, 3]);
        const w = tf.ones([3, 3, 3, 5]);
        const [dx0, dw0] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')),
        )([x0, w]);
        expect(dx0?.shape).toEqual([0, 4, 4, 3]);
        expect(Array.from(dw0?.dataSync() ?? [])).toEqual(new Array(135).fill(0));
        // depthwise over no images or no channels: empty outputs (the stock kernel trapped)
        const w2 = tf.ones([3, 3, 3, 2]);
        expect(tf.depthwiseConv2d(x0 as tf.Tensor4D, w2 as tf.Tensor4D, 1, 'same').shape).toEqual([
          0, 4, 4, 6,
        ]);
        const d0 = tf.depthwiseConv2d(
          tf.ones([1, 4, 4, 0]) as tf.Tensor4D,
          tf.ones([3, 3, 0, 2]) as tf.Tensor4D,
          1,
          'same',
        );
        expect(d0.shape).toEqual([1, 4, 4, 0]);
        // pooling and its gradients over no images
        expect(tf.maxPool(x0 as tf.Tensor4D, 3, 2, 'same').shape).toEqual([0, 2, 2, 3]);
        const gp = tf.grad((a: tf.Tensor) => tf.sum(tf.avgPool(a as tf.Tensor4D, 2, 2, 'same')))(
          x0,
        );
        expect(gp.shape).toEqual([0, 4, 4, 3]);
      }),
    );
  });
});

describe('engine audit: conv2d gradients', () => {
  it('dx and dw over strides, paddings, channels and batches match float64 adjoints', () => {
    let seed = 3000;
    for (const s of [1, 2, 3])
      for (const pad of PADS)
        for (const [C, CO, B] of [
          [1, 4, 1],
          [3, 7, 5],
          [17, 9, 2],
        ] as [number, number, number][]) {
          const kw = typeof pad === 'number' ? 3 : 2;
          checkConv(
            { xs: [B, 8, 9, C], ws: [3, kw, C, CO], strides: [s, s], dil: [1, 1], pad },
            seed,
            true,
          );
          seed += 3;
        }
  });

  it('gradients on the GEMM-sized path, kernels larger than the input and 1x1 kernels', () => {
    const cases: ConvCase[] = [
      { xs: [2, 13, 11, 32], ws: [3, 3, 32, 67], strides: [1, 1], dil: [1, 1], pad: 'same' },
      { xs: [3, 12, 12, 20], ws: [5, 5, 20, 64], strides: [2, 2], dil: [1, 1], pad: 'valid' },
      { xs: [2, 3, 2, 3], ws: [5, 5, 3, 4], strides: [1, 1], dil: [1, 1], pad: 'same' },
      { xs: [2, 5, 7, 17], ws: [1, 1, 17, 3], strides: [2, 3], dil: [1, 1], pad: 'valid' },
      {
        xs: [1, 9, 6, 2],
        ws: [2, 3, 2, 5],
        strides: [3, 2],
        dil: [1, 1],
        pad: [
          [0, 0],
          [0, 2],
          [3, 1],
          [0, 0],
        ],
      },
    ];
    cases.forEach((c, i) => checkConv(c, 4000 + 3 * i, true));
  });

  it('padding wider than the kernel (output rows entirely in the padding), forward and gradients', () => {
    const cases: ConvCase[] = [
      {
        xs: [2, 4, 5, 3],
        ws: [2, 2, 3, 6],
        strides: [1, 2],
        dil: [1, 1],
        pad: [
          [0, 0],
          [4, 5],
          [6, 3],
          [0, 0],
        ],
      },
      { xs: [1, 2, 2, 9], ws: [7, 7, 9, 65], strides: [3, 3], dil: [1, 1], pad: 'same' },
      {
        xs: [3, 3, 3, 1],
        ws: [1, 1, 1, 5],
        strides: [1, 1],
        dil: [1, 1],
        pad: [
          [0, 0],
          [2, 2],
          [2, 2],
          [0, 0],
        ],
      },
      {
        xs: [2, 5, 4, 20],
        ws: [3, 3, 20, 70],
        strides: [2, 1],
        dil: [1, 1],
        pad: [
          [0, 0],
          [3, 4],
          [4, 0],
          [0, 0],
        ],
      },
    ];
    cases.forEach((c, i) => checkConv(c, 4500 + 3 * i, true));
  });

  it('gradients agree with finite differences of the float64 forward (a small case)', () => {
    const xs = [1, 5, 4, 2];
    const ws = [3, 2, 2, 3];
    const xv = values(91, numel(xs));
    const wv = values(92, numel(ws));
    const strides: [number, number] = [2, 1];
    const pad: Pad = 'same';
    const y0 = conv2dRef(xv, xs, wv, ws, strides, [1, 1], pad);
    const gv = values(93, numel(y0.y.shape));
    const L = (x: ArrayLike<number>, w: ArrayLike<number>): number => {
      const y = conv2dRef(x, xs, w, ws, strides, [1, 1], pad).y.v;
      return y.reduce((s, v, i) => s + v * (gv[i] as number), 0);
    };
    const h = 1e-4;
    const fdW = Array.from(wv, (_, i) => {
      const p = Float64Array.from(wv);
      const m = Float64Array.from(wv);
      p[i] = (p[i] as number) + h;
      m[i] = (m[i] as number) - h;
      return (L(xv, p) - L(xv, m)) / (2 * h);
    });
    const fdX = Array.from(xv, (_, i) => {
      const p = Float64Array.from(xv);
      const m = Float64Array.from(xv);
      p[i] = (p[i] as number) + h;
      m[i] = (m[i] as number) - h;
      return (L(p, wv) - L(m, wv)) / (2 * h);
    });
    expectNoLeak(() => {
      const x = tens(xv, xs);
      const w = tens(wv, ws);
      const g = tens(gv, y0.y.shape);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad), g)),
      )([x, w]);
      expect(dx).toBeAllclose(fdX, { rtol: 1e-4, atol: 1e-5 });
      expect(dw).toBeAllclose(fdW, { rtol: 1e-4, atol: 1e-5 });
      tf.dispose([x, w, g, dx as tf.Tensor, dw as tf.Tensor]);
    });
  });
});

describe('engine audit: depthwise and separable convolutions', () => {
  it('depthwise forward over multipliers, strides, dilations, paddings and its gradients', () => {
    let seed = 5000;
    for (const [xs, ws, strides, dil, pad] of [
      [[2, 9, 8, 3], [3, 3, 3, 1], [1, 1], [1, 1], 'same'],
      [[1, 9, 8, 3], [3, 2, 3, 2], [2, 2], [1, 1], 'valid'],
      [[3, 10, 7, 5], [2, 3, 5, 2], [3, 3], [1, 1], 'same'],
      [[2, 9, 9, 4], [3, 3, 4, 1], [1, 1], [2, 2], 'same'],
      [[1, 8, 8, 17], [1, 3, 17, 1], [2, 2], [1, 1], 'same'],
      [[2, 7, 6, 2], [3, 3, 2, 3], [1, 1], [1, 1], 1],
      [
        [1, 6, 7, 3],
        [2, 2, 3, 1],
        [2, 1],
        [1, 1],
        [
          [0, 0],
          [1, 2],
          [0, 1],
          [0, 0],
        ],
      ],
      [[2, 3, 3, 2], [5, 5, 2, 1], [1, 1], [1, 1], 'same'],
    ] as [number[], number[], [number, number], [number, number], Pad][]) {
      const xv = values(seed, numel(xs));
      const wv = values(seed + 1, numel(ws));
      const r0 = depthwiseRef(xv, xs, wv, ws, strides, dil, pad);
      const gv = values(seed + 2, numel(r0.y.shape));
      const r = depthwiseRef(xv, xs, wv, ws, strides, dil, pad, gv);
      const label = JSON.stringify([xs, ws, strides, dil, pad]);
      seed += 3;
      expectNoLeak(() => {
        const x = tens(xv, xs) as tf.Tensor4D;
        const w = tens(wv, ws) as tf.Tensor4D;
        const y = tf.depthwiseConv2d(x, w, strides, pad as 'same', 'NHWC', dil);
        expect(y.shape, label).toEqual(r.y.shape);
        expect(y, label).toBeAllclose(r.y.v, { rtol: 1e-5, atol: 1e-5 });
        tf.dispose(y);
        if (dil[0] === 1 && dil[1] === 1) {
          const g = tens(gv, r.y.shape);
          const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
            tf.sum(
              tf.mul(
                tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad as 'same'),
                g,
              ),
            ),
          )([x, w]);
          expect(dx, `dx ${label}`).toBeAllclose(r.dx as Float64Array, { rtol: 1e-4, atol: 1e-5 });
          expect(dw, `dw ${label}`).toBeAllclose(r.dw as Float64Array, { rtol: 1e-4, atol: 1e-4 });
          tf.dispose([g, dx as tf.Tensor, dw as tf.Tensor]);
        }
        tf.dispose([x, w]);
      });
    }
  });

  it('separableConv2d = depthwise then 1x1 pointwise, forward and gradients', () => {
    const xs = [2, 9, 7, 3];
    const dws = [3, 3, 3, 2];
    const pws = [1, 1, 6, 17];
    const xv = values(61, numel(xs));
    const dwv = values(62, numel(dws));
    const pwv = values(63, numel(pws));
    for (const [strides, pad] of [
      [[1, 1], 'same'],
      [[2, 2], 'valid'],
    ] as [[number, number], Pad][]) {
      const d = depthwiseRef(xv, xs, dwv, dws, strides, [1, 1], pad);
      const p = conv2dRef(d.y.v, d.y.shape, pwv, pws, [1, 1], [1, 1], 'valid');
      const gv = values(64, numel(p.y.shape));
      const p2 = conv2dRef(d.y.v, d.y.shape, pwv, pws, [1, 1], [1, 1], 'valid', gv);
      const d2 = depthwiseRef(xv, xs, dwv, dws, strides, [1, 1], pad, p2.dx);
      expectNoLeak(() => {
        const x = tens(xv, xs) as tf.Tensor4D;
        const dw = tens(dwv, dws) as tf.Tensor4D;
        const pw = tens(pwv, pws) as tf.Tensor4D;
        const g = tens(gv, p.y.shape);
        const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor): tf.Tensor =>
          tf.separableConv2d(
            a as tf.Tensor4D,
            b as tf.Tensor4D,
            c as tf.Tensor4D,
            strides,
            pad as 'same',
          );
        const y = f(x, dw, pw);
        expect(y.shape).toEqual(p.y.shape);
        expect(y).toBeAllclose(p.y.v, { rtol: 1e-5, atol: 1e-5 });
        const [gx, gdw, gpw] = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
          tf.sum(tf.mul(f(a, b, c), g)),
        )([x, dw, pw]);
        expect(gx).toBeAllclose(d2.dx as Float64Array, { rtol: 1e-4, atol: 1e-4 });
        expect(gdw).toBeAllclose(d2.dw as Float64Array, { rtol: 1e-4, atol: 1e-4 });
        expect(gpw).toBeAllclose(p2.dw as Float64Array, { rtol: 1e-4, atol: 1e-4 });
        tf.dispose([x, dw, pw, g, y, gx as tf.Tensor, gdw as tf.Tensor, gpw as tf.Tensor]);
      });
    }
  });
});

const ACTIVATIONS = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid', 'prelu'] as const;

describe('engine audit: fused conv2d + bias + activation', () => {
  for (const act of ACTIVATIONS) {
    it(`${act}: forward and backward (x, W, bias) match float64`, () => {
      let seed = 6000;
      for (const c of [
        { xs: [2, 7, 6, 3], ws: [3, 3, 3, 5], strides: [1, 1], dil: [1, 1], pad: 'same' },
        { xs: [1, 9, 8, 17], ws: [2, 3, 17, 9], strides: [2, 3], dil: [1, 1], pad: 'valid' },
        {
          xs: [5, 5, 5, 1],
          ws: [1, 1, 1, 4],
          strides: [1, 1],
          dil: [1, 1],
          pad: [
            [0, 0],
            [1, 0],
            [0, 2],
            [0, 0],
          ],
        },
        { xs: [2, 11, 9, 16], ws: [3, 3, 16, 64], strides: [1, 1], dil: [1, 1], pad: 'same' },
      ] as ConvCase[]) {
        const CO = c.ws[3] as number;
        const xv = values(seed, numel(c.xs)).map((v) => 2 * v);
        const wv = values(seed + 1, numel(c.ws));
        const bv = values(seed + 2, CO);
        const pv = values(seed + 3, CO).map((v) => 0.5 * v);
        seed += 5;
        const alpha = 0.3;
        const fn = activation(act, alpha, (i) => pv[i % CO] as number);
        const r0 = conv2dRef(xv, c.xs, wv, c.ws, c.strides, c.dil, c.pad);
        const z = r0.y.v.map((v, i) => v + (bv[i % CO] as number));
        const gv = values(seed + 4, z.length);
        const dz = z.map((v, i) => (gv[i] as number) * fn.df(v, i));
        const r = conv2dRef(xv, c.xs, wv, c.ws, c.strides, c.dil, c.pad, dz);
        const db = new Float64Array(CO);
        dz.forEach((v, i) => (db[i % CO] = (db[i % CO] as number) + v));
        const label = `${act} ${JSON.stringify(c)}`;
        expectNoLeak(() => {
          const x = tens(xv, c.xs);
          const w = tens(wv, c.ws);
          const bias = tens(bv, [CO]);
          const prelu = tens(pv, [CO]);
          const g = tens(gv, r0.y.shape);
          const run = (a: tf.Tensor, b: tf.Tensor, bb: tf.Tensor): tf.Tensor =>
            tf.fused.conv2d({
              x: a as tf.Tensor4D,
              filter: b as tf.Tensor4D,
              strides: c.strides,
              pad: c.pad as 'same',
              bias: bb,
              activation: act,
              ...(act === 'prelu' ? { preluActivationWeights: prelu } : {}),
              ...(act === 'leakyrelu' ? { leakyreluAlpha: alpha } : {}),
            });
          const y = run(x, w, bias);
          expectClose(
            y.dataSync(),
            z.map((v, i) => fn.f(v, i)),
            r0.abs.map((v) => v + 1),
            label,
          );
          const [gx, gw, gb] = tf.grads((a: tf.Tensor, b: tf.Tensor, bb: tf.Tensor) =>
            tf.sum(tf.mul(run(a, b, bb), g)),
          )([x, w, bias]);
          expectClose(
            gx?.dataSync() ?? [],
            r.dx as Float64Array,
            absScale(r.dx as Float64Array, 1),
            `dx ${label}`,
            1e-4,
          );
          expectClose(
            gw?.dataSync() ?? [],
            r.dw as Float64Array,
            absScale(r.dw as Float64Array, 1),
            `dw ${label}`,
            1e-4,
          );
          expectClose(gb?.dataSync() ?? [], db, absScale(db, 1), `db ${label}`, 1e-4);
          tf.dispose([x, w, bias, prelu, g, y, gx as tf.Tensor, gw as tf.Tensor, gb as tf.Tensor]);
        });
      }
    });
  }
});

describe('engine audit: pooling', () => {
  it('max and avg pooling forward and gradient over windows, strides and paddings', () => {
    let seed = 7000;
    for (const [xs, k, strides, pad] of [
      [[2, 8, 8, 3], [2, 2], [2, 2], 'valid'],
      [[1, 9, 7, 17], [3, 3], [2, 2], 'same'],
      [[3, 7, 9, 2], [3, 2], [1, 3], 'valid'],
      [[2, 5, 5, 1], [5, 5], [1, 1], 'same'],
      [[1, 6, 6, 4], [1, 1], [2, 2], 'valid'],
      [[2, 7, 7, 5], [3, 3], [3, 3], 'same'],
      [[1, 8, 5, 3], [2, 2], [2, 2], 1], // numeric padding: square windows, equal strides (tfjs)
      [[4, 11, 11, 16], [3, 3], [2, 2], 'valid'],
    ] as [number[], [number, number], [number, number], Pad][]) {
      for (const kind of ['max', 'avg'] as const) {
        const xv = values(seed++, numel(xs));
        const r0 = poolRef(xv, xs, k, strides, pad, kind);
        const gv = values(seed++, numel(r0.y.shape));
        const r = poolRef(xv, xs, k, strides, pad, kind, gv);
        const label = `${kind} ${JSON.stringify([xs, k, strides, pad])}`;
        expectNoLeak(() => {
          const x = tens(xv, xs) as tf.Tensor4D;
          const g = tens(gv, r.y.shape);
          const f = (a: tf.Tensor): tf.Tensor =>
            kind === 'max'
              ? tf.maxPool(a as tf.Tensor4D, k, strides, pad as 'same')
              : tf.avgPool(a as tf.Tensor4D, k, strides, pad as 'same');
          const y = f(x);
          expect(y.shape, label).toEqual(r.y.shape);
          expect(y, label).toBeAllclose(r.y.v, { rtol: 1e-5, atol: 1e-6 });
          const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(f(a), g)))(x);
          expect(dx, `grad ${label}`).toBeAllclose(r.dx as Float64Array, {
            rtol: 1e-5,
            atol: 1e-5,
          });
          tf.dispose([x, g, y, dx]);
        });
      }
    }
  });
});

describe('engine audit: fused depthwise conv2d + bias + activation', () => {
  it('every activation, strides, paddings, multipliers: forward and gradients match float64', () => {
    let seed = 8000;
    for (const act of ACTIVATIONS) {
      for (const [xs, ws, strides, pad] of [
        [[2, 9, 8, 3], [3, 3, 3, 2], [1, 1], 'same'],
        [[1, 8, 9, 5], [1, 3, 5, 1], [2, 2], 'same'],
        [[2, 7, 7, 4], [2, 2, 4, 1], [1, 1], 'valid'],
      ] as [number[], number[], [number, number], Pad][]) {
        const CO = (ws[2] as number) * (ws[3] as number);
        const xv = values(seed++, numel(xs)).map((v) => 2 * v);
        const wv = values(seed++, numel(ws));
        const bv = values(seed++, CO);
        const pv = values(seed++, CO).map((v) => 0.5 * v);
        const alpha = 0.25;
        const fn = activation(act, alpha, (i) => pv[i % CO] as number);
        const r0 = depthwiseRef(xv, xs, wv, ws, strides, [1, 1], pad);
        const z = r0.y.v.map((v, i) => v + (bv[i % CO] as number));
        const gv = values(seed++, z.length);
        const dz = z.map((v, i) => (gv[i] as number) * fn.df(v, i));
        const r = depthwiseRef(xv, xs, wv, ws, strides, [1, 1], pad, dz);
        const db = new Float64Array(CO);
        dz.forEach((v, i) => (db[i % CO] = (db[i % CO] as number) + v));
        const label = `${act} ${JSON.stringify([xs, ws, strides, pad])}`;
        expectNoLeak(() => {
          const x = tens(xv, xs);
          const w = tens(wv, ws);
          const bias = tens(bv, [CO]);
          const prelu = tens(pv, [CO]);
          const g = tens(gv, r0.y.shape);
          const run = (a: tf.Tensor, b: tf.Tensor, bb: tf.Tensor): tf.Tensor =>
            tf.fused.depthwiseConv2d({
              x: a as tf.Tensor4D,
              filter: b as tf.Tensor4D,
              strides,
              pad: pad as 'same',
              bias: bb,
              activation: act,
              ...(act === 'prelu' ? { preluActivationWeights: prelu } : {}),
              ...(act === 'leakyrelu' ? { leakyreluAlpha: alpha } : {}),
            });
          const y = run(x, w, bias);
          expect(y.shape, label).toEqual(r0.y.shape);
          expect(y, label).toBeAllclose(
            z.map((v, i) => fn.f(v, i)),
            { rtol: 1e-5, atol: 1e-5 },
          );
          const [gx, gw, gb] = tf.grads((a: tf.Tensor, b: tf.Tensor, bb: tf.Tensor) =>
            tf.sum(tf.mul(run(a, b, bb), g)),
          )([x, w, bias]);
          expect(gx, `dx ${label}`).toBeAllclose(r.dx as Float64Array, { rtol: 1e-4, atol: 1e-4 });
          expect(gw, `dw ${label}`).toBeAllclose(r.dw as Float64Array, { rtol: 1e-4, atol: 1e-4 });
          expect(gb, `db ${label}`).toBeAllclose(db, { rtol: 1e-4, atol: 1e-4 });
          tf.dispose([x, w, bias, prelu, g, y, gx as tf.Tensor, gw as tf.Tensor, gb as tf.Tensor]);
        });
      }
    }
  });
});

describe('engine audit: native convolution algorithms agree', () => {
  const addon = nativeAddon();
  it.skipIf(addon === undefined)(
    'direct convolutions (DEEPPROB_NATIVE_DIRECT, strided too) and im2col + GEMM both match float64',
    () => {
      const cases: ConvCase[] = [
        { xs: [2, 9, 8, 5], ws: [3, 3, 5, 7], strides: [1, 1], dil: [1, 1], pad: 'same' },
        { xs: [3, 11, 10, 17], ws: [3, 2, 17, 9], strides: [2, 3], dil: [1, 1], pad: 'valid' },
        { xs: [1, 9, 9, 3], ws: [3, 3, 3, 20], strides: [1, 1], dil: [2, 2], pad: 'same' },
        {
          xs: [2, 8, 9, 13],
          ws: [5, 5, 13, 33],
          strides: [1, 2],
          dil: [1, 1],
          pad: [
            [0, 0],
            [1, 2],
            [2, 1],
            [0, 0],
          ],
        },
      ];
      const previous = addon?.setDirectMaxChannels(64, 64) ?? [7, 0];
      try {
        cases.forEach((c, i) => checkConv(c, 9000 + 3 * i, c.dil[0] === 1));
        addon?.setDirectMaxChannels(0, 0);
        cases.forEach((c, i) => checkConv(c, 9000 + 3 * i, c.dil[0] === 1));
      } finally {
        addon?.setDirectMaxChannels(previous[0], previous[1]);
      }
    },
  );
});

describe('engine audit: the wasm path (native kernels off) on the cases it got wrong', () => {
  it('SAME windows that never reach the last rows, numeric padding with ceil rounding', () => {
    const native = nativeAddon() !== undefined;
    if (native) setNativeEnabled(false);
    try {
      const cases: ConvCase[] = [
        { xs: [1, 8, 9, 1], ws: [3, 2, 1, 4], strides: [3, 3], dil: [1, 1], pad: 'same' },
        { xs: [2, 8, 8, 3], ws: [1, 3, 3, 5], strides: [2, 2], dil: [1, 1], pad: 'same' },
        { xs: [2, 10, 7, 4], ws: [2, 2, 4, 70], strides: [3, 3], dil: [1, 1], pad: 'same' },
        { xs: [1, 9, 8, 5], ws: [3, 3, 5, 6], strides: [2, 2], dil: [1, 1], pad: 1 },
      ];
      cases.forEach((c, i) => checkConv(c, 9500 + 3 * i, true));
      const xs = [2, 8, 8, 3];
      const ws = [3, 3, 3, 4];
      const xv = values(81, numel(xs));
      const wv = values(82, numel(ws));
      const ref = conv2dRef(
        xv,
        xs,
        wv,
        ws,
        [2, 2],
        [1, 1],
        [
          [0, 0],
          [1, 2],
          [1, 2],
          [0, 0],
        ],
      );
      expectNoLeak(() =>
        tf.tidy(() => {
          const y = tf.conv2d(
            tens(xv, xs) as tf.Tensor4D,
            tens(wv, ws) as tf.Tensor4D,
            2,
            1,
            'NHWC',
            1,
            'ceil',
          );
          expect(y.shape).toEqual(ref.y.shape);
          expectClose(y.dataSync(), ref.y.v, ref.abs, 'ceil (wasm path)');
        }),
      );
    } finally {
      if (native) setNativeEnabled(true);
    }
  });
});
