/**
 * `BatchMatMul` with transposed operands on the wasm backend.
 *
 * The stock wasm kernel is fast (XNNPACK) only for `A @ B`; `A^T @ B`, `A @ B^T` and `A^T @ B^T`
 * run a naive loop 10-20x slower. Autodiff of `y = x @ w` produces exactly those
 * (dx = dy @ w^T, dw = x^T @ dy), so the pack materialises the transposes (a cheap memory
 * permutation, O(mk + kn)) and calls the fast path:
 *
 *   op(A) @ op(B) = transpose(A)? @ transpose(B)?  with transposeA = transposeB = false.
 *
 * It also guards the stock kernel's cache of packed right operands, keyed by buffer id only
 * (see `freshRight`).
 */
import * as tf from '@tensorflow/tfjs';
import { simdKernels } from '../simd/loader.js';
import { simdGemmKernel } from './simd_gemm.js';
import { cpuFallbackKernel } from '../cpu_fallback.js';
import { fusedEpilogue, runRegistered } from './fused_epilogue.js';
import { call, release, transpose, zerosOutput, type WasmBackend } from './wasm_util.js';

type KernelFunc = tf.KernelConfig['kernelFunc'];

function swapLast(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 1] = rank - 2;
  perm[rank - 2] = rank - 1;
  return perm;
}

/**
 * The shape each data buffer was last multiplied with as the right operand. The stock kernel
 * caches XNNPACK's packed copy of `B` by the buffer's id, whatever its shape, so a buffer seen
 * again under another shape (a reshape, or a transpose of a unit axis, shares the buffer) would
 * reuse weights packed for the old shape. Such a `B` is copied to a fresh buffer first.
 */
const rightShapes = new WeakMap<object, string>();

/** `b`, or a copy of it with its own buffer when that buffer was last used under another shape. */
function freshRight(backend: WasmBackend, b: tf.TensorInfo, temps: tf.TensorInfo[]): tf.TensorInfo {
  const key = b.shape.join(',');
  const seen = rightShapes.get(b.dataId);
  if (seen === undefined || seen === key) {
    rightShapes.set(b.dataId, key);
    return b;
  }
  const copy = backend.makeOutput(b.shape, b.dtype);
  (backend.typedArrayFromHeap(copy) as Float32Array).set(
    backend.typedArrayFromHeap(b) as Float32Array,
  );
  temps.push(copy);
  rightShapes.set(copy.dataId, key);
  return copy;
}

/**
 * The output of `op(A) @ op(B)` when an operand is empty, else undefined: zeros of shape
 * `broadcast(batchA, batchB) + [m, n]` (a sum over `k = 0` terms is 0). The stock wasm kernel
 * traps on an empty batch (`remainder by zero`).
 */
function emptyProduct(
  backend: WasmBackend,
  args: Parameters<KernelFunc>[0],
): tf.TensorInfo | undefined {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  if (!a.shape.includes(0) && !b.shape.includes(0)) return undefined;
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = (transposeA ? a.shape[ra - 1] : a.shape[ra - 2]) as number;
  const n = (transposeB ? b.shape[rb - 2] : b.shape[rb - 1]) as number;
  const batch = tf.backend_util.assertAndGetBroadcastShape(
    a.shape.slice(0, -2),
    b.shape.slice(0, -2),
  );
  return zerosOutput(backend, [...batch, m, n], a.dtype);
}

/**
 * Kernel function for `BatchMatMul` that never runs the stock transposed paths; int32 operands
 * (which the stock kernel refuses) run the cpu backend's kernel.
 */
export function batchMatMulKernel(previous: KernelFunc | undefined): KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as WasmBackend;
    const empty = emptyProduct(backend, args);
    if (empty !== undefined) return empty;
    const k = simdKernels();
    const viaSimd = k === undefined ? undefined : simdGemmKernel(backend, k, args);
    if (viaSimd !== undefined) return viaSimd;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    // the stock kernel throws for int32 ("not yet supported"); the cpu kernel's loop is exact
    if (a.dtype !== 'float32' || b.dtype !== 'float32')
      return cpuFallbackKernel('BatchMatMul')(args);
    if (!transposeA && !transposeB) {
      if (previous === undefined) throw new Error('deepprob kernels: no BatchMatMul');
      const temps: tf.TensorInfo[] = [];
      try {
        return previous({ ...args, inputs: { a, b: freshRight(backend, b, temps) } });
      } finally {
        release(backend, ...temps);
      }
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
        { a: aa, b: freshRight(backend, bb, temps) },
        { transposeA: false, transposeB: false },
      );
    } finally {
      release(backend, ...temps);
    }
  };
}

/**
 * Whether the stock wasm `_FusedMatMul` computes this call rightly. It does only for one plain
 * product `A B` (no transposes, batch size 1 on both sides) with a rank-1 bias: with a transposed
 * operand or a batch of several matrices it runs a slow loop that skips the bias and the
 * activation (tfjs 4.22: `relu6(A^T B + b)` came back as `A^T B`), and it throws for a bias of
 * rank 2 (`[M, N]`, which `tf.fused.matMul` takes) and for int32 operands; with an empty operand (`K = 0`) it returned
 * uninitialized memory instead of `act(bias)`.
 */
function stockFusedMatMulRight(args: Parameters<KernelFunc>[0]): boolean {
  const { a, b, bias } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const { transposeA, transposeB } = args.attrs as { transposeA?: boolean; transposeB?: boolean };
  const batch = (t: tf.TensorInfo | undefined): number =>
    t === undefined ? 1 : t.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  const empty = (t: tf.TensorInfo | undefined): boolean => t !== undefined && t.shape.includes(0);
  return (
    a?.dtype === 'float32' &&
    b?.dtype === 'float32' &&
    !empty(a) &&
    !empty(b) &&
    transposeA !== true &&
    transposeB !== true &&
    batch(a) === 1 &&
    batch(b) === 1 &&
    (bias === undefined || bias.shape.length === 1)
  );
}

/**
 * `_FusedMatMul` composed of the registered kernels, `y = act(op(A) op(B) + bias)`: `BatchMatMul`
 * (transposes and batch broadcasting handled there), then {@link fusedEpilogue}.
 */
function composedFusedMatMul(backend: WasmBackend, args: Parameters<KernelFunc>[0]): tf.TensorInfo {
  const { a, b } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean };
  if (a === undefined || b === undefined) throw new Error('_FusedMatMul: missing inputs');
  const y = runRegistered(
    backend,
    'BatchMatMul',
    { a, b },
    { transposeA: attrs.transposeA === true, transposeB: attrs.transposeB === true },
  );
  return fusedEpilogue(backend, y, args, '_FusedMatMul');
}

/**
 * Kernel function for `_FusedMatMul` (matmul + bias + activation): the SIMD module's GEMM where it
 * applies, the stock kernel where that is right (one plain product, right operand guarded like
 * {@link batchMatMulKernel}'s: the two share the packed-weight cache), and otherwise the product,
 * the bias and the activation as three registered kernels (see `stockFusedMatMulRight`).
 */
export function fusedMatMulKernel(previous: KernelFunc | undefined): KernelFunc {
  return (args) => {
    if (previous === undefined) throw new Error('deepprob kernels: no _FusedMatMul');
    const backend = args.backend as unknown as WasmBackend;
    const k = simdKernels();
    const viaSimd = k === undefined ? undefined : simdGemmKernel(backend, k, args);
    if (viaSimd !== undefined) return viaSimd;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (b === undefined || a === undefined) return previous(args);
    if (!stockFusedMatMulRight(args)) return composedFusedMatMul(backend, args);
    const temps: tf.TensorInfo[] = [];
    try {
      return previous({ ...args, inputs: { ...args.inputs, b: freshRight(backend, b, temps) } });
    } finally {
      release(backend, ...temps);
    }
  };
}
