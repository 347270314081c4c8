/**
 * `Conv2DBackpropInput` on the wasm backend as one forward convolution (XNNPACK).
 *
 * For a convolution with strides s, pads (pt, pl) and unit dilation (tfjs has no input gradient
 * for dilated convolutions), the input gradient is the "full" correlation of the stride-dilated
 * output gradient with the flipped filter:
 *
 *   dx[b, h, w, ci] = sum_{i, j, co} dyd[b, h + pt - i, w + pl - j, co] * W[i, j, ci, co]
 *                   = conv2d(dyd, W'),   W'[i, j, co, ci] = W[kh-1-i, kw-1-j, ci, co],
 *
 * with pads (kh-1-pt, kw-1-pl) on top/left, and the bottom/right pads chosen so the output has
 * the input's size. dyd is dy with s-1 zeros inserted between rows/columns (dyd = dy when s = 1).
 */
import * as tf from '@tensorflow/tfjs';
import { simdKernels, type SimdKernels } from '../simd/loader.js';
import { MAX_COLS, colsSize, convGradMode, gemmGeometry, type ConvGradMode } from './conv_gemm.js';
import { simdMatMul, useSimdGemm } from './simd_gemm.js';
import { imagesShared } from './conv2d_simd.js';
import { call, release, reshape, transpose, zerosOutput, type WasmBackend } from './wasm_util.js';

type KernelFunc = tf.KernelConfig['kernelFunc'];

interface BackpropInputAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/**
 * Convolution with explicit pads that may be negative (a negative pad crops the input).
 * `x` is NHWC, `filter` HWIO.
 */
export function convWithPads(
  backend: WasmBackend,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  pads: [number, number, number, number],
  dilations: [number, number] = [1, 1],
): tf.TensorInfo {
  const [pt, pb, pl, pr] = pads;
  const [B, H, W, C] = x.shape as [number, number, number, number];
  let xin = x;
  const temps: tf.TensorInfo[] = [];
  try {
    if (pt < 0 || pb < 0 || pl < 0 || pr < 0) {
      const top = Math.max(0, -pt);
      const left = Math.max(0, -pl);
      const h = H - top - Math.max(0, -pb);
      const w = W - left - Math.max(0, -pr);
      xin = call(backend, 'Slice', { x }, { begin: [0, top, left, 0], size: [B, h, w, C] });
      temps.push(xin);
    }
    return call(
      backend,
      'Conv2D',
      { x: xin, filter },
      {
        strides: [1, 1],
        dilations,
        pad: [
          [0, 0],
          [Math.max(pt, 0), Math.max(pb, 0)],
          [Math.max(pl, 0), Math.max(pr, 0)],
          [0, 0],
        ],
        dataFormat: 'NHWC',
      },
    );
  } finally {
    release(backend, ...temps);
  }
}

/** Insert s-1 zeros after every row/column of an NHWC tensor: [B, h*sh, w*sw, C]. */
function zeroInsert(backend: WasmBackend, x: tf.TensorInfo, sh: number, sw: number): tf.TensorInfo {
  const [B, h, w, C] = x.shape as [number, number, number, number];
  const x6 = reshape(backend, x, [B, h, 1, w, 1, C]);
  try {
    const padded = call(
      backend,
      'PadV2',
      { x: x6 },
      {
        paddings: [
          [0, 0],
          [0, 0],
          [0, sh - 1],
          [0, 0],
          [0, sw - 1],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    const out = reshape(backend, padded, [B, h * sh, w * sw, C]);
    release(backend, padded);
    return out;
  } finally {
    release(backend, x6);
  }
}

/**
 * Which input-gradient formulation to use: `'auto'` (the default: by shape, see
 * {@link useGemm}), or one of the two forced (for benchmarks and tests).
 */
export const backpropInputPath: { mode: ConvGradMode } = { mode: convGradMode() };

/**
 * Whether the GEMM + col2im formulation beats the full correlation for this convolution.
 *
 * The full correlation computes every input pixel from all `KH*KW*CO` taps over the padded,
 * zero-inserted map: `H*W / (OH*OW)` times the useful work (1 for a 3x3 'same' layer, ~2 for a
 * 5x5 'valid' one, 4 for stride 2), and XNNPACK runs it with the layer's *input* channels as
 * output channels, which leaves its tiles mostly empty when there are 1-3 of them. The GEMM does
 * the useful work only, but writes and re-reads `cols` (`OH*OW*KH*KW*CI` values per image) and
 * has `CO` as its inner size. Measured on the shapes of the model zoo (LeNet, AlexNet, 3Conv3FC)
 * and 3x3 'same' layers: the GEMM wins with wasted work >= 1.5x, with <= 3 input channels, or
 * with >= 64 output channels; the full correlation wins for 3x3 'same' layers of 4-32 channels.
 */
export function useGemm(info: tf.backend_util.Conv2DInfo): boolean {
  if (backpropInputPath.mode !== 'auto') return backpropInputPath.mode === 'gemm';
  const waste = (info.inHeight * info.inWidth) / (info.outHeight * info.outWidth);
  if (colsSize(info) > MAX_COLS) return false;
  return waste >= 1.5 || info.inChannels <= 3 || info.outChannels >= 64;
}

/**
 * Input gradient as `cols = dy Wᵀ` (one BatchMatMul: `[N, CO] x [CO, KH*KW*CI]`, N the output
 * pixels) followed by `dx = col2im(cols)` (the SIMD module's scatter-add).
 */
function backpropInputGemm(
  backend: WasmBackend,
  k: SimdKernels,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { N, K, CO } = gemmGeometry(info);
  const temps: tf.TensorInfo[] = [];
  try {
    if (useSimdGemm(k, N, K, CO)) {
      // cols = dy Wᵀ with the filter [K, CO] read transposed in place by the SIMD GEMM
      const a: tf.TensorInfo = { dataId: dy.dataId, shape: [N, CO], dtype: 'float32' };
      const w: tf.TensorInfo = { dataId: filter.dataId, shape: [K, CO], dtype: 'float32' };
      temps.push(simdMatMul(backend, k, a, w, { transposeB: true }));
    } else {
      const a = reshape(backend, dy, [1, N, CO]);
      temps.push(a);
      // Wᵀ as [1, CO, K] (the wasm BatchMatMul runs XNNPACK only without transposes); the
      // transpose also gives it a buffer of its own: XNNPACK packs and caches right operands by
      // buffer id, and the filter's buffer feeds the forward Conv2D
      const fr = reshape(backend, filter, [1, K, CO]);
      temps.push(fr);
      const b = transpose(backend, fr, [0, 2, 1], true);
      temps.push(b);
      temps.push(call(backend, 'BatchMatMul', { a, b }, { transposeA: false, transposeB: false }));
    }
    const cols = temps[temps.length - 1] as tf.TensorInfo;
    const dx = backend.makeOutput(info.inShape, 'float32');
    const p = (t: tf.TensorInfo): number => backend.typedArrayFromHeap(t).byteOffset;
    (backend.typedArrayFromHeap(dx) as Float32Array).fill(0);
    imagesShared(k, 'col2im_add', p(cols), p(dx), info, K);
    return dx;
  } finally {
    release(backend, ...temps);
  }
}

/** Input gradient of an NHWC 2-D convolution; undefined when the case is not handled. */
export function conv2dBackpropInputWasm(
  backend: WasmBackend,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  attrs: BackpropInputAttrs,
): tf.TensorInfo | undefined {
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  if (dataFormat === 'NCHW' || dy.dtype !== 'float32' || filter.dtype !== 'float32')
    return undefined;
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { inHeight: H, inWidth: W, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const pt = kh - 1 - info.padInfo.top;
  const pl = kw - 1 - info.padInfo.left;
  // Output rows: (rows of dyd) + pt + pb - kh + 1 = H.
  const rowsD = oh * sh; // zero-inserted dy (with s-1 trailing zero rows)
  const colsD = ow * sw;
  const pb = H - rowsD - pt + kh - 1;
  const pr = W - colsD - pl + kw - 1;
  if (rowsD + pt + pb <= 0 || colsD + pl + pr <= 0) return undefined;
  const k = simdKernels();
  if (k !== undefined && useGemm(info)) return backpropInputGemm(backend, k, dy, filter, info);
  const temps: tf.TensorInfo[] = [];
  try {
    // W'[i, j, co, ci] = W[kh-1-i, kw-1-j, ci, co]
    const wt = transpose(backend, filter, [0, 1, 3, 2], true);
    temps.push(wt);
    const wf = call(backend, 'Reverse', { x: wt }, { dims: [0, 1] });
    temps.push(wf);
    let dyd = dy;
    if (sh > 1 || sw > 1) {
      dyd = zeroInsert(backend, dy, sh, sw);
      temps.push(dyd);
    }
    const out = convWithPads(backend, dyd, wf, [pt, pb, pl, pr]);
    if (out.shape[1] !== H || out.shape[2] !== W) {
      release(backend, out);
      throw new Error(
        `deepprob kernels: Conv2DBackpropInput shape mismatch ${String(out.shape)} vs ${String(inputShape)}`,
      );
    }
    return out;
  } finally {
    release(backend, ...temps);
  }
}

/** Kernel function for `Conv2DBackpropInput`; unhandled cases go to `previous`. */
export function conv2dBackpropInputKernel(previous: KernelFunc | undefined): KernelFunc {
  return (args) => {
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const { inputShape } = args.attrs as unknown as { inputShape: number[] };
    if (dy.shape.includes(0) || filter.shape.includes(0)) {
      // an empty output, or a sum over no output channels or taps: zeros
      return zerosOutput(args.backend as unknown as WasmBackend, inputShape);
    }
    const out = conv2dBackpropInputWasm(
      args.backend as unknown as WasmBackend,
      dy,
      filter,
      args.attrs as unknown as BackpropInputAttrs,
    );
    if (out !== undefined) return out;
    if (previous === undefined) throw new Error('deepprob kernels: no Conv2DBackpropInput');
    return previous(args);
  };
}
