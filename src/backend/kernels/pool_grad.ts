/**
 * `MaxPoolGrad` and `AvgPoolGrad` (NHWC) on the wasm backend, as tight loops over the backend's
 * heap with the channel axis innermost (the stock kernels loop channel-outermost and are ~10x
 * slower).
 *
 * Max pooling: dx[argmax_window(x)] += dy, the arg max being the first strict maximum in window
 * scan order (as the `cpu` backend does).
 * Average pooling: dx[p] = sum_{windows w containing p} dy[w] / (fh * fw).
 */
import * as tf from '@tensorflow/tfjs';
import { simdKernels } from '../simd/loader.js';
import { convGeometry, heapKernel, type HeapPlan } from './wasm_util.js';

type KernelFunc = tf.KernelConfig['kernelFunc'];

interface PoolGradAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Pure loop: max-pool gradient of NHWC `x` into zeroed `dx`. */
export function maxPoolGradLoop(
  x: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): void {
  const g = convGeometry(info);
  const { B, H, W, C, oh, ow, sh, sw, fh, fw, dh, dw, pt, pl } = g;
  if (is2x2(g)) {
    maxPoolGrad2x2(x, dy, dx, B, H, W, C, oh, ow);
    return;
  }
  dx.fill(0);
  const maxv = new Float32Array(C);
  const pos = new Int32Array(C);
  let dyIdx = 0;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < oh; i++) {
      const h0 = i * sh - pt;
      for (let j = 0; j < ow; j++) {
        const w0 = j * sw - pl;
        if (C === 1) {
          let m = Number.NEGATIVE_INFINITY;
          let p = -1;
          for (let r = 0; r < fh; r++) {
            const h = h0 + r * dh;
            if (h < 0 || h >= H) continue;
            const row = (b * H + h) * W;
            for (let s = 0; s < fw; s++) {
              const w = w0 + s * dw;
              if (w < 0 || w >= W) continue;
              const v = x[row + w] as number;
              if (v > m) {
                m = v;
                p = row + w;
              }
            }
          }
          if (p >= 0) dx[p] = (dx[p] as number) + (dy[dyIdx] as number);
          dyIdx++;
          continue;
        }
        maxv.fill(Number.NEGATIVE_INFINITY);
        pos.fill(-1);
        for (let r = 0; r < fh; r++) {
          const h = h0 + r * dh;
          if (h < 0 || h >= H) continue;
          for (let s = 0; s < fw; s++) {
            const w = w0 + s * dw;
            if (w < 0 || w >= W) continue;
            const base = ((b * H + h) * W + w) * C;
            for (let c = 0; c < C; c++) {
              const v = x[base + c] as number;
              if (v > (maxv[c] as number)) {
                maxv[c] = v;
                pos[c] = base + c;
              }
            }
          }
        }
        for (let c = 0; c < C; c++) {
          const p = pos[c] as number;
          if (p >= 0) dx[p] = (dx[p] as number) + (dy[dyIdx + c] as number);
        }
        dyIdx += C;
      }
    }
  }
}

/** Whether a pooling is the common 2x2 / stride 2 / undilated / unpadded case. */
function is2x2(g: ReturnType<typeof convGeometry>): boolean {
  return (
    g.fh === 2 &&
    g.fw === 2 &&
    g.sh === 2 &&
    g.sw === 2 &&
    g.dh === 1 &&
    g.dw === 1 &&
    g.pt === 0 &&
    g.pl === 0 &&
    2 * g.oh <= g.H &&
    2 * g.ow <= g.W
  );
}

/**
 * The common 2x2 / stride 2 / no-padding case: windows do not overlap, so every dx element is
 * written exactly once (dy at the window's first strict maximum, 0 elsewhere) without a zero fill.
 */
function maxPoolGrad2x2(
  x: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  B: number,
  H: number,
  W: number,
  C: number,
  oh: number,
  ow: number,
): void {
  const rowStride = W * C;
  for (let b = 0; b < B; b++) {
    const img = b * H * rowStride;
    for (let i = 0; i < oh; i++) {
      const r0 = img + 2 * i * rowStride;
      const r1 = r0 + rowStride;
      let o = (b * oh + i) * ow * C;
      for (let j = 0; j < ow; j++) {
        const a0 = r0 + 2 * j * C;
        const b0 = r1 + 2 * j * C;
        for (let c = 0; c < C; c++, o++) {
          const p00 = a0 + c;
          const p01 = p00 + C;
          const p10 = b0 + c;
          const p11 = p10 + C;
          const v00 = x[p00] as number;
          const v01 = x[p01] as number;
          const v10 = x[p10] as number;
          const v11 = x[p11] as number;
          // first strict maximum in scan order (00, 01, 10, 11), NaN never wins
          let k = v00 > Number.NEGATIVE_INFINITY ? 0 : -1;
          let m = k === 0 ? v00 : Number.NEGATIVE_INFINITY;
          if (v01 > m) {
            m = v01;
            k = 1;
          }
          if (v10 > m) {
            m = v10;
            k = 2;
          }
          if (v11 > m) k = 3;
          const g = dy[o] as number;
          dx[p00] = k === 0 ? g : 0;
          dx[p01] = k === 1 ? g : 0;
          dx[p10] = k === 2 ? g : 0;
          dx[p11] = k === 3 ? g : 0;
        }
      }
    }
    // rows/cols not covered by any window (odd H or W) get no gradient
    if (H > 2 * oh || W > 2 * ow) {
      for (let h = 0; h < H; h++) {
        for (let w = 0; w < W; w++) {
          if (h < 2 * oh && w < 2 * ow) continue;
          dx.fill(0, img + (h * W + w) * C, img + (h * W + w + 1) * C);
        }
      }
    }
  }
}

/**
 * Pure loop: average-pool gradient into `dx`. The forward averages each window over the input
 * pixels it covers (padding excluded, as TensorFlow and every tfjs backend's forward), so its
 * adjoint spreads `dy` over those pixels with the same count:
 * $$dx_{b,h,w,c} = \sum_{(i,j) \ni (h,w)} \frac{dy_{b,i,j,c}}{n_{ij}},\qquad
 *   n_{ij} = \#\{(r,s) : 0 \le i s_h - p_t + r d_h < H,\ 0 \le j s_w - p_l + s d_w < W\}.$$
 * (tfjs 4.22's kernels divide by `fh * fw` instead, which is not the gradient of their forward
 * where a window overlaps the padding.)
 */
export function avgPoolGradLoop(
  dy: Float32Array,
  dx: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): void {
  const { B, H, W, C, oh, ow, sh, sw, fh, fw, dh, dw, pt, pl } = convGeometry(info);
  const inside = (start: number, taps: number, step: number, size: number): number => {
    let n = 0;
    for (let r = 0; r < taps; r++) {
      const p = start + r * step;
      if (p >= 0 && p < size) n++;
    }
    return n;
  };
  dx.fill(0);
  let dyIdx = 0;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < oh; i++) {
      const h0 = i * sh - pt;
      const rows = inside(h0, fh, dh, H);
      for (let j = 0; j < ow; j++) {
        const w0 = j * sw - pl;
        const count = rows * inside(w0, fw, dw, W);
        const k = count > 0 ? 1 / count : 0;
        for (let r = 0; r < fh; r++) {
          const h = h0 + r * dh;
          if (h < 0 || h >= H) continue;
          for (let s = 0; s < fw; s++) {
            const w = w0 + s * dw;
            if (w < 0 || w >= W) continue;
            const base = ((b * H + h) * W + w) * C;
            for (let c = 0; c < C; c++) {
              dx[base + c] = (dx[base + c] as number) + (dy[dyIdx + c] as number) * k;
            }
          }
        }
        dyIdx += C;
      }
    }
  }
}

/** Output shape (that of `input`) and pooling geometry of a pool-gradient call. */
function poolPlan(
  inputs: Record<'input', tf.TensorInfo>,
  attrs: PoolGradAttrs,
): HeapPlan<tf.backend_util.Conv2DInfo> {
  const xShape = inputs.input.shape;
  const info = tf.backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  return { outShape: xShape, context: info };
}

/** Kernel function for `MaxPoolGrad` (inputs dy, input, output). */
export function maxPoolGradKernel(previous: KernelFunc | undefined): KernelFunc {
  return heapKernel(
    'MaxPoolGrad',
    previous,
    ['dy', 'input'],
    ['input', 'dy'],
    poolPlan,
    (heap, out, info) => {
      const k = simdKernels();
      const g = convGeometry(info);
      if (k !== undefined && is2x2(g)) {
        k.fns.max_pool_grad_2x2(
          heap('input').byteOffset,
          heap('dy').byteOffset,
          out.byteOffset,
          g.B,
          g.H,
          g.W,
          g.C,
        );
        return;
      }
      maxPoolGradLoop(heap('input'), heap('dy'), out, info);
    },
  );
}

/** Kernel function for `AvgPoolGrad` (inputs dy, input). */
export function avgPoolGradKernel(previous: KernelFunc | undefined): KernelFunc {
  return heapKernel('AvgPoolGrad', previous, ['dy', 'input'], ['dy'], poolPlan, (heap, out, info) =>
    avgPoolGradLoop(heap('dy'), out, info),
  );
}

/**
 * `AvgPoolGrad` for the cpu backend: {@link avgPoolGradLoop} (padding excluded from each window's
 * count, the adjoint of the forward), replacing tfjs 4.22's cpu kernel, which divides by
 * `fh * fw` (not the gradient of its own forward where a window overlaps the padding).
 */
export const avgPoolGradCpu: KernelFunc = ({ inputs, attrs, backend }) => {
  const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const be = backend as unknown as {
    readSync(dataId: object): tf.backend_util.BackendValues;
    makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
  };
  const { context: info } = poolPlan({ input }, attrs as unknown as PoolGradAttrs);
  const dx = new Float32Array(input.shape.reduce((a, b) => a * b, 1));
  const g = be.readSync(dy.dataId);
  avgPoolGradLoop(
    g instanceof Float32Array ? g : Float32Array.from(g as ArrayLike<number>),
    dx,
    info,
  );
  return be.makeTensorInfo(input.shape, 'float32', dx);
};
