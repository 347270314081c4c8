/**
 * The window geometry the native convolution and pooling bindings take, read from a tfjs
 * `Conv2DInfo` (NHWC): `[B, H, W, C, OH, OW, KH, KW, sh, sw, dh, dw, padTop, padLeft, CO]`, where
 * `OH = floor((H + padTop + padBottom - dh (KH - 1) - 1) / sh) + 1` and likewise `OW`.
 */
import type * as tf from '@tensorflow/tfjs';

/**
 * The geometry of a window op as the native bindings read it.
 *
 * @param info tfjs's computed convolution or pooling info.
 * @param withOutChannels append `outChannels` (convolutions: yes; pooling: no, 14 numbers).
 * @returns `[B, H, W, C, OH, OW, KH, KW, sh, sw, dh, dw, padTop, padLeft(, CO)]`.
 */
export function windowGeometry(
  info: tf.backend_util.Conv2DInfo,
  withOutChannels: boolean,
): number[] {
  const g = [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
  if (withOutChannels) g.push(info.outChannels);
  return g;
}
