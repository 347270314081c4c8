/**
 * Reductions over an empty axis on the wasm backend. tfjs-backend-wasm 4.22's `Sum`, `Prod`,
 * `Max`, `Min`, `All` and `Any` return uninitialized heap memory when a reduced axis has size 0
 * (`tf.sum(tf.zeros([2, 0]), -1)` read `[3.6e-41, 0.163]`), so e.g. `Independent` over an empty
 * event scored garbage. The pack answers those with the reduction's identity, as numpy does:
 *
 * $$\sum_{\emptyset} = 0,\quad \prod_{\emptyset} = 1,\quad \max_{\emptyset} = -\infty,\quad
 *   \min_{\emptyset} = +\infty,\quad \bigwedge_{\emptyset} = \text{true},\quad
 *   \bigvee_{\emptyset} = \text{false},$$
 *
 * and leaves every non-empty input to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from './wasm_util.js';

type KernelFunc = tf.KernelConfig['kernelFunc'];

/** The reductions the guard covers, with their identity element. */
export const EMPTY_REDUCE_IDENTITY: Readonly<Record<string, number>> = {
  Sum: 0,
  Prod: 1,
  Max: -Infinity,
  Min: Infinity,
  All: 1,
  Any: 0,
};

/**
 * The kernel `kernelName` with inputs of size 0 answered by the identity element of
 * {@link EMPTY_REDUCE_IDENTITY} (shape: the input's with the reduced axes dropped, or kept as 1
 * with `keepDims`); other inputs go to `previous`.
 */
export function emptyReduceKernel(kernelName: string) {
  return (previous: KernelFunc | undefined): KernelFunc =>
    (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      if (!x.shape.includes(0)) {
        if (previous === undefined) throw new Error(`deepprob kernels: no ${kernelName}`);
        return previous(args);
      }
      // Max and Min name their axes `reductionIndices`, the others `axis`
      const { axis, reductionIndices, keepDims } = args.attrs as {
        axis?: number | number[];
        reductionIndices?: number | number[];
        keepDims: boolean;
      };
      const axes = tf.util.parseAxisParam(
        axis ?? reductionIndices ?? x.shape.map((_, i) => i),
        x.shape,
      );
      const shape: number[] = [];
      x.shape.forEach((d, i) => {
        if (!axes.includes(i)) shape.push(d);
        else if (keepDims) shape.push(1);
      });
      const boolOut = kernelName === 'All' || kernelName === 'Any';
      const dtype = boolOut ? 'bool' : x.dtype === 'bool' ? 'int32' : x.dtype;
      const backend = args.backend as unknown as WasmBackend;
      const out = backend.makeOutput(shape, dtype);
      let value = EMPTY_REDUCE_IDENTITY[kernelName] as number;
      if (dtype === 'int32' && !Number.isFinite(value))
        value = value > 0 ? 2147483647 : -2147483648;
      backend.typedArrayFromHeap(out).fill(value);
      return out;
    };
}
