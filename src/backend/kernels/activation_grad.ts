/**
 * One-kernel gradients of the element-wise activations. tfjs differentiates `relu` as
 * `dy * cast(step(x))` (three kernels over the activation) and `softplus` as `dy * sigmoid(x)`
 * (two); the pack computes each in one pass (SIMD on wasm) and re-registers the `Relu` and
 * `Softplus` gradients to use them on backends that have the kernels, the stock formulas elsewhere.
 *
 * - `DeepprobReluGrad` (dy, x): `dx_i = dy_i` where `x_i > 0`, `0` where `x_i <= 0`, NaN where
 *   `x_i` is NaN (as `step`).
 * - `DeepprobSoftplusGrad` (dy, x): `dx_i = dy_i * sigmoid(x_i)`.
 */
import * as tf from '@tensorflow/tfjs';
import { mapShared } from '../simd/pool.js';
import { hostKernel, type HostKernel } from './host.js';
import { sigmoid64 } from './variational.js';

/** Name of the fused ReLU gradient kernel (inputs dy, x; output dx). */
export const RELU_GRAD = 'DeepprobReluGrad';
/** Name of the fused softplus gradient kernel (inputs dy, x; output dx). */
export const SOFTPLUS_GRAD = 'DeepprobSoftplusGrad';

/** The ReLU gradient loop on flat arrays. */
export function reluGradLoop(dy: Float32Array, x: Float32Array, out: Float32Array): void {
  for (let i = 0; i < out.length; i++) {
    const xi = x[i]!;
    out[i] = xi !== xi ? xi : xi > 0 ? dy[i]! : 0;
  }
}

const ptr = (a: Float32Array | undefined): number => (a as Float32Array).byteOffset;

/** The kernels on the wasm (SIMD when loaded) and cpu backends. */
export const activationGradKernels: Record<string, HostKernel> = {
  [RELU_GRAD]: hostKernel<Record<string, never>>({
    inputs: ['dy', 'x'],
    outputShapes: (ins) => [(ins[1] as tf.TensorInfo).shape],
    loop: ([dy, x], [out]) =>
      reluGradLoop(dy as Float32Array, x as Float32Array, out as Float32Array),
    simd: (k, [dy, x], [out]) =>
      mapShared(k, 'relu_grad', [ptr(dy), ptr(x), ptr(out)], (out as Float32Array).length),
  }),
  [SOFTPLUS_GRAD]: hostKernel<Record<string, never>>({
    inputs: ['dy', 'x'],
    outputShapes: (ins) => [(ins[1] as tf.TensorInfo).shape],
    loop: ([dy, x], [out]) => {
      const g = dy as Float32Array;
      const v = x as Float32Array;
      const o = out as Float32Array;
      for (let i = 0; i < o.length; i++) o[i] = g[i]! * sigmoid64(v[i]!);
    },
    simd: (k, [dy, x], [out]) =>
      mapShared(k, 'softplus_grad', [ptr(dy), ptr(x), ptr(out)], (out as Float32Array).length),
  }),
};

/** Whether the fused kernel `name` can run on the current backend for `dy` and `x`. */
function usable(name: string, dy: tf.Tensor, x: tf.Tensor): boolean {
  return (
    tf.getKernel(name, tf.getBackend()) !== undefined &&
    x.dtype === 'float32' &&
    dy.dtype === 'float32' &&
    dy.size === x.size
  );
}

/**
 * Register the gradient of the unary kernel `kernelName` as the fused kernel `fused(dy, x)` where
 * usable, `stock(dy, x)` otherwise.
 */
function registerFusedGrad(
  kernelName: string,
  fused: string,
  stock: (dy: tf.Tensor, x: tf.Tensor) => tf.Tensor,
): void {
  tf.registerGradient({
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as [tf.Tensor];
      const g = dy as tf.Tensor;
      return {
        x: () =>
          usable(fused, g, x)
            ? (tf.engine().runKernel(fused, { dy: g, x }) as tf.Tensor)
            : stock(g, x),
      };
    },
  });
}

let installed = false;

/** Register the `Relu` and `Softplus` gradients that use the fused kernels (idempotent). */
export function installActivationGrads(): void {
  if (installed) return;
  installed = true;
  registerFusedGrad('Relu', RELU_GRAD, (g, x) => tf.mul(g, tf.cast(tf.step(x), 'float32')));
  registerFusedGrad('Softplus', SOFTPLUS_GRAD, (g, x) => tf.mul(g, tf.sigmoid(x)));
}
