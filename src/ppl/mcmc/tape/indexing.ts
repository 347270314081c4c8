/**
 * Index maps of tape replay: NumPy broadcasting and axis reductions as per-element index arrays
 * computed once per node (the replay loops then read `x[map[i]]`).
 */
import { sizeOf } from './program.js';
import { UnsupportedKernelError } from './errors.js';

/** Row-major strides of `shape`. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--)
    s[i] = (s[i + 1] as number) * (shape[i + 1] as number);
  return s;
}

/** For each element of `outShape`, the element of a NumPy-broadcast input of `inShape`. */
export function broadcastIndex(
  inShape: readonly number[],
  outShape: readonly number[],
): Int32Array {
  const n = sizeOf(outShape);
  const map = new Int32Array(n);
  const r = outShape.length;
  const off = r - inShape.length;
  if (off < 0) throw new UnsupportedKernelError('an input of higher rank than its output');
  const os = strides(outShape);
  const is = strides(inShape);
  for (let j = 0; j < n; j++) {
    let rem = j;
    let k = 0;
    for (let d = 0; d < r; d++) {
      const c = Math.floor(rem / (os[d] as number));
      rem -= c * (os[d] as number);
      if (d >= off) {
        const dim = inShape[d - off] as number;
        if (dim !== 1) k += c * (is[d - off] as number);
      }
    }
    map[j] = k;
  }
  return map;
}

/** For each element of an input of `inShape`, its output element when `axes` are reduced. */
export function reduceIndex(inShape: readonly number[], axes: readonly number[]): Int32Array {
  const n = sizeOf(inShape);
  const keep = inShape.map((_, d) => !axes.includes(d));
  const outShape = inShape.map((d, i) => (keep[i] === true ? d : 1));
  const is = strides(inShape);
  const os = strides(outShape);
  const map = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    let rem = j;
    let k = 0;
    for (let d = 0; d < inShape.length; d++) {
      const c = Math.floor(rem / (is[d] as number));
      rem -= c * (is[d] as number);
      if (keep[d] === true) k += c * (os[d] as number);
    }
    map[j] = k;
  }
  return map;
}

/** `axis` attribute (number, list or absent = all) as non-negative axes. */
export function axesOf(attr: unknown, rank: number): number[] {
  const a = attr === undefined || attr === null ? [...Array(rank).keys()] : attr;
  const list = Array.isArray(a) ? (a as number[]) : [a as number];
  return list.map((x) => (x < 0 ? x + rank : x));
}
