/**
 * Correct (not fast) implementations of kernels the wasm backend lacks, borrowed from the `cpu`
 * backend: inputs are copied to a `cpu` backend, its kernel runs, and the result is copied back.
 * This makes every model trainable on wasm; the kernel pack (`kernels/`) replaces the hot ones
 * with fast versions.
 */
import * as tf from '@tensorflow/tfjs';

type KernelFunc = tf.KernelConfig['kernelFunc'];

/** The slice of a backend's interface the fallback uses (public methods of KernelBackend subclasses). */
interface DataBackend {
  readSync(dataId: object): tf.backend_util.BackendValues;
  /** cpu, webgl, ... */
  makeTensorInfo?(
    shape: number[],
    dtype: tf.DataType,
    values: tf.backend_util.BackendValues,
  ): tf.TensorInfo;
  /** wasm (4.22): allocates on its heap and copies `values` in. */
  makeOutput?(
    shape: number[],
    dtype: tf.DataType,
    memoryOffset?: number,
    values?: tf.backend_util.BackendValues,
  ): tf.TensorInfo;
  disposeData(dataId: object): boolean;
}

/** Make a tensor info holding `values` on `backend` (wasm has `makeOutput`, others `makeTensorInfo`). */
function makeOn(
  backend: DataBackend,
  shape: number[],
  dtype: tf.DataType,
  values: tf.backend_util.BackendValues,
): tf.TensorInfo {
  if (typeof backend.makeTensorInfo === 'function')
    return backend.makeTensorInfo(shape, dtype, values);
  if (typeof backend.makeOutput === 'function')
    return backend.makeOutput(shape, dtype, undefined, values);
  throw new Error('deepprob: cannot create tensors on this backend for a cpu fallback kernel');
}

/** Kernels the wasm backend of tfjs 4.22 does not register but our models may need. */
export const WASM_MISSING_KERNELS = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
  'Einsum',
] as const;

/**
 * A kernel function for `target` that runs the `cpu` backend's kernel `kernelName` on copies of
 * its inputs.
 */
export function cpuFallbackKernel(kernelName: string): KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const cpu = tf.findBackend('cpu') as unknown as DataBackend | null;
    const target = backend as unknown as DataBackend;
    const cpuKernel = tf.getKernel(kernelName, 'cpu');
    if (cpu === null || cpuKernel === undefined) {
      throw new Error(`deepprob: no cpu kernel '${kernelName}' to fall back on`);
    }
    const copied: tf.TensorInfo[] = [];
    // a kernel of a list of tensors (Einsum, Concat, AddN, ...) gets an array: keep it one (the
    // cpu kernel reads `inputs.length`)
    const cpuInputs: Record<string, tf.TensorInfo> | tf.TensorInfo[] = Array.isArray(inputs)
      ? []
      : {};
    for (const [name, info] of Object.entries(inputs)) {
      if (info === undefined) continue;
      const values = target.readSync(info.dataId);
      const cpuInfo = makeOn(cpu, info.shape, info.dtype, values);
      copied.push(cpuInfo);
      (cpuInputs as Record<string, tf.TensorInfo>)[name] = cpuInfo;
    }
    try {
      const out = cpuKernel.kernelFunc({
        inputs: cpuInputs as tf.NamedTensorInfoMap,
        attrs,
        backend: cpu as unknown as tf.KernelBackend,
      });
      const outs = Array.isArray(out) ? out : [out];
      const results = outs.map((o) => {
        const values = cpu.readSync(o.dataId) as tf.backend_util.BackendValues;
        cpu.disposeData(o.dataId);
        return makeOn(target, o.shape, o.dtype, values);
      });
      return Array.isArray(out) ? results : (results[0] as tf.TensorInfo);
    } finally {
      for (const c of copied) cpu.disposeData(c.dataId);
    }
  };
}

/** Register cpu fallbacks on `backendName` for every kernel in `names` it does not have. */
export function registerCpuFallbacks(
  backendName: string,
  names: readonly string[] = WASM_MISSING_KERNELS,
): string[] {
  const added: string[] = [];
  for (const kernelName of names) {
    if (tf.getKernel(kernelName, backendName) !== undefined) continue;
    if (tf.getKernel(kernelName, 'cpu') === undefined) continue;
    tf.registerKernel({ kernelName, backendName, kernelFunc: cpuFallbackKernel(kernelName) });
    added.push(kernelName);
  }
  return added;
}

/**
 * Kernels the wasm backend of tfjs 4.22 registers but computes wrongly, replaced by the `cpu`
 * kernel (measured against a float64 loop and the cpu backend, `test/layers/conv3d.test.ts`):
 * `Conv3DBackpropInputV2` (the input gradient of `conv3d` and the forward op of
 * `conv3dTranspose`) gives garbage or NaN for every stride and padding (max error ~1e1 on
 * `[1, 4, 5, 6, 2]` inputs with a 3x3x3 kernel); `Conv3DBackpropFilterV2` (the filter gradient of
 * `conv3d`) is right for stride 1 but wrong for strides > 1 (max error ~2e2 at stride 2);
 * `MaxPool3D` is wrong in most configurations, even a `1x1x1` window at stride 1 (errors ~2 on
 * unit-normal inputs; 143 of 243 random windows, strides and paddings wrong;
 * `test/backend/wasm_kernel_audit.test.ts`). Its gradient, wrong on both backends, is
 * `kernels/max_pool3d_grad.ts`.
 */
export const WASM_WRONG_KERNELS = [
  'Conv3DBackpropInputV2',
  'Conv3DBackpropFilterV2',
  'MaxPool3D',
] as const;

/**
 * Replace the wrong kernels of `backendName` in `names` by the cpu fallback (each kernel once;
 * not while the cpu backend lacks it).
 * @returns the kernels replaced by this call.
 */
export function replaceWrongKernels(
  backendName: string,
  names: readonly string[] = WASM_WRONG_KERNELS,
): string[] {
  const replaced: string[] = [];
  for (const kernelName of names) {
    const current = tf.getKernel(kernelName, backendName);
    if (current === undefined || FALLBACKS.has(current.kernelFunc)) continue;
    if (tf.getKernel(kernelName, 'cpu') === undefined) continue;
    tf.unregisterKernel(kernelName, backendName);
    const kernelFunc = cpuFallbackKernel(kernelName);
    FALLBACKS.add(kernelFunc);
    tf.registerKernel({ kernelName, backendName, kernelFunc });
    replaced.push(kernelName);
  }
  return replaced;
}

/** The kernel functions {@link replaceWrongKernels} registered (so it replaces each once). */
const FALLBACKS = new WeakSet<KernelFunc>();
