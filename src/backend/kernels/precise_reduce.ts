/**
 * Long float32 sums on the wasm backend. tfjs-backend-wasm 4.22's `Sum` and `Mean` accumulate in
 * float32, one element after the other, so the rounding error grows with the reduced length:
 * `tf.sum` of 1e5 copies of 1e-5 was 1.00099 and `tf.mean` of 1e6 copies of 1.3862944 was
 * 1.37739 (0.6% low) — a bias of Monte Carlo estimates (`monteCarloKL`, moments of 1e6 draws) and
 * of the gradients of parameters broadcast over a large batch, far beyond their standard errors.
 * The pack sums reductions of at least {@link PRECISE_REDUCE_FROM} elements per output on the
 * host in float64 (as the cpu backend does), rounding once:
 *
 * $$\mathrm{Sum}(x)_o = \mathrm{fl}_{32}\Big(\sum_{i \mapsto o} x_i\Big),\qquad
 *   \mathrm{Mean}(x)_o = \mathrm{fl}_{32}\Big(\frac1R\sum_{i \mapsto o} x_i\Big)$$
 *
 * with the sum taken in float64; shorter reductions (float32 error below ~1e-6 relative in
 * practice) and other dtypes stay with the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from './wasm_util.js';

type KernelFunc = tf.KernelConfig['kernelFunc'];

/** Reduced length (elements per output) from which `Sum`/`Mean` are summed in float64. */
export const PRECISE_REDUCE_FROM = 2048;

/**
 * `Sum` or `Mean` of float32 inputs whose reduced length is at least {@link PRECISE_REDUCE_FROM},
 * accumulated in float64 on the host; everything else goes to `previous`.
 * @param kernelName `'Sum'` or `'Mean'`.
 */
export function preciseReduceKernel(kernelName: 'Sum' | 'Mean') {
  return (previous: KernelFunc | undefined): KernelFunc =>
    (args) => {
      if (previous === undefined) throw new Error(`deepprob kernels: no ${kernelName}`);
      const { x } = args.inputs as { x: tf.TensorInfo };
      if (x.dtype !== 'float32' || x.shape.includes(0)) return previous(args);
      const { axis, keepDims } = args.attrs as { axis?: number | number[]; keepDims: boolean };
      const rank = x.shape.length;
      const axes = tf.util.parseAxisParam(axis ?? x.shape.map((_, i) => i), x.shape);
      let reduced = 1;
      for (const a of axes) reduced *= x.shape[a] as number;
      if (reduced < PRECISE_REDUCE_FROM) return previous(args);
      const shape: number[] = [];
      x.shape.forEach((d, i) => {
        if (!axes.includes(i)) shape.push(d);
        else if (keepDims) shape.push(1);
      });
      // stride of each input axis in the output (0 for a reduced axis)
      const outStride = new Array<number>(rank).fill(0);
      let s = 1;
      for (let i = rank - 1; i >= 0; i--) {
        if (axes.includes(i)) continue;
        outStride[i] = s;
        s *= x.shape[i] as number;
      }
      const backend = args.backend as unknown as WasmBackend;
      const xs = backend.typedArrayFromHeap(x) as Float32Array;
      const acc = new Float64Array(s);
      const trailing = axes.every((a) => a >= rank - axes.length);
      if (trailing) {
        // the reduced axes are the last ones: contiguous runs of `reduced` elements
        for (let o = 0; o < s; o++) {
          let t = 0;
          const base = o * reduced;
          for (let i = 0; i < reduced; i++) t += xs[base + i] as number;
          acc[o] = t;
        }
      } else {
        // odometer over the input in memory order, tracking the output offset
        const idx = new Array<number>(rank).fill(0);
        let o = 0;
        for (let i = 0; i < xs.length; i++) {
          acc[o] = (acc[o] as number) + (xs[i] as number);
          for (let a = rank - 1; a >= 0; a--) {
            idx[a] = (idx[a] as number) + 1;
            o += outStride[a] as number;
            if ((idx[a] as number) < (x.shape[a] as number)) break;
            o -= (outStride[a] as number) * (x.shape[a] as number);
            idx[a] = 0;
          }
        }
      }
      const out = backend.makeOutput(shape, 'float32');
      const os = backend.typedArrayFromHeap(out) as Float32Array;
      const scale = kernelName === 'Mean' ? 1 / reduced : 1;
      for (let o = 0; o < s; o++) os[o] = (acc[o] as number) * scale;
      return out;
    };
}
