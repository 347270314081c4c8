/**
 * The formulation of the convolution gradients on wasm (`Conv2DBackpropInput`,
 * `Conv2DBackpropFilter`): `'auto'` picks by layer shape between XNNPACK convolutions and
 * GEMM + SIMD im2col/col2im; `DEEPPROB_CONV_GRAD=conv|gemm` forces one (A/B runs, opting out).
 */
import { getEnv } from '../env.js';

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
export function colsSize(info: {
  batchSize: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  inChannels: number;
}): number {
  return (
    info.batchSize *
    info.outHeight *
    info.outWidth *
    info.filterHeight *
    info.filterWidth *
    info.inChannels
  );
}
