/**
 * Depthwise convolution gradients (NHWC, unit dilation) as tight loops over the wasm heap.
 *
 * Forward: y[b, i, j, c*M + m] = sum_{p, q} xpad[b, i*sh + p, j*sw + q, c] * f[p, q, c, m].
 * Filter gradient: df[p, q, c, m] = sum_{b, i, j} xpad[b, i*sh + p, j*sw + q, c] * dy[b, i, j, c*M + m].
 * Input gradient:  dx[b, h, w, c] = sum_{i, j, p, q, m : i*sh + p - pt = h, j*sw + q - pl = w}
 *                                    f[p, q, c, m] * dy[b, i, j, c*M + m].
 * Accumulation is in float64. These replace the copy-to-cpu fallback (same math, no copies).
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from './wasm_util.js';

type KernelFunc = tf.KernelConfig['kernelFunc'];

interface DepthwiseAttrs {
  strides: number | [number, number];
  dilations?: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape?: [number, number, number, number];
  inputShape?: [number, number, number, number];
}

function unitDilation(d: number | [number, number] | undefined): boolean {
  return d === undefined || (typeof d === 'number' ? d === 1 : d[0] === 1 && d[1] === 1);
}

/** Filter gradient loop; `df` has length kh*kw*C*M. */
export function depthwiseFilterGradLoop(
  x: Float32Array,
  dy: Float32Array,
  df: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): void {
  const {
    batchSize: B,
    inHeight: H,
    inWidth: W,
    inChannels: C,
    outHeight: oh,
    outWidth: ow,
  } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const M = info.outChannels / C;
  const CM = C * M;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const acc = new Float64Array(kh * kw * CM);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const dyBase = ((b * oh + i) * ow + j) * CM;
        for (let p = 0; p < kh; p++) {
          const h = i * sh - pt + p;
          if (h < 0 || h >= H) continue;
          for (let q = 0; q < kw; q++) {
            const w = j * sw - pl + q;
            if (w < 0 || w >= W) continue;
            const xBase = ((b * H + h) * W + w) * C;
            const fBase = (p * kw + q) * CM;
            if (M === 1) {
              for (let c = 0; c < C; c++) {
                acc[fBase + c] =
                  (acc[fBase + c] as number) +
                  (x[xBase + c] as number) * (dy[dyBase + c] as number);
              }
            } else {
              for (let c = 0; c < C; c++) {
                const xv = x[xBase + c] as number;
                const o = c * M;
                for (let m = 0; m < M; m++) {
                  acc[fBase + o + m] =
                    (acc[fBase + o + m] as number) + xv * (dy[dyBase + o + m] as number);
                }
              }
            }
          }
        }
      }
    }
  }
  df.set(acc);
}

/** Input gradient loop; `dx` has length B*H*W*C. */
export function depthwiseInputGradLoop(
  dy: Float32Array,
  f: Float32Array,
  dx: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): void {
  const {
    batchSize: B,
    inHeight: H,
    inWidth: W,
    inChannels: C,
    outHeight: oh,
    outWidth: ow,
  } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const M = info.outChannels / C;
  const CM = C * M;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const acc = new Float64Array(B * H * W * C);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const dyBase = ((b * oh + i) * ow + j) * CM;
        for (let p = 0; p < kh; p++) {
          const h = i * sh - pt + p;
          if (h < 0 || h >= H) continue;
          for (let q = 0; q < kw; q++) {
            const w = j * sw - pl + q;
            if (w < 0 || w >= W) continue;
            const xBase = ((b * H + h) * W + w) * C;
            const fBase = (p * kw + q) * CM;
            for (let c = 0; c < C; c++) {
              let s = 0;
              const o = c * M;
              for (let m = 0; m < M; m++)
                s += (f[fBase + o + m] as number) * (dy[dyBase + o + m] as number);
              acc[xBase + c] = (acc[xBase + c] as number) + s;
            }
          }
        }
      }
    }
  }
  dx.set(acc);
}

/** Kernel function for `DepthwiseConv2dNativeBackpropFilter` (inputs x, dy). */
export function depthwiseBackpropFilterKernel(previous: KernelFunc | undefined): KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as WasmBackend;
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const attrs = args.attrs as unknown as DepthwiseAttrs;
    if (
      !unitDilation(attrs.dilations) ||
      attrs.filterShape === undefined ||
      x.dtype !== 'float32'
    ) {
      if (previous === undefined)
        throw new Error('deepprob kernels: no DepthwiseConv2dNativeBackpropFilter');
      return previous(args);
    }
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      attrs.filterShape,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      true,
    );
    const out = backend.makeOutput(attrs.filterShape, 'float32');
    depthwiseFilterGradLoop(
      backend.typedArrayFromHeap(x) as Float32Array,
      backend.typedArrayFromHeap(dy) as Float32Array,
      backend.typedArrayFromHeap(out) as Float32Array,
      info,
    );
    return out;
  };
}

/** Kernel function for `DepthwiseConv2dNativeBackpropInput` (inputs dy, filter). */
export function depthwiseBackpropInputKernel(previous: KernelFunc | undefined): KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as WasmBackend;
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = args.attrs as unknown as DepthwiseAttrs;
    if (
      !unitDilation(attrs.dilations) ||
      attrs.inputShape === undefined ||
      dy.dtype !== 'float32'
    ) {
      if (previous === undefined)
        throw new Error('deepprob kernels: no DepthwiseConv2dNativeBackpropInput');
      return previous(args);
    }
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      true,
    );
    const out = backend.makeOutput(attrs.inputShape, 'float32');
    depthwiseInputGradLoop(
      backend.typedArrayFromHeap(dy) as Float32Array,
      backend.typedArrayFromHeap(filter) as Float32Array,
      backend.typedArrayFromHeap(out) as Float32Array,
      info,
    );
    return out;
  };
}
