/**
 * Small helpers for writing kernels on the tfjs wasm backend by composing its own kernels.
 *
 * A kernel in the pack receives `TensorInfo`s and the backend; intermediate results made by calling
 * other kernels must be released with `backend.disposeData` (they are not engine tensors).
 */
import * as tf from '@tensorflow/tfjs';

type KernelFunc = tf.KernelConfig['kernelFunc'];

/** One entry of the wasm backend's data map (tfjs-backend-wasm 4.22 internals). */
export interface WasmTensorData {
  id: number;
  memoryOffset: number;
  shape: number[];
  dtype: tf.DataType;
  refCount: number;
}

/** The emscripten module of the wasm backend (the parts we use). */
export interface WasmModule {
  HEAPU8: Uint8Array;
  HEAPF32: Float32Array;
  _malloc(n: number): number;
  _free(p: number): void;
}

/** The slice of `BackendWasm` (tfjs-backend-wasm 4.22) that the kernel pack uses. */
export interface WasmBackend {
  wasm: WasmModule;
  dataIdMap: { get(dataId: object): WasmTensorData; numDataIds(): number };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  readSync(dataId: object): tf.backend_util.BackendValues;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** Kernel functions captured before the pack overrides any of them (stock wasm or fallback). */
const stock = new Map<string, KernelFunc>();

/** Remember the kernel currently registered for `name` on wasm as the "stock" one. */
export function captureStock(name: string): KernelFunc | undefined {
  const existing = stock.get(name);
  if (existing !== undefined) return existing;
  const k = tf.getKernel(name, 'wasm');
  if (k === undefined) return undefined;
  stock.set(name, k.kernelFunc);
  return k.kernelFunc;
}

/** The stock kernel function for `name` (captured at install time, else the registered one). */
export function stockKernel(name: string): KernelFunc {
  const k = stock.get(name) ?? tf.getKernel(name, 'wasm')?.kernelFunc;
  if (k === undefined) throw new Error(`deepprob kernels: wasm kernel '${name}' is missing`);
  return k;
}

/** The kernel a pack kernel replaced (`previous`), for the cases it does not handle itself. */
export function deferTo(previous: KernelFunc | undefined, name: string): KernelFunc {
  return (args) => {
    if (previous === undefined) throw new Error(`deepprob kernels: no ${name}`);
    return previous(args);
  };
}

/** Run the stock wasm kernel `name` on `inputs` and return its single output. */
export function call(
  backend: WasmBackend,
  name: string,
  inputs: Record<string, tf.TensorInfo>,
  attrs: Record<string, unknown> = {},
): tf.TensorInfo {
  const out = stockKernel(name)({
    inputs,
    attrs: attrs as tf.NamedAttrMap,
    backend: backend as unknown as tf.KernelBackend,
  });
  if (Array.isArray(out)) throw new Error(`deepprob kernels: '${name}' returned several outputs`);
  return out;
}

/** Release intermediate results made by {@link call}. */
export function release(backend: WasmBackend, ...infos: (tf.TensorInfo | undefined)[]): void {
  for (const t of infos) if (t !== undefined) backend.disposeData(t.dataId);
}

/**
 * Transpose `x` by `perm` on the wasm backend (a reshape, sharing the buffer, when only unit axes
 * move). With `fresh`, the result always has its own buffer: use it for convolution filters,
 * which XNNPACK packs and caches by buffer id (matmul right operands are guarded by shape in
 * `batch_matmul.ts` instead).
 */
export function transpose(
  backend: WasmBackend,
  x: tf.TensorInfo,
  perm: number[],
  fresh = false,
): tf.TensorInfo {
  const shape = perm.map((p) => x.shape[p] as number);
  const moved = perm.filter((p) => (x.shape[p] as number) !== 1);
  const sorted = moved.every((p, i) => i === 0 || p > (moved[i - 1] as number));
  if (sorted && !fresh) return call(backend, 'Reshape', { x }, { shape });
  if (sorted) {
    const out = backend.makeOutput(shape, x.dtype);
    (backend.typedArrayFromHeap(out) as Float32Array).set(
      backend.typedArrayFromHeap(x) as Float32Array,
    );
    return out;
  }
  return call(backend, 'Transpose', { x }, { perm });
}

/** Reshape `x` (shares the data; release the result like any other). */
export function reshape(backend: WasmBackend, x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return call(backend, 'Reshape', { x }, { shape });
}

/**
 * The geometry of a `Conv2DInfo` under the short names the NHWC loops use: batch `B`, input
 * `H x W x C`, output `oh x ow`, strides `sh, sw`, filter `fh x fw`, dilations `dh, dw`, and the
 * top/left padding `pt, pl` (output row `i` starts at input row `i*sh - pt`).
 *
 * @param info shape information from `tf.backend_util.computeConv2DInfo` or `computePool2DInfo`.
 * @example
 * ```ts
 * const { B, H, W, C, oh, ow } = convGeometry(info);
 * ```
 */
export function convGeometry(info: tf.backend_util.Conv2DInfo): {
  B: number;
  H: number;
  W: number;
  C: number;
  oh: number;
  ow: number;
  sh: number;
  sw: number;
  fh: number;
  fw: number;
  dh: number;
  dw: number;
  pt: number;
  pl: number;
} {
  return {
    B: info.batchSize,
    H: info.inHeight,
    W: info.inWidth,
    C: info.inChannels,
    oh: info.outHeight,
    ow: info.outWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    fh: info.filterHeight,
    fw: info.filterWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    pt: info.padInfo.top,
    pl: info.padInfo.left,
  };
}

/** What a {@link heapKernel} works out before its loop: the output shape and the loop's context. */
export interface HeapPlan<T> {
  outShape: number[];
  context: T;
}

/**
 * A float32 kernel that runs a pure loop over views of the wasm heap. Unless every input named in
 * `float32` is float32 and `plan` accepts the call, the kernel defers to `previous` (the kernel
 * registered before). Otherwise it allocates a float32 output of shape `plan(...).outShape` and
 * calls `loop(heap, out, context)`, where `heap(name)` is a `Float32Array` view of that input and
 * `out` one of the output (views are made after the allocation, which may move the heap), and
 * returns the output.
 *
 * @param name kernel name (used in the error when there is no fallback).
 * @param previous the kernel to defer to for calls the loop does not handle.
 * @param inputNames the kernel inputs that `plan` and `loop` use.
 * @param float32 the inputs that must be float32 for the fast path.
 * @param plan output shape and loop context from inputs and attributes, or `undefined` to defer.
 * @param loop fills `out` from the input views.
 * @example
 * ```ts
 * heapKernel('AvgPoolGrad', prev, ['dy', 'input'], ['dy'], planFn, (heap, out, info) =>
 *   avgPoolGradLoop(heap('dy'), out, info),
 * );
 * ```
 */
export function heapKernel<N extends string, A, T>(
  name: string,
  previous: KernelFunc | undefined,
  inputNames: readonly N[],
  float32: readonly N[],
  plan: (inputs: Record<N, tf.TensorInfo>, attrs: A) => HeapPlan<T> | undefined,
  loop: (heap: (input: N) => Float32Array, out: Float32Array, context: T) => void,
): KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as WasmBackend;
    const inputs = args.inputs as Record<N, tf.TensorInfo>;
    const p = float32.every((n) => inputs[n].dtype === 'float32')
      ? plan(inputs, args.attrs as unknown as A)
      : undefined;
    if (p === undefined) {
      if (previous === undefined) throw new Error(`deepprob kernels: no ${name}`);
      return previous(args);
    }
    const out = backend.makeOutput(p.outShape, 'float32');
    loop(
      (n) => backend.typedArrayFromHeap(inputs[n]) as Float32Array,
      backend.typedArrayFromHeap(out) as Float32Array,
      p.context,
    );
    return out;
  };
}

/** A new output of `shape` on the wasm heap, every element 0 (the heap is not cleared). */
export function zerosOutput(
  backend: WasmBackend,
  shape: number[],
  dtype: tf.DataType = 'float32',
): tf.TensorInfo {
  const out = backend.makeOutput(shape, dtype);
  if (shape.every((d) => d > 0)) backend.typedArrayFromHeap(out).fill(0);
  return out;
}
