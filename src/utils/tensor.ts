/**
 * Small pure helpers over tfjs-core shared by every module: conversion of parameters, shape
 * broadcasting with argument-naming errors, a stop-gradient op and numerically stable functions.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from './errors.js';

/** Anything a parameter may be given as: a tensor, a number or a nested array of numbers. */
export type TensorInput = tf.Tensor | tf.TensorLike;

/** Convert `x` to a float32 tensor (a no-op for float32 tensors). `name` appears in errors. */
export function toFloat(x: TensorInput, name: string): tf.Tensor {
  if (x instanceof tf.Tensor) {
    if (x.isDisposed) throw new ArgumentError(name, 'tensor is disposed');
    return x.dtype === 'float32' ? x : tf.cast(x, 'float32');
  }
  if (typeof x === 'number' || Array.isArray(x) || ArrayBuffer.isView(x)) {
    return tf.tensor(x as tf.TensorLike, undefined, 'float32');
  }
  throw new ArgumentError(
    name,
    `expected a tensor, a number or an array of numbers, got ${typeof x}`,
  );
}

/** Broadcast shapes in numpy style; throws an error naming the arguments when they do not fit. */
export function broadcastShapes(shapes: Record<string, readonly number[]>): number[] {
  const entries = Object.entries(shapes);
  const rank = Math.max(0, ...entries.map(([, s]) => s.length));
  const out: number[] = new Array<number>(rank).fill(1);
  for (const [, s] of entries) {
    for (let i = 0; i < s.length; i++) {
      const j = rank - s.length + i;
      const d = s[i] as number;
      const o = out[j] as number;
      if (d === o || d === 1) continue;
      if (o === 1) {
        out[j] = d;
        continue;
      }
      const desc = entries.map(([n, sh]) => `${n} [${sh.join(',')}]`).join(', ');
      throw new ArgumentError(
        entries.map(([n]) => n).join('/'),
        `shapes do not broadcast: ${desc}`,
      );
    }
  }
  return out;
}

/** Check that `shape` is a list of non-negative integers; `name` appears in the error. */
export function checkShape(shape: readonly number[], name = 'shape'): number[] {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ArgumentError(
      name,
      `expected an array of non-negative integers, got ${JSON.stringify(shape)}`,
    );
  }
  return [...shape];
}

/**
 * Identity in the forward pass, zero gradient in the backward pass (TF's `stop_gradient`).
 *
 * $$\operatorname{sg}(x) = x,\qquad \partial\operatorname{sg}(x)/\partial x = 0$$
 */
export const stopGradient: <T extends tf.Tensor>(x: T) => T = <T extends tf.Tensor>(x: T): T => {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: (args[0] as tf.Tensor).clone(),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  }));
  return f(x) as T;
};

/** `log(1 + exp(x))`, stable for large |x|. */
export function softplus(x: tf.Tensor): tf.Tensor {
  return tf.softplus(x);
}

/** Inverse of softplus: `log(exp(y) - 1) = y + log(-expm1(-y))`, for y > 0. */
export function softplusInverse(y: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(y, tf.log(tf.neg(tf.expm1(tf.neg(y))))));
}

/** `log(sum(exp(x), axis))` computed stably. */
export function logSumExp(x: tf.Tensor, axis: number | number[] = -1, keepDims = false): tf.Tensor {
  return tf.logSumExp(x, axis, keepDims);
}

/** Host-side values of a small tensor, for validation. */
export function valuesOf(t: tf.Tensor): Float32Array | Int32Array | Uint8Array {
  return t.dataSync() as Float32Array | Int32Array | Uint8Array;
}

/** The part of tfjs's wasm backend {@link peekValues} uses. */
interface HeapBackend {
  dataIdMap?: { get(dataId: object): unknown };
  typedArrayFromHeap?(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * The values of `t` without a copy where the backend holds them in host memory (a view of the
 * wasm heap), else `dataSync()`. A heap view is valid only until the next tensor allocation:
 * read it at once (the argument screens below do).
 *
 * @param t a numeric tensor.
 */
export function peekValues(t: tf.Tensor): ArrayLike<number> {
  const be = tf.backend() as unknown as HeapBackend;
  if (
    typeof be.typedArrayFromHeap === 'function' &&
    t.dtype !== 'string' &&
    t.dtype !== 'complex64' &&
    be.dataIdMap?.get(t.dataId) !== undefined
  ) {
    return be.typedArrayFromHeap({ dataId: t.dataId, shape: t.shape, dtype: t.dtype });
  }
  return valuesOf(t);
}

/**
 * Whether reading `t`'s values costs no device round trip: the wasm backend (a view of its heap)
 * or the cpu backend. On WebGL/WebGPU a read waits for the device queue to drain, so a check
 * that reads values belongs on the first batch only there.
 *
 * @param t a tensor.
 */
export function valuesOnHost(t: tf.Tensor): boolean {
  const be = tf.backend() as unknown as HeapBackend;
  if (typeof be.typedArrayFromHeap === 'function' && be.dataIdMap?.get(t.dataId) !== undefined) {
    return true;
  }
  return tf.getBackend() === 'cpu';
}

/**
 * Whether every element lies in `[lo, hi]` with the bounds' finiteness: a tight loop with no
 * callback (about 1 ns per element), the screen run before the exact {@link checkValues}.
 * `lo`/`hi` may be infinite; `positive` excludes `lo` itself (`lo < v`). NaN fails.
 */
export function allWithin(
  vals: ArrayLike<number>,
  lo: number,
  hi: number,
  positive = false,
): boolean {
  const n = vals.length;
  if (positive) {
    for (let i = 0; i < n; i++) {
      const v = vals[i] as number;
      if (!(v > lo && v <= hi)) return false;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = vals[i] as number;
      if (!(v >= lo && v <= hi)) return false;
    }
  }
  return true;
}

/**
 * Throw `ArgumentError(name)` naming the first NaN or infinite element of `t` (a screen with no
 * copy on wasm, {@link allWithin}, then the exact {@link checkValues} only when it fails).
 *
 * @param t a numeric tensor, e.g. a data set.
 * @param name the argument, for the message.
 * @param what what its elements are (default `'values'`).
 */
export function checkFinite(t: tf.Tensor, name: string, what = 'values'): void {
  const MAX = 3.4028234663852886e38;
  if (allWithin(peekValues(t), -MAX, MAX)) return;
  checkValues(t, name, Number.isFinite, `finite ${what}`);
}

/** Throw `ArgumentError(name)` unless every element satisfies `pred`. */
export function checkValues(
  t: tf.Tensor,
  name: string,
  pred: (v: number) => boolean,
  expected: string,
): void {
  const vals = valuesOf(t);
  for (let i = 0; i < vals.length; i++) {
    const v = vals[i] as number;
    if (!pred(v)) {
      throw new ArgumentError(
        name,
        `expected ${expected}, got ${v}${vals.length > 1 ? ` at index ${i}` : ''}`,
      );
    }
  }
}

/**
 * Broadcast `x` to `shape` (numpy rules) with a fast gradient.
 *
 * `tf.broadcastTo` runs the `Tile` kernel, whose gradient in tfjs 4.22 is a JS loop of one
 * `slice` + `add` per repetition: quadratic time, about a minute for a scalar broadcast to 1e5
 * elements. Adding zeros of the target shape gives the same value and the usual broadcast
 * gradient (a single `sum` reduction). Boolean and int tensors (no gradient) use `broadcastTo`.
 *
 * @param x the tensor to broadcast.
 * @param shape the target shape; `x.shape` must broadcast to it.
 * @example
 * ```ts
 * broadcastTo(tf.scalar(2), [3]); // [2, 2, 2], d/dx sum = 3 in one reduction
 * ```
 */
export function broadcastTo(x: tf.Tensor, shape: readonly number[]): tf.Tensor {
  const target = [...shape];
  if (x.shape.length === target.length && x.shape.every((d, i) => d === target[i])) return x;
  // no kernel into an empty output (tfjs's broadcastTo keeps a size-1 dim at 1 there, and wasm
  // kernels broadcasting into an empty output write past it)
  if (target.some((d) => d === 0)) return tf.zeros(target, x.dtype);
  if (x.dtype !== 'float32') return tf.broadcastTo(x, target);
  return tf.add(x, tf.zeros(target));
}

/**
 * Whether `x` is a value `tf.tensor(x)` turns into a numeric tensor: a number, a boolean, a typed
 * array, or a (nested) array of those.
 */
export function isNumericLike(x: unknown): boolean {
  return (
    typeof x === 'number' ||
    typeof x === 'boolean' ||
    (ArrayBuffer.isView(x) && !(x instanceof DataView)) ||
    (Array.isArray(x) && x.every(isNumericLike))
  );
}

/**
 * The shape of a (nested) JS array when every level is rectangular (all rows of one level have
 * the same length and nesting), `[]` for a non-array, else `undefined` (a ragged array, which
 * `tf.tensor` would misread rather than refuse).
 *
 * @param a a value, usually nested arrays.
 * @example
 * ```ts
 * rectangularShape([[true, false], [true, true]]); // [2, 2]
 * rectangularShape([[true, false], [true]]); // undefined
 * ```
 */
export function rectangularShape(a: unknown): number[] | undefined {
  if (!Array.isArray(a)) return [];
  if (a.length === 0) return [0];
  const inner = a.map((v) => (Array.isArray(v) ? rectangularShape(v) : []));
  const first = inner[0] as number[] | undefined;
  if (first === undefined) return undefined;
  const same = (s: number[] | undefined): boolean =>
    s !== undefined && s.length === first.length && s.every((d, i) => d === first[i]);
  return inner.every(same) ? [a.length, ...first] : undefined;
}

/**
 * Sum the rightmost `n` dims of `t` (Pyro's `sum_rightmost`):
 * $$s_{i_1 \dots i_{r-n}} = \sum_{j_1 \dots j_n} t_{i_1 \dots i_{r-n} j_1 \dots j_n};$$
 * `t` itself when `n <= 0`.
 */
export function sumRightmost(t: tf.Tensor, n: number): tf.Tensor {
  if (n <= 0) return t;
  return tf.sum(
    t,
    Array.from({ length: n }, (_, i) => t.rank - n + i),
  );
}
