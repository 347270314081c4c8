/**
 * The epilogue of tfjs's fused kernels (`_FusedMatMul`, `FusedConv2D`) as registered kernels, for
 * the calls the stock wasm kernels get wrong: `y = act(z + bias)` with `Add` (the bias broadcast
 * to `z`'s shape) and the activation's own kernel:
 * $$\mathrm{relu}(z) = \max(z, 0),\quad \mathrm{relu6}(z) = \min(\max(z, 0), 6),\quad
 *   \mathrm{elu}(z) = z\ (z > 0),\ e^z - 1\ (z \le 0),\quad \sigma(z) = \frac{1}{1 + e^{-z}},$$
 * $$\mathrm{leakyrelu}(z) = z\ (z > 0),\ \alpha z\ (z \le 0),\quad
 *   \mathrm{prelu}(z) = z\ (z > 0),\ a \odot z\ (z \le 0).$$
 */
import * as tf from '@tensorflow/tfjs';
import { release, type WasmBackend } from './wasm_util.js';

type KernelFunc = tf.KernelConfig['kernelFunc'];

/** The element-wise kernel of each fused activation tfjs names (`linear`: none). */
const ACTIVATION_KERNELS: Record<string, string> = {
  relu: 'Relu',
  relu6: 'Relu6',
  elu: 'Elu',
  sigmoid: 'Sigmoid',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu',
};

/**
 * Run the kernel registered now for `name` on wasm (the pack's or the native one, not the stock
 * kernel it replaced) and return its single output.
 */
export function runRegistered(
  backend: WasmBackend,
  name: string,
  inputs: Record<string, tf.TensorInfo>,
  attrs: Record<string, unknown> = {},
): tf.TensorInfo {
  const k = tf.getKernel(name, 'wasm');
  if (k === undefined) throw new Error(`deepprob kernels: wasm kernel '${name}' is missing`);
  const out = k.kernelFunc({
    inputs,
    attrs: attrs as tf.NamedAttrMap,
    backend: backend as unknown as tf.KernelBackend,
  });
  if (Array.isArray(out)) throw new Error(`deepprob kernels: '${name}' returned several outputs`);
  return out;
}

/**
 * `act(z + bias)` for a fused kernel call `args` (inputs `bias`, `preluActivationWeights`;
 * attributes `activation`, `leakyreluAlpha`, 0 when absent as in the stock kernels). Takes
 * ownership of `z` (released here unless it is the result).
 *
 * @param backend the wasm backend.
 * @param z the product or convolution, before the bias.
 * @param args the fused kernel's call.
 * @param kernelName the fused kernel, for messages.
 * @returns the result, a fresh tensor (or `z` itself for a linear activation without bias).
 */
export function fusedEpilogue(
  backend: WasmBackend,
  z: tf.TensorInfo,
  args: Parameters<KernelFunc>[0],
  kernelName: string,
): tf.TensorInfo {
  const { bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const attrs = args.attrs as { activation?: string; leakyreluAlpha?: number };
  const activation = attrs.activation ?? 'linear';
  const kernel = ACTIVATION_KERNELS[activation];
  const temps: tf.TensorInfo[] = [];
  try {
    if (activation !== 'linear' && kernel === undefined) {
      throw new Error(`${activation} activation not yet supported for ${kernelName}`);
    }
    if (kernel === 'Prelu' && preluActivationWeights === undefined) {
      throw new Error(`${kernelName}: prelu activation without preluActivationWeights`);
    }
    let y = z;
    if (bias !== undefined) {
      temps.push(y);
      y = runRegistered(backend, 'Add', { a: y, b: bias });
    }
    if (kernel !== undefined) {
      temps.push(y);
      y =
        kernel === 'Prelu'
          ? runRegistered(backend, kernel, { x: y, alpha: preluActivationWeights as tf.TensorInfo })
          : runRegistered(
              backend,
              kernel,
              { x: y },
              kernel === 'LeakyRelu' ? { alpha: attrs.leakyreluAlpha ?? 0 } : {},
            );
    }
    return y;
  } catch (e) {
    temps.push(z);
    throw e;
  } finally {
    release(backend, ...temps.filter((t, i, all) => all.indexOf(t) === i));
  }
}
