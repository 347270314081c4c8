/**
 * Audit 16: the shift benchmark's corruptions read `Float32Array` pixels on [0, 1] only; float
 * images on [0, 255] (common in TF.js: `tf.browser.fromPixels(img).toFloat()`) came out all
 * white. The range is now inferred ([0, 1], [0, 255], [-1, 1]) or given (`pixelRange`), and
 * refused naming `set.images` when the pixels fit none. Checked against the Uint8 path (same
 * picture, same seed: identical output) and float64 references written here.
 */
import { describe, expect, it } from 'vitest';
import { ArgumentError, data } from '../../src/index.js';
import type { ImageSet } from '../../src/data/dataset.js';
import { makeRng } from '../../src/utils/seed.js';

const { rotateImages, corruptImages, inferPixelRange, CORRUPTIONS } = data;

function set(images: Uint8Array | Float32Array, count: number, h: number, w: number): ImageSet {
  return {
    name: 's',
    images,
    labels: new Uint8Array(count),
    count,
    height: h,
    width: w,
    channels: images.length / (count * h * w),
    numClasses: 1,
  };
}

function randomBytes(n: number, seed: number): Uint8Array {
  const rng = makeRng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(256 * rng()));
}

/** float64 reference of the output quantization `round(255 clip(u, 0, 1))`. */
const q = (u: number): number => Math.round(255 * Math.min(1, Math.max(0, u)));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe('corruptions on float pixels of any range', () => {
  const bytes = randomBytes(3 * 6 * 5 * 3, 11);
  const u8 = set(bytes, 3, 6, 5);
  const f255 = set(Float32Array.from(bytes), 3, 6, 5);
  const f01 = set(
    Float32Array.from(bytes, (v) => v / 255),
    3,
    6,
    5,
  );

  it('float pixels on [0, 255] give what the same Uint8 pixels give (every corruption, rotation)', () => {
    for (const c of CORRUPTIONS) {
      for (const sev of [1, 5]) {
        const ref = corruptImages(u8, c, sev, 3).images;
        expect(Array.from(corruptImages(f255, c, sev, 3).images), `${c} ${sev}`).toEqual(
          Array.from(ref),
        );
        const given = corruptImages(f255, c, sev, 3, { pixelRange: [0, 255] }).images;
        expect(Array.from(given), `${c} ${sev} given`).toEqual(Array.from(ref));
      }
    }
    for (const deg of [30, 180]) {
      expect(Array.from(rotateImages(f255, deg).images)).toEqual(
        Array.from(rotateImages(u8, deg).images),
      );
    }
    // the mean brightness is kept (it came out saturated: 255 everywhere)
    const mean = (a: ArrayLike<number>): number =>
      Array.from(a).reduce((s, v) => s + v, 0) / a.length;
    expect(
      Math.abs(mean(corruptImages(f255, 'gaussian-blur', 1).images) - mean(bytes)),
    ).toBeLessThan(30);
  });

  it('float pixels on [0, 1] are read as before', () => {
    for (const c of CORRUPTIONS) {
      const a = corruptImages(f01, c, 2, 5).images;
      const b = corruptImages(u8, c, 2, 5).images;
      expect(maxAbsDiff(a, b), c).toBeLessThanOrEqual(1); // v/255 in float32
    }
  });

  it('contrast on [-1, 1] pixels matches a float64 reference', () => {
    const rng = makeRng(2);
    const n = 2;
    const plane = 4 * 4;
    const x = Float64Array.from({ length: n * plane }, () => 2 * rng() - 1);
    const s = set(Float32Array.from(x), n, 4, 4);
    expect(inferPixelRange(s)).toEqual([-1, 1]);
    const c = 0.35; // severity 2
    const out = corruptImages(s, 'contrast', 2).images;
    const ref: number[] = [];
    for (let k = 0; k < n; k++) {
      // the float32 pixels the function reads, in float64
      const u = Array.from(
        { length: plane },
        (_, i) => (Math.fround(x[k * plane + i] as number) + 1) / 2,
      );
      const m = u.reduce((a, b) => a + b, 0) / plane;
      for (const v of u) ref.push(q((v - m) * c + m));
    }
    expect(maxAbsDiff(out, ref)).toBeLessThanOrEqual(1);
    // at most a rounding tie off: nearly all equal
    expect(Array.from(out).filter((v, i) => v !== ref[i]).length).toBeLessThanOrEqual(2);
  });

  it('gaussian blur of non-integer [0, 255] pixels with a given range matches a float64 reference', () => {
    const rng = makeRng(9);
    const h = 7;
    const w = 6;
    const x = Float64Array.from({ length: h * w }, () => 40 + 150 * rng());
    const lo = 0;
    const hi = 255;
    const s = set(Float32Array.from(x), 1, h, w);
    const out = corruptImages(s, 'gaussian-blur', 3, 0, { pixelRange: [lo, hi] }).images; // sigma 1.2
    const sigma = 1.2;
    const rad = Math.max(1, Math.ceil(3 * sigma));
    const k: number[] = [];
    for (let i = -rad; i <= rad; i++) k.push(Math.exp(-(i * i) / (2 * sigma * sigma)));
    const ks = k.reduce((a, b) => a + b, 0);
    const u = (r: number, c: number): number =>
      (Math.fround(x[r * w + c] as number) - lo) / (hi - lo);
    const ref: number[] = [];
    for (let r = 0; r < h; r++)
      for (let c = 0; c < w; c++) {
        let v = 0;
        for (let i = -rad; i <= rad; i++)
          for (let j = -rad; j <= rad; j++) {
            const rr = r + i;
            const cc = c + j;
            if (rr < 0 || rr >= h || cc < 0 || cc >= w) continue; // zero outside
            v += ((k[i + rad] as number) * (k[j + rad] as number) * u(rr, cc)) / (ks * ks);
          }
        ref.push(q(v));
      }
    expect(maxAbsDiff(out, ref)).toBeLessThanOrEqual(1);
  });

  it('a declared range maps black to 0 and white to 255', () => {
    const s = set(Float32Array.of(-3, 0, 3, 1.5), 1, 2, 2);
    const r = rotateImages(s, 0, { pixelRange: [-3, 3] }).images;
    expect(Array.from(r)).toEqual([0, q(0.5), 255, q(0.75)]);
  });

  it('inferPixelRange: Uint8 [0, 255]; float [0, 1], [0, 255], [-1, 1]', () => {
    expect(inferPixelRange(u8)).toEqual([0, 255]);
    expect(inferPixelRange(f01)).toEqual([0, 1]);
    expect(inferPixelRange(f255)).toEqual([0, 255]);
    expect(inferPixelRange(set(Float32Array.of(-0.5, 0.9), 1, 1, 2))).toEqual([-1, 1]);
  });

  it('refuses pixels on no known range, out of a given range, and a bad pixelRange, naming them', () => {
    const wild = set(Float32Array.of(0, 300), 1, 1, 2);
    const cases: [() => unknown, string, RegExp][] = [
      [() => corruptImages(wild, 'contrast', 1), 'set.images', /from 0 to 300 .*pixelRange/],
      [() => rotateImages(set(Float32Array.of(-2, 0.5), 1, 1, 2), 10), 'set.images', /-2/],
      [
        () => corruptImages(f255, 'contrast', 1, 0, { pixelRange: [0, 1] }),
        'set.images',
        /expected pixels in options\.pixelRange \[0, 1\], got \d+ at index \d+/,
      ],
      [
        () => corruptImages(f01, 'contrast', 1, 0, { pixelRange: [1, 0] }),
        'options.pixelRange',
        /finite lo < hi/,
      ],
      [
        () => rotateImages(f01, 10, { pixelRange: [0, Number.NaN] }),
        'options.pixelRange',
        /finite lo < hi/,
      ],
      [
        () => corruptImages(u8, 'contrast', 1, 0, { pixelRange: [0, 1] }),
        'options.pixelRange',
        /Uint8Array pixels are on \[0, 255\]/,
      ],
      [
        () => corruptImages(f01, 'contrast', 1, 0, { range: [0, 1] } as never),
        'range',
        /not an option of corruptImages/,
      ],
    ];
    for (const [f, arg, re] of cases) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err, arg).toBeInstanceOf(ArgumentError);
      expect((err as ArgumentError).argument).toBe(arg);
      expect((err as Error).message).toMatch(re);
    }
    // given and correct, a wild range is fine
    expect(corruptImages(wild, 'contrast', 1, 0, { pixelRange: [0, 300] }).images[1]).toBe(
      q((1 - 0.5) * 0.5 + 0.5),
    );
  });
});
