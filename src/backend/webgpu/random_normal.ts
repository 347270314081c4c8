/**
 * deepprob's seeded normal generator on the webgpu backend: the same ziggurat streams as on wasm
 * and cpu (`kernels/random_normal.ts`, `fillNormal`), filled on the host and uploaded as one buffer
 * write. Same seed, same bits on every backend, so a model's noise (and with it its losses and
 * gradients) agrees with wasm to float32 rounding of the arithmetic around it.
 *
 * Cost: one host fill (~5 ns per value) and one upload per draw; the xoshiro streams are
 * sequential, so a GPU kernel could not reproduce them without a jump-ahead per thread.
 */
import * as tf from '@tensorflow/tfjs';
import { RANDOM_NORMAL_KERNEL, fillNormal } from '../kernels/random_normal.js';

/** The attributes of `DeepprobRandomNormal`. */
interface RandomNormalAttrs {
  shape: number[];
  mean: number;
  stdDev: number;
  seed: number;
}

/** A backend that can make a tensor from host values (every tfjs backend). */
interface MakesTensors {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/**
 * The `DeepprobRandomNormal` kernel for the webgpu backend: `x = mean + stdDev * z` from the
 * ziggurat streams of `seed` (see `fillNormal`), uploaded to the GPU.
 *
 * @param args kernel arguments: attributes `{shape, mean, stdDev, seed}`, the backend.
 * @returns the new tensor's info.
 */
export function randomNormalWebGPU(args: {
  attrs?: tf.NamedAttrMap;
  backend: unknown;
}): tf.TensorInfo {
  const { shape, mean, stdDev, seed } = args.attrs as unknown as RandomNormalAttrs;
  const out = new Float32Array(shape.reduce((a, d) => a * d, 1));
  fillNormal(out, seed, mean, stdDev);
  return (args.backend as MakesTensors).makeTensorInfo(shape, 'float32', out);
}

/** Register the generator on `backendName` (idempotent). */
export function registerRandomNormal(backendName: string): void {
  if (tf.getKernel(RANDOM_NORMAL_KERNEL, backendName) !== undefined) return;
  tf.registerKernel({
    kernelName: RANDOM_NORMAL_KERNEL,
    backendName,
    kernelFunc: randomNormalWebGPU as unknown as tf.KernelFunc,
  });
}
