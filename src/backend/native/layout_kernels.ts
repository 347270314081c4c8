/**
 * The native copies and broadcasting binary ops over the wasm heap: `PadV2` (constant padding) and
 * `Slice` as one threaded copy of rows `y[o] = x[o - off]`, and `Add` / `Sub` / `Multiply` with
 * NumPy broadcasting, each on shapes collapsed to 4-D (trailing axes copied whole merge; adjacent
 * axes with the same broadcast pattern merge); other dtypes, ranks and small tensors go to the
 * replaced kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from '../kernels/wasm_util.js';
import type { NativeAddon } from './addon.js';
import {
  at,
  count,
  fallbackOf,
  MIN_POINTWISE_ELEMENTS,
  size,
  type KernelFunc,
} from './pointwise_call.js';

/**
 * The 4-D form of `y[o] = x[o - off]` (`x` of shape `inShape`, `y` of `outShape`): trailing axes
 * that are copied whole merge into the axis before them, then leading unit axes pad the rank to 4.
 * Undefined when more than 4 axes remain.
 */
export function collapseCopy(
  inShape: readonly number[],
  outShape: readonly number[],
  off: readonly number[],
): { inDims: number[]; outDims: number[]; offs: number[] } | undefined {
  const i = [...inShape];
  const o = [...outShape];
  const f = [...off];
  for (let k = i.length - 2; k >= 0; k--) {
    if (i[k + 1] === o[k + 1] && f[k + 1] === 0) {
      const d = o[k + 1] as number;
      i.splice(k, 2, (i[k] as number) * d);
      o.splice(k, 2, (o[k] as number) * d);
      f.splice(k, 2, (f[k] as number) * d);
    }
  }
  if (i.length > 4) return undefined;
  while (i.length < 4) {
    i.unshift(1);
    o.unshift(1);
    f.unshift(0);
  }
  return { inDims: i, outDims: o, offs: f };
}

/** `PadV2` (float32, paddings >= 0) or `Slice` (float32) as a {@link collapseCopy} copy. */
export function copyKernel(addon: NativeAddon, kind: 'PadV2' | 'Slice') {
  return (previous: KernelFunc | undefined): KernelFunc => {
    const fallback = fallbackOf(previous, kind);
    return (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      if (x === undefined || x.dtype !== 'float32' || x.shape.length === 0) return fallback(args);
      let outShape: number[];
      let off: number[];
      let value = 0;
      if (kind === 'PadV2') {
        const a = args.attrs as unknown as { paddings: [number, number][]; constantValue: number };
        if (a.paddings.length !== x.shape.length || a.paddings.some(([b, e]) => b < 0 || e < 0)) {
          return fallback(args);
        }
        outShape = x.shape.map((d, k) => d + (a.paddings[k]?.[0] ?? 0) + (a.paddings[k]?.[1] ?? 0));
        off = a.paddings.map(([b]) => b);
        value = a.constantValue;
      } else {
        const a = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
        const [begin, sz] = tf.slice_util.parseSliceParams(x as tf.Tensor, a.begin, a.size) as [
          number[],
          number[],
        ];
        outShape = sz;
        off = begin.map((b) => -b);
      }
      const c = collapseCopy(x.shape, outShape, off);
      if (c === undefined || size(outShape) < 4 * MIN_POINTWISE_ELEMENTS) return fallback(args);
      count(kind);
      const backend = args.backend as unknown as WasmBackend;
      const out = backend.makeOutput(outShape, 'float32');
      addon.copy4(
        backend.wasm.HEAPF32,
        at(backend, x),
        at(backend, out),
        ...c.inDims,
        ...c.outDims,
        ...c.offs,
        value,
      );
      return out;
    };
  };
}

/**
 * The 4-D strided form of a broadcast binary op: output dims and each operand's element strides
 * (0 on broadcast axes), adjacent axes with the same pattern merged, leading unit axes added.
 * Undefined when more than 4 axes remain or the last axis would need a stride other than 0 / 1.
 */
export function collapseBroadcast(
  aShape: readonly number[],
  bShape: readonly number[],
): { dims: number[]; sa: number[]; sb: number[] } | undefined {
  const r = Math.max(aShape.length, bShape.length);
  const a = [...new Array<number>(r - aShape.length).fill(1), ...aShape];
  const b = [...new Array<number>(r - bShape.length).fill(1), ...bShape];
  const dims: number[] = [];
  const pa: boolean[] = []; // a present (not broadcast) on the axis
  const pb: boolean[] = [];
  for (let k = 0; k < r; k++) {
    const [x, y] = [a[k] as number, b[k] as number];
    if (x !== y && x !== 1 && y !== 1) return undefined;
    const d = Math.max(x, y);
    if (d === 1) continue;
    const ia = x !== 1;
    const ib = y !== 1;
    const last = dims.length - 1;
    if (last >= 0 && pa[last] === ia && pb[last] === ib) {
      dims[last] = (dims[last] as number) * d;
    } else {
      dims.push(d);
      pa.push(ia);
      pb.push(ib);
    }
  }
  if (dims.length > 4) return undefined;
  const strides = (present: boolean[]): number[] => {
    const st = new Array<number>(dims.length).fill(0);
    let acc = 1;
    for (let k = dims.length - 1; k >= 0; k--) {
      if (present[k]) {
        st[k] = acc;
        acc *= dims[k] as number;
      }
    }
    return st;
  };
  const sa = strides(pa);
  const sb = strides(pb);
  while (dims.length < 4) {
    dims.unshift(1);
    sa.unshift(0);
    sb.unshift(0);
  }
  return { dims, sa, sb };
}

const BINARY_OPS: Record<string, number> = { Add: 0, Sub: 1, Multiply: 2 };

/** Fewest output elements for which the binary ops go native. */
export const MIN_BINARY_ELEMENTS = 16384;

/** `Add`, `Sub` or `Multiply` on float32 operands (broadcasting), threaded. */
export function binaryKernel(addon: NativeAddon, name: 'Add' | 'Sub' | 'Multiply') {
  const op = BINARY_OPS[name] as number;
  return (previous: KernelFunc | undefined): KernelFunc => {
    const fallback = fallbackOf(previous, name);
    return (args) => {
      const { a, b } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      if (a === undefined || b === undefined || a.dtype !== 'float32' || b.dtype !== 'float32') {
        return fallback(args);
      }
      let outShape: number[];
      try {
        outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
      } catch {
        return fallback(args);
      }
      const c = collapseBroadcast(a.shape, b.shape);
      if (c === undefined || size(outShape) < MIN_BINARY_ELEMENTS) return fallback(args);
      count(name);
      const backend = args.backend as unknown as WasmBackend;
      const out = backend.makeOutput(outShape, 'float32');
      addon.binary(
        op,
        backend.wasm.HEAPF32,
        at(backend, a),
        at(backend, b),
        at(backend, out),
        ...c.dims,
        ...c.sa,
        ...c.sb,
      );
      return out;
    };
  };
}
