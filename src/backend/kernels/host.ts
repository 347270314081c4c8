/**
 * Host-loop kernels: a float32 kernel written once as a loop over flat arrays runs on the wasm
 * backend (views of its heap, no copies) and on the cpu backend (its value arrays).
 *
 * The adapter allocates the outputs first and only then takes the input views: an allocation may
 * grow (and so move) the wasm heap, which invalidates earlier views.
 */
import type * as tf from '@tensorflow/tfjs';
import { simdKernels, type SimdKernels } from '../simd/loader.js';
import type { WasmBackend } from './wasm_util.js';

type KernelFunc = tf.KernelConfig['kernelFunc'];

/** What a host loop kernel is made of. */
export interface HostKernelSpec<A> {
  /** Names of the kernel's inputs, in the order the loop receives them (all float32). */
  inputs: readonly string[];
  /** Shapes of the float32 outputs, from the input infos and the attributes. */
  outputShapes(inputs: tf.TensorInfo[], attrs: A): number[][];
  /** Fill `outs` (fresh, uninitialised on wasm) from `ins`. */
  loop(ins: Float32Array[], outs: Float32Array[], attrs: A): void;
  /**
   * The same on the wasm heap with the SIMD module (`simd/loader.ts`), when it is loaded; the
   * arrays are heap views (their `byteOffset` is the pointer to pass).
   */
  simd?(k: SimdKernels, ins: Float32Array[], outs: Float32Array[], attrs: A): void;
}

/** A host loop kernel for both backends. */
export interface HostKernel {
  wasm: KernelFunc;
  cpu: KernelFunc;
}

interface CpuBackend {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

function result(outs: tf.TensorInfo[]): tf.TensorInfo | tf.TensorInfo[] {
  return outs.length === 1 ? (outs[0] as tf.TensorInfo) : outs;
}

/**
 * Make the wasm and cpu kernel functions of a host loop.
 *
 * @param spec input names, output shapes and the loop.
 * @returns `{ wasm, cpu }` kernel functions to pass to `tf.registerKernel`.
 * @example
 * ```ts
 * const k = hostKernel<{}>({ inputs: ['x'], outputShapes: ([x]) => [x!.shape],
 *   loop: ([x], [y]) => { for (let i = 0; i < x!.length; i++) y![i] = 2 * x![i]!; } });
 * ```
 */
export function hostKernel<A>(spec: HostKernelSpec<A>): HostKernel {
  const infosOf = (inputs: tf.NamedTensorInfoMap): tf.TensorInfo[] =>
    spec.inputs.map((n) => {
      const t = inputs[n];
      if (t === undefined) throw new Error(`deepprob kernels: missing input '${n}'`);
      if (t.dtype !== 'float32') {
        throw new Error(`deepprob kernels: input '${n}' must be float32, got ${t.dtype}`);
      }
      return t;
    });
  return {
    wasm: ({ inputs, attrs, backend }) => {
      const be = backend as unknown as WasmBackend;
      const a = attrs as unknown as A;
      const ins = infosOf(inputs);
      const outs = spec.outputShapes(ins, a).map((s) => be.makeOutput(s, 'float32'));
      const inViews = ins.map((t) => be.typedArrayFromHeap(t) as Float32Array);
      const outViews = outs.map((t) => be.typedArrayFromHeap(t) as Float32Array);
      const k = spec.simd === undefined ? undefined : simdKernels();
      if (k !== undefined && spec.simd !== undefined) spec.simd(k, inViews, outViews, a);
      else spec.loop(inViews, outViews, a);
      return result(outs);
    },
    cpu: ({ inputs, attrs, backend }) => {
      const be = backend as unknown as CpuBackend;
      const a = attrs as unknown as A;
      const ins = infosOf(inputs);
      const shapes = spec.outputShapes(ins, a);
      const vals = shapes.map((s) => new Float32Array(s.reduce((p, d) => p * d, 1)));
      spec.loop(
        ins.map((t) => be.readSync(t.dataId) as Float32Array),
        vals,
        a,
      );
      return result(shapes.map((s, i) => be.makeTensorInfo(s, 'float32', vals[i] as Float32Array)));
    },
  };
}
