/**
 * `BatchMatMul` with transposed operands on the wasm backend.
 *
 * The stock wasm kernel is fast (XNNPACK) only for `A @ B`; `A^T @ B`, `A @ B^T` and `A^T @ B^T`
 * run a naive loop 10-20x slower. Autodiff of `y = x @ w` produces exactly those
 * (dx = dy @ w^T, dw = x^T @ dy), so the pack materialises the transposes (a cheap memory
 * permutation, O(mk + kn)) and calls the fast path:
 *
 *   op(A) @ op(B) = transpose(A)? @ transpose(B)?  with transposeA = transposeB = false.
 */
import * as tf from '@tensorflow/tfjs';
import { call, release, transpose, type WasmBackend } from './wasm_util.js';

type KernelFunc = tf.KernelConfig['kernelFunc'];

function swapLast(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 1] = rank - 2;
  perm[rank - 2] = rank - 1;
  return perm;
}

/** Kernel function for `BatchMatMul` that never runs the stock transposed paths. */
export function batchMatMulKernel(previous: KernelFunc | undefined): KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as WasmBackend;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    if ((!transposeA && !transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32') {
      if (previous === undefined) throw new Error('deepprob kernels: no BatchMatMul');
      return previous(args);
    }
    const temps: tf.TensorInfo[] = [];
    try {
      let aa = a;
      let bb = b;
      if (transposeA) {
        aa = transpose(backend, a, swapLast(a.shape.length));
        temps.push(aa);
      }
      if (transposeB) {
        bb = transpose(backend, b, swapLast(b.shape.length));
        temps.push(bb);
      }
      return call(
        backend,
        'BatchMatMul',
        { a: aa, b: bb },
        { transposeA: false, transposeB: false },
      );
    } finally {
      release(backend, ...temps);
    }
  };
}
