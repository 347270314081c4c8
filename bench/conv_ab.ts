/**
 * Interleaved A/B timing of single convolution kernels on the wasm backend, in one process:
 * the native direct convolution (few input channels), the native im2col + GEMM, and the kernel
 * the native path replaced (XNNPACK / the wasm kernel pack). `npx tsx bench/conv_ab.ts [reps 20]`.
 * `--cpu` reports CPU time per call (all threads) instead of wall time. Prints ms per call (median of `reps` calls, rounds interleaved) for LeNet-5's, the conv 20/50
 * LeNet's and AlexNet's first layers at the bench's batch sizes.
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/index.js';
import { nativeAddon, setNativeEnabled } from '../src/backend/native/kernels.js';

interface Layer {
  name: string;
  x: [number, number, number, number];
  f: [number, number, number, number];
  strides: number;
  pad: 'same' | 'valid' | number;
}

const LAYERS: Layer[] = [
  { name: 'lenet5 conv1 b256', x: [256, 28, 28, 1], f: [5, 5, 1, 6], strides: 1, pad: 'same' },
  { name: 'lenet5 conv2 b256', x: [256, 14, 14, 6], f: [5, 5, 6, 16], strides: 1, pad: 'valid' },
  { name: 'lenet conv1 b256', x: [256, 28, 28, 1], f: [5, 5, 1, 20], strides: 1, pad: 'valid' },
  { name: 'alexnet conv1 b64', x: [64, 32, 32, 3], f: [11, 11, 3, 64], strides: 4, pad: 5 },
  { name: '3conv3fc conv1 b64', x: [64, 32, 32, 3], f: [5, 5, 3, 32], strides: 1, pad: 2 },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

await ready();
const addon = nativeAddon();
const reps = Number(process.argv[2] ?? 20);
// --cpu: CPU time of the process per call (all threads) instead of wall time: on a shared,
// loaded machine this is closer to what an idle machine gives
const cpu = process.argv.includes('--cpu');
const modes = addon === undefined ? ['replaced'] : ['direct', 'im2col', 'replaced'];
function setMode(m: string): void {
  if (addon === undefined) return;
  setNativeEnabled(m !== 'replaced');
  addon.setDirectMaxChannels(m === 'direct' ? 7 : 0, m === 'direct' ? 7 : 0);
}
for (const L of LAYERS) {
  const x = tf.randomNormal(L.x, 0, 1, 'float32', 1) as tf.Tensor4D;
  const f = tf.randomNormal(L.f, 0, 1, 'float32', 2) as tf.Tensor4D;
  const b = tf.randomNormal([L.f[3]], 0, 1, 'float32', 3) as tf.Tensor1D;
  const y = tf.conv2d(x, f, L.strides, L.pad as 'same');
  const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 4) as tf.Tensor4D;
  const ops: Record<string, () => tf.Tensor> = {
    'fused fwd': () =>
      tf.fused.conv2d({
        x,
        filter: f,
        bias: b,
        strides: L.strides,
        pad: L.pad as 'same',
        activation: 'relu',
      }),
    'input grad': () =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropInput',
          { dy, filter: f },
          { strides: L.strides, pad: L.pad, dataFormat: 'NHWC', inputShape: L.x },
        ) as tf.Tensor,
    'filter grad': () =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropFilter',
          { x, dy },
          { strides: L.strides, pad: L.pad, dataFormat: 'NHWC', filterShape: L.f },
        ) as tf.Tensor,
  };
  for (const [op, fn] of Object.entries(ops)) {
    const times: Record<string, number[]> = {};
    for (let rep = 0; rep < reps + 2; rep++) {
      for (const m of modes) {
        setMode(m);
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        const out = fn();
        out.dataSync();
        const c1 = process.cpuUsage(c0);
        const dt = cpu ? (c1.user + c1.system) / 1000 : performance.now() - t0;
        out.dispose();
        if (rep >= 2) (times[m] ??= []).push(dt);
      }
    }
    console.log(
      `${L.name} ${op}: ` +
        modes.map((m) => `${m} ${median(times[m] ?? []).toFixed(2)} ms`).join(', '),
    );
  }
  tf.dispose([x, f, b, y, dy]);
}
