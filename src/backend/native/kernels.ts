/**
 * Kernel overrides that run the wasm backend's matrix products and convolutions in deepprob's
 * native addon (see `addon.ts`), in place on the wasm heap: `Conv2D`, `FusedConv2D` (bias +
 * linear/relu epilogue), `Conv2DBackpropInput`, `Conv2DBackpropFilter`, `BatchMatMul`,
 * `_FusedMatMul`, and the element-wise `Relu` and `DeepprobReluGrad` (the pack's ReLU gradient;
 * threaded, from {@link MIN_NATIVE_ELEMENTS} elements: the wasm backend runs one thread when the
 * native path is on). Each kernel handles float32 NHWC inputs and hands every other case (other
 * dtypes, NCHW, other fused activations, general batch broadcasting, empty tensors) to the kernel it
 * replaced, so the rest of the engine is unchanged. Unit-stride convolutions of few input channels
 * (the addon's `setDirectMaxChannels`, default 7: LeNet's grayscale and 6-channel layers, RGB
 * first layers) run as direct convolutions vectorised over output pixels (`native/conv_direct.h`), the others as
 * im2col / col2im + GEMM.
 *
 * With `y = x * w` a 2-D convolution, the three kernels compute (`im2col` the matrix of input
 * patches, one row per output pixel):
 * $$Y = \mathrm{im2col}(X)\,W,\qquad \frac{\partial L}{\partial W} = \mathrm{im2col}(X)^\top \frac{\partial L}{\partial Y},\qquad
 *   \frac{\partial L}{\partial X} = \mathrm{col2im}\Big(\frac{\partial L}{\partial Y} W^\top\Big).$$
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from '../kernels/wasm_util.js';
import type { NativeAddon } from './addon.js';
import { pointwiseKernels } from './pointwise_kernels.js';
import { getEnv } from '../env.js';
import { windowGeometry } from './geometry.js';

type KernelFunc = tf.KernelConfig['kernelFunc'];

/** Offset of a tensor in the wasm heap, in floats. */
function at(backend: WasmBackend, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset / 4;
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

const ACTS: Record<string, number> = { linear: 0, relu: 1 };

/** Calls into the addon by kernel name since start-up (tests check that the native path ran). */
export const nativeCalls: Record<string, number> = {};

function count(name: string): void {
  nativeCalls[name] = (nativeCalls[name] ?? 0) + 1;
}

function usable(info: tf.backend_util.Conv2DInfo): boolean {
  return (
    info.dataFormat === 'channelsLast' &&
    size(info.inShape) > 0 &&
    size(info.outShape) > 0 &&
    info.filterHeight * info.filterWidth * info.inChannels > 0
  );
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: tf.backend_util.PadInfo['type'] | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
}

function convInfo(
  xShape: number[],
  filterShape: number[],
  a: ConvAttrs,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad as 'same',
    a.dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(a.dataFormat),
  );
}

function f32(...ts: (tf.TensorInfo | undefined)[]): boolean {
  return ts.every((t) => t === undefined || t.dtype === 'float32');
}

/** `Conv2D` / `FusedConv2D` (bias + linear/relu) in the native addon. */
export function nativeConv2dKernel(addon: NativeAddon, fused: boolean) {
  return (previous: KernelFunc | undefined): KernelFunc =>
    (args) => {
      const backend = args.backend as unknown as WasmBackend;
      const { x, filter, bias, preluActivationWeights } = args.inputs as Record<
        string,
        tf.TensorInfo | undefined
      >;
      const attrs = args.attrs as unknown as ConvAttrs;
      const act = fused ? ACTS[attrs.activation ?? 'linear'] : 0;
      if (x === undefined || filter === undefined) throw new Error('Conv2D: missing inputs');
      const info = convInfo(x.shape, filter.shape, attrs);
      if (
        !f32(x, filter, bias) ||
        act === undefined ||
        preluActivationWeights !== undefined ||
        (bias !== undefined && size(bias.shape) !== info.outChannels) ||
        !usable(info)
      ) {
        if (previous === undefined) throw new Error('deepprob native: no fallback for Conv2D');
        return previous(args);
      }
      count(fused ? 'FusedConv2D' : 'Conv2D');
      const out = backend.makeOutput(info.outShape, 'float32');
      const biasAt = bias === undefined ? -1 : at(backend, bias);
      addon.conv(
        0,
        backend.wasm.HEAPF32,
        at(backend, x),
        at(backend, filter),
        at(backend, out),
        biasAt,
        act,
        ...windowGeometry(info, true),
      );
      return out;
    };
}

/**
 * The two convolution gradients in the native addon, over the forward pass's geometry:
 * `Conv2DBackpropInput` (`dx = conv^T(dy, W)`, addon mode 1, inputs `dy`, `filter`) and
 * `Conv2DBackpropFilter` (`dW = sum_n x_n * dy_n`, addon mode 2, inputs `x`, `dy`).
 */
function nativeConvGradKernel(
  addon: NativeAddon,
  kernel: 'Conv2DBackpropInput' | 'Conv2DBackpropFilter',
) {
  const ofInput = kernel === 'Conv2DBackpropInput';
  return (previous: KernelFunc | undefined): KernelFunc =>
    (args) => {
      const backend = args.backend as unknown as WasmBackend;
      const ins = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo; filter: tf.TensorInfo };
      const attrs = args.attrs as unknown as ConvAttrs & {
        inputShape: number[];
        filterShape: number[];
      };
      const [a, b] = ofInput ? [ins.dy, ins.filter] : [ins.x, ins.dy];
      const info = ofInput
        ? convInfo(attrs.inputShape, ins.filter.shape, attrs)
        : convInfo(ins.x.shape, attrs.filterShape, attrs);
      if (!f32(a, b) || !usable(info)) {
        if (previous === undefined) throw new Error(`deepprob native: no ${kernel}`);
        return previous(args);
      }
      count(kernel);
      const out = backend.makeOutput(ofInput ? attrs.inputShape : attrs.filterShape, 'float32');
      addon.conv(
        ofInput ? 1 : 2,
        backend.wasm.HEAPF32,
        at(backend, a),
        at(backend, b),
        at(backend, out),
        -1,
        0,
        ...windowGeometry(info, true),
      );
      return out;
    };
}

/** `Conv2DBackpropInput` (gradient of a convolution's input) in the native addon. */
export function nativeConv2dBackpropInputKernel(addon: NativeAddon) {
  return nativeConvGradKernel(addon, 'Conv2DBackpropInput');
}

/** `Conv2DBackpropFilter` (gradient of a convolution's filter) in the native addon. */
export function nativeConv2dBackpropFilterKernel(addon: NativeAddon) {
  return nativeConvGradKernel(addon, 'Conv2DBackpropFilter');
}

/**
 * `BatchMatMul` / `_FusedMatMul` (bias + linear/relu) in the native addon: `C = op(A) op(B)` per
 * batch item, where a batch of size 1 is broadcast against the other operand's batch.
 */
export function nativeMatMulKernel(addon: NativeAddon, fused: boolean) {
  return (previous: KernelFunc | undefined): KernelFunc =>
    (args) => {
      const backend = args.backend as unknown as WasmBackend;
      const { a, b, bias, preluActivationWeights } = args.inputs as Record<
        string,
        tf.TensorInfo | undefined
      >;
      const attrs = args.attrs as {
        transposeA: boolean;
        transposeB: boolean;
        activation?: string;
      };
      const act = fused ? ACTS[attrs.activation ?? 'linear'] : 0;
      if (a === undefined || b === undefined) throw new Error('BatchMatMul: missing inputs');
      const ra = a.shape.length;
      const rb = b.shape.length;
      const m = a.shape[attrs.transposeA ? ra - 1 : ra - 2] as number;
      const k = a.shape[attrs.transposeA ? ra - 2 : ra - 1] as number;
      const n = b.shape[attrs.transposeB ? rb - 2 : rb - 1] as number;
      const kb = b.shape[attrs.transposeB ? rb - 1 : rb - 2] as number;
      const batchA = a.shape.slice(0, -2);
      const batchB = b.shape.slice(0, -2);
      const ba = size(batchA);
      const bb = size(batchB);
      const sameBatch = ba === bb ? batchA.join(',') === batchB.join(',') : ba === 1 || bb === 1;
      if (
        !f32(a, b, bias) ||
        act === undefined ||
        preluActivationWeights !== undefined ||
        ra < 2 ||
        rb < 2 ||
        k !== kb ||
        !sameBatch ||
        (bias !== undefined &&
          (size(bias.shape) !== n || bias.shape[bias.shape.length - 1] !== n)) ||
        m * n * k === 0
      ) {
        if (previous === undefined) throw new Error('deepprob native: no BatchMatMul');
        return previous(args);
      }
      count(fused ? '_FusedMatMul' : 'BatchMatMul');
      const batch = Math.max(ba, bb);
      const batchShape = tf.backend_util.assertAndGetBroadcastShape(batchA, batchB);
      const out = backend.makeOutput([...batchShape, m, n], 'float32');
      const heap = backend.wasm.HEAPF32;
      const pa = at(backend, a);
      const pb = at(backend, b);
      const pc = at(backend, out);
      const biasAt = bias === undefined ? -1 : at(backend, bias);
      // element strides of op(A) [m, k] and op(B) [k, n] in row-major storage
      const [rsa, csa] = attrs.transposeA ? [1, m] : [k, 1];
      const [rsb, csb] = attrs.transposeB ? [1, k] : [n, 1];
      for (let i = 0; i < batch; i++) {
        addon.gemm(
          heap,
          m,
          n,
          k,
          pa + (ba === 1 ? 0 : i * m * k),
          rsa,
          csa,
          pb + (bb === 1 ? 0 : i * k * n),
          rsb,
          csb,
          pc + i * m * n,
          n,
          0,
          biasAt,
          act,
        );
      }
      return out;
    };
}

/** Fewest elements for which `Relu` / the ReLU gradient go native (smaller: the replaced kernel). */
export const MIN_NATIVE_ELEMENTS = 4096;

/** `Relu`: `y = max(x, 0)` (NaN stays NaN), threaded, in the native addon. */
export function nativeReluKernel(addon: NativeAddon) {
  return (previous: KernelFunc | undefined): KernelFunc =>
    (args) => {
      const backend = args.backend as unknown as WasmBackend;
      const { x } = args.inputs as { x: tf.TensorInfo };
      const n = size(x.shape);
      if (x.dtype !== 'float32' || n < MIN_NATIVE_ELEMENTS) {
        if (previous === undefined) throw new Error('deepprob native: no Relu');
        return previous(args);
      }
      count('Relu');
      const out = backend.makeOutput(x.shape, 'float32');
      addon.eltwise(0, backend.wasm.HEAPF32, at(backend, x), -1, at(backend, out), n);
      return out;
    };
}

/**
 * The pack's one-kernel ReLU gradient (`DeepprobReluGrad`, inputs dy and x):
 * `dx = dy` where `x > 0`, `0` where `x <= 0`, NaN where `x` is NaN; threaded, in the addon.
 */
export function nativeReluGradKernel(addon: NativeAddon) {
  return (previous: KernelFunc | undefined): KernelFunc =>
    (args) => {
      const backend = args.backend as unknown as WasmBackend;
      const { dy, x } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
      const n = size(x.shape);
      if (!f32(dy, x) || size(dy.shape) !== n || n < MIN_NATIVE_ELEMENTS) {
        if (previous === undefined) throw new Error('deepprob native: no DeepprobReluGrad');
        return previous(args);
      }
      count('DeepprobReluGrad');
      const out = backend.makeOutput(x.shape, 'float32');
      const heap = backend.wasm.HEAPF32;
      addon.eltwise(1, heap, at(backend, dy), at(backend, x), at(backend, out), n);
      return out;
    };
}

/** The kernels this module installs, by name. */
export function nativeKernels(
  addon: NativeAddon,
): { kernelName: string; make: (previous: KernelFunc | undefined) => KernelFunc }[] {
  return [
    { kernelName: 'Conv2D', make: nativeConv2dKernel(addon, false) },
    { kernelName: 'FusedConv2D', make: nativeConv2dKernel(addon, true) },
    { kernelName: 'Conv2DBackpropInput', make: nativeConv2dBackpropInputKernel(addon) },
    { kernelName: 'Conv2DBackpropFilter', make: nativeConv2dBackpropFilterKernel(addon) },
    { kernelName: 'BatchMatMul', make: nativeMatMulKernel(addon, false) },
    { kernelName: '_FusedMatMul', make: nativeMatMulKernel(addon, true) },
    { kernelName: 'Relu', make: nativeReluKernel(addon) },
    { kernelName: 'DeepprobReluGrad', make: nativeReluGradKernel(addon) },
    // DEEPPROB_NATIVE_POINTWISE=0: the element-wise, pooling and sum kernels stay on wasm (A/B)
    ...(getEnv('DEEPPROB_NATIVE_POINTWISE') === '0' ? [] : pointwiseKernels(addon)),
  ];
}

let active: string | undefined;
let loaded: NativeAddon | undefined;

/** The addon whose kernels are installed (undefined when the native path is off). */
export function nativeAddon(): NativeAddon | undefined {
  return loaded;
}

/**
 * Register the native kernels on the wasm backend, over the kernels registered now (the kernel
 * pack's or the stock ones), which stay as fallbacks; the pack's own kernel names only where the
 * pack registered them. Idempotent.
 *
 * @param addon the loaded addon (see `node_hooks.ts`).
 * @returns a description such as `'native avx512, 2 threads'`.
 */
export function installNativeKernels(addon: NativeAddon): string {
  if (active !== undefined) return active;
  for (const k of nativeKernels(addon)) {
    const previous = tf.getKernel(k.kernelName, 'wasm')?.kernelFunc;
    // the pack's own kernels (DeepprobReluGrad) are replaced only where the pack registered them
    // (not under DEEPPROB_KERNELS=stock, where their absence selects the stock gradient)
    if (previous === undefined && k.kernelName.startsWith('Deepprob')) continue;
    registered.set(k.kernelName, { previous, native: k.make(previous) });
  }
  loaded = addon;
  const info = addon.info();
  active = `native ${info.isa}, ${info.threads} thread(s)`;
  setNativeEnabled(true);
  return active;
}

/** Each overridden kernel: the one it replaced and the native one. */
const registered = new Map<string, { previous: KernelFunc | undefined; native: KernelFunc }>();

/**
 * Switch the installed native kernels off (the kernels they replaced run again) or back on, e.g.
 * to compare both paths in one process or to test the wasm path. No effect when none are
 * installed.
 *
 * @param on true for the native kernels, false for the ones they replaced.
 * @example
 * ```ts
 * setNativeEnabled(false); // wasm kernel pack / XNNPACK for matmul and conv
 * ```
 */
export function setNativeEnabled(on: boolean): void {
  for (const [kernelName, k] of registered) {
    const fn = on ? k.native : k.previous;
    if (tf.getKernel(kernelName, 'wasm') !== undefined) tf.unregisterKernel(kernelName, 'wasm');
    if (fn !== undefined) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: fn });
  }
  enabled = on && registered.size > 0;
}

let enabled = false;

/** Whether the native kernels are installed and switched on. */
export function nativeEnabled(): boolean {
  return enabled;
}

/** The active native path (`'native avx512, 2 thread(s)'`), or undefined when it is off. */
export function nativePath(): string | undefined {
  return active;
}
