/**
 * Wrap a registered kernel once: the fixes `ready()` installs around a backend's stock kernels
 * (`BatchMatMul` broadcasting, depthwise padding, wide binary ops, negative cumulative axes)
 * replace `kernelName` on `backendName` by `wrap(stock)`, keeping its setup and dispose hooks.
 */
import * as tf from '@tensorflow/tfjs';

type KernelFunc = tf.KernelConfig['kernelFunc'];

const wrapped = new Set<string>();

/**
 * Register `wrap(previous)` as `backendName`'s `kernelName`, where `previous` is the kernel
 * registered now (idempotent per kernel and backend; nothing when the backend has no such kernel).
 * @returns whether this call wrapped it.
 */
export function wrapKernelOnce(
  kernelName: string,
  backendName: string,
  wrap: (previous: KernelFunc) => KernelFunc,
): boolean {
  const key = `${backendName}/${kernelName}`;
  if (wrapped.has(key)) return false;
  const config = tf.getKernel(kernelName, backendName);
  if (config === undefined) return false;
  wrapped.add(key);
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ ...config, kernelFunc: wrap(config.kernelFunc) });
  return true;
}
