/**
 * `Identity` on the wasm backend without a copy. Autodiff clones every tensor it saves for the
 * backward pass (`engine.clone` runs `Identity`), and the stock wasm kernel copies the whole
 * buffer each time (~100 copies per BBB LeNet-5 step, many of activation size). Tensors are
 * immutable in tfjs, so the pack shares the buffer and counts a reference, exactly as the stock
 * wasm `Reshape` (and the cpu backend's `Identity`) already do.
 */
import type * as tf from '@tensorflow/tfjs';

type KernelFunc = tf.KernelConfig['kernelFunc'];

/** The part of the wasm backend the kernel uses. */
interface RefCounted {
  incRef(dataId: object): void;
}

/** `Identity` sharing the input's data (strings go to `previous`). */
export function identityKernel(previous: KernelFunc | undefined): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') {
      if (previous === undefined) throw new Error('deepprob kernels: no Identity');
      return previous(args);
    }
    (args.backend as unknown as RefCounted).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}
