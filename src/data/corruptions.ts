/**
 * Deterministic dataset shift for image sets (host typed arrays, any size, 1 or 3 channels):
 * rotation by an angle (Ovadia et al. 2019's rotated MNIST) and corruptions at five severities in
 * the manner of ImageNet-C / MNIST-C (Hendrycks & Dietterich 2019; Mu & Gilmer 2019), plus a
 * uniform-noise out-of-distribution set. Every function returns a new {@link ImageSet} with
 * `Uint8Array` pixels (0..255) and the same labels; random corruptions take a seed.
 *
 * Pixel ranges: `Uint8Array` pixels are on 0..255. `Float32Array` pixels may be on any range
 * `[lo, hi]` ({@link CorruptionOptions.pixelRange}; inferred by {@link inferPixelRange} when
 * not given: [0, 1], [0, 255] or [-1, 1]); they are mapped to `u = (x - lo) / (hi - lo)` in
 * [0, 1], corrupted there, and written as `round(255 clip(u', 0, 1))` (0 is `lo`, 255 is `hi`).
 */
import { ArgumentError } from '../utils/errors.js';
import { makeRng } from '../utils/seed.js';
import { checkImageSet, type ImageSet } from './dataset.js';
import { output, rangeOf, unitPixels, type CorruptionOptions } from './pixel_range.js';

/** Names of the corruptions of {@link corruptImages}. */
export const CORRUPTIONS = [
  'gaussian-noise',
  'shot-noise',
  'impulse-noise',
  'gaussian-blur',
  'contrast',
  'translate',
] as const;

/** A corruption name. */
export type Corruption = (typeof CORRUPTIONS)[number];

/** Severity parameters 1..5 of each corruption (pixels on the [0, 1] scale). */
const SEVERITY: Record<Corruption, number[]> = {
  /** Standard deviation of added Gaussian noise. */
  'gaussian-noise': [0.08, 0.16, 0.24, 0.32, 0.4],
  /** Poisson rate per unit intensity (fewer photons = more noise): `x' = Poisson(lambda x)/lambda`. */
  'shot-noise': [60, 25, 12, 6, 3],
  /** Fraction of pixels set to 0 or 1 (salt and pepper). */
  'impulse-noise': [0.03, 0.07, 0.12, 0.18, 0.27],
  /** Gaussian blur standard deviation in pixels. */
  'gaussian-blur': [0.6, 0.9, 1.2, 1.6, 2.0],
  /** Contrast factor around the image mean. */
  contrast: [0.5, 0.35, 0.22, 0.12, 0.06],
  /** Shift in pixels (random direction per image). */
  translate: [2, 3, 4, 5, 6],
};

/** Bilinear sample of channel `c` of image plane `img` at (row, col); 0 outside. */
function bilinear(
  img: Float32Array,
  base: number,
  h: number,
  w: number,
  ch: number,
  c: number,
  r: number,
  q: number,
): number {
  const r0 = Math.floor(r);
  const q0 = Math.floor(q);
  const fr = r - r0;
  const fq = q - q0;
  let v = 0;
  for (const [dr, wr] of [
    [0, 1 - fr],
    [1, fr],
  ] as const) {
    for (const [dq, wq] of [
      [0, 1 - fq],
      [1, fq],
    ] as const) {
      const rr = r0 + dr;
      const qq = q0 + dq;
      if (wr * wq === 0 || rr < 0 || rr >= h || qq < 0 || qq >= w) continue;
      v += wr * wq * (img[base + (rr * w + qq) * ch + c] as number);
    }
  }
  return v;
}

/**
 * Rotate every image by `degrees` (counter-clockwise) about its centre with bilinear
 * interpolation, zero (background) outside:
 * `x'(p) = x(c + R(-theta)(p - c))`.
 *
 * @param set images to rotate (not modified).
 * @param degrees angle in degrees (any finite number).
 * @param options `pixelRange` of float pixels (default inferred: {@link inferPixelRange}).
 * @example
 * ```ts
 * const rot60 = data.rotateImages(mnistTest, 60);
 * const rot = data.rotateImages(floatImages0to255, 30, { pixelRange: [0, 255] });
 * ```
 */
export function rotateImages(
  set: ImageSet,
  degrees: number,
  options?: CorruptionOptions,
): ImageSet {
  checkImageSet(set);
  if (!Number.isFinite(degrees)) {
    throw new ArgumentError('degrees', `expected a finite number, got ${degrees}`);
  }
  const range = rangeOf(set, options, 'rotateImages');
  const { count, height: h, width: w, channels: ch } = set;
  const src = unitPixels(set, range);
  const out = new Float32Array(src.length);
  const t = (degrees * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const cr = (h - 1) / 2;
  const cq = (w - 1) / 2;
  const plane = h * w * ch;
  for (let n = 0; n < count; n++) {
    const base = n * plane;
    for (let r = 0; r < h; r++) {
      for (let q = 0; q < w; q++) {
        // inverse map: rotate the output coordinate by -theta (image rows grow downwards)
        const dy = r - cr;
        const dx = q - cq;
        const sr = cr + cos * dy + sin * dx;
        const sq = cq - sin * dy + cos * dx;
        for (let c = 0; c < ch; c++) {
          out[base + (r * w + q) * ch + c] = bilinear(src, base, h, w, ch, c, sr, sq);
        }
      }
    }
  }
  return output(set, out, `rotate${degrees}`);
}

function gaussianKernel(sigma: number): number[] {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const k: number[] = [];
  for (let i = -radius; i <= radius; i++) k.push(Math.exp(-(i * i) / (2 * sigma * sigma)));
  const s = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / s);
}

function blur(src: Float32Array, set: ImageSet, sigma: number): Float32Array {
  const { count, height: h, width: w, channels: ch } = set;
  const k = gaussianKernel(sigma);
  const rad = (k.length - 1) / 2;
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  const plane = h * w * ch;
  for (let n = 0; n < count; n++) {
    const b = n * plane;
    for (let r = 0; r < h; r++) {
      for (let q = 0; q < w; q++) {
        for (let c = 0; c < ch; c++) {
          let v = 0;
          for (let i = -rad; i <= rad; i++) {
            const qq = q + i;
            if (qq >= 0 && qq < w)
              v += (k[i + rad] as number) * (src[b + (r * w + qq) * ch + c] as number);
          }
          tmp[b + (r * w + q) * ch + c] = v;
        }
      }
    }
    for (let r = 0; r < h; r++) {
      for (let q = 0; q < w; q++) {
        for (let c = 0; c < ch; c++) {
          let v = 0;
          for (let i = -rad; i <= rad; i++) {
            const rr = r + i;
            if (rr >= 0 && rr < h)
              v += (k[i + rad] as number) * (tmp[b + (rr * w + q) * ch + c] as number);
          }
          out[b + (r * w + q) * ch + c] = v;
        }
      }
    }
  }
  return out;
}

function poisson(rng: () => number, lambda: number): number {
  if (lambda < 30) {
    // Knuth's product of uniforms
    const l = Math.exp(-lambda);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= rng();
    } while (p > l);
    return k - 1;
  }
  // normal approximation for large rates (continuity-corrected)
  const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * z));
}

/**
 * Corrupt every image at a severity from 1 (mild) to 5 (severe), on `u = (x - lo) / (hi - lo)`
 * (the pixel range `[lo, hi]`: {@link CorruptionOptions.pixelRange}):
 *
 * | corruption | `u'` (on [0, 1], clipped) | parameter at severity 1..5 |
 * |---|---|---|
 * | `gaussian-noise` | `u + sigma z` | sigma 0.08 .. 0.40 |
 * | `shot-noise` | `Poisson(lambda u) / lambda` | lambda 60 .. 3 |
 * | `impulse-noise` | a fraction `a` of pixels set to 0 or 1 | a 0.03 .. 0.27 |
 * | `gaussian-blur` | separable Gaussian filter | sigma 0.6 .. 2.0 px |
 * | `contrast` | `(u - mean) c + mean` | c 0.5 .. 0.06 |
 * | `translate` | shift by `d` px in a random direction, zero fill | d 2 .. 6 px |
 *
 * @param set images (not modified).
 * @param corruption one of {@link CORRUPTIONS}.
 * @param severity integer 1..5.
 * @param seed seed of the random corruptions (default 0: the same images for every call).
 * @param options `pixelRange` of float pixels (default inferred: {@link inferPixelRange}).
 * @returns `Uint8Array` pixels `round(255 clip(u', 0, 1))`.
 * @example
 * ```ts
 * const noisy = data.corruptImages(mnistTest, 'shot-noise', 3);
 * const blurred = data.corruptImages(floatSet, 'gaussian-blur', 2, 0, { pixelRange: [-1, 1] });
 * ```
 */
export function corruptImages(
  set: ImageSet,
  corruption: Corruption,
  severity: number,
  seed = 0,
  options?: CorruptionOptions,
): ImageSet {
  checkImageSet(set);
  if (!(CORRUPTIONS as readonly string[]).includes(corruption)) {
    throw new ArgumentError(
      'corruption',
      `expected one of ${CORRUPTIONS.join(', ')}, got '${String(corruption)}'`,
    );
  }
  if (!Number.isInteger(severity) || severity < 1 || severity > 5) {
    throw new ArgumentError('severity', `expected an integer in 1..5, got ${severity}`);
  }
  if (!Number.isFinite(seed))
    throw new ArgumentError('seed', `expected a finite number, got ${seed}`);
  const range = rangeOf(set, options, 'corruptImages');
  const param = SEVERITY[corruption][severity - 1] as number;
  const src = unitPixels(set, range);
  const rng = makeRng(seed);
  const { count, height: h, width: w, channels: ch } = set;
  const plane = h * w * ch;
  let out: Float32Array;
  switch (corruption) {
    case 'gaussian-noise':
      out = src.map(
        (v) => v + param * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()),
      );
      break;
    case 'shot-noise':
      out = src.map((v) => poisson(rng, v * param) / param);
      break;
    case 'impulse-noise':
      out = src.map((v) => (rng() < param ? (rng() < 0.5 ? 0 : 1) : v));
      break;
    case 'gaussian-blur':
      out = blur(src, set, param);
      break;
    case 'contrast': {
      out = new Float32Array(src.length);
      for (let n = 0; n < count; n++) {
        let mean = 0;
        for (let i = 0; i < plane; i++) mean += src[n * plane + i] as number;
        mean /= plane;
        for (let i = 0; i < plane; i++)
          out[n * plane + i] = ((src[n * plane + i] as number) - mean) * param + mean;
      }
      break;
    }
    default: {
      out = new Float32Array(src.length);
      for (let n = 0; n < count; n++) {
        const a = 2 * Math.PI * rng();
        const dr = Math.round(param * Math.sin(a));
        const dq = Math.round(param * Math.cos(a));
        for (let r = 0; r < h; r++) {
          const sr = r - dr;
          if (sr < 0 || sr >= h) continue;
          for (let q = 0; q < w; q++) {
            const sq = q - dq;
            if (sq < 0 || sq >= w) continue;
            for (let c = 0; c < ch; c++) {
              out[n * plane + (r * w + q) * ch + c] = src[
                n * plane + (sr * w + sq) * ch + c
              ] as number;
            }
          }
        }
      }
    }
  }
  return output(set, out, `${corruption}${severity}`);
}

/**
 * An out-of-distribution set of uniform noise images, `x ~ U(0, 1)` per pixel (labels 0).
 *
 * @param like a set whose shape (height, width, channels, classes) to copy.
 * @param count number of images.
 * @param seed seed (default 0).
 */
export function uniformNoiseImages(
  like: Pick<ImageSet, 'height' | 'width' | 'channels' | 'numClasses'>,
  count: number,
  seed = 0,
): ImageSet {
  if (like === null || typeof like !== 'object') {
    throw new ArgumentError(
      'like',
      `expected {height, width, channels, numClasses}, got ${String(like)}`,
    );
  }
  for (const k of ['height', 'width', 'channels', 'numClasses'] as const) {
    const v = like[k];
    if (!Number.isInteger(v) || v < 1) {
      throw new ArgumentError(`like.${k}`, `expected a positive integer, got ${String(v)}`);
    }
  }
  if (!Number.isInteger(count) || count < 1) {
    throw new ArgumentError('count', `expected a positive integer, got ${count}`);
  }
  const rng = makeRng(seed);
  const n = count * like.height * like.width * like.channels;
  const images = new Uint8Array(n);
  for (let i = 0; i < n; i++) images[i] = Math.floor(256 * rng());
  return {
    name: 'uniform-noise',
    images,
    labels: new Uint8Array(count),
    count,
    height: like.height,
    width: like.width,
    channels: like.channels,
    numClasses: like.numClasses,
  };
}
