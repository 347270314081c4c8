import * as tf from '@tensorflow/tfjs';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { setNativeEnabled } from '../../src/backend/native/kernels.js';
import { backendInfo } from '../../src/index.js';
import { cpuFallbackKernel } from '../../src/backend/cpu_fallback.js';
import {
  backpropFilterPath,
  useGemm as filterUsesGemm,
} from '../../src/backend/kernels/conv2d_backprop_filter.js';
import {
  backpropInputPath,
  useGemm as inputUsesGemm,
} from '../../src/backend/kernels/conv2d_backprop_input.js';
import { simdKernels } from '../../src/backend/simd/loader.js';
import {
  activeKernel,
  cpuKernel,
  randInt,
  randPad,
  randTensor,
  rng,
  simdCalls,
  type ConvPad,
} from './reference.js';

// The wasm kernel pack's own paths (browsers, machines without a compiler): with the native
// addon built, its kernels are switched off in this file (test/backend/native.test.ts covers them).
beforeAll(() => setNativeEnabled(false));
afterAll(() => setNativeEnabled(true));

type Pad = ConvPad;

function randomCase(r: () => number): {
  xShape: [number, number, number, number];
  filterShape: [number, number, number, number];
  strides: [number, number];
  pad: Pad;
} {
  const kh = randInt(r, 1, 5);
  const kw = randInt(r, 1, 5);
  const sh = randInt(r, 1, 3);
  const sw = randInt(r, 1, 3);
  const H = randInt(r, kh, 13);
  const W = randInt(r, kw, 13);
  const pad: Pad = randPad(r);
  return {
    xShape: [randInt(r, 1, 5), H, W, randInt(r, 1, 4)],
    filterShape: [kh, kw, randInt(r, 1, 4), randInt(r, 1, 5)],
    strides: [sh, sw],
    pad,
  };
}

/**
 * Run the wasm `kernel` under each formulation of `path` ('conv', 'gemm', 'auto') and compare
 * with the cpu backend's result `want`; no tensor and no backend data id may be left behind.
 */
function expectEveryMode(
  path: { mode: 'auto' | 'gemm' | 'conv' },
  kernel: string,
  inputs: Record<string, tf.Tensor>,
  attrs: Record<string, unknown>,
  want: { shape: number[]; values: ArrayLike<number> } | undefined,
  label: unknown,
): void {
  for (const mode of ['conv', 'gemm', 'auto'] as const) {
    path.mode = mode;
    try {
      const before = tf.memory().numTensors;
      const ids = tf.engine().backend.numDataIds();
      const got = activeKernel(kernel, inputs, attrs);
      expect(got.shape, JSON.stringify(label)).toEqual(want?.shape);
      expect(got, `${mode} ${JSON.stringify(label)}`).toBeAllclose(want?.values, {
        rtol: 1e-4,
        atol: 1e-4,
      });
      got.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(tf.engine().backend.numDataIds()).toBe(ids); // no leaked temporaries
    } finally {
      path.mode = 'auto';
    }
  }
}

describe('kernel pack on wasm', () => {
  it('is active by default', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(backendInfo()?.kernels).toBe('fast');
  });
});

describe('Conv2DBackpropFilter', () => {
  it('matches the cpu backend on random shapes, strides and paddings', () => {
    const r = rng(1234);
    for (let trial = 0; trial < 60; trial++) {
      const c = randomCase(r);
      c.filterShape[2] = c.xShape[3];
      const info = tf.backend_util.computeConv2DInfo(c.xShape, c.filterShape, c.strides, 1, c.pad);
      if (info.outHeight <= 0 || info.outWidth <= 0) continue;
      const x = randTensor(r, c.xShape);
      const dy = randTensor(r, info.outShape);
      const attrs = {
        strides: c.strides,
        pad: c.pad,
        dataFormat: 'NHWC',
        filterShape: c.filterShape,
      };
      const [want] = cpuKernel('Conv2DBackpropFilter', { x, dy }, attrs);
      // batch-as-channels convolution, im2colᵀ + GEMM, and the shape-based choice
      expectEveryMode(backpropFilterPath, 'Conv2DBackpropFilter', { x, dy }, attrs, want, c);
      x.dispose();
      dy.dispose();
    }
  });

  it('single-input-channel SIMD path: matches the cpu backend, any padding and channel count', () => {
    const r = rng(99);
    const be = tf.backend() as unknown as { dataIdMap: { numDataIds(): number } };
    for (let trial = 0; trial < 36; trial++) {
      // trials >= 24: LeNet's 5x5 kernels with 5-8 output channels (the unrolled SIMD path)
      const lenet = trial >= 24;
      const kh = lenet ? 5 : randInt(r, 1, 5);
      const kw = lenet ? 5 : randInt(r, 1, 5);
      const xShape: [number, number, number, number] = [
        randInt(r, 1, 4),
        randInt(r, kh, 17),
        randInt(r, kw, 17),
        1,
      ];
      const filterShape: [number, number, number, number] = [
        kh,
        kw,
        1,
        lenet ? randInt(r, 5, 8) : randInt(r, 1, 9),
      ];
      const p = (): number => randInt(r, 0, 3);
      const pad: Pad =
        trial % 3 === 0
          ? 'valid'
          : trial % 3 === 1
            ? 'same'
            : [
                [0, 0],
                [p(), p()],
                [p(), p()],
                [0, 0],
              ];
      const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, 1, 1, pad);
      if (info.outHeight <= 0 || info.outWidth <= 0) continue;
      const x = randTensor(r, xShape);
      const dy = randTensor(r, info.outShape);
      const attrs = { strides: 1, pad, dataFormat: 'NHWC', filterShape };
      const ids = be.dataIdMap.numDataIds();
      const got = activeKernel('Conv2DBackpropFilter', { x, dy }, attrs);
      const [want] = cpuKernel('Conv2DBackpropFilter', { x, dy }, attrs);
      expect(got.shape).toEqual(want?.shape);
      expect(got).toBeAllclose(want?.values, { rtol: 1e-5, atol: 1e-5 });
      got.dispose();
      expect(be.dataIdMap.numDataIds()).toBe(ids); // scratch released
      tf.dispose([x, dy]);
    }
  });

  it('gives the gradient of tf.conv2d for a LeNet-sized layer', () => {
    const r = rng(7);
    const x = randTensor(r, [4, 14, 14, 6]) as tf.Tensor4D;
    const w = randTensor(r, [5, 5, 6, 16]) as tf.Tensor4D;
    const dy = randTensor(r, [4, 10, 10, 16]);
    const g = tf.grad(
      (wv: tf.Tensor) =>
        tf
          .conv2d(x, wv as tf.Tensor4D, 1, 'valid')
          .mul(dy)
          .sum() as tf.Scalar,
    )(w);
    const [want] = cpuKernel(
      'Conv2DBackpropFilter',
      { x, dy },
      {
        strides: [1, 1],
        pad: 'valid',
        dataFormat: 'NHWC',
        filterShape: [5, 5, 6, 16],
      },
    );
    expect(g).toBeAllclose(want?.values, { rtol: 1e-4, atol: 1e-3 });
    tf.dispose([x, w, dy, g]);
  });
});

describe('Conv2DBackpropInput', () => {
  it('matches the cpu backend on random shapes, strides and paddings, by either formulation', () => {
    const r = rng(99);
    let tested = 0;
    for (let trial = 0; trial < 60; trial++) {
      const c = randomCase(r);
      c.filterShape[2] = c.xShape[3];
      const info = tf.backend_util.computeConv2DInfo(c.xShape, c.filterShape, c.strides, 1, c.pad);
      if (info.outHeight <= 0 || info.outWidth <= 0) continue;
      const filter = randTensor(r, c.filterShape);
      const dy = randTensor(r, info.outShape);
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.xShape };
      const [want] = cpuKernel('Conv2DBackpropInput', { dy, filter }, attrs);
      // the full correlation, GEMM + SIMD col2im, and the shape-based choice between them
      expectEveryMode(backpropInputPath, 'Conv2DBackpropInput', { dy, filter }, attrs, want, c);
      tf.dispose([filter, dy]);
      tested++;
    }
    expect(tested).toBeGreaterThan(40);
  });

  it('the GEMM paths run col2im / im2col on the SIMD module', () => {
    const k = simdKernels();
    expect(k).toBeDefined();
    const dy = tf.randomNormal([4, 8, 8, 16], 0, 1, 'float32', 3);
    const filter = tf.randomNormal([5, 5, 6, 16], 0, 1, 'float32', 4);
    const used = simdCalls(k as NonNullable<typeof k>, () => {
      tf.conv2dTranspose(
        dy as tf.Tensor4D,
        filter as tf.Tensor4D,
        [4, 12, 12, 6],
        1,
        'valid',
      ).dispose();
    });
    expect(used).toContain('col2im_add');
    // and the filter gradient of an RGB first layer gathers im2colᵀ there
    const x = tf.randomNormal([2, 12, 12, 3], 0, 1, 'float32', 5);
    const dy1 = tf.randomNormal([2, 8, 8, 16], 0, 1, 'float32', 6);
    const usedF = simdCalls(k as NonNullable<typeof k>, () => {
      (
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x, dy: dy1 },
            { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [5, 5, 3, 16] },
          ) as tf.Tensor
      ).dispose();
    });
    // im2colᵀ + XNNPACK, or (SIMD GEMM) the row-major im2col read transposed by the module's gemm
    expect(usedF.includes('im2col_t') || (usedF.includes('im2col') && usedF.includes('gemm'))).toBe(
      true,
    );
    tf.dispose([dy, filter, x, dy1]);
  });
});

describe('cpu fallback kernels (used with DEEPPROB_KERNELS=stock)', () => {
  it('run the cpu kernel on copies of wasm tensors and return wasm tensors', () => {
    const r = rng(31);
    const x = randTensor(r, [2, 7, 7, 3]);
    const dy = randTensor(r, [2, 3, 3, 4]);
    const attrs = { strides: [2, 2], pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] };
    const kernel = cpuFallbackKernel('Conv2DBackpropFilter');
    const before = tf.memory().numTensors;
    const out = kernel({
      inputs: { x, dy },
      attrs: attrs as unknown as tf.NamedAttrMap,
      backend: tf.backend(),
    }) as tf.TensorInfo;
    const got = tf.engine().makeTensorFromTensorInfo(out);
    const [want] = cpuKernel('Conv2DBackpropFilter', { x, dy }, attrs);
    expect(got).toBeAllclose(want?.values, { rtol: 1e-5, atol: 1e-5 });
    got.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, dy]);
  });
});

describe('choice of the convolution-gradient formulation', () => {
  const info = (x: number[], f: number[], s: number, pad: 'valid' | 'same') =>
    tf.backend_util.computeConv2DInfo(
      x as [number, number, number, number],
      f as [number, number, number, number],
      s,
      1,
      pad,
    );
  it('takes the GEMM where the measurements favour it, the convolution elsewhere', () => {
    const lenetConv2 = info([256, 14, 14, 6], [5, 5, 6, 16], 1, 'valid');
    expect(inputUsesGemm(lenetConv2)).toBe(true); // 14x14 from 10x10: ~2x wasted work
    expect(filterUsesGemm(lenetConv2)).toBe(false);
    const same3x3 = info([256, 14, 14, 16], [3, 3, 16, 16], 1, 'same');
    expect(inputUsesGemm(same3x3)).toBe(false);
    expect(filterUsesGemm(same3x3)).toBe(false);
    const rgb = info([64, 32, 32, 3], [5, 5, 3, 32], 1, 'valid');
    expect(filterUsesGemm(rgb)).toBe(true);
    expect(filterUsesGemm(info([32, 16, 16, 32], [3, 3, 32, 64], 2, 'same'))).toBe(true);
  });
  it('keeps the convolution when the im2col matrix would exceed 2^25 values', () => {
    // 224x224 images, 3x3x64: 8 * 224 * 224 * 576 = 231M values
    const big = info([8, 224, 224, 64], [3, 3, 64, 128], 1, 'same');
    expect(inputUsesGemm(big)).toBe(false);
    expect(filterUsesGemm(big)).toBe(false);
  });
});
