/**
 * `Conv2D` and `FusedConv2D` (NHWC, unit dilation) on the wasm backend as im2col + the SIMD
 * module's GEMM, with the bias and the activation fused into the GEMM's last pass:
 *
 *   colsT = im2colᵀ(x)                      [KH*KW*CI, B*OH*OW]  (the module's `im2col_t`)
 *   y[(b, oy, ox), co] = act(sum_k colsT[k, (b, oy, ox)] W[k, co] + bias[co])
 *
 * i.e. `y = act(colsTᵀ W + bias)`, one GEMM with a transposed left operand (packed as it is
 * read) and the HWIO filter as `[K, CO]` in place. Where it does not beat XNNPACK's convolution
 * (`useSimdConv`), or for cases it does not take (NCHW, dilation, other activations, PReLU,
 * non-float32, im2col larger than `MAX_COLS`), the kernel it replaced runs.
 */
import * as tf from '@tensorflow/tfjs';
import { getEnv } from '../env.js';
import { simdKernels } from '../simd/loader.js';
import { MAX_COLS, colsSize, gemmGeometry } from './conv_gemm.js';
import { GEMM_ACTIVATIONS, simdMatMul, useSimdGemm } from './simd_gemm.js';
import { release, type WasmBackend } from './wasm_util.js';

type KernelFunc = tf.KernelConfig['kernelFunc'];

/** Attributes of tfjs's `Conv2D` / `FusedConv2D` kernels. */
interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
  leakyreluAlpha?: number;
}

/**
 * Whether im2col + SIMD GEMM should run this forward convolution instead of XNNPACK's (indirect)
 * convolution: `DEEPPROB_SIMD_CONV=1|0` forces it; otherwise layers whose GEMM is wide enough for
 * the 8-column panels (>= 16 output channels) and deep enough to pay for the gather (>= 16 taps
 * x channels), as measured in `bench/wasm_gemm.ts --conv`.
 */
export function useSimdConv(info: tf.backend_util.Conv2DInfo): boolean {
  const forced = getEnv('DEEPPROB_SIMD_CONV');
  if (forced === '0') return false;
  const { N, K, CO } = gemmGeometry(info);
  if (forced === '1') return true;
  return CO >= 16 && K >= 16 && useSimdGemm(N, CO, K);
}

/**
 * `act(conv(x, W) + bias)` by im2col and the SIMD GEMM, or undefined when not taken.
 *
 * @param backend the wasm backend.
 * @param args the kernel call (inputs `x`, `filter`, optional `bias`, `preluActivationWeights`).
 * @param fused whether the call is `FusedConv2D` (bias, activation).
 */
export function conv2dSimd(
  backend: WasmBackend,
  args: Parameters<KernelFunc>[0],
  fused: boolean,
): tf.TensorInfo | undefined {
  const k = simdKernels();
  if (k === undefined) return undefined;
  const { x, filter, bias, preluActivationWeights } = args.inputs as Record<
    string,
    tf.TensorInfo | undefined
  >;
  const attrs = args.attrs as unknown as ConvAttrs;
  if (x === undefined || filter === undefined || preluActivationWeights !== undefined) {
    return undefined;
  }
  const activation = fused ? (attrs.activation ?? 'linear') : 'linear';
  if (GEMM_ACTIVATIONS[activation] === undefined) return undefined;
  if (attrs.dataFormat === 'NCHW' || x.dtype !== 'float32' || filter.dtype !== 'float32') {
    return undefined;
  }
  if (x.shape.length !== 4 || filter.shape.length !== 4) return undefined;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  const { N, K, CO, loop } = gemmGeometry(info);
  if (N === 0 || K === 0 || CO === 0 || colsSize(info) > MAX_COLS) return undefined;
  if (bias !== undefined) {
    const n = bias.shape.reduce((p, d) => p * d, 1);
    if (bias.dtype !== 'float32' || n !== CO || bias.shape[bias.shape.length - 1] !== CO) {
      return undefined;
    }
  }
  if (!useSimdConv(info)) return undefined;
  const colsT = backend.makeOutput([K, N], 'float32');
  const temps: tf.TensorInfo[] = [colsT];
  try {
    const p = (t: tf.TensorInfo): number => backend.typedArrayFromHeap(t).byteOffset;
    k.fns.im2col_t(p(x), p(colsT), ...loop);
    // the filter [KH, KW, CI, CO] is W [K, CO] as it is stored
    const w: tf.TensorInfo = { dataId: filter.dataId, shape: [K, CO], dtype: 'float32' };
    return simdMatMul(backend, k, colsT, w, {
      transposeA: true,
      bias,
      activation,
      alpha: attrs.leakyreluAlpha ?? 0.2,
      // [N, CO] is the NHWC output [B, OH, OW, CO] as it is stored
      outShape: info.outShape,
    });
  } finally {
    release(backend, ...temps);
  }
}

/** Kernel function for `Conv2D` (`fused` false) or `FusedConv2D`; unhandled cases go to `previous`. */
export function conv2dSimdKernel(fused: boolean) {
  return (previous: KernelFunc | undefined): KernelFunc =>
    (args) => {
      const out = conv2dSimd(args.backend as unknown as WasmBackend, args, fused);
      if (out !== undefined) return out;
      if (previous === undefined) {
        throw new Error(`deepprob kernels: no ${fused ? 'FusedConv2D' : 'Conv2D'}`);
      }
      return previous(args);
    };
}
