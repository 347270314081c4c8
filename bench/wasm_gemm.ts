/**
 * Interleaved A/B timing of matrix products on the wasm path (run with `DEEPPROB_NATIVE=0`):
 * deepprob's SIMD GEMM (`kernels/simd_gemm.ts`; relaxed-SIMD FMA where the engine has it) against
 * the stock XNNPACK `BatchMatMul`, in one process, at the shapes of the bench's workloads (AlexNet's
 * im2col convolutions and fully connected layers, the VAE's layers, LeNet's).
 * `--conv` times forward convolutions instead (XNNPACK's `Conv2D` against im2col + the SIMD GEMM).
 * `npx tsx bench/wasm_gemm.ts [reps 10] [--cpu] [--conv]`; prints ms per call (median) and GFLOP/s of each;
 * `--cpu` times the process's CPU time (all threads) instead of wall time, which on a loaded machine
 * is closer to what an idle one gives (GFLOP/s are then per CPU-second: per core).
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/index.js';
import { simdKernels } from '../src/backend/simd/loader.js';
import { gemmThreads } from '../src/backend/simd/pool.js';
import { simdMatMul } from '../src/backend/kernels/simd_gemm.js';
import { stockKernel, type WasmBackend } from '../src/backend/kernels/wasm_util.js';
import { conv2dSimd } from '../src/backend/kernels/conv2d_simd.js';

/** name, input NHWC, filter HWIO, stride, pad: the forward convolutions of the bench's nets. */
const CONVS: [string, number[], number[], number, number][] = [
  ['alexnet conv1 (b64)', [64, 32, 32, 3], [11, 11, 3, 64], 4, 5],
  ['alexnet conv2', [64, 4, 4, 64], [5, 5, 64, 192], 1, 2],
  ['alexnet conv3', [64, 2, 2, 192], [3, 3, 192, 384], 1, 1],
  ['alexnet conv4', [64, 2, 2, 384], [3, 3, 384, 256], 1, 1],
  ['alexnet conv5', [64, 2, 2, 256], [3, 3, 256, 128], 1, 1],
  ['3conv3fc conv1 (b64)', [64, 32, 32, 3], [5, 5, 3, 32], 1, 2],
  ['3conv3fc conv2', [64, 15, 15, 32], [5, 5, 32, 64], 1, 2],
  ['3conv3fc conv3', [64, 7, 7, 64], [5, 5, 64, 128], 1, 1],
  ['lenet5 conv1 (b256)', [256, 28, 28, 1], [5, 5, 1, 6], 1, 2],
  ['lenet5 conv2', [256, 14, 14, 6], [5, 5, 6, 16], 1, 0],
  ['lenet conv2 20/50 (b256)', [256, 12, 12, 20], [5, 5, 20, 50], 1, 0],
];

/** name, M, K, N */
const SHAPES: [string, number, number, number][] = [
  ['alexnet conv2 fwd (b64, 8x8 px)', 64 * 64, 5 * 5 * 64, 192],
  ['alexnet conv3 fwd (b64, 4x4 px)', 64 * 16, 3 * 3 * 192, 384],
  ['alexnet conv4 fwd', 64 * 16, 3 * 3 * 384, 256],
  ['alexnet conv5 fwd', 64 * 16, 3 * 3 * 256, 256],
  ['3conv3fc conv2 fwd (b64, 16x16 px)', 64 * 256, 5 * 5 * 32, 64],
  ['vae 784->1024 (b128)', 128, 784, 1024],
  ['vae 1024->800', 128, 1024, 800],
  ['lenet5 fc 400->120 (b256)', 256, 400, 120],
  ['square 512', 512, 512, 512],
  ['odd 333x257x101', 333, 257, 101],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const info = await ready();
const k = simdKernels();
if (k === undefined) throw new Error('no SIMD module (run on the wasm path)');
const backend = tf.backend() as unknown as WasmBackend;
const reps = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 10);
const cpu = process.argv.includes('--cpu');
const clock = (): number => {
  if (!cpu) return performance.now();
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
console.log(
  `${process.version} backend ${info.backend}, ${info.threads} tfjs thread(s), SIMD module ` +
    `${k.relaxed ? 'relaxed (FMA)' : 'plain'}, GEMM threads ${gemmThreads()}, load ${(
      await import('node:os')
    )
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
type Case = [string, () => tf.TensorInfo, () => tf.TensorInfo, number, tf.Tensor[]];
const cases: Case[] = [];
const convMode = process.argv.includes('--conv');
const info4 = (t: tf.Tensor): tf.TensorInfo =>
  ({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }) as tf.TensorInfo;
if (convMode) {
  process.env.DEEPPROB_SIMD_CONV = '1';
  for (const [name, xs, fs, stride, pad] of CONVS) {
    const x = tf.randomNormal(xs);
    const f = tf.randomNormal(fs);
    const attrs = {
      strides: [stride, stride],
      pad: [
        [0, 0],
        [pad, pad],
        [pad, pad],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [1, 1],
    };
    const args = {
      inputs: { x: info4(x), filter: info4(f) },
      attrs: attrs as unknown as tf.NamedAttrMap,
      backend: backend as unknown as tf.KernelBackend,
    };
    const y = tf.conv2d(
      x as tf.Tensor4D,
      f as tf.Tensor4D,
      stride,
      attrs.pad as tf.backend_util.ExplicitPadding,
    );
    const flop = 2 * y.size * fs[0]! * fs[1]! * fs[2]!;
    y.dispose();
    cases.push([
      name,
      () => stockKernel('Conv2D')(args) as tf.TensorInfo,
      () => conv2dSimd(backend, args, false) as tf.TensorInfo,
      flop,
      [x, f],
    ]);
  }
}
for (const [name, M, K, N] of convMode ? [] : SHAPES) {
  const a = tf.randomNormal([1, M, K]);
  const b = tf.randomNormal([1, K, N]);
  const ai = { dataId: a.dataId, shape: a.shape, dtype: a.dtype } as tf.TensorInfo;
  const bi = { dataId: b.dataId, shape: b.shape, dtype: b.dtype } as tf.TensorInfo;
  const stock = (): tf.TensorInfo =>
    stockKernel('BatchMatMul')({
      inputs: { a: ai, b: bi },
      attrs: { transposeA: false, transposeB: false },
      backend: backend as unknown as tf.KernelBackend,
    }) as tf.TensorInfo;
  const ours = (): tf.TensorInfo => simdMatMul(backend, k, ai, bi);
  cases.push([name, stock, ours, 2 * M * N * K, [a, b]]);
}
for (const [name, stock, ours, flop, keep] of cases) {
  const t: Record<string, number[]> = { xnnpack: [], simd: [] };
  for (let r = 0; r < reps + 2; r++) {
    for (const [m, f] of [
      ['xnnpack', stock],
      ['simd', ours],
    ] as const) {
      const t0 = clock();
      const o = f();
      const dt = clock() - t0;
      backend.disposeData(o.dataId);
      if (r >= 2) (t[m] as number[]).push(dt);
    }
  }
  const row = Object.entries(t)
    .map(
      ([m, xs]) => `${m} ${median(xs).toFixed(2)} ms ${(flop / median(xs) / 1e6).toFixed(1)} GF/s`,
    )
    .join(' | ');
  console.log(`${name.padEnd(36)} ${row}`);
  tf.dispose(keep);
}
