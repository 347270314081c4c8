import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setNativeEnabled } from '../../src/backend/native/kernels.js';
import { backendInfo, describeBackend } from '../../src/index.js';
import { gemmShape, simdMatMul } from '../../src/backend/kernels/simd_gemm.js';
import type { WasmBackend } from '../../src/backend/kernels/wasm_util.js';
import {
  relaxedSimdSupported,
  simdKernels,
  type GemmLoopArgs,
  type SimdExports,
  type SimdKernels,
} from '../../src/backend/simd/loader.js';
import {
  SIMD_WASM_PLAIN,
  SIMD_WASM_RELAXED_PLAIN,
  SIMD_WASM_RELAXED_SHARED,
  SIMD_WASM_SHARED,
} from '../../src/backend/simd/module.generated.js';
import {
  runSplit,
  splitGemm,
  splitRange,
  mapShared,
  startGemmPool,
  stopGemmPool,
} from '../../src/backend/simd/pool.js';
import { imagesShared } from '../../src/backend/kernels/conv2d_simd.js';
import { backpropFilterPath } from '../../src/backend/kernels/conv2d_backprop_filter.js';
import { backpropInputPath } from '../../src/backend/kernels/conv2d_backprop_input.js';
import {
  activeKernel,
  cpuKernel,
  randInt,
  randPad,
  randTensor,
  rng,
  simdCalls,
} from './reference.js';

// The wasm path's GEMM (browsers, machines without a compiler): the native addon's kernels are
// switched off in this file (test/backend/native.test.ts covers them).
beforeAll(() => setNativeEnabled(false));
afterAll(() => setNativeEnabled(true));

const U = 2 ** -24; // float32 unit roundoff

/**
 * `act(op(A) op(B) + bias)` in float64, and the worst-case float32 error bound of each element
 * for any summation order, fused or not: `(K + 2) u sum_k |a_ik b_kj| + u |bias_j|`.
 */
function reference(
  a: Float32Array,
  b: Float32Array,
  M: number,
  N: number,
  K: number,
  tA: boolean,
  tB: boolean,
  bias?: Float32Array,
): { want: Float64Array; tol: Float64Array } {
  const want = new Float64Array(M * N);
  const tol = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = bias?.[j] ?? 0;
      let abs = 0;
      for (let k = 0; k < K; k++) {
        const x = (tA ? a[k * M + i] : a[i * K + k]) as number;
        const y = (tB ? b[j * K + k] : b[k * N + j]) as number;
        s += x * y;
        abs += Math.abs(x * y);
      }
      want[i * N + j] = s;
      tol[i * N + j] = (K + 2) * U * abs + U * Math.abs(bias?.[j] ?? 0) + 1e-30;
    }
  }
  return { want, tol };
}

function applyAct(v: number, act: string, alpha: number): number {
  if (act === 'relu') return v < 0 ? 0 : v;
  if (act === 'relu6') return Math.min(Math.max(v, 0), 6);
  if (act === 'leakyrelu') return v < 0 ? alpha * v : v;
  return v;
}

/** Shapes around the micro-tile (4 x 8), the K block (512) and the A block (120 rows). */
const CASES: [M: number, N: number, K: number][] = [
  [1, 1, 1],
  [1, 9, 3],
  [7, 1, 5],
  [5, 7, 2],
  [4, 8, 512],
  [13, 17, 513],
  [121, 9, 31],
  [250, 33, 1100],
  [37, 131, 19],
];

function fill(r: () => number, n: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = r() * 2 - 1;
  return v;
}

/** A standalone instance of a module variant on its own memory (no tfjs), for the pool tests. */
function standalone(b64: string, shared: boolean): SimdKernels {
  const bytes = Buffer.from(b64, 'base64');
  const memory = new WebAssembly.Memory({ initial: 512, maximum: 65536, shared });
  const module = new WebAssembly.Module(bytes);
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return {
    fns: instance.exports as unknown as SimdExports,
    tables: 0,
    relaxed: (instance.exports as unknown as SimdExports).gemm_fused_madd() === 1,
    module,
    memory,
    backendThreads: 1,
  };
}

/** Run the module's `gemm` on a standalone memory through `runSplit` and return C. */
function gemmOnMemory(
  k: SimdKernels,
  a: Float32Array,
  b: Float32Array,
  bias: Float32Array | undefined,
  M: number,
  N: number,
  K: number,
  tA: boolean,
  tB: boolean,
  act: number,
  alpha: number,
): Float32Array {
  const heap = new Float32Array(k.memory.buffer);
  const pa = 1024; // floats
  const pb = pa + a.length + 16;
  const pbias = pb + b.length + 16;
  const pc = pbias + N + 16;
  const ps = pc + M * N + 16;
  heap.set(a, pa);
  heap.set(b, pb);
  if (bias !== undefined) heap.set(bias, pbias);
  heap.fill(NaN, pc, pc + M * N); // every element must be written
  const panels = Math.ceil(N / 8);
  runSplit(k, M, panels, k.fns.gemm_mr(), M * N * K, (shares) => {
    let off = ps;
    return shares.map(([m0, m1, p0, p1]): GemmLoopArgs => {
      const s = off;
      off += k.fns.gemm_scratch_floats(p1 - p0);
      if (off * 4 > k.memory.buffer.byteLength) throw new Error('test memory too small');
      return [
        4 * pa,
        4 * pb,
        4 * pc,
        bias === undefined ? 0 : 4 * pbias,
        4 * s,
        1,
        0,
        0,
        M,
        N,
        K,
        tA ? 1 : K,
        tA ? M : 1,
        tB ? 1 : N,
        tB ? K : 1,
        m0,
        m1,
        p0,
        p1,
        act,
        alpha,
      ];
    });
  });
  return new Float32Array(k.memory.buffer, pc * 4, M * N).slice();
}

function expectWithin(got: Float32Array, want: Float64Array, tol: Float64Array): void {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs((got[i] as number) - (want[i] as number)) / (tol[i] as number);
    worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
  }
  expect(worst).toBeLessThanOrEqual(1);
}

describe('relaxed SIMD detection', () => {
  it('agrees with validating the relaxed module itself, and the loaded module matches it', () => {
    const relaxedValid = WebAssembly.validate(Buffer.from(SIMD_WASM_RELAXED_PLAIN, 'base64'));
    expect(relaxedSimdSupported()).toBe(relaxedValid);
    expect(WebAssembly.validate(Buffer.from(SIMD_WASM_PLAIN, 'base64'))).toBe(true);
    // on by default from V8 11.4 (Node 22); Node 20 only with --experimental-wasm-relaxed-simd
    const major = Number(process.versions.node.split('.')[0]);
    if (major >= 22 && process.env.DEEPPROB_SIMD_RELAXED !== '0') expect(relaxedValid).toBe(true);
    const k = simdKernels();
    expect(k).toBeDefined();
    expect(k?.relaxed).toBe(relaxedSimdSupported());
    expect(k?.fns.gemm_fused_madd()).toBe(k?.relaxed === true ? 1 : 0);
    // what the CLI prints
    const info = backendInfo();
    expect(info?.simdBuild?.relaxed).toBe(relaxedSimdSupported());
    expect(describeBackend(info!)).toContain(relaxedValid ? 'relaxed SIMD FMA' : '+ SIMD');
  });
});

describe('splitGemm', () => {
  it('covers every row and panel exactly once, in whole micro-tiles', () => {
    const r = rng(3);
    for (let t = 0; t < 200; t++) {
      const M = randInt(r, 1, 500);
      const panels = randInt(r, 1, 40);
      const threads = randInt(r, 1, 8);
      const shares = splitGemm(M, panels, 6, threads, 2 ** 22);
      expect(shares.length).toBeLessThanOrEqual(threads);
      const seen = new Uint8Array(M * panels);
      for (const [m0, m1, p0, p1] of shares) {
        expect(m0 % 6 === 0 || m0 === M).toBe(true);
        for (let i = m0; i < m1; i++) for (let p = p0; p < p1; p++) seen[i * panels + p]! += 1;
      }
      expect(seen.every((c) => c === 1)).toBe(true);
    }
    expect(splitGemm(600, 20, 6, 4, 1000)).toEqual([[0, 600, 0, 20]]); // too small to share
  });
});

describe('SIMD GEMM module (standalone memory)', () => {
  const variants: [string, string, boolean][] = [
    ['plain', SIMD_WASM_PLAIN, false],
    ['shared, 2 threads', SIMD_WASM_SHARED, true],
  ];
  if (relaxedSimdSupported()) {
    variants.push(['relaxed', SIMD_WASM_RELAXED_PLAIN, false]);
    variants.push(['relaxed shared, 3 threads', SIMD_WASM_RELAXED_SHARED, true]);
  }
  for (const [name, b64, shared] of variants) {
    it(`${name}: op(A) op(B) + bias through each activation, within the float32 error bound`, () => {
      const k = standalone(b64, shared);
      if (shared)
        expect(startGemmPool(k, name.includes('3') ? 3 : 2)).toBe(name.includes('3') ? 3 : 2);
      try {
        const r = rng(17);
        const acts = ['linear', 'relu', 'relu6', 'leakyrelu'];
        let c = 0;
        for (const [M, N, K] of CASES) {
          for (const [tA, tB] of [
            [false, false],
            [true, false],
            [false, true],
            [true, true],
          ] as const) {
            const act = acts[c++ % 4] as string;
            const a = fill(r, M * K);
            const b = fill(r, K * N);
            const bias = c % 3 === 0 ? undefined : fill(r, N);
            const { want, tol } = reference(a, b, M, N, K, tA, tB, bias);
            const alpha = 0.3;
            const got = gemmOnMemory(k, a, b, bias, M, N, K, tA, tB, acts.indexOf(act), alpha);
            // the activation is 1-Lipschitz (slope <= 1): the same bound holds after it
            expectWithin(
              got,
              want.map((v) => applyAct(v, act, alpha)),
              tol,
            );
          }
        }
      } finally {
        stopGemmPool();
      }
    });
  }

  it('threads share the work: the same bits as one thread with the plain module', () => {
    const k = standalone(SIMD_WASM_SHARED, true);
    const r = rng(23);
    const [M, N, K] = [301, 70, 300];
    const a = fill(r, M * K);
    const b = fill(r, K * N);
    const one = gemmOnMemory(k, a, b, undefined, M, N, K, false, false, 0, 0);
    expect(startGemmPool(k, 2)).toBe(2);
    try {
      const two = gemmOnMemory(k, a, b, undefined, M, N, K, false, false, 0, 0);
      expect(Buffer.from(two.buffer).equals(Buffer.from(one.buffer))).toBe(true);
      // few rows, many panels: shared by column panels
      const aw = fill(r, 30 * K);
      const bw = fill(r, K * 700);
      const wide = gemmOnMemory(k, aw, bw, undefined, 30, 700, K, false, false, 0, 0);
      const { want, tol } = reference(aw, bw, 30, 700, K, false, false);
      expectWithin(wide, want, tol);
    } finally {
      stopGemmPool();
    }
  });
});

describe('im2col and col2im_add shared among threads', () => {
  it('give the same bits as one call on the whole batch', () => {
    const k = standalone(SIMD_WASM_SHARED, true);
    const r = rng(41);
    const info = tf.backend_util.computeConv2DInfo([5, 9, 8, 3], [3, 4, 3, 7], [2, 1], 1, 'same');
    const K = 3 * 4 * 3;
    const xN = 5 * 9 * 8 * 3;
    const cN = info.batchSize * info.outHeight * info.outWidth * K;
    const heap = new Float32Array(k.memory.buffer);
    const [px, pc1, pc2, pd1, pd2] = [
      256,
      256 + xN,
      256 + xN + cN,
      256 + xN + 2 * cN,
      256 + 2 * xN + 2 * cN,
    ];
    heap.set(fill(r, xN), px);
    heap.set(fill(r, cN), pc2);
    const geometry = [
      info.inHeight,
      info.inWidth,
      3,
      info.outHeight,
      info.outWidth,
      3,
      4,
      2,
      1,
      info.padInfo.top,
      info.padInfo.left,
    ] as const;
    k.fns.im2col(4 * px, 4 * pc1, 5, ...geometry);
    k.fns.col2im_add(4 * pc2, 4 * pd1, 5, ...geometry);
    const oneCols = heap.slice(pc1, pc1 + cN);
    const oneDx = heap.slice(pd1, pd1 + xN);
    expect(startGemmPool(k, 3)).toBe(3);
    try {
      expect(splitRange(5, 3, 2 ** 20)).toEqual([
        [0, 2],
        [2, 3],
        [3, 5],
      ]);
      heap.fill(0, pc1, pc1 + cN);
      heap.fill(0, pd2, pd2 + xN);
      imagesShared(k, 'im2col', 4 * px, 4 * pc1, info, K);
      imagesShared(k, 'col2im_add', 4 * pc2, 4 * pd2, info, K);
      expect(
        Buffer.from(heap.slice(pc1, pc1 + cN).buffer).equals(Buffer.from(oneCols.buffer)),
      ).toBe(true);
      expect(Buffer.from(heap.slice(pd2, pd2 + xN).buffer).equals(Buffer.from(oneDx.buffer))).toBe(
        true,
      );
    } finally {
      stopGemmPool();
    }
  });
});

describe('element-wise loops shared among threads', () => {
  it('relu_grad and adam give the same bits as one call, ranges cut anywhere', () => {
    const k = standalone(SIMD_WASM_SHARED, true);
    const r = rng(43);
    const n = 100_003; // above the 2^16 threshold, not a multiple of 16
    const heap = new Float32Array(k.memory.buffer);
    const at = (i: number): number => 256 + i * (n + 16);
    for (let i = 0; i < 4; i++) heap.set(fill(r, n), at(i));
    // v >= 0 for adam
    for (let j = 0; j < n; j++) heap[at(2) + j] = Math.abs(heap[at(2) + j] as number);
    const scalars = [0.9, 0.999, 1e-7, 1e-3, 0.1, 0.001];
    const outs = (base: number): number[] => [base, base + 1, base + 2].map((i) => 4 * at(i));
    const ins = [0, 1, 2, 3].map((i) => 4 * at(i));
    k.fns.relu_grad(ins[0]!, ins[1]!, 4 * at(4), n);
    k.fns.adam(
      ...(ins as [number, number, number, number]),
      ...(outs(5) as [number, number, number]),
      n,
      ...(scalars as [number, number, number, number, number, number]),
    );
    expect(startGemmPool(k, 3)).toBe(3);
    try {
      mapShared(k, 'relu_grad', [ins[0]!, ins[1]!, 4 * at(8)], n);
      mapShared(k, 'adam', [...ins, ...outs(9)], n, scalars);
    } finally {
      stopGemmPool();
    }
    const same = (a: number, b: number, len: number): boolean =>
      Buffer.from(heap.slice(a, a + len).buffer).equals(Buffer.from(heap.slice(b, b + len).buffer));
    expect(same(at(4), at(8), n)).toBe(true);
    expect(same(at(5), at(9), 3 * (n + 16) - 16)).toBe(true);
  });
});

describe('BatchMatMul and _FusedMatMul on the SIMD GEMM', () => {
  const saved = process.env.DEEPPROB_SIMD_GEMM;
  beforeAll(() => {
    process.env.DEEPPROB_SIMD_GEMM = '1';
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.DEEPPROB_SIMD_GEMM;
    else process.env.DEEPPROB_SIMD_GEMM = saved;
  });

  it('match the cpu backend on odd shapes, transposes, broadcast batches, bias and activations', () => {
    const k = simdKernels();
    expect(k).toBeDefined();
    if (k === undefined) return;
    const r = rng(29);
    const be = tf.backend() as unknown as WasmBackend;
    for (let trial = 0; trial < 30; trial++) {
      const M = trial === 0 ? 1 : randInt(r, 1, 40);
      const K = trial === 1 ? 1 : trial === 2 ? 600 : randInt(r, 1, 60);
      const N = trial === 3 ? 1 : randInt(r, 1, 40);
      const tA = r() < 0.5;
      const tB = r() < 0.5;
      const bs = trial % 4 === 0 ? [] : [randInt(r, 1, 3)];
      const bb = bs.length === 0 || r() < 0.5 ? bs : [1];
      const a = randTensor(r, [...bs, ...(tA ? [K, M] : [M, K])]);
      const b = randTensor(r, [...bb, ...(tB ? [N, K] : [K, N])]);
      const fused = trial % 2 === 1;
      const bias = fused ? randTensor(r, [N]) : undefined;
      const activation = fused
        ? (['linear', 'relu', 'relu6', 'leakyrelu'][trial % 4] as string)
        : undefined;
      const name = fused ? '_FusedMatMul' : 'BatchMatMul';
      const inputs: Record<string, tf.Tensor> = bias === undefined ? { a, b } : { a, b, bias };
      const attrs = { transposeA: tA, transposeB: tB, activation, leakyreluAlpha: 0.25 };
      const before = tf.memory().numTensors;
      const ids = be.dataIdMap.numDataIds();
      let got: tf.Tensor | undefined;
      const calls = simdCalls(k, () => {
        got = activeKernel(name, inputs, attrs);
      });
      expect(calls).toContain('gemm');
      const [want] = cpuKernel(name, inputs, fused ? attrs : { transposeA: tA, transposeB: tB });
      expect(got?.shape).toEqual(want?.shape);
      expect(got).toBeAllclose(want?.values, { rtol: 1e-5, atol: 2e-6 * Math.sqrt(K) * 4 });
      got?.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(be.dataIdMap.numDataIds()).toBe(ids);
      tf.dispose([a, b, ...(bias === undefined ? [] : [bias])]);
    }
  });

  it('gemmShape rejects what the GEMM does not take', () => {
    expect(gemmShape([3], [3, 2], false, false)).toBeUndefined();
    expect(gemmShape([2, 3], [4, 2], false, false)).toBeUndefined();
    expect(gemmShape([2, 5, 3], [3, 3, 2], false, false)).toBeUndefined();
    expect(gemmShape([2, 1, 5, 3], [3, 3, 2], false, false)).toBeUndefined();
    expect(gemmShape([2, 1, 5, 3], [1, 3, 2], false, false)).toEqual([2, 1, 5, 2]);
    expect(gemmShape([3, 5], [2, 3], true, true)).toEqual([5, 2]);
    const k = simdKernels() as SimdKernels;
    const be = tf.backend() as unknown as WasmBackend;
    const a = tf.zeros([2, 3]);
    expect(() => simdMatMul(be, k, a, a)).toThrow(/GEMM shapes/);
    a.dispose();
  });
});

describe('convolutions on im2col + the SIMD GEMM', () => {
  const saved = {
    gemm: process.env.DEEPPROB_SIMD_GEMM,
    conv: process.env.DEEPPROB_SIMD_CONV,
    modes: [backpropFilterPath.mode, backpropInputPath.mode] as const,
  };
  beforeAll(() => {
    process.env.DEEPPROB_SIMD_GEMM = '1';
    process.env.DEEPPROB_SIMD_CONV = '1';
    backpropFilterPath.mode = 'gemm';
    backpropInputPath.mode = 'gemm';
  });
  afterAll(() => {
    for (const [key, v] of [
      ['DEEPPROB_SIMD_GEMM', saved.gemm],
      ['DEEPPROB_SIMD_CONV', saved.conv],
    ] as const) {
      if (v === undefined) delete process.env[key];
      else process.env[key] = v;
    }
    [backpropFilterPath.mode, backpropInputPath.mode] = saved.modes;
  });

  it('Conv2D, FusedConv2D and both gradients match the cpu backend (strides, pads, odd sizes)', () => {
    const k = simdKernels();
    expect(k).toBeDefined();
    if (k === undefined) return;
    const r = rng(31);
    const be = tf.backend() as unknown as WasmBackend;
    for (let trial = 0; trial < 16; trial++) {
      const kh = randInt(r, 1, 5);
      const kw = randInt(r, 1, 5);
      const ci = trial === 0 ? 1 : randInt(r, 1, 9);
      const co = trial === 1 ? 1 : randInt(r, 1, 19);
      const xShape = [randInt(r, 1, 3), randInt(r, kh, 12), randInt(r, kw, 12), ci];
      const fShape = [kh, kw, ci, co];
      const strides: [number, number] = [randInt(r, 1, 3), randInt(r, 1, 3)];
      const pad = randPad(r);
      const x = randTensor(r, xShape);
      const filter = randTensor(r, fShape);
      const bias = randTensor(r, [co]);
      const conv = { strides, pad, dataFormat: 'NHWC', dilations: [1, 1] };
      const y = tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, strides, pad as 'same');
      const dy = randTensor(r, y.shape);
      const activation = ['linear', 'relu', 'relu6', 'leakyrelu'][trial % 4] as string;
      const cases: [string, Record<string, tf.Tensor>, Record<string, unknown>][] = [
        ['Conv2D', { x, filter }, conv],
        ['FusedConv2D', { x, filter, bias }, { ...conv, activation, leakyreluAlpha: 0.1 }],
        ['Conv2DBackpropFilter', { x, dy }, { ...conv, filterShape: fShape }],
        ['Conv2DBackpropInput', { dy, filter }, { ...conv, inputShape: xShape }],
      ];
      for (const [name, inputs, attrs] of cases) {
        const before = tf.memory().numTensors;
        const ids = be.dataIdMap.numDataIds();
        let got: tf.Tensor | undefined;
        const calls = simdCalls(k, () => {
          got = activeKernel(name, inputs, attrs);
        });
        expect(calls, name).toContain('gemm');
        const [want] = cpuKernel(name, inputs, attrs);
        expect(got?.shape, name).toEqual(want?.shape);
        expect(got, `${name} ${trial}`).toBeAllclose(want?.values, { rtol: 1e-4, atol: 1e-4 });
        got?.dispose();
        expect(tf.memory().numTensors).toBe(before);
        expect(be.dataIdMap.numDataIds()).toBe(ids);
      }
      tf.dispose([x, filter, bias, y, dy]);
    }
  });
});
