/** PNG data URIs of dataset images for the report's gallery (Node: uses pngjs). */
import { PNG } from 'pngjs';
import { ArgumentError } from '../../utils/errors.js';

/** Images stored NHWC (a `data` `ImageSet` fits). */
export interface ImageStack {
  images: Uint8Array | Float32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

/**
 * Encode image `index` of `set` (stored pixels, 0..255 for uint8 sets; floats are scaled by
 * their maximum) as a `data:image/png;base64,...` URI.
 *
 * @param set the dataset (NHWC, 1 or 3 channels, at least `count * height * width * channels`
 *   pixels).
 * @param index which image.
 * @throws ArgumentError naming the field of `set` or `index` that does not fit (a short pixel
 *   array gave black pixels, 2 or 4 channels a scrambled picture).
 * @example
 * ```ts
 * `<img src="${imageDataUri(mnistTest, 0)}">`
 * ```
 */
export function imageDataUri(set: ImageStack, index: number): string {
  if (set === null || typeof set !== 'object') {
    throw new ArgumentError(
      'set',
      `expected an image set { images, count, height, width, channels }`,
    );
  }
  for (const key of ['count', 'height', 'width'] as const) {
    const v = set[key];
    if (!Number.isInteger(v) || v < 1) {
      throw new ArgumentError(`set.${key}`, `expected a positive integer, got ${String(v)}`);
    }
  }
  if (set.channels !== 1 && set.channels !== 3) {
    throw new ArgumentError('set.channels', `expected 1 or 3, got ${String(set.channels)}`);
  }
  if (!ArrayBuffer.isView(set.images) || set.images instanceof DataView) {
    throw new ArgumentError(
      'set.images',
      'expected a typed array of pixels (Uint8Array or Float32Array, NHWC)',
    );
  }
  const need = set.count * set.height * set.width * set.channels;
  if (set.images.length < need) {
    throw new ArgumentError(
      'set.images',
      `expected ${set.count} x ${set.height} x ${set.width} x ${set.channels} = ${need} values, got ${set.images.length}`,
    );
  }
  if (!Number.isInteger(index) || index < 0 || index >= set.count) {
    throw new ArgumentError('index', `expected an integer in [0, ${set.count}), got ${index}`);
  }
  const { height: h, width: w, channels: c } = set;
  const per = h * w * c;
  const px = set.images.subarray(index * per, (index + 1) * per);
  let scale = 1;
  if (px instanceof Float32Array) {
    let max = 0;
    for (let i = 0; i < px.length; i++) max = Math.max(max, px[i] as number);
    scale = max > 1.5 ? 1 : 255;
  }
  const png = new PNG({ width: w, height: h });
  for (let i = 0; i < h * w; i++) {
    for (let ch = 0; ch < 3; ch++) {
      const v = (px[i * c + (c === 1 ? 0 : ch)] as number) * scale;
      png.data[i * 4 + ch] = Math.max(0, Math.min(255, Math.round(v)));
    }
    png.data[i * 4 + 3] = 255;
  }
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}
