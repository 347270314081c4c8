/**
 * `Conv2DBackpropFilter` on the wasm backend as one forward convolution (XNNPACK).
 *
 * For a convolution with strides (sh, sw), pads (pt, pl) and unit dilation (tfjs computes no
 * filter gradient for dilated convolutions), the filter gradient is
 *
 *   dW[kh, kw, ci, co] = sum_{b, oh, ow} xpad[b, oh*sh + kh, ow*sw + kw, ci] * dy[b, oh, ow, co]
 *
 * which is a forward convolution whose "batch" is ci and whose "channels" are b:
 * input X'[ci, H, W, b] = x transposed, filter F'[oh, ow, b, co] = dy transposed, unit strides,
 * dilation (sh, sw), pads (pt, pl) and bottom/right pads chosen so the output is [ci, kh, kw, co];
 * transposing that gives dW.
 */
import * as tf from '@tensorflow/tfjs';
import { simdKernels, type SimdKernels } from '../simd/loader.js';
import { MAX_COLS, colsSize, convGradMode, gemmGeometry, type ConvGradMode } from './conv_gemm.js';
import { simdMatMul, useSimdGemm } from './simd_gemm.js';
import { imagesShared } from './conv2d_simd.js';
import { call, release, reshape, transpose, zerosOutput, type WasmBackend } from './wasm_util.js';

type KernelFunc = tf.KernelConfig['kernelFunc'];

/** Attributes of tfjs's `Conv2DBackpropFilter` kernel. */
interface BackpropFilterAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** Which filter-gradient formulation to use: by shape (`'auto'`), or one forced (tests, benchmarks). */
export const backpropFilterPath: { mode: ConvGradMode } = { mode: convGradMode() };

/**
 * Whether `dW = im2colᵀ(x) dy` (one GEMM over the output pixels) beats the batch-as-channels
 * convolution for this layer. The convolution runs XNNPACK with the layer's input channels as its
 * batch and computes every tap position of the strided map; the GEMM pays a strided gather of
 * `KH*KW*CI*N` values first. Measured (wasm, 2 threads): the GEMM wins for 2-3 input channels
 * (an RGB first layer: 28 -> 13 ms), strided layers (4.2 -> 2.7 ms) and >= 64 output channels
 * (9.8 -> 7.0 ms), and loses on LeNet-5's conv2 (5.0 vs 7.8 ms) and 3x3 layers of 4-16 channels.
 * One input channel has its own SIMD kernel.
 */
export function useGemm(info: tf.backend_util.Conv2DInfo): boolean {
  if (backpropFilterPath.mode !== 'auto') return backpropFilterPath.mode === 'gemm';
  if (colsSize(info) > MAX_COLS) return false;
  return (
    info.inChannels <= 3 || info.outChannels >= 64 || info.strideHeight > 1 || info.strideWidth > 1
  );
}

/**
 * Filter gradient as one GEMM: `colsT = im2colᵀ(x)` (`[KH*KW*CI, N]`, N the output pixels; the
 * SIMD module's gather) times `dy` as `[N, CO]`, which is already the HWIO filter layout.
 */
function backpropFilterGemm(
  backend: WasmBackend,
  k: SimdKernels,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { N, K, CO, loop } = gemmGeometry(info);
  const temps: tf.TensorInfo[] = [];
  try {
    const p = (t: tf.TensorInfo): number => backend.typedArrayFromHeap(t).byteOffset;
    if (useSimdGemm(k, K, CO, N)) {
      // cols = im2col(x) [N, K] (vector copies, shared by images among the SIMD threads), read
      // transposed by the SIMD GEMM with dy [N, CO] in place: colsᵀ dy is the HWIO filter [K, CO]
      const cols = backend.makeOutput([N, K], 'float32');
      temps.push(cols);
      imagesShared(k, 'im2col', p(x), p(cols), info, K);
      const b: tf.TensorInfo = { dataId: dy.dataId, shape: [N, CO], dtype: 'float32' };
      return simdMatMul(backend, k, cols, b, { transposeA: true, outShape: info.filterShape });
    }
    const colsT = backend.makeOutput([1, K, N], 'float32');
    temps.push(colsT);
    k.fns.im2col_t(p(x), p(colsT), ...loop);
    // dy as the right operand, in a buffer of its own (XNNPACK caches packed right operands by
    // buffer id, and dy's buffer may have been packed under another shape)
    const dy3 = reshape(backend, dy, [1, N, CO]);
    temps.push(dy3);
    const b = transpose(backend, dy3, [0, 1, 2], true);
    temps.push(b);
    const dw = call(
      backend,
      'BatchMatMul',
      { a: colsT, b },
      { transposeA: false, transposeB: false },
    );
    temps.push(dw);
    return reshape(backend, dw, info.filterShape);
  } finally {
    release(backend, ...temps);
  }
}

/**
 * Filter gradient of a 2-D convolution (NHWC) computed by a forward convolution on the wasm
 * backend. Returns undefined when the case is not handled (the caller falls back).
 */
export function conv2dBackpropFilterWasm(
  backend: WasmBackend,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  attrs: BackpropFilterAttrs,
): tf.TensorInfo | undefined {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  if (dataFormat === 'NCHW' || x.dtype !== 'float32' || dy.dtype !== 'float32') return undefined;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: ci } = info;
  const { filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  if (oh <= 0 || ow <= 0) return undefined;
  const k = simdKernels();
  if (
    k !== undefined &&
    ci === 1 &&
    sh === 1 &&
    sw === 1 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1
  ) {
    // single input channel (first layer on grayscale images): one SIMD pass over dy
    const co = filterShape[3];
    const out = backend.makeOutput(filterShape, 'float32');
    // float64 totals then float32 per-image partials
    const scratch = backend.makeOutput([3 * kh * kw * co], 'float32');
    const p = (t: tf.TensorInfo): number => backend.typedArrayFromHeap(t).byteOffset;
    const sp = p(scratch);
    if (sp % 8 !== 0) throw new Error('deepprob kernels: unaligned scratch');
    k.fns.conv_filter_grad_c1(p(x), p(dy), p(out), sp, B, H, W, oh, ow, kh, kw, co, pt, pl);
    release(backend, scratch);
    return out;
  }
  if (k !== undefined && useGemm(info)) return backpropFilterGemm(backend, k, x, dy, info);
  // Rows/cols of the padded input actually touched: pt + H + pb' = (oh-1)*sh + kh.
  let pb = (oh - 1) * sh + kh - H - pt;
  let pr = (ow - 1) * sw + kw - W - pl;
  const temps: tf.TensorInfo[] = [];
  try {
    let xin = x;
    if (pb < 0 || pr < 0) {
      const hUsed = pb < 0 ? H + pb : H;
      const wUsed = pr < 0 ? W + pr : W;
      if (hUsed <= 0 || wUsed <= 0) return undefined;
      xin = call(backend, 'Slice', { x }, { begin: [0, 0, 0, 0], size: [B, hUsed, wUsed, ci] });
      temps.push(xin);
      pb = Math.max(pb, 0);
      pr = Math.max(pr, 0);
    }
    const xt = transpose(backend, xin, [3, 1, 2, 0]); // [ci, H, W, B]
    temps.push(xt);
    const dyt = transpose(backend, dy, [1, 2, 0, 3], true); // [oh, ow, B, co], the filter
    temps.push(dyt);
    const conv = call(
      backend,
      'Conv2D',
      { x: xt, filter: dyt },
      {
        strides: [1, 1],
        dilations: [sh, sw],
        pad: [
          [0, 0],
          [pt, pb],
          [pl, pr],
          [0, 0],
        ],
        dataFormat: 'NHWC',
      },
    ); // [ci, kh, kw, co]
    temps.push(conv);
    if (conv.shape[1] !== kh || conv.shape[2] !== kw) {
      throw new Error(
        `deepprob kernels: Conv2DBackpropFilter shape mismatch ${String(conv.shape)} vs ${kh}x${kw}`,
      );
    }
    return transpose(backend, conv, [1, 2, 0, 3]);
  } finally {
    release(backend, ...temps);
  }
}

/** Kernel function for `Conv2DBackpropFilter`; unhandled cases go to `fallback`. */
export function conv2dBackpropFilterKernel(fallback: KernelFunc | undefined): KernelFunc {
  return (args) => {
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const { filterShape } = args.attrs as unknown as { filterShape: number[] };
    if (x.shape.includes(0) || dy.shape.includes(0)) {
      // a sum over no images or pixels: zeros (XNNPACK refused the setup and left garbage)
      return zerosOutput(args.backend as unknown as WasmBackend, filterShape);
    }
    const out = conv2dBackpropFilterWasm(
      args.backend as unknown as WasmBackend,
      x,
      dy,
      args.attrs as unknown as BackpropFilterAttrs,
    );
    if (out !== undefined) return out;
    if (fallback === undefined) throw new Error('deepprob kernels: no Conv2DBackpropFilter');
    return fallback(args);
  };
}
