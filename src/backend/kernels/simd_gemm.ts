/**
 * Matrix products on the wasm backend with deepprob's own packed GEMM (`gemm_simd.c` in the SIMD
 * module), in place on the tfjs heap:
 *
 *   C[b] = act(op(A)[b] op(B)[b] + bias),  op(X) = X or X^T,
 *
 * over broadcast batches, with the bias and the activation (linear, relu, relu6, leaky relu) fused
 * into the last pass over C. With the relaxed-SIMD build the multiply-add is one fused FMA
 * (`f32x4.relaxed_madd`); with the plain build a multiply then an add, as XNNPACK does.
 * The work is cut into row or column ranges and shared with the worker threads of
 * `simd/pool.ts` when they run.
 *
 * Used where it beats XNNPACK (`useSimdGemm`); `DEEPPROB_SIMD_GEMM=0|1` forces it off or on.
 */
import * as tf from '@tensorflow/tfjs';
import { getEnv } from '../env.js';
import type { SimdKernels } from '../simd/loader.js';
import { gemmThreads, runSplit } from '../simd/pool.js';
import type { WasmBackend } from './wasm_util.js';

/** The fused activations of the GEMM (the codes of `gemm_simd.c`). */
export const GEMM_ACTIVATIONS: Readonly<Record<string, number>> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  leakyrelu: 3,
};

/** Columns of a panel (as in gemm_simd.c). */
const NR = 8;

/** Options of {@link simdMatMul}. */
export interface GemmOptions {
  transposeA?: boolean;
  transposeB?: boolean;
  /** A float32 vector of N values added to every row (or undefined). */
  bias?: tf.TensorInfo;
  /** One of {@link GEMM_ACTIVATIONS}' keys (default linear). */
  activation?: string;
  /** Leaky-relu slope. */
  alpha?: number;
  /** The output's shape when not `[..., M, N]` (same size: a free reshape, e.g. NHWC). */
  outShape?: number[];
}

const scratchOf = new WeakMap<object, { ptr: number; floats: number }>();

/**
 * A scratch block of `floats` float32 values on the backend's heap (the packed panels), kept
 * between calls and grown by half when too small: its size is that of the largest product's
 * packed B panels (K-block x N) plus one packed A block per thread, e.g. 8.6 MiB for N = 4096.
 */
function scratch(backend: WasmBackend, floats: number): number {
  const s = scratchOf.get(backend);
  if (s !== undefined && s.floats >= floats) return s.ptr;
  if (s !== undefined) backend.wasm._free(s.ptr);
  const grown = Math.max(floats, Math.ceil((s?.floats ?? 0) * 1.5));
  const ptr = backend.wasm._malloc(grown * 4);
  if (ptr === 0) throw new Error('deepprob kernels: out of wasm memory for the GEMM scratch');
  scratchOf.set(backend, { ptr, floats: grown });
  return ptr;
}

/** Product of the batch dimensions of a shape (all but the last two). */
function batchOf(shape: number[]): number {
  return shape.slice(0, -2).reduce((p, d) => p * d, 1);
}

/**
 * The output shape of `op(a) op(b)`, or undefined when the GEMM does not take these shapes
 * (ranks below 2, mismatched inner sizes, batches that are neither equal nor broadcast from 1).
 */
export function gemmShape(
  a: number[],
  b: number[],
  transposeA: boolean,
  transposeB: boolean,
): number[] | undefined {
  if (a.length < 2 || b.length < 2) return undefined;
  const M = a[a.length - (transposeA ? 1 : 2)] as number;
  const Ka = a[a.length - (transposeA ? 2 : 1)] as number;
  const Kb = b[b.length - (transposeB ? 1 : 2)] as number;
  const N = b[b.length - (transposeB ? 2 : 1)] as number;
  if (Ka !== Kb) return undefined;
  let outer: number[];
  try {
    outer = tf.backend_util.assertAndGetBroadcastShape(a.slice(0, -2), b.slice(0, -2));
  } catch {
    return undefined;
  }
  const batch = outer.reduce((p, d) => p * d, 1);
  for (const s of [a, b]) {
    const n = batchOf(s);
    if (n !== 1 && n !== batch) return undefined;
  }
  return [...outer, M, N];
}

/**
 * Whether the SIMD GEMM should run `M x K @ K x N` (x `batch`) rather than XNNPACK. Forced by
 * `DEEPPROB_SIMD_GEMM=1|0`; otherwise from 2^14 multiply-adds (below that a call is a few
 * microseconds either way), unless XNNPACK runs on more threads than the SIMD pool (browsers: the
 * pool is Node-only). Measured per core (CPU time, one thread, Node 20, 2026-12-06): the
 * plain build 31-39 GFLOP/s against XNNPACK's 30-33 on the bench's shapes (AlexNet's im2col
 * convolutions, the VAE's and LeNet's layers), the relaxed-SIMD build 41-51; XNNPACK wins on none.
 */
export function useSimdGemm(k: SimdKernels, M: number, N: number, K: number, batch = 1): boolean {
  const forced = getEnv('DEEPPROB_SIMD_GEMM');
  if (forced === '0') return false;
  if (forced === '1') return true;
  // XNNPACK on more threads than the SIMD pool has (a browser's threaded build): keep it
  if (gemmThreads() < k.backendThreads) return false;
  return batch * M * N * K >= 2 ** 14;
}

/**
 * `act(op(a) op(b) + bias)` with the SIMD module's GEMM. Shapes must pass {@link gemmShape}.
 *
 * @param backend the wasm backend.
 * @param k the loaded SIMD module.
 * @param a left operand `[..., M, K]` (or `[..., K, M]` transposed), float32.
 * @param b right operand `[..., K, N]` (or `[..., N, K]` transposed), float32.
 * @param opts transposes, bias, activation.
 * @returns a new float32 tensor `[..., M, N]`.
 */
export function simdMatMul(
  backend: WasmBackend,
  k: SimdKernels,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  opts: GemmOptions = {},
): tf.TensorInfo {
  const tA = opts.transposeA === true;
  const tB = opts.transposeB === true;
  const outShape = gemmShape(a.shape, b.shape, tA, tB);
  if (outShape === undefined) {
    throw new Error(`deepprob kernels: GEMM shapes ${String(a.shape)} x ${String(b.shape)}`);
  }
  const act = GEMM_ACTIVATIONS[opts.activation ?? 'linear'];
  if (act === undefined) throw new Error(`deepprob kernels: GEMM activation ${opts.activation}`);
  const M = outShape[outShape.length - 2] as number;
  const N = outShape[outShape.length - 1] as number;
  const K = a.shape[a.shape.length - (tA ? 2 : 1)] as number;
  const batch = batchOf(outShape);
  if (
    opts.outShape !== undefined &&
    batchOf([...opts.outShape, 1, 1]) !== batchOf([...outShape, 1, 1])
  ) {
    throw new Error(
      `deepprob kernels: GEMM output ${String(opts.outShape)} for ${String(outShape)}`,
    );
  }
  if (K === 0 && M * N * batch > 0) {
    throw new Error('deepprob kernels: GEMM with K = 0 (callers defer to XNNPACK)');
  }
  const out = backend.makeOutput(opts.outShape ?? outShape, 'float32');
  if (M * N * batch === 0) return out;
  const p = (t: tf.TensorInfo): number => backend.typedArrayFromHeap(t).byteOffset;
  const sA = batchOf(a.shape) === 1 ? 0 : M * K;
  const sB = batchOf(b.shape) === 1 ? 0 : K * N;
  const [rsA, csA] = tA ? [1, M] : [K, 1];
  const [rsB, csB] = tB ? [1, K] : [N, 1];
  const panels = Math.ceil(N / NR);
  const bias = opts.bias === undefined ? 0 : p(opts.bias);
  const alpha = opts.alpha ?? 0;
  try {
    runSplit(k, M, panels, k.fns.gemm_mr(), batch * M * N * K, (shares) => {
      const per = shares.map(([, , p0, p1]) => k.fns.gemm_scratch_floats(p1 - p0));
      const total = per.reduce((s, f) => s + f, 0);
      const base = scratch(backend, total);
      // pointers after the scratch allocation (which may grow the heap; offsets stay valid)
      const pa = p(a);
      const pb = p(b);
      const pc = p(out);
      let off = base;
      return shares.map(([m0, m1, p0, p1], i) => {
        const args: Parameters<SimdKernels['fns']['gemm']> = [
          pa,
          pb,
          pc,
          bias,
          off,
          batch,
          sA,
          sB,
          M,
          N,
          K,
          rsA,
          csA,
          rsB,
          csB,
          m0,
          m1,
          p0,
          p1,
          act,
          alpha,
        ];
        off += 4 * (per[i] as number);
        return args;
      });
    });
  } catch (e) {
    backend.disposeData(out.dataId);
    throw e;
  }
  return out;
}

/**
 * `BatchMatMul` / `_FusedMatMul` on the SIMD GEMM when it takes the call (float32, shapes of
 * {@link gemmShape}, K >= 1, a fused activation it has, a bias of N values, and
 * {@link useSimdGemm}); undefined otherwise (the caller runs XNNPACK).
 *
 * @param backend the wasm backend.
 * @param k the loaded SIMD module.
 * @param args the kernel call (inputs `a`, `b`, optional `bias`; attributes `transposeA`,
 *   `transposeB`, optional `activation`, `leakyreluAlpha`).
 */
export function simdGemmKernel(
  backend: WasmBackend,
  k: SimdKernels,
  args: Parameters<tf.KernelConfig['kernelFunc']>[0],
): tf.TensorInfo | undefined {
  const { a, b, bias, preluActivationWeights } = args.inputs as Record<
    string,
    tf.TensorInfo | undefined
  >;
  const attrs = args.attrs as {
    transposeA?: boolean;
    transposeB?: boolean;
    activation?: string;
    leakyreluAlpha?: number;
  };
  if (a === undefined || b === undefined || preluActivationWeights !== undefined) return undefined;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const activation = attrs.activation ?? 'linear';
  if (GEMM_ACTIVATIONS[activation] === undefined) return undefined;
  const tA = attrs.transposeA === true;
  const tB = attrs.transposeB === true;
  const shape = gemmShape(a.shape, b.shape, tA, tB);
  if (shape === undefined) return undefined;
  const M = shape[shape.length - 2] as number;
  const N = shape[shape.length - 1] as number;
  const K = a.shape[a.shape.length - (tA ? 2 : 1)] as number;
  if (K === 0 || M * N === 0) return undefined;
  if (bias !== undefined) {
    const n = bias.shape.reduce((p, d) => p * d, 1);
    if (bias.dtype !== 'float32' || n !== N || bias.shape[bias.shape.length - 1] !== N) {
      return undefined;
    }
  }
  if (!useSimdGemm(k, M, N, K, batchOf(shape))) return undefined;
  return simdMatMul(backend, k, a, b, {
    transposeA: tA,
    transposeB: tB,
    bias,
    activation,
    alpha: attrs.leakyreluAlpha ?? 0.2,
  });
}
