/**
 * What the GEMM formulations of the convolution gradients on wasm (`Conv2DBackpropInput`,
 * `Conv2DBackpropFilter`) share: the mode (`'auto'` picks by layer shape between XNNPACK
 * convolutions and GEMM + SIMD im2col/col2im; `DEEPPROB_CONV_GRAD=conv|gemm` forces one, for A/B
 * runs or opting out), the size cap, and the geometry their SIMD loops take.
 */
import type * as tf from '@tensorflow/tfjs';
import { getEnv } from '../env.js';
import type { ConvLoopArgs } from '../simd/loader.js';

/** `'auto'` (by shape), or one formulation forced. */
export type ConvGradMode = 'auto' | 'gemm' | 'conv';

/** The mode from `DEEPPROB_CONV_GRAD` (default `'auto'`; other values are rejected). */
export function convGradMode(): ConvGradMode {
  const v = getEnv('DEEPPROB_CONV_GRAD') ?? 'auto';
  if (v !== 'auto' && v !== 'gemm' && v !== 'conv') {
    throw new Error(`DEEPPROB_CONV_GRAD must be auto, gemm or conv, got '${v}'`);
  }
  return v;
}

/**
 * The largest im2col matrix (values) the GEMM formulations build: 2^25 floats, 128 MiB of the
 * wasm heap. Larger layers (big images, big batches) keep the convolution formulation, whose
 * temporaries are the size of the layer's own tensors.
 */
export const MAX_COLS = 2 ** 25;

/** Values in the im2col matrix of a convolution: output pixels x filter taps x input channels. */
export function colsSize(info: tf.backend_util.Conv2DInfo): number {
  const { N, K } = gemmGeometry(info);
  return N * K;
}

/** The GEMM geometry of a convolution and the trailing arguments of the SIMD loops. */
export interface GemmGeometry {
  /** Output pixels `B*OH*OW` (the GEMM's long side). */
  N: number;
  /** Filter taps times input channels `KH*KW*CI`. */
  K: number;
  /** Output channels. */
  CO: number;
  /** `B, H, W, C, OH, OW, KH, KW, sh, sw, pt, pl`, as `im2col_t` and `col2im_add` take them. */
  loop: ConvLoopArgs;
}

/** {@link GemmGeometry} of a convolution (unit dilation). */
export function gemmGeometry(info: tf.backend_util.Conv2DInfo): GemmGeometry {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C } = info;
  const { filterHeight: KH, filterWidth: KW, outHeight: OH, outWidth: OW } = info;
  return {
    N: B * OH * OW,
    K: KH * KW * C,
    CO: info.outChannels,
    loop: [
      B,
      H,
      W,
      C,
      OH,
      OW,
      KH,
      KW,
      info.strideHeight,
      info.strideWidth,
      info.padInfo.top,
      info.padInfo.left,
    ],
  };
}
