/**
 * `PadV2` (constant padding) for float32 on the wasm backend as block copies.
 *
 * $$y[i_0 + b_0, \ldots, i_{r-1} + b_{r-1}] = x[i_0, \ldots, i_{r-1}], \qquad y = c \text{ elsewhere}$$
 *
 * with `b_k` the padding before axis `k`. The axes after the last padded one are contiguous in
 * both `x` and `y`, so `x` is copied as runs of `shape[p] * prod(shape[p+1:])` values (`p` the
 * last padded axis) into a `y` filled with `c`. The stock wasm kernel walks every element with a
 * per-element index computation (4.4 ms for the 28 -> 32 padding of a 256-image MNIST batch; this
 * takes a fraction of that). Other dtypes go to the stock kernel.
 */
import type * as tf from '@tensorflow/tfjs';
import { deferTo, type WasmBackend } from './wasm_util.js';

type KernelFunc = tf.KernelConfig['kernelFunc'];

/**
 * Write `x` (of `shape`) padded by `paddings` (`[before, after]` per axis, >= 0) with `value` into
 * `out`, whose length is the padded size.
 *
 * @example
 * ```ts
 * const out = new Float32Array(4 * 5);
 * padInto(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3], [[1, 1], [1, 1]], 0, out);
 * ```
 */
export function padInto(
  x: Float32Array,
  shape: readonly number[],
  paddings: readonly (readonly [number, number])[],
  value: number,
  out: Float32Array,
): void {
  const r = shape.length;
  const outShape = shape.map((d, k) => d + (paddings[k]?.[0] ?? 0) + (paddings[k]?.[1] ?? 0));
  let p = r - 1;
  while (p >= 0 && (paddings[p]?.[0] ?? 0) === 0 && (paddings[p]?.[1] ?? 0) === 0) p--;
  if (p < 0) {
    out.set(x);
    return;
  }
  out.fill(value);
  if (x.length === 0) return;
  const outStride = new Array<number>(r).fill(1);
  for (let k = r - 2; k >= 0; k--) outStride[k] = (outStride[k + 1] ?? 1) * (outShape[k + 1] ?? 1);
  let run = 1;
  for (let k = p; k < r; k++) run *= shape[k] ?? 1;
  // offset of x's first run in y
  let base = 0;
  for (let k = 0; k <= p; k++) base += (paddings[k]?.[0] ?? 0) * (outStride[k] ?? 0);
  const idx = new Array<number>(p).fill(0);
  const runs = x.length / run;
  let o = base;
  for (let i = 0; i < runs; i++) {
    const from = i * run;
    if (run >= 64) out.set(x.subarray(from, from + run), o);
    else for (let j = 0; j < run; j++) out[o + j] = x[from + j] as number; // short rows: no view
    // odometer over the axes before p
    let k = p - 1;
    for (; k >= 0; k--) {
      const v = (idx[k] ?? 0) + 1;
      if (v < (shape[k] ?? 1)) {
        idx[k] = v;
        o += outStride[k] ?? 0;
        break;
      }
      idx[k] = 0;
      o -= ((shape[k] ?? 1) - 1) * (outStride[k] ?? 0);
    }
  }
}

interface PadAttrs {
  paddings: [number, number][];
  constantValue: number;
}

/** The pack's `PadV2` on wasm: float32 by {@link padInto}, `previous` otherwise. */
export function padKernel(previous: KernelFunc | undefined): KernelFunc {
  const fallback = deferTo(previous, 'PadV2');
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const a = args.attrs as unknown as PadAttrs;
    if (x.dtype !== 'float32' || a.paddings.some(([b, e]) => b < 0 || e < 0)) return fallback(args);
    const be = args.backend as unknown as WasmBackend;
    const outShape = x.shape.map(
      (d, k) => d + (a.paddings[k]?.[0] ?? 0) + (a.paddings[k]?.[1] ?? 0),
    );
    const out = be.makeOutput(outShape, 'float32');
    // views after the allocation (it may grow the heap)
    padInto(
      be.typedArrayFromHeap(x) as Float32Array,
      x.shape,
      a.paddings,
      a.constantValue,
      be.typedArrayFromHeap(out) as Float32Array,
    );
    return out;
  };
}
