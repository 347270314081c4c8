/**
 * The pixel range of the shift corruptions ({@link corruptImages} and {@link rotateImages} of
 * `corruptions.ts`): `Uint8Array` pixels are on [0, 255]; `Float32Array` pixels on any range
 * `[lo, hi]`, given ({@link CorruptionOptions.pixelRange}) or inferred ({@link inferPixelRange}).
 * Pixels are mapped to `u = (x - lo) / (hi - lo)` in [0, 1] ({@link unitPixels}) and written back
 * as `round(255 clip(u', 0, 1))` ({@link output}).
 */
import { ArgumentError } from '../utils/errors.js';
import { checkOptionKeys } from '../utils/options.js';
import { checkImageSet, type ImageSet } from './dataset.js';

/** Options of {@link rotateImages} and {@link corruptImages}. */
export interface CorruptionOptions {
  /**
   * The range `[lo, hi]` of `Float32Array` pixels (black `lo`, white `hi`), e.g. `[0, 255]` for
   * float images not yet scaled, `[-1, 1]` for images normalized so; every pixel must lie in it.
   * `'auto'` (default) infers it from the pixels ({@link inferPixelRange}). `Uint8Array` pixels
   * are on `[0, 255]` (the only range accepted for them).
   */
  pixelRange?: readonly [number, number] | 'auto';
}

/**
 * The pixel range of an image set: `[0, 255]` for `Uint8Array` pixels; for `Float32Array`
 * pixels with minimum `m` and maximum `M` the first of `[0, 1]` (`0 <= m`, `M <= 1`),
 * `[0, 255]` (`0 <= m`, `M <= 255`), `[-1, 1]` (`-1 <= m`, `M <= 1`) that holds them.
 * (A set in [0, 255] whose brightest pixel is at most 1 would be read as [0, 1]: give
 * `pixelRange` for such data.)
 *
 * @param set the images.
 * @returns `[lo, hi]`.
 * @throws ArgumentError naming `set.images` (its minimum and maximum) when no range holds them.
 * @example
 * ```ts
 * data.inferPixelRange({ ...set, images: Float32Array.of(0, 12.5, 255) }); // [0, 255]
 * ```
 */
export function inferPixelRange(set: ImageSet): [number, number] {
  checkImageSet(set);
  if (set.images instanceof Uint8Array) return [0, 255];
  let m = Infinity;
  let M = -Infinity;
  for (const v of set.images) {
    if (v < m) m = v;
    if (v > M) M = v;
  }
  if (set.images.length === 0 || (m >= 0 && M <= 1)) return [0, 1];
  if (m >= 0 && M <= 255) return [0, 255];
  if (m >= -1 && M <= 1) return [-1, 1];
  throw new ArgumentError(
    'set.images',
    `float pixels from ${m} to ${M} are on none of the ranges [0, 1], [0, 255], [-1, 1]: ` +
      'give options.pixelRange = [black, white]',
  );
}

/** The range of `set`'s pixels by `options.pixelRange`, checked (before any work). */
export function rangeOf(
  set: ImageSet,
  options: CorruptionOptions | undefined,
  what: string,
): [number, number] {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new ArgumentError('options', `expected an object, got ${String(options)}`);
  }
  if (options !== undefined) checkOptionKeys(options, ['pixelRange'], what);
  const r = options?.pixelRange;
  if (r === undefined || r === 'auto') return inferPixelRange(set);
  if (
    !Array.isArray(r) ||
    r.length !== 2 ||
    !r.every((v) => typeof v === 'number' && Number.isFinite(v)) ||
    !((r[0] as number) < (r[1] as number))
  ) {
    throw new ArgumentError(
      'options.pixelRange',
      `expected 'auto' or [lo, hi] with finite lo < hi, got ${JSON.stringify(r)}`,
    );
  }
  const [lo, hi] = r as [number, number];
  if (set.images instanceof Uint8Array) {
    if (lo !== 0 || hi !== 255) {
      throw new ArgumentError(
        'options.pixelRange',
        `Uint8Array pixels are on [0, 255], got [${lo}, ${hi}]`,
      );
    }
    return [0, 255];
  }
  const i = set.images.findIndex((v) => v < lo || v > hi);
  if (i >= 0) {
    throw new ArgumentError(
      'set.images',
      `expected pixels in options.pixelRange [${lo}, ${hi}], got ${set.images[i]} at index ${i}`,
    );
  }
  return [lo, hi];
}

/** The set with pixels `round(255 clip(u, 0, 1))` as `Uint8Array`, named `<name>/<suffix>`. */
export function output(set: ImageSet, pixels: Float32Array, suffix: string): ImageSet {
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    out[i] = Math.round(255 * Math.min(1, Math.max(0, pixels[i] as number)));
  }
  return { ...set, name: `${set.name}/${suffix}`, images: out, labels: set.labels.slice() };
}

/** `u = (x - lo) / (hi - lo)`, in float64 then stored as float32. */
export function unitPixels(set: ImageSet, [lo, hi]: [number, number]): Float32Array {
  const d = hi - lo;
  return Float32Array.from(set.images, (v) => (v - lo) / d);
}
