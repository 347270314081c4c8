/**
 * Host-side image preprocessing applied while a mini-batch is assembled: scaling/normalisation and
 * padding or bilinear resizing to a square size (MindSpore's LeNet takes 32x32 inputs).
 *
 * Normalisation: `x' = (x / 255 - mean_c) / std_c` per channel `c`; `'unit'` is mean 0, std 1
 * (pixels in [0, 1]). Padding adds background (raw value 0) around the centred image.
 */
import { ArgumentError } from '../utils/errors.js';
import { optionsObject } from '../utils/options.js';
import type { ImageSet } from './dataset.js';

/** Per-channel mean and standard deviation on the [0, 1] pixel scale. */
export interface Normalization {
  mean: number[];
  std: number[];
}

/** Named normalisations (means/stds of the training sets, pixels scaled to [0, 1]). */
export const NORMALIZATIONS: Record<string, Normalization> = {
  /** Pixels scaled to [0, 1]. */
  unit: { mean: [0], std: [1] },
  /** MNIST train mean 0.1307, std 0.3081. */
  mnist: { mean: [0.1307], std: [0.3081] },
  /** Fashion-MNIST train mean 0.2860, std 0.3530. */
  'fashion-mnist': { mean: [0.286], std: [0.353] },
  /** CIFAR-10 train channel means/stds. */
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
  /** CIFAR-100 train channel means/stds. */
  cifar100: { mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762] },
};

/** How to turn stored pixels into network inputs. */
export interface ImageTransform {
  /** A name of {@link NORMALIZATIONS}, `'none'` (raw values), or explicit mean/std. Default `'unit'`. */
  normalize?: string | Normalization;
  /** Output side length, or `[height, width]` for a non-square input; default the stored size (no resizing). */
  size?: number | readonly [number, number];
  /** How to reach `size`: `'pad'` (centre, background fill; default) or `'bilinear'`. */
  resize?: 'pad' | 'bilinear';
  /** Scale of stored pixel values (255 for uint8 files). Default 255. */
  maxValue?: number;
}

/** A transform with every field resolved, as used by {@link writeImage}. */
export interface ResolvedTransform {
  scale: number[];
  shift: number[];
  size: [number, number];
  resize: 'pad' | 'bilinear' | 'none';
}

/**
 * Resolve an {@link ImageTransform} for a dataset: per-channel `x' = x * scale_c + shift_c` with
 * `scale_c = 1 / (maxValue std_c)` and `shift_c = -mean_c / std_c`.
 *
 * @param set the dataset (for its size and channels).
 * @param t the transform.
 */
export function resolveTransform(
  set: Pick<ImageSet, 'height' | 'width' | 'channels'>,
  t: ImageTransform = {},
): ResolvedTransform {
  if (set === null || typeof set !== 'object') {
    throw new ArgumentError(
      'set',
      `expected an image set {height, width, channels}, got ${String(set)}`,
    );
  }
  optionsObject(t, ['normalize', 'size', 'resize', 'maxValue'], 'an image transform', 'transform');
  const c = set.channels;
  const maxValue = t.maxValue ?? 255;
  if (typeof maxValue !== 'number' || !Number.isFinite(maxValue) || maxValue <= 0) {
    throw new ArgumentError('maxValue', `expected a finite number > 0, got ${String(maxValue)}`);
  }
  let norm: Normalization;
  if (t.normalize === 'none') norm = { mean: [0], std: [1 / maxValue] };
  else if (typeof t.normalize === 'string' || t.normalize === undefined) {
    const found = NORMALIZATIONS[t.normalize ?? 'unit'];
    if (found === undefined) {
      throw new ArgumentError(
        'normalize',
        `expected one of ${Object.keys(NORMALIZATIONS).join(', ')}, none or {mean, std}, got '${t.normalize}'`,
      );
    }
    norm = found;
  } else norm = t.normalize;
  for (const what of ['mean', 'std'] as const) {
    const a: unknown = norm?.[what];
    if (!Array.isArray(a) || (a.length !== 1 && a.length !== c)) {
      throw new ArgumentError(
        `normalize.${what}`,
        `expected ${c === 1 ? 'one value' : `one value or ${c} (one per channel)`} for ${c}-channel images, got ${JSON.stringify(a)}`,
      );
    }
  }
  const pick = (a: number[], i: number, what: string): number => {
    const v = a.length === 1 ? a[0] : a[i];
    if (v === undefined || !Number.isFinite(v) || (what === 'std' && v <= 0)) {
      throw new ArgumentError(
        `normalize.${what}`,
        `expected ${c} finite value(s)${what === 'std' ? ' > 0' : ''} (or one), got ${JSON.stringify(a)}`,
      );
    }
    return v;
  };
  const scale: number[] = [];
  const shift: number[] = [];
  for (let i = 0; i < c; i++) {
    const m = pick(norm.mean, i, 'mean');
    const s = pick(norm.std, i, 'std');
    scale.push(1 / (maxValue * s));
    shift.push(-m / s);
  }
  if (t.size === undefined) {
    return { scale, shift, size: [set.height, set.width], resize: 'none' };
  }
  const [oh, ow] = typeof t.size === 'number' ? [t.size, t.size] : t.size;
  if (![oh, ow].every((v) => Number.isInteger(v) && v > 0)) {
    throw new ArgumentError(
      'size',
      `expected a positive integer or [height, width] of them, got ${JSON.stringify(t.size)}`,
    );
  }
  if (oh === set.height && ow === set.width) {
    return { scale, shift, size: [oh, ow], resize: 'none' };
  }
  const resize = t.resize ?? 'pad';
  if (resize === 'pad' && (oh < set.height || ow < set.width)) {
    throw new ArgumentError(
      'size',
      `cannot pad ${set.height}x${set.width} images to ${oh}x${ow}; use resize: 'bilinear'`,
    );
  }
  if (resize !== 'pad' && resize !== 'bilinear') {
    throw new ArgumentError('resize', `expected 'pad' or 'bilinear', got '${String(resize)}'`);
  }
  return { scale, shift, size: [oh, ow], resize };
}

/**
 * Write image `index` of `set`, transformed, into `out` at `offset` (HWC, `size x size x channels`).
 *
 * Bilinear resizing uses half-pixel centres (`align_corners = false`), as `tf.image.resizeBilinear`
 * with `halfPixelCenters`: source coordinate `(i + 0.5) h / H - 0.5`, clamped to the image.
 */
export function writeImage(
  set: ImageSet,
  index: number,
  t: ResolvedTransform,
  out: Float32Array,
  offset: number,
): void {
  const { height: h, width: w, channels: c } = set;
  const [oh, ow] = t.size;
  const src = index * h * w * c;
  const px = set.images;
  if (t.resize === 'none') {
    for (let i = 0; i < h * w; i++) {
      for (let k = 0; k < c; k++) {
        out[offset + i * c + k] =
          (px[src + i * c + k] as number) * (t.scale[k] as number) + (t.shift[k] as number);
      }
    }
    return;
  }
  if (t.resize === 'pad') {
    const top = Math.floor((oh - h) / 2);
    const left = Math.floor((ow - w) / 2);
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const sy = y - top;
        const sx = x - left;
        const inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
        for (let k = 0; k < c; k++) {
          const v = inside ? (px[src + (sy * w + sx) * c + k] as number) : 0;
          out[offset + (y * ow + x) * c + k] = v * (t.scale[k] as number) + (t.shift[k] as number);
        }
      }
    }
    return;
  }
  for (let y = 0; y < oh; y++) {
    const fy = Math.min(Math.max(((y + 0.5) * h) / oh - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const dy = fy - y0;
    for (let x = 0; x < ow; x++) {
      const fx = Math.min(Math.max(((x + 0.5) * w) / ow - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const dx = fx - x0;
      for (let k = 0; k < c; k++) {
        const at = (yy: number, xx: number): number => px[src + (yy * w + xx) * c + k] as number;
        const v =
          (1 - dy) * ((1 - dx) * at(y0, x0) + dx * at(y0, x1)) +
          dy * ((1 - dx) * at(y1, x0) + dx * at(y1, x1));
        out[offset + (y * ow + x) * c + k] = v * (t.scale[k] as number) + (t.shift[k] as number);
      }
    }
  }
}
