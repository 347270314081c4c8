/**
 * Broadcasting binary ops beyond rank 6 on wasm (tfjs 4.22 computes them wrongly).
 *
 * The wasm backend's binary kernels (`Add`, `Sub`, `Multiply`, `RealDiv`, `SquaredDifference`,
 * `Pow`, `Mod`, `FloorDiv`, …: XNNPACK's `*_nd_f32`) handle at most 6 dimensions; with 7 or more
 * they fail their setup ("XNN status … not successful", printed, not thrown) and return whatever
 * the output buffer held — silently wrong values, e.g. a `logSumExp` or an enumerated model's
 * log-density over 7 dims (parallel enumeration of several discrete sites in nested plates).
 *
 * {@link mergeBroadcastDims} folds the operands into at most 6 dims before the kernel runs.
 * Dims of size 1 in the output are dropped, and adjacent dims where each operand is either
 * full-size in both or broadcast (size 1) in both are merged into one of the product size — an
 * elementwise op on row-major data is unchanged by either. The kernel then sees the same bytes
 * under the folded shapes, and its output is read back under the broadcast shape
 * `broadcast(a, b)`. Shapes that stay above 6 dims after folding (the broadcast pattern
 * alternating between dims) run on the `cpu` kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { cpuFallbackKernel } from '../cpu_fallback.js';
import { wrapKernelOnce } from './wrap_kernel.js';

type KernelFunc = tf.KernelConfig['kernelFunc'];

/** The most dims the wasm binary kernels compute rightly. */
export const WASM_BINARY_MAX_RANK = 6;

/** The wasm binary kernels (all built by tfjs-backend-wasm's `createBinaryKernelConfig`). */
export const WASM_BINARY_KERNELS = [
  'Add',
  'Atan2',
  'BitwiseAnd',
  'Equal',
  'FloorDiv',
  'Greater',
  'GreaterEqual',
  'Less',
  'LessEqual',
  'LogicalAnd',
  'LogicalOr',
  'LogicalXor',
  'Maximum',
  'Minimum',
  'Mod',
  'Multiply',
  'NotEqual',
  'Pow',
  'RealDiv',
  'SquaredDifference',
  'Sub',
] as const;

/** Folded shapes of two operands and of their broadcast. */
export interface FoldedShapes {
  a: number[];
  b: number[];
  out: number[];
}

/**
 * Fold the broadcast of shapes `a` and `b` into the fewest dims an elementwise op sees the same
 * way: output dims of size 1 dropped, adjacent dims with the same broadcast pattern (each operand
 * full or 1 in both) merged by their product. A shape of no dims folds to `[1]`.
 */
export function mergeBroadcastDims(a: readonly number[], b: readonly number[]): FoldedShapes {
  const out = tf.backend_util.assertAndGetBroadcastShape([...a], [...b]);
  const r = out.length;
  const pa = [...new Array<number>(r - a.length).fill(1), ...a];
  const pb = [...new Array<number>(r - b.length).fill(1), ...b];
  const fa: number[] = [];
  const fb: number[] = [];
  const fo: number[] = [];
  let last = '';
  for (let i = 0; i < r; i++) {
    const size = out[i] as number;
    if (size === 1) continue;
    const fullA = pa[i] !== 1;
    const fullB = pb[i] !== 1;
    const pattern = `${fullA ? 'f' : 'b'}${fullB ? 'f' : 'b'}`;
    if (pattern === last) {
      const k = fo.length - 1;
      fo[k] = (fo[k] as number) * size;
      if (fullA) fa[k] = (fa[k] as number) * size;
      if (fullB) fb[k] = (fb[k] as number) * size;
    } else {
      fo.push(size);
      fa.push(fullA ? size : 1);
      fb.push(fullB ? size : 1);
      last = pattern;
    }
  }
  if (fo.length === 0) return { a: [1], b: [1], out: [1] };
  return { a: fa, b: fb, out: fo };
}

/** `previous` with operands of more than {@link WASM_BINARY_MAX_RANK} dims folded first. */
export function foldedBinary(kernelName: string, previous: KernelFunc): KernelFunc {
  let cpu: KernelFunc | undefined;
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (a.shape.length <= WASM_BINARY_MAX_RANK && b.shape.length <= WASM_BINARY_MAX_RANK) {
      return previous(args);
    }
    let folded: FoldedShapes;
    try {
      folded = mergeBroadcastDims(a.shape, b.shape);
    } catch {
      return previous(args); // shapes that do not broadcast: tfjs reports them its own way
    }
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    if (folded.out.length > WASM_BINARY_MAX_RANK) {
      cpu ??= cpuFallbackKernel(kernelName);
      return cpu(args);
    }
    // the same data under the folded shapes (a kernel reads its inputs' shapes from the infos)
    const res = previous({
      ...args,
      inputs: {
        a: { dataId: a.dataId, shape: folded.a, dtype: a.dtype },
        b: { dataId: b.dataId, shape: folded.b, dtype: b.dtype },
      },
    }) as tf.TensorInfo;
    return { dataId: res.dataId, shape: outShape, dtype: res.dtype };
  };
}

/**
 * Wrap `backendName`'s binary kernels ({@link WASM_BINARY_KERNELS}) with {@link foldedBinary}
 * (idempotent per kernel and backend).
 */
export function installBinaryRankFix(backendName: string): void {
  for (const kernelName of WASM_BINARY_KERNELS) {
    wrapKernelOnce(kernelName, backendName, (previous) => foldedBinary(kernelName, previous));
  }
}
