/**
 * Calling the native addon's `pointwise` binding from a kernel on the wasm heap: its ops (`PW`),
 * the smallest size that goes native, the per-kernel call counts the tests read, the heap offset of
 * a tensor, the fallback to the replaced kernel, and one call with its seven operand slots and six
 * scalars.
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from '../kernels/wasm_util.js';
import type { NativeAddon } from './addon.js';

/** A tfjs kernel function. */
export type KernelFunc = tf.KernelConfig['kernelFunc'];

/** Ops of the addon's `pointwise` binding (`native/pointwise.h`). */
export const PW = {
  softplus: 0,
  softplusGrad: 1,
  reparam: 2,
  reparamGrad: 3,
  kl: 4,
  klGradMu: 5,
  klGradRho: 6,
  adam: 7,
} as const;

/** Fewest elements for which these kernels go native (smaller: the replaced kernel). */
export const MIN_POINTWISE_ELEMENTS = 1024;

/** Calls into the addon by kernel name (tests check that the native path ran). */
export const pointwiseCalls: Record<string, number> = {};

/** Count one call into the addon for kernel `name` ({@link pointwiseCalls}). */
export function count(name: string): void {
  pointwiseCalls[name] = (pointwiseCalls[name] ?? 0) + 1;
}

/** The number of elements of a shape, `prod_i shape_i`. */
export function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The float32 index of a tensor on the wasm heap (its byte offset / 4). */
export function at(backend: WasmBackend, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset / 4;
}

/** The replaced kernel `previous`, or a kernel that throws naming `name` when there is none. */
export function fallbackOf(previous: KernelFunc | undefined, name: string): KernelFunc {
  return (args) => {
    if (previous === undefined) throw new Error(`deepprob native: no fallback for ${name}`);
    return previous(args);
  };
}

/** The seven operand slots and six scalars of one `pointwise` call. */
export function call(
  addon: NativeAddon,
  backend: WasmBackend,
  op: number,
  n: number,
  ptrs: number[],
  scalars: number[] = [],
): number {
  const p = [...ptrs, -1, -1, -1, -1, -1, -1, -1].slice(0, 7);
  const s = [...scalars, 0, 0, 0, 0, 0, 0].slice(0, 6);
  return addon.pointwise(
    op,
    backend.wasm.HEAPF32,
    n,
    p[0] as number,
    p[1] as number,
    p[2] as number,
    p[3] as number,
    p[4] as number,
    p[5] as number,
    p[6] as number,
    s[0] as number,
    s[1] as number,
    s[2] as number,
    s[3] as number,
    s[4] as number,
    s[5] as number,
  );
}
