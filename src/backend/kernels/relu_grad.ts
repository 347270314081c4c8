/**
 * A one-kernel ReLU gradient. tfjs differentiates `relu` as `dy * cast(step(x))` (three kernels
 * over the activation); the pack computes `dx_i = dy_i` where `x_i > 0`, `0` where `x_i <= 0` and
 * `NaN` where `x_i` is NaN (as `step`) in one pass (SIMD on wasm), and re-registers the `Relu`
 * gradient to use it on backends that have the kernel, the stock formula elsewhere.
 */
import * as tf from '@tensorflow/tfjs';
import { hostKernel, type HostKernel } from './host.js';

/** Name of the fused kernel (inputs dy, x; output dx). */
export const RELU_GRAD = 'DeepprobReluGrad';

/** The ReLU gradient loop on flat arrays. */
export function reluGradLoop(dy: Float32Array, x: Float32Array, out: Float32Array): void {
  for (let i = 0; i < out.length; i++) {
    const xi = x[i]!;
    out[i] = xi !== xi ? xi : xi > 0 ? dy[i]! : 0;
  }
}

/** The kernel on the wasm (SIMD when loaded) and cpu backends. */
export const reluGradKernels: Record<string, HostKernel> = {
  [RELU_GRAD]: hostKernel<Record<string, never>>({
    inputs: ['dy', 'x'],
    outputShapes: (ins) => [(ins[1] as tf.TensorInfo).shape],
    loop: ([dy, x], [out]) =>
      reluGradLoop(dy as Float32Array, x as Float32Array, out as Float32Array),
    simd: (k, [dy, x], [out]) => {
      const o = out as Float32Array;
      k.fns.relu_grad(
        (dy as Float32Array).byteOffset,
        (x as Float32Array).byteOffset,
        o.byteOffset,
        o.length,
      );
    },
  }),
};

let installed = false;

/**
 * Register the `Relu` gradient that uses {@link RELU_GRAD} where the current backend has it
 * (float32 inputs), the stock `dy * step(x)` otherwise (idempotent).
 */
export function installReluGrad(): void {
  if (installed) return;
  installed = true;
  tf.registerGradient({
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as [tf.Tensor];
      const g = dy as tf.Tensor;
      return {
        x: () =>
          tf.getKernel(RELU_GRAD, tf.getBackend()) !== undefined &&
          x.dtype === 'float32' &&
          g.dtype === 'float32'
            ? (tf.engine().runKernel(RELU_GRAD, { dy: g, x }) as tf.Tensor)
            : tf.mul(g, tf.cast(tf.step(x), 'float32')),
      };
    },
  });
}
