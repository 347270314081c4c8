/**
 * `Conv2D` and `FusedConv2D` (NHWC, unit dilation) on the wasm backend as im2col + the SIMD
 * module's GEMM, with the bias and the activation fused into the GEMM's last pass:
 *
 *   cols = im2col(x)                        [B*OH*OW, KH*KW*CI]  (the module's `im2col`)
 *   y[(b, oy, ox), co] = act(sum_k cols[(b, oy, ox), k] W[k, co] + bias[co])
 *
 * i.e. `y = act(cols W + bias)`, one GEMM with the HWIO filter as `[K, CO]` in place (im2col
 * copies runs of KW*CI contiguous values; the transposed gather `im2col_t` would be scalar). Where it does not beat XNNPACK's convolution
 * (`useSimdConv`), or for cases it does not take (NCHW, dilation, other activations, PReLU,
 * non-float32, im2col larger than `MAX_COLS`), the kernel it replaced runs.
 */
import * as tf from '@tensorflow/tfjs';
import { getEnv } from '../env.js';
import { simdKernels, type SimdKernels } from '../simd/loader.js';
import { gemmThreads, runShares, splitRange, type PoolFn } from '../simd/pool.js';
import { MAX_COLS, colsSize, gemmGeometry } from './conv_gemm.js';
import { GEMM_ACTIVATIONS, simdMatMul, useSimdGemm } from './simd_gemm.js';
import { fusedEpilogue } from './fused_epilogue.js';
import { release, zerosOutput, type WasmBackend } from './wasm_util.js';

type KernelFunc = tf.KernelConfig['kernelFunc'];

/** Attributes of tfjs's `Conv2D` / `FusedConv2D` kernels. */
interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
  leakyreluAlpha?: number;
}

/**
 * `im2col` (x -> cols) or `col2im_add` (cols -> dx) over the images of a batch, shared among the
 * SIMD pool's threads (each image's rows of cols and its part of x / dx are its own).
 *
 * @param k the loaded SIMD module.
 * @param fn the loop.
 * @param image pointer to the loop's first operand: x (im2col) or cols (col2im_add).
 * @param other pointer to its second: cols (im2col) or dx (col2im_add, zeroed by the caller).
 * @param info the convolution's geometry.
 * @param K filter taps x input channels (a row of cols).
 */
export function imagesShared(
  k: SimdKernels,
  fn: Extract<PoolFn, 'im2col' | 'col2im_add'>,
  image: number,
  other: number,
  info: tf.backend_util.Conv2DInfo,
  K: number,
): void {
  const { loop } = gemmGeometry(info);
  const B = info.batchSize;
  const imageFloats = info.inHeight * info.inWidth * info.inChannels;
  const colFloats = info.outHeight * info.outWidth * K;
  const ranges = splitRange(B, gemmThreads(), B * colFloats);
  runShares(
    k,
    fn,
    ranges.map(([b0, b1]) => {
      const xOff = 4 * b0 * imageFloats;
      const cOff = 4 * b0 * colFloats;
      const [x, c] = fn === 'im2col' ? [image + xOff, other + cOff] : [image + cOff, other + xOff];
      return [x, c, b1 - b0, ...loop.slice(1)];
    }),
  );
}

/**
 * Whether im2col + SIMD GEMM should run this forward convolution instead of XNNPACK's (indirect)
 * convolution: `DEEPPROB_SIMD_CONV=1|0` forces it; otherwise layers with >= 64 output channels
 * and >= 256 taps x input channels, where the GEMM pays for the im2col copy. Measured per core
 * (`bench/wasm_gemm.ts --conv --cpu`, relaxed SIMD, Node 20, 2026-12-06): AlexNet's conv1-conv5
 * at batch 64 1.1-1.4x faster than XNNPACK, 3Conv3FC's conv3 1.3x; XNNPACK 1.2-2x faster on
 * LeNet-5's layers (6 and 16 channels) and 3Conv3FC's conv1 (75 taps), even on its conv2 (64
 * channels, 800 taps) and the 20/50 LeNet's conv2 (50 channels).
 */
export function useSimdConv(k: SimdKernels, info: tf.backend_util.Conv2DInfo): boolean {
  const forced = getEnv('DEEPPROB_SIMD_CONV');
  if (forced === '0') return false;
  const { N, K, CO } = gemmGeometry(info);
  if (forced === '1') return true;
  return CO >= 64 && K >= 256 && useSimdGemm(k, N, CO, K);
}

/**
 * `act(conv(x, W) + bias)` by im2col and the SIMD GEMM, or undefined when not taken.
 *
 * @param backend the wasm backend.
 * @param args the kernel call (inputs `x`, `filter`, optional `bias`, `preluActivationWeights`).
 * @param fused whether the call is `FusedConv2D` (bias, activation).
 */
export function conv2dSimd(
  backend: WasmBackend,
  args: Parameters<KernelFunc>[0],
  fused: boolean,
): tf.TensorInfo | undefined {
  const k = simdKernels();
  if (k === undefined) return undefined;
  const { x, filter, bias, preluActivationWeights } = args.inputs as Record<
    string,
    tf.TensorInfo | undefined
  >;
  const attrs = args.attrs as unknown as ConvAttrs;
  if (x === undefined || filter === undefined || preluActivationWeights !== undefined) {
    return undefined;
  }
  const activation = fused ? (attrs.activation ?? 'linear') : 'linear';
  if (GEMM_ACTIVATIONS[activation] === undefined) return undefined;
  if (attrs.dataFormat === 'NCHW' || x.dtype !== 'float32' || filter.dtype !== 'float32') {
    return undefined;
  }
  if (x.shape.length !== 4 || filter.shape.length !== 4) return undefined;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  const { N, K, CO } = gemmGeometry(info);
  if (N === 0 || K === 0 || CO === 0 || colsSize(info) > MAX_COLS) return undefined;
  if (bias !== undefined) {
    const n = bias.shape.reduce((p, d) => p * d, 1);
    if (bias.dtype !== 'float32' || n !== CO || bias.shape[bias.shape.length - 1] !== CO) {
      return undefined;
    }
  }
  if (!useSimdConv(k, info)) return undefined;
  const cols = backend.makeOutput([N, K], 'float32');
  const temps: tf.TensorInfo[] = [cols];
  try {
    const p = (t: tf.TensorInfo): number => backend.typedArrayFromHeap(t).byteOffset;
    imagesShared(k, 'im2col', p(x), p(cols), info, K);
    // the filter [KH, KW, CI, CO] is W [K, CO] as it is stored
    const w: tf.TensorInfo = { dataId: filter.dataId, shape: [K, CO], dtype: 'float32' };
    return simdMatMul(backend, k, cols, w, {
      bias,
      activation,
      alpha: attrs.leakyreluAlpha ?? 0.2,
      // [N, CO] is the NHWC output [B, OH, OW, CO] as it is stored
      outShape: info.outShape,
    });
  } finally {
    release(backend, ...temps);
  }
}

/**
 * A convolution over zero input channels (or an empty filter window) with a non-empty output:
 * every output is a sum of no terms, `y = act(0 + bias)`; undefined for any other call. The stock
 * wasm kernels returned uninitialized memory there.
 */
function emptyReduction(
  backend: WasmBackend,
  args: Parameters<KernelFunc>[0],
): tf.TensorInfo | undefined {
  const { x, filter } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  if (x === undefined || filter === undefined || filter.shape.length !== 4) return undefined;
  const [fh, fw, ci] = filter.shape as [number, number, number, number];
  if (fh * fw * ci !== 0 || x.shape.length !== 4) return undefined;
  const a = args.attrs as unknown as ConvAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad as 'same',
    a.dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(a.dataFormat),
  );
  if (info.outShape.some((d) => d === 0)) return undefined;
  return fusedEpilogue(backend, zerosOutput(backend, info.outShape), args, 'FusedConv2D');
}

/** Kernel function for `Conv2D` (`fused` false) or `FusedConv2D`; unhandled cases go to `previous`. */
export function conv2dSimdKernel(fused: boolean) {
  return (previous: KernelFunc | undefined): KernelFunc =>
    (args) => {
      const empty = emptyReduction(args.backend as unknown as WasmBackend, args);
      if (empty !== undefined) return empty;
      const out = conv2dSimd(args.backend as unknown as WasmBackend, args, fused);
      if (out !== undefined) return out;
      if (previous === undefined) {
        throw new Error(`deepprob kernels: no ${fused ? 'FusedConv2D' : 'Conv2D'}`);
      }
      return previous(args);
    };
}
