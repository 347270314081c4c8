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
import { convGeometry, heapKernel } from './wasm_util.js';

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
  const { B, H, W, C, oh, ow, sh, sw, fh: kh, fw: kw, pt, pl } = convGeometry(info);
  const M = info.outChannels / C;
  const CM = C * M;
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
  const { B, H, W, C, oh, ow, sh, sw, fh: kh, fw: kw, pt, pl } = convGeometry(info);
  const M = info.outChannels / C;
  const CM = C * M;
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

/** Shape information of a depthwise convolution (the attributes' `dimRoundingMode`, depthwise). */
function depthwiseInfo(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: DepthwiseAttrs,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
}

/** Kernel function for `DepthwiseConv2dNativeBackpropFilter` (inputs x, dy). */
export function depthwiseBackpropFilterKernel(previous: KernelFunc | undefined): KernelFunc {
  return heapKernel(
    'DepthwiseConv2dNativeBackpropFilter',
    previous,
    ['x', 'dy'],
    ['x'],
    ({ x }, attrs: DepthwiseAttrs) => {
      const { filterShape } = attrs;
      if (!unitDilation(attrs.dilations) || filterShape === undefined) return undefined;
      const info = depthwiseInfo(x.shape as [number, number, number, number], filterShape, attrs);
      return { outShape: filterShape, context: info };
    },
    (heap, out, info) => depthwiseFilterGradLoop(heap('x'), heap('dy'), out, info),
  );
}

/** Kernel function for `DepthwiseConv2dNativeBackpropInput` (inputs dy, filter). */
export function depthwiseBackpropInputKernel(previous: KernelFunc | undefined): KernelFunc {
  return heapKernel(
    'DepthwiseConv2dNativeBackpropInput',
    previous,
    ['dy', 'filter'],
    ['dy'],
    ({ filter }, attrs: DepthwiseAttrs) => {
      const { inputShape } = attrs;
      if (!unitDilation(attrs.dilations) || inputShape === undefined) return undefined;
      const f = filter.shape as [number, number, number, number];
      return { outShape: inputShape, context: depthwiseInfo(inputShape, f, attrs) };
    },
    (heap, out, info) => depthwiseInputGradLoop(heap('dy'), heap('filter'), out, info),
  );
}
