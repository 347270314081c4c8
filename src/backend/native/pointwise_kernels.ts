/**
 * Native overrides of the wasm path's memory- and transcendental-bound kernels (threaded, AVX-512
 * / AVX2 / SSE; `native/pointwise.h`, `native/pool_reduce.h`), in place on the wasm heap:
 *
 * - `Softplus` `y = log(1 + e^x)` and the pack's `DeepprobSoftplusGrad` `dx = dy sigmoid(x)`;
 * - the variational estimators' fused kernels (`src/backend/kernels/variational.ts`):
 *   `DeepprobSoftplusReparam` `w = mu + softplus(rho) eps`, `DeepprobSoftplusReparamGrad`
 *   `dy eps sigmoid(rho)`, `DeepprobKLSoftplusNormal`
 *   `sum_i log(s_p / s_i) + (s_i^2 + (mu_i - c_i)^2) / (2 s_p^2) - 1/2`,
 *   `DeepprobKLNormalGradMu` `dy (mu - c) / s_p^2`, `DeepprobKLSoftplusGradRho`
 *   `dy (s / s_p^2 - 1 / s) sigmoid(rho)`;
 * - the pack's fused Adam `DeepprobAdamUpdate`: `m' = b1 m + (1 - b1) g`,
 *   `v' = b2 v + (1 - b2) g^2`, `x' = x - lr (m' c1) / (sqrt(v' c2) + eps)`;
 * - `MaxPool` and `MaxPoolGrad` (NHWC, any window, stride, padding, e.g. 3Conv3FC's overlapping
 *   3x3 / stride 2; the gradient routes `dy` to the first strict maximum of each window in scan
 *   order, as the cpu backend; the plain 2x2 / stride 2 stays with the replaced kernels);
 * - `PadV2` (constant padding) and `Slice` as one threaded copy of rows,
 *   `y[o] = x[o - off]` inside `x`, the pad value elsewhere (`off` = the padding before each axis,
 *   or minus the slice's begin), on shapes collapsed to 4-D (trailing axes copied whole merge);
 * - `Add`, `Sub`, `Multiply` (float32, NumPy broadcasting: e.g. Flipout's sign flips
 *   `x[b, h, w, c] * s[b, 1, 1, c]`), threaded, on shapes collapsed to 4-D (adjacent axes with the
 *   same broadcast pattern merge);
 * - `Sum` over leading axes (`out_j = sum_i x_{ij}`: the bias gradients of convolutions and dense
 *   layers), float32 partial sums over blocks of 64 rows added in float64.
 *
 * Each computes in float32 with vector exp / log accurate to a few ulps (the wasm SIMD kernels'
 * precision) and hands other dtypes, shapes and small tensors to the kernel it replaced.
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from '../kernels/wasm_util.js';
import type { NativeAddon } from './addon.js';
import { windowGeometry } from './geometry.js';
import {
  at,
  call,
  count,
  fallbackOf,
  MIN_POINTWISE_ELEMENTS,
  PW,
  size,
  type KernelFunc,
} from './pointwise_call.js';
import { binaryKernel, copyKernel } from './layout_kernels.js';

interface Elementwise {
  /** Input names, in the operand order of the op. */
  inputs: readonly string[];
  op: number;
  /** Operands beyond the inputs: the outputs, each of the first input's shape. */
  outputs: number;
  /** Scalars from the attributes. */
  scalars?: (attrs: Record<string, unknown>) => number[];
}

/** A same-shape element-wise kernel over `spec.inputs` (all float32, all of one size). */
function elementwiseKernel(addon: NativeAddon, name: string, spec: Elementwise) {
  return (previous: KernelFunc | undefined): KernelFunc => {
    const fallback = fallbackOf(previous, name);
    return (args) => {
      const ins = spec.inputs.map((k) => (args.inputs as Record<string, tf.TensorInfo>)[k]);
      const first = ins[0];
      if (first === undefined || ins.some((t) => t === undefined)) return fallback(args);
      const n = size(first.shape);
      if (
        n < MIN_POINTWISE_ELEMENTS ||
        ins.some((t) => t?.dtype !== 'float32' || size(t.shape) !== n)
      ) {
        return fallback(args);
      }
      count(name);
      const backend = args.backend as unknown as WasmBackend;
      const outs = Array.from({ length: spec.outputs }, () =>
        backend.makeOutput(first.shape, 'float32'),
      );
      const attrs = (args.attrs ?? {}) as Record<string, unknown>;
      call(
        addon,
        backend,
        spec.op,
        n,
        [...ins.map((t) => at(backend, t as tf.TensorInfo)), ...outs.map((o) => at(backend, o))],
        spec.scalars?.(attrs) ?? [],
      );
      return outs.length === 1 ? (outs[0] as tf.TensorInfo) : outs;
    };
  };
}

const num = (a: Record<string, unknown>, k: string): number => a[k] as number;

/** The KL of the mean-field posterior to a Normal prior (a scalar). */
function klKernel(addon: NativeAddon) {
  return (previous: KernelFunc | undefined): KernelFunc => {
    const fallback = fallbackOf(previous, 'DeepprobKLSoftplusNormal');
    return (args) => {
      const { mu, rho, centre } = args.inputs as Record<string, tf.TensorInfo>;
      const { priorSigma } = args.attrs as unknown as { priorSigma: number };
      if (mu === undefined || rho === undefined || centre === undefined) return fallback(args);
      const n = size(mu.shape);
      const c = size(centre.shape);
      if (
        n < MIN_POINTWISE_ELEMENTS ||
        size(rho.shape) !== n ||
        (c !== 1 && c !== n) ||
        [mu, rho, centre].some((t) => t.dtype !== 'float32')
      ) {
        return fallback(args);
      }
      count('DeepprobKLSoftplusNormal');
      const backend = args.backend as unknown as WasmBackend;
      const sum = call(
        addon,
        backend,
        PW.kl,
        n,
        [at(backend, mu), at(backend, rho), at(backend, centre)],
        [priorSigma, c],
      );
      const out = backend.makeOutput([], 'float32');
      (backend.typedArrayFromHeap(out) as Float32Array)[0] = sum + n * (Math.log(priorSigma) - 0.5);
      return out;
    };
  };
}

/** `dy (mu - c) / s_p^2` (dy a scalar, c one value or one per weight). */
function klGradMuKernel(addon: NativeAddon) {
  return (previous: KernelFunc | undefined): KernelFunc => {
    const fallback = fallbackOf(previous, 'DeepprobKLNormalGradMu');
    return (args) => {
      const { dy, mu, centre } = args.inputs as Record<string, tf.TensorInfo>;
      const { priorSigma } = args.attrs as unknown as { priorSigma: number };
      if (dy === undefined || mu === undefined || centre === undefined) return fallback(args);
      const n = size(mu.shape);
      const c = size(centre.shape);
      if (
        n < MIN_POINTWISE_ELEMENTS ||
        size(dy.shape) !== 1 ||
        (c !== 1 && c !== n) ||
        [dy, mu, centre].some((t) => t.dtype !== 'float32')
      ) {
        return fallback(args);
      }
      count('DeepprobKLNormalGradMu');
      const backend = args.backend as unknown as WasmBackend;
      const g = (backend.typedArrayFromHeap(dy) as Float32Array)[0] as number;
      const out = backend.makeOutput(mu.shape, 'float32');
      call(
        addon,
        backend,
        PW.klGradMu,
        n,
        [at(backend, mu), at(backend, centre), at(backend, out)],
        [g, c, priorSigma],
      );
      return out;
    };
  };
}

/** `dy (s / s_p^2 - 1 / s) sigmoid(rho)` (dy a scalar). */
function klGradRhoKernel(addon: NativeAddon) {
  return (previous: KernelFunc | undefined): KernelFunc => {
    const fallback = fallbackOf(previous, 'DeepprobKLSoftplusGradRho');
    return (args) => {
      const { dy, rho } = args.inputs as Record<string, tf.TensorInfo>;
      const { priorSigma } = args.attrs as unknown as { priorSigma: number };
      if (dy === undefined || rho === undefined) return fallback(args);
      const n = size(rho.shape);
      if (
        n < MIN_POINTWISE_ELEMENTS ||
        size(dy.shape) !== 1 ||
        dy.dtype !== 'float32' ||
        rho.dtype !== 'float32'
      ) {
        return fallback(args);
      }
      count('DeepprobKLSoftplusGradRho');
      const backend = args.backend as unknown as WasmBackend;
      const g = (backend.typedArrayFromHeap(dy) as Float32Array)[0] as number;
      const out = backend.makeOutput(rho.shape, 'float32');
      call(addon, backend, PW.klGradRho, n, [at(backend, rho), at(backend, out)], [g, priorSigma]);
      return out;
    };
  };
}

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function poolInfo(xShape: number[], a: PoolAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  );
}

/**
 * The 2x2 / stride 2 / unpadded pooling (LeNet's, AlexNet's): the replaced kernels (the wasm
 * pack's SIMD forward and its 2x2 gradient loop) are as fast or faster there (LeNet-5's 6-channel
 * maps: 5.1 vs 8.6 CPU ms for gradient + forward in an interleaved A/B, one thread), so it stays
 * with them.
 */
function plain2x2(info: tf.backend_util.Conv2DInfo): boolean {
  return (
    info.filterHeight === 2 &&
    info.filterWidth === 2 &&
    info.strideHeight === 2 &&
    info.strideWidth === 2 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    2 * info.outHeight <= info.inHeight &&
    2 * info.outWidth <= info.inWidth
  );
}

/** `MaxPool` (kind 0) or `MaxPoolGrad` (kind 1), NHWC float32, not {@link plain2x2}. */
function maxPoolKernel(addon: NativeAddon, grad: boolean) {
  const name = grad ? 'MaxPoolGrad' : 'MaxPool';
  return (previous: KernelFunc | undefined): KernelFunc => {
    const fallback = fallbackOf(previous, name);
    return (args) => {
      const ins = args.inputs as Record<string, tf.TensorInfo | undefined>;
      const x = grad ? ins['input'] : ins['x'];
      const dy = ins['dy'];
      if (x === undefined || x.dtype !== 'float32' || x.shape.length !== 4) return fallback(args);
      if (grad && (dy === undefined || dy.dtype !== 'float32')) return fallback(args);
      const info = poolInfo(x.shape, args.attrs as unknown as PoolAttrs);
      if (
        size(info.outShape) === 0 ||
        size(x.shape) < MIN_POINTWISE_ELEMENTS ||
        (previous !== undefined && plain2x2(info))
      ) {
        return fallback(args);
      }
      if (grad && size((dy as tf.TensorInfo).shape) !== size(info.outShape)) return fallback(args);
      count(name);
      const backend = args.backend as unknown as WasmBackend;
      const out = backend.makeOutput(grad ? x.shape : info.outShape, 'float32');
      addon.pool(
        grad ? 1 : 0,
        backend.wasm.HEAPF32,
        at(backend, x),
        grad ? at(backend, dy as tf.TensorInfo) : at(backend, out),
        grad ? at(backend, out) : -1,
        ...windowGeometry(info, false),
      );
      return out;
    };
  };
}

/** `Sum` over a leading run of axes (`axis` = [0, ..., k-1], k < rank), float32. */
function sumKernel(addon: NativeAddon) {
  return (previous: KernelFunc | undefined): KernelFunc => {
    const fallback = fallbackOf(previous, 'Sum');
    return (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const { axis, keepDims } = args.attrs as unknown as {
        axis: number | number[];
        keepDims: boolean;
      };
      if (x === undefined || x.dtype !== 'float32') return fallback(args);
      const axes = [...new Set(tf.util.parseAxisParam(axis, x.shape))].sort((a, b) => a - b);
      const k = axes.length;
      const leading = k > 0 && k < x.shape.length && axes.every((a, i) => a === i);
      const rows = size(x.shape.slice(0, k));
      const cols = size(x.shape.slice(k));
      if (!leading || rows * cols < 4 * MIN_POINTWISE_ELEMENTS || cols < 4 || rows < 2) {
        return fallback(args);
      }
      count('Sum');
      const backend = args.backend as unknown as WasmBackend;
      const shape = keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k);
      const out = backend.makeOutput(shape, 'float32');
      addon.colsum(backend.wasm.HEAPF32, at(backend, x), rows, cols, at(backend, out));
      return out;
    };
  };
}

/** The kernels of this module, by name (installed by `installNativeKernels`). */
export function pointwiseKernels(
  addon: NativeAddon,
): { kernelName: string; make: (previous: KernelFunc | undefined) => KernelFunc }[] {
  const ew = (name: string, spec: Elementwise) => ({
    kernelName: name,
    make: elementwiseKernel(addon, name, spec),
  });
  return [
    ew('Softplus', { inputs: ['x'], op: PW.softplus, outputs: 1 }),
    ew('DeepprobSoftplusGrad', { inputs: ['dy', 'x'], op: PW.softplusGrad, outputs: 1 }),
    ew('DeepprobSoftplusReparam', { inputs: ['mu', 'rho', 'eps'], op: PW.reparam, outputs: 1 }),
    ew('DeepprobSoftplusReparamGrad', {
      inputs: ['dy', 'eps', 'rho'],
      op: PW.reparamGrad,
      outputs: 1,
    }),
    ew('DeepprobAdamUpdate', {
      inputs: ['x', 'm', 'v', 'g'],
      op: PW.adam,
      outputs: 3,
      scalars: (a) => [
        num(a, 'beta1'),
        num(a, 'beta2'),
        num(a, 'epsilon'),
        num(a, 'learningRate'),
        num(a, 'c1'),
        num(a, 'c2'),
      ],
    }),
    { kernelName: 'DeepprobKLSoftplusNormal', make: klKernel(addon) },
    { kernelName: 'DeepprobKLNormalGradMu', make: klGradMuKernel(addon) },
    { kernelName: 'DeepprobKLSoftplusGradRho', make: klGradRhoKernel(addon) },
    { kernelName: 'MaxPool', make: maxPoolKernel(addon, false) },
    { kernelName: 'MaxPoolGrad', make: maxPoolKernel(addon, true) },
    { kernelName: 'Sum', make: sumKernel(addon) },
    { kernelName: 'PadV2', make: copyKernel(addon, 'PadV2') },
    { kernelName: 'Slice', make: copyKernel(addon, 'Slice') },
    { kernelName: 'Add', make: binaryKernel(addon, 'Add') },
    { kernelName: 'Sub', make: binaryKernel(addon, 'Sub') },
    { kernelName: 'Multiply', make: binaryKernel(addon, 'Multiply') },
  ];
}
