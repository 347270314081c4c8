/**
 * The native CPU path (`native/deepprob_native.c` through `src/backend/native/kernels.ts`):
 * every kernel it registers on wasm against the cpu backend's kernel, on seeded random odd shapes
 * with strides, padding and dilations, transposes and batch broadcasting; blocks of the GEMM
 * (K > 256, N > 2048, M not a multiple of the tile) and several im2col chunks; no tensor or heap
 * buffer left behind. Skipped (with the reason) only where the addon was not built.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { backendInfo } from '../../src/index.js';
import {
  MIN_NATIVE_ELEMENTS,
  nativeAddon,
  nativeCalls,
  nativeEnabled,
  setNativeEnabled,
} from '../../src/backend/native/kernels.js';
import { loadNativeAddon, nativeAddonPath } from '../../src/backend/native/load.js';
import { expectNoLeak } from '../helpers.js';
import { activeKernel, cpuKernel, randInt, randPad, randTensor, rng } from './reference.js';

const built = fs.existsSync(nativeAddonPath());
const on = built && process.env['DEEPPROB_NATIVE'] !== '0';

type Pad = 'valid' | 'same' | number | number[][];

function pick<T>(r: () => number, xs: T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

/** Compare the active (native) kernel with the cpu backend's on `inputs`, then dispose them. */
function expectSame(
  name: string,
  inputs: Record<string, tf.Tensor>,
  attrs: Record<string, unknown>,
  tol = 2e-5,
): void {
  const before = nativeCalls[name] ?? 0;
  const [want] = cpuKernel(name, inputs, attrs);
  const got = activeKernel(name, inputs, attrs);
  expect(nativeCalls[name] ?? 0).toBe(before + 1);
  expect(got.shape).toEqual(want?.shape);
  const scale = Array.from(want?.values ?? []).reduce((m, v) => Math.max(m, Math.abs(v)), 1);
  expect(got).toBeAllclose(want?.values, { rtol: tol, atol: tol * scale });
  tf.dispose([got, ...Object.values(inputs)]);
}

function randomConv(r: () => number): {
  x: number[];
  f: number[];
  strides: [number, number];
  dilations: [number, number];
  pad: Pad;
} {
  const fh = randInt(r, 1, 5);
  const fw = randInt(r, 1, 5);
  const dil: [number, number] = r() < 0.2 ? [randInt(r, 1, 2), randInt(r, 1, 2)] : [1, 1];
  const strides: [number, number] =
    dil[0] === 1 && dil[1] === 1 ? [randInt(r, 1, 3), randInt(r, 1, 3)] : [1, 1];
  const H = randInt(r, (fh - 1) * dil[0] + 1, 14);
  const W = randInt(r, (fw - 1) * dil[1] + 1, 14);
  const pad: Pad = randPad(r);
  // few input channels (direct convolutions, up to 7) and more (im2col + GEMM)
  const C = randInt(r, 1, 13);
  return {
    x: [randInt(r, 1, 4), H, W, C],
    f: [fh, fw, C, randInt(r, 1, 37)],
    strides,
    dilations: dil,
    pad,
  };
}

describe.skipIf(!on)('native CPU path (addon built)', () => {
  it('is active on wasm and reported by ready()', () => {
    expect(backendInfo()?.native).toMatch(/^native (avx512|avx2|sse), \d+ thread\(s\)$/);
  });

  it('Conv2D and FusedConv2D (bias + relu/linear) match the cpu backend', () => {
    const r = rng(11);
    expectNoLeak(() => {
      for (let i = 0; i < 25; i++) {
        const c = randomConv(r);
        const attrs = {
          strides: c.strides,
          pad: c.pad,
          dataFormat: 'NHWC',
          dilations: c.dilations,
        };
        expectSame('Conv2D', { x: randTensor(r, c.x), filter: randTensor(r, c.f) }, attrs);
        const activation = pick(r, ['relu', 'linear']);
        const bias = randTensor(r, [c.f[3] as number]);
        const x = randTensor(r, c.x);
        const filter = randTensor(r, c.f);
        // the cpu backend has no FusedConv2D: reference = relu(conv + bias) composed on cpu
        const before = nativeCalls['FusedConv2D'] ?? 0;
        const got = activeKernel('FusedConv2D', { x, filter, bias }, { ...attrs, activation });
        expect(nativeCalls['FusedConv2D']).toBe(before + 1);
        const [conv] = cpuKernel('Conv2D', { x, filter }, attrs);
        const co = c.f[3] as number;
        const b = bias.dataSync();
        const want = Float32Array.from(conv?.values ?? [], (v, j) => {
          const y = v + (b[j % co] as number);
          return activation === 'relu' ? Math.max(0, y) : y;
        });
        expect(got).toBeAllclose(want, { rtol: 2e-5, atol: 2e-5 * 30 });
        tf.dispose([got, x, filter, bias]);
      }
    });
  });

  it('Conv2DBackpropInput and Conv2DBackpropFilter match the cpu backend', () => {
    const r = rng(12);
    expectNoLeak(() => {
      for (let i = 0; i < 25; i++) {
        const c = randomConv(r);
        const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: [1, 1] };
        if (c.dilations[0] !== 1 || c.dilations[1] !== 1) continue;
        const info = tf.backend_util.computeConv2DInfo(
          c.x as [number, number, number, number],
          c.f as [number, number, number, number],
          c.strides,
          1,
          c.pad as 'same',
        );
        const dyShape = info.outShape;
        expectSame(
          'Conv2DBackpropInput',
          { dy: randTensor(r, dyShape), filter: randTensor(r, c.f) },
          { ...attrs, inputShape: c.x },
        );
        expectSame(
          'Conv2DBackpropFilter',
          { x: randTensor(r, c.x), dy: randTensor(r, dyShape) },
          { ...attrs, filterShape: c.f },
        );
      }
    });
  });

  it('covers GEMM blocking (K > 512, N > 2048, ragged tiles) and several im2col chunks', () => {
    const r = rng(13);
    expectNoLeak(() => {
      expectSame(
        'BatchMatMul',
        { a: randTensor(r, [37, 301]), b: randTensor(r, [301, 2100]) },
        { transposeA: false, transposeB: false },
        1e-4,
      );
      // A read in place by the micro-kernel (row-major, whole tiles) and packed (transposed A, the
      // ragged last tile, or with in-place reads off): M > one 96-row block, K > one 512 block
      const addon0 = nativeAddon();
      if (addon0 === undefined) throw new Error('native addon not installed');
      for (const inPlace of [1, 0] as const) {
        const prev = addon0.setAInPlace(inPlace);
        try {
          for (const transposeA of [false, true]) {
            expectSame(
              'BatchMatMul',
              {
                a: randTensor(r, transposeA ? [1100, 203] : [203, 1100]),
                b: randTensor(r, [1100, 70]),
              },
              { transposeA, transposeB: false },
              1e-4,
            );
          }
        } finally {
          addon0.setAInPlace(prev as 0 | 1);
        }
      }
      // a 512-float cap on the im2col buffer: under one image (8 x 7 pixels x 3x3x8 taps) per
      // chunk, so the forward and both gradients run over 3 chunks of one image
      const addon = nativeAddon();
      if (addon === undefined) throw new Error('native addon not installed');
      const cap = addon.setChunkFloats(512);
      try {
        const x = [3, 8, 7, 8];
        const f = [3, 3, 8, 9];
        const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1] };
        expectSame('Conv2D', { x: randTensor(r, x), filter: randTensor(r, f) }, attrs);
        expectSame(
          'Conv2DBackpropInput',
          { dy: randTensor(r, [3, 8, 7, 9]), filter: randTensor(r, f) },
          { ...attrs, inputShape: x },
        );
        expectSame(
          'Conv2DBackpropFilter',
          { x: randTensor(r, x), dy: randTensor(r, [3, 8, 7, 9]) },
          { ...attrs, filterShape: f },
        );
      } finally {
        addon.setChunkFloats(cap);
      }
    });
  });

  it('BatchMatMul (all transposes, batch broadcasting) and _FusedMatMul match', () => {
    const r = rng(14);
    expectNoLeak(() => {
      for (let i = 0; i < 24; i++) {
        const m = randInt(r, 1, 40);
        const k = randInt(r, 1, 40);
        const n = randInt(r, 1, 70);
        const transposeA = r() < 0.5;
        const transposeB = r() < 0.5;
        const batch = pick(r, [[], [1], [3], [2, 2]]);
        const bBatch = batch.length > 0 && r() < 0.3 ? [1] : batch;
        const a = randTensor(r, [...batch, ...(transposeA ? [k, m] : [m, k])]);
        const b = randTensor(r, [...bBatch, ...(transposeB ? [n, k] : [k, n])]);
        if (batch.length === 0) {
          expectSame('BatchMatMul', { a, b }, { transposeA, transposeB });
          continue;
        }
        // rank-3 operands as tfjs's engine passes them
        const a3 = tf.reshape(a, [
          -1,
          a.shape[a.shape.length - 2] as number,
          a.shape[a.shape.length - 1] as number,
        ]);
        const b3 = tf.reshape(b, [
          -1,
          b.shape[b.shape.length - 2] as number,
          b.shape[b.shape.length - 1] as number,
        ]);
        tf.dispose([a, b]);
        expectSame('BatchMatMul', { a: a3, b: b3 }, { transposeA, transposeB });
      }
      // [33 x 45]: C tiles by rows; [300 x 7]: a narrow C, computed as C^T = B^T A^T
      for (const [activation, m, n] of [
        ['relu', 33, 45],
        ['linear', 33, 45],
        ['relu', 300, 7],
        ['linear', 300, 7],
      ] as const) {
        const a = randTensor(r, [m, 70]);
        const w = randTensor(r, [70, n]);
        const bias = randTensor(r, [n]);
        const before = nativeCalls['_FusedMatMul'] ?? 0;
        const got = activeKernel(
          '_FusedMatMul',
          { a, b: w, bias },
          {
            transposeA: false,
            transposeB: false,
            activation,
          },
        );
        expect(nativeCalls['_FusedMatMul']).toBe(before + 1);
        const a3 = tf.reshape(a, [1, m, 70]);
        const w3 = tf.reshape(w, [1, 70, n]);
        const [mm] = cpuKernel(
          'BatchMatMul',
          { a: a3, b: w3 },
          { transposeA: false, transposeB: false },
        );
        tf.dispose([a3, w3]);
        const bv = bias.dataSync();
        const want = Float32Array.from(mm?.values ?? [], (v, j) => {
          const y = v + (bv[j % n] as number);
          return activation === 'relu' ? Math.max(0, y) : y;
        });
        expect(got).toBeAllclose(want, { rtol: 2e-5, atol: 1e-4 });
        tf.dispose([got, a, w, bias]);
      }
    });
  });

  it('gradients of a small conv net agree with the cpu backend end to end', async () => {
    const r = rng(15);
    const x = randTensor(r, [3, 11, 9, 8]);
    const w1 = randTensor(r, [3, 3, 8, 5]);
    const w2 = randTensor(r, [30 * 5, 4]);
    const f = (xx: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Scalar =>
      tf.sum(
        tf.square(
          tf.matMul(
            tf.reshape(tf.relu(tf.conv2d(xx as tf.Tensor4D, a as tf.Tensor4D, 2, 'same')), [3, -1]),
            b as tf.Tensor2D,
          ),
        ),
      );
    const g = tf.grads(f)([x, w1, w2]);
    const got = g.map((t) => Array.from(t.dataSync()));
    const vals = [x, w1, w2].map((t) => ({ v: t.dataSync(), s: t.shape }));
    const prev = tf.getBackend();
    await tf.setBackend('cpu');
    const want = tf.tidy(() =>
      tf
        .grads(f)(vals.map((t) => tf.tensor(t.v, t.s)))
        .map((t) => Array.from(t.dataSync())),
    );
    await tf.setBackend(prev);
    for (let i = 0; i < 3; i++) expect(got[i]).toBeAllclose(want[i], { rtol: 1e-4, atol: 1e-4 });
    tf.dispose([...g, x, w1, w2]);
  });

  it('direct and im2col convolutions both match the cpu backend (forward, both gradients)', () => {
    const addon = nativeAddon();
    if (addon === undefined) throw new Error('native addon not installed');
    const r = rng(16);
    // the same shapes through both algorithms: 1000 channels = always direct, 0 = never
    for (const limit of [1000, 0]) {
      const old = addon.setDirectMaxChannels(limit, limit);
      try {
        expectNoLeak(() => {
          // above the threading threshold (2 MFLOP; the direct algorithm only: the cpu
          // reference is slow): images split across threads; one image, its rows split across
          // threads, 45 output channels = 3 blocks
          const threaded = [
            { x: [3, 30, 29, 3], f: [5, 5, 3, 10], strides: [1, 1], pad: 'same' as Pad },
            { x: [1, 40, 37, 2], f: [3, 3, 2, 45], strides: [1, 1], pad: 'valid' as Pad },
          ];
          const shapes = [
            ...(limit > 0 ? threaded : []),
            // strided (a plane per filter column), LeNet-5's layers
            { x: [2, 32, 32, 3], f: [11, 11, 3, 9], strides: [4, 4], pad: 5 as Pad },
            { x: [4, 28, 28, 1], f: [5, 5, 1, 6], strides: [1, 1], pad: 'same' as Pad },
            { x: [4, 14, 14, 6], f: [5, 5, 6, 16], strides: [1, 1], pad: 'valid' as Pad },
          ];
          for (let i = 0; i < 6; i++) {
            const c = randomConv(r);
            shapes.push({ x: c.x, f: c.f, strides: c.strides, pad: c.pad });
          }
          for (const c of shapes) {
            const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: [1, 1] };
            expectSame('Conv2D', { x: randTensor(r, c.x), filter: randTensor(r, c.f) }, attrs);
            const info = tf.backend_util.computeConv2DInfo(
              c.x as [number, number, number, number],
              c.f as [number, number, number, number],
              c.strides as [number, number],
              1,
              c.pad as 'same',
            );
            expectSame(
              'Conv2DBackpropFilter',
              { x: randTensor(r, c.x), dy: randTensor(r, info.outShape) },
              { ...attrs, filterShape: c.f },
              1e-4,
            );
            // batches of >= 2 x threads: image groups per thread (GEMM + col2im in cache)
            expectSame(
              'Conv2DBackpropInput',
              { dy: randTensor(r, info.outShape), filter: randTensor(r, c.f) },
              { ...attrs, inputShape: c.x },
            );
          }
          // dilated few-channel convolutions (a plane per filter column)
          const x = randTensor(r, [2, 13, 12, 3]);
          const filter = randTensor(r, [3, 2, 3, 5]);
          expectSame(
            'Conv2D',
            { x, filter },
            { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [2, 3] },
          );
        });
      } finally {
        addon.setDirectMaxChannels(...old);
      }
    }
  });

  it('Relu and the ReLU gradient (threaded; NaN, signed zeros, ragged lengths) match', () => {
    const r = rng(17);
    expectNoLeak(() => {
      // below the native threshold (the replaced kernel), one thread, several threads + a tail
      for (const n of [MIN_NATIVE_ELEMENTS - 1, MIN_NATIVE_ELEMENTS + 7, 3 * 65536 + 13]) {
        const v = Float32Array.from({ length: n }, () => r() * 2 - 1);
        v[0] = NaN;
        v[1] = -0;
        v[2] = 0;
        v[3] = Infinity;
        v[4] = -Infinity;
        const x = tf.tensor1d(v);
        const dy = randTensor(r, [n]);
        const before = nativeCalls['Relu'] ?? 0;
        const [want] = cpuKernel('Relu', { x }, {});
        const got = activeKernel('Relu', { x }, {});
        expect(nativeCalls['Relu'] ?? 0).toBe(before + (n >= MIN_NATIVE_ELEMENTS ? 1 : 0));
        expect(got).toBeAllclose(want?.values, { rtol: 0, atol: 0 });
        // the gradient: dy where x > 0, 0 where x <= 0, NaN where x is NaN
        const g0 = nativeCalls['DeepprobReluGrad'] ?? 0;
        const grad = activeKernel('DeepprobReluGrad', { dy, x }, {});
        expect(nativeCalls['DeepprobReluGrad'] ?? 0).toBe(g0 + (n >= MIN_NATIVE_ELEMENTS ? 1 : 0));
        const d = dy.dataSync();
        const wantGrad = Float32Array.from(v, (xi, i) =>
          Number.isNaN(xi) ? NaN : xi > 0 ? (d[i] as number) : 0,
        );
        expect(grad).toBeAllclose(wantGrad, { rtol: 0, atol: 0 });
        tf.dispose([x, dy, got, grad]);
      }
    });
  });

  it('setNativeEnabled(false) restores the replaced kernels, true the native ones', () => {
    const a = tf.ones([4, 5]);
    const b = tf.ones([5, 3]);
    const before = nativeCalls['BatchMatMul'] ?? 0;
    setNativeEnabled(false);
    try {
      expect(nativeEnabled()).toBe(false);
      tf.matMul(a, b).dispose();
      expect(nativeCalls['BatchMatMul'] ?? 0).toBe(before);
    } finally {
      setNativeEnabled(true);
    }
    expect(nativeEnabled()).toBe(true);
    const y = tf.matMul(a, b);
    expect(nativeCalls['BatchMatMul']).toBe(before + 1);
    expect(y).toBeAllclose(new Float32Array(12).fill(5));
    tf.dispose([a, b, y]);
  });

  it('DEEPPROB_NATIVE=0 turns the path off with the reason', () => {
    const old = process.env['DEEPPROB_NATIVE'];
    process.env['DEEPPROB_NATIVE'] = '0';
    const why: { reason?: string } = {};
    expect(loadNativeAddon(why)).toBeUndefined();
    expect(why.reason).toBe('DEEPPROB_NATIVE=0');
    if (old === undefined) delete process.env['DEEPPROB_NATIVE'];
    else process.env['DEEPPROB_NATIVE'] = old;
  });
});

it.skipIf(built)('native addon not built here (no C compiler at install): wasm path only', () => {
  expect(backendInfo()?.native).toBeUndefined();
});
