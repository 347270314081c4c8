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

/** Transpose `x` by `perm` on the wasm backend (a reshape when only unit axes move). */
export function transpose(backend: WasmBackend, x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
  const shape = perm.map((p) => x.shape[p] as number);
  const moved = perm.filter((p) => (x.shape[p] as number) !== 1);
  const sorted = moved.every((p, i) => i === 0 || p > (moved[i - 1] as number));
  if (sorted) return call(backend, 'Reshape', { x }, { shape });
  return call(backend, 'Transpose', { x }, { perm });
}

/** Reshape `x` (shares the data; release the result like any other). */
export function reshape(backend: WasmBackend, x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return call(backend, 'Reshape', { x }, { shape });
}
