/** Test helpers: run a kernel on the `cpu` backend (the reference) and on the active backend. */
import * as tf from '@tensorflow/tfjs';

interface CpuBackend {
  makeTensorInfo(
    shape: number[],
    dtype: tf.DataType,
    values: tf.backend_util.BackendValues,
  ): tf.TensorInfo;
  readSync(dataId: object): tf.backend_util.BackendValues;
  disposeData(dataId: object): boolean;
}

/** Run the `cpu` backend's kernel `name` on copies of `inputs`; returns the flat outputs. */
export function cpuKernel(
  name: string,
  inputs: Record<string, tf.Tensor>,
  attrs: Record<string, unknown>,
): { shape: number[]; values: Float32Array }[] {
  const cpu = tf.findBackend('cpu') as unknown as CpuBackend;
  const kernel = tf.getKernel(name, 'cpu');
  if (kernel === undefined) throw new Error(`no cpu kernel ${name}`);
  const infos: Record<string, tf.TensorInfo> = {};
  for (const [k, t] of Object.entries(inputs)) {
    infos[k] = cpu.makeTensorInfo(t.shape, t.dtype, t.dataSync() as tf.backend_util.BackendValues);
  }
  const out = kernel.kernelFunc({
    inputs: infos,
    attrs: attrs as tf.NamedAttrMap,
    backend: cpu as unknown as tf.KernelBackend,
  });
  const outs = Array.isArray(out) ? out : [out];
  const res = outs.map((o) => {
    const values = Float32Array.from(cpu.readSync(o.dataId) as Float32Array);
    cpu.disposeData(o.dataId);
    return { shape: o.shape, values };
  });
  for (const i of Object.values(infos)) cpu.disposeData(i.dataId);
  return res;
}

/** Run kernel `name` on the active backend through the engine. */
export function activeKernel(
  name: string,
  inputs: Record<string, tf.Tensor>,
  attrs: Record<string, unknown>,
): tf.Tensor {
  return tf
    .engine()
    .runKernel(name, inputs as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;
}

/** A deterministic pseudo-random generator (mulberry32) for shapes and values. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform integer in [lo, hi]. */
export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/** A convolution's padding as tfjs takes it: `'valid'`, `'same'` or explicit NHWC pads. */
export type ConvPad =
  'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]];

/** A random padding: `'valid'`, `'same'` or explicit pads of 0..2 per spatial side, a third each. */
export function randPad(r: () => number): ConvPad {
  const mode = randInt(r, 0, 2);
  return mode === 0
    ? 'valid'
    : mode === 1
      ? 'same'
      : [
          [0, 0],
          [randInt(r, 0, 2), randInt(r, 0, 2)],
          [randInt(r, 0, 2), randInt(r, 0, 2)],
          [0, 0],
        ];
}

/** A tensor of the given shape with standard-normal-ish values from `r`. */
export function randTensor(r: () => number, shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = r() * 2 - 1;
  return tf.tensor(v, shape);
}

/** Run `f` on the `cpu` backend, then return to the previous one. */
export async function onCpu<T>(f: () => T): Promise<T> {
  const prev = tf.getBackend();
  await tf.setBackend('cpu');
  try {
    return f();
  } finally {
    await tf.setBackend(prev);
  }
}

/**
 * Run `f` and return the names of the SIMD module's functions it looked up (to check that a
 * kernel really ran on the module).
 */
export function simdCalls(k: { fns: object }, f: () => void): string[] {
  const fns = k.fns;
  const used: string[] = [];
  k.fns = new Proxy(fns, {
    get: (t, name) => {
      used.push(String(name));
      return Reflect.get(t, name) as unknown;
    },
  });
  try {
    f();
  } finally {
    k.fns = fns;
  }
  return used;
}
