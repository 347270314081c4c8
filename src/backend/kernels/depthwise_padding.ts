/**
 * Depthwise convolution padding on wasm (tfjs 4.22 gets it wrong).
 *
 * The wasm backend's `DepthwiseConv2dNative` and `FusedDepthwiseConv2D` (XNNPACK) are right for
 * `'valid'` padding, but
 * - with `'same'` padding they are wrong (errors of order 1 against a float64 loop) whenever, in
 *   one spatial dimension, the window never reaches the input's last rows — the unclamped total
 *   padding `(out − 1) s + k_eff − in` is negative, e.g. a `1x3` kernel at stride 2 on an input
 *   of even height (`[1, 8, 4, 3]`): XNNPACK shifts the windows by that negative amount where
 *   TensorFlow pads nothing;
 * - with numeric or explicit padding (`tf.depthwiseConv2d(x, f, 1, 1)`, `[[0,0],[1,1],[1,1],[0,0]]`)
 *   they write outside their output: "memory access out of bounds", and the heap is corrupted for
 *   later ops.
 *
 * {@link paddedDepthwise} wraps either kernel: such calls pad (or crop) the input explicitly to
 * the rows TensorFlow's convolution reads, then run the stock kernel with `'valid'` padding. With
 * `tfjs`'s own output size `out`, stride `s`, effective kernel `k_eff = (k − 1) d + 1` and leading
 * padding `p_0` of a spatial dimension of length `n`, the input is zero-padded by `p_0` before and
 *
 * $$p_1 = (\mathit{out} − 1)\,s + k_{\mathrm{eff}} − n − p_0$$
 *
 * after (cropped by `−p_1` when negative), so the `'valid'` convolution's windows are exactly
 * `x[o s − p_0 + i d]`, `o < out`: TensorFlow's definition for every padding mode and rounding.
 * Other calls go to the stock kernel untouched.
 */
import * as tf from '@tensorflow/tfjs';
import { zerosOutput, type WasmBackend } from './wasm_util.js';
import { wrapKernelOnce } from './wrap_kernel.js';

type KernelFunc = tf.KernelConfig['kernelFunc'];

interface DepthwiseAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dataFormat?: 'NHWC' | 'NCHW';
}

/** Per spatial dimension: rows to add before and after (`after < 0` crops). */
export interface SpatialPadding {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/**
 * The explicit padding that makes a `'valid'` depthwise convolution equal to the call described
 * by `attrs` on an NHWC input of shape `xShape` and a filter of shape `filterShape`, or
 * `undefined` when the stock kernel computes that call rightly (`'valid'`, or `'same'` with a
 * non-negative total padding in both dimensions).
 */
export function depthwisePadding(
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: DepthwiseAttrs,
): SpatialPadding | undefined {
  if (attrs.pad === 'valid') return undefined;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  const effH = (info.filterHeight - 1) * info.dilationHeight + 1;
  const effW = (info.filterWidth - 1) * info.dilationWidth + 1;
  const needH = (info.outHeight - 1) * info.strideHeight + effH - info.inHeight;
  const needW = (info.outWidth - 1) * info.strideWidth + effW - info.inWidth;
  if (attrs.pad === 'same' && needH >= 0 && needW >= 0) return undefined;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  return { top, bottom: needH - top, left, right: needW - left };
}

/**
 * A depthwise convolution with an empty operand (no images, channels or taps): an empty output,
 * or `act(0 + bias)` when only the filter window is empty. The stock wasm kernel trapped
 * ("divide by zero") on zero channels. Undefined for shapes tfjs refuses (its message stands).
 */
function emptyDepthwise(args: Parameters<KernelFunc>[0]): tf.TensorInfo | undefined {
  const { x, filter, bias } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  if (x === undefined || filter === undefined) return undefined;
  const attrs = args.attrs as unknown as DepthwiseAttrs & { activation?: string };
  let info: tf.backend_util.Conv2DInfo;
  try {
    info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      attrs.strides,
      attrs.dilations ?? 1,
      attrs.pad as 'same',
      attrs.dimRoundingMode,
      true,
    );
  } catch {
    return undefined;
  }
  const size = info.outShape.reduce((a, b) => a * b, 1);
  if (size > 0 && (bias !== undefined || (attrs.activation ?? 'linear') !== 'linear')) {
    return undefined; // act(bias) over an empty window: rare, left to the kernel
  }
  return zerosOutput(args.backend as unknown as WasmBackend, info.outShape);
}

/** `previous` with the calls {@link depthwisePadding} names run on an explicitly padded input. */
export function paddedDepthwise(previous: KernelFunc): KernelFunc {
  const padded = paddedConv(previous);
  return (args) => {
    const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = args.attrs as unknown as DepthwiseAttrs;
    if (attrs.dataFormat !== 'NCHW' && x.shape.length === 4) {
      if (x.shape.includes(0) || filter.shape.includes(0)) {
        const empty = emptyDepthwise(args);
        if (empty !== undefined) return empty;
      }
    }
    return padded(args);
  };
}

/**
 * `previous` (a depthwise or regular NHWC convolution kernel), run on an input padded (or cropped)
 * to the rows TensorFlow's convolution reads, with VALID padding, wherever {@link depthwisePadding}
 * says the stock kernel would get the call wrong; the padding depends only on the window, so the
 * same wrapper serves `Conv2D` / `FusedConv2D` (the stock wasm kernels had the same SAME-padding
 * error: a 3x2 filter at stride 3 on 8x9 images was off by up to 3, and numeric padding with
 * `dimRoundingMode` 'ceil' wrote the wrong rows).
 */
export function paddedConv(previous: KernelFunc): KernelFunc {
  return (args) => {
    const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = args.attrs as unknown as DepthwiseAttrs;
    if (attrs.dataFormat === 'NCHW' || x.shape.length !== 4) return previous(args);
    let p: SpatialPadding | undefined;
    try {
      p = depthwisePadding(x.shape, filter.shape, attrs);
    } catch {
      return previous(args); // shapes tfjs refuses: let the stock kernel say so
    }
    if (p === undefined) return previous(args);
    const engine = tf.engine();
    const temps: tf.Tensor[] = [];
    try {
      let input = x as unknown as tf.Tensor; // a kernel's input, read only
      const [n, h, w, c] = x.shape as [number, number, number, number];
      if (p.bottom < 0 || p.right < 0) {
        const size = [n, h + Math.min(0, p.bottom), w + Math.min(0, p.right), c];
        input = engine.runKernel('Slice', { x: input }, { begin: [0, 0, 0, 0], size }) as tf.Tensor;
        temps.push(input);
      }
      const paddings = [
        [0, 0],
        [p.top, Math.max(0, p.bottom)],
        [p.left, Math.max(0, p.right)],
        [0, 0],
      ];
      if (paddings.some(([a, b]) => (a as number) > 0 || (b as number) > 0)) {
        input = engine.runKernel(
          'PadV2',
          { x: input },
          { paddings, constantValue: 0 },
        ) as tf.Tensor;
        temps.push(input);
      }
      return previous({
        ...args,
        inputs: { ...args.inputs, x: input },
        attrs: {
          ...args.attrs,
          pad: 'valid',
          dimRoundingMode: undefined,
        } as unknown as tf.NamedAttrMap,
      });
    } finally {
      tf.dispose(temps);
    }
  };
}

/**
 * Wrap `backendName`'s `DepthwiseConv2dNative` and `FusedDepthwiseConv2D` kernels with
 * {@link paddedDepthwise} (idempotent per kernel and backend).
 */
export function installDepthwisePadding(backendName: string): void {
  for (const kernelName of ['DepthwiseConv2dNative', 'FusedDepthwiseConv2D']) {
    wrapKernelOnce(kernelName, backendName, paddedDepthwise);
  }
}

/**
 * Wrap `backendName`'s `Conv2D` and `FusedConv2D` kernels with {@link paddedConv} (idempotent per
 * kernel and backend).
 */
export function installConvPadding(backendName: string): void {
  for (const kernelName of ['Conv2D', 'FusedConv2D']) {
    wrapKernelOnce(kernelName, backendName, paddedConv);
  }
}
