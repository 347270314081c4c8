/**
 * Forward kernels the SIMD module runs faster than the stock wasm ones: `Relu` (`max(x, 0)`, NaN
 * kept), `Softplus` and `Sigmoid` (vector exp/log; the stock ones take ~11 ns per element), and
 * 2x2 / stride-2 unpadded `MaxPool` (NHWC, NaN propagates). Single pass, in place on the heap; any other case (dtype,
 * geometry, SIMD module not loaded) goes to the kernel registered before.
 */
import * as tf from '@tensorflow/tfjs';
import { simdKernels } from '../simd/loader.js';
import { mapShared } from '../simd/pool.js';
import { deferTo, type WasmBackend } from './wasm_util.js';

type KernelFunc = tf.KernelConfig['kernelFunc'];

/** An element-wise float32 kernel run by the SIMD export `fn`; `previous` otherwise. */
function unaryKernel(
  name: string,
  fn: 'relu' | 'softplus' | 'sigmoid',
  previous: KernelFunc | undefined,
): KernelFunc {
  const fallback = deferTo(previous, name);
  return (args) => {
    const k = simdKernels();
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (k === undefined || x.dtype !== 'float32') return fallback(args);
    const be = args.backend as unknown as WasmBackend;
    const out = be.makeOutput(x.shape, 'float32');
    const o = be.typedArrayFromHeap(out);
    mapShared(k, fn, [be.typedArrayFromHeap(x).byteOffset, o.byteOffset], o.length);
    return out;
  };
}

/** `Relu` (`max(x, 0)`, NaN kept) on float32 with the SIMD module; `previous` otherwise. */
export function reluKernel(previous: KernelFunc | undefined): KernelFunc {
  return unaryKernel('Relu', 'relu', previous);
}

/** `Softplus` (`max(x, 0) + log1p(e^-|x|)`, ~2e-7 relative error) with the SIMD module. */
export function softplusKernel(previous: KernelFunc | undefined): KernelFunc {
  return unaryKernel('Softplus', 'softplus', previous);
}

/** `Sigmoid` (`1 / (1 + e^-x)`, ~2e-7 relative error) with the SIMD module. */
export function sigmoidKernel(previous: KernelFunc | undefined): KernelFunc {
  return unaryKernel('Sigmoid', 'sigmoid', previous);
}

interface MaxPoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** `MaxPool` 2x2 / stride 2 / unpadded on float32 NHWC with the SIMD module; `previous` otherwise. */
export function maxPoolKernel(previous: KernelFunc | undefined): KernelFunc {
  const fallback = deferTo(previous, 'MaxPool');
  return (args) => {
    const k = simdKernels();
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (k === undefined || x.dtype !== 'float32' || x.shape.length !== 4) return fallback(args);
    const a = args.attrs as unknown as MaxPoolAttrs;
    const info = tf.backend_util.computePool2DInfo(
      x.shape as [number, number, number, number],
      a.filterSize,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
    );
    const [B, H, W, C] = x.shape as [number, number, number, number];
    const plain =
      info.filterHeight === 2 &&
      info.filterWidth === 2 &&
      info.strideHeight === 2 &&
      info.strideWidth === 2 &&
      info.padInfo.top === 0 &&
      info.padInfo.left === 0 &&
      info.outHeight === Math.floor(H / 2) &&
      info.outWidth === Math.floor(W / 2);
    if (!plain || info.outHeight === 0 || info.outWidth === 0) return fallback(args);
    const be = args.backend as unknown as WasmBackend;
    const out = be.makeOutput(info.outShape, 'float32');
    const xp = be.typedArrayFromHeap(x).byteOffset;
    k.fns.max_pool_2x2(xp, be.typedArrayFromHeap(out).byteOffset, B, H, W, C);
    return out;
  };
}
