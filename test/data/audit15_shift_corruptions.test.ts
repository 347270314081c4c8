/**
 * Audit (issue 17): the dataset-shift functions on images they were not written against —
 * rotations by k * 90 degrees as exact pixel permutations (odd and even sizes, 3 channels, float
 * pixels), translation as an exact integer shift with zero fill, the corruptions' closed forms and
 * moments, determinism per seed, and the argument checks.
 */
import { describe, expect, it } from 'vitest';
import { ArgumentError, data } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import type { ImageSet } from '../../src/data/dataset.js';

const { rotateImages, corruptImages, uniformNoiseImages, CORRUPTIONS } = data;

function randomSet(count: number, h: number, w: number, ch: number, seed: number): ImageSet {
  const rng = makeRng(seed);
  const images = new Uint8Array(count * h * w * ch);
  for (let i = 0; i < images.length; i++) images[i] = Math.floor(256 * rng());
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 3);
  return { name: 'rand', images, labels, count, height: h, width: w, channels: ch, numClasses: 3 };
}

function constantSet(count: number, h: number, w: number, v: number): ImageSet {
  return {
    name: 'const',
    images: new Uint8Array(count * h * w).fill(v),
    labels: new Uint8Array(count),
    count,
    height: h,
    width: w,
    channels: 1,
    numClasses: 1,
  };
}

/** Pixel (r, q, c) of image n. */
const px = (s: ImageSet, n: number, r: number, q: number, c: number): number =>
  s.images[((n * s.height + r) * s.width + q) * s.channels + c] as number;

describe('audit15 rotateImages', () => {
  for (const [h, ch] of [
    [5, 1],
    [6, 3],
    [28, 1],
  ] as const) {
    it(`${h}x${h}x${ch}: 90 (counter-clockwise), 180, 270, -90, 360 degrees are exact pixel permutations`, () => {
      const s = randomSet(3, h, h, ch, h * 10 + ch);
      const copy = s.images.slice();
      const r90 = rotateImages(s, 90);
      const r180 = rotateImages(s, 180);
      const r270 = rotateImages(s, 270);
      const rm90 = rotateImages(s, -90);
      const r360 = rotateImages(s, 360);
      expect(s.images).toEqual(copy); // input untouched
      for (let n = 0; n < 3; n++)
        for (let r = 0; r < h; r++)
          for (let q = 0; q < h; q++)
            for (let c = 0; c < ch; c++) {
              // counter-clockwise: the top-right corner goes to the top-left
              expect(px(r90, n, r, q, c)).toBe(px(s, n, q, h - 1 - r, c));
              expect(px(r180, n, r, q, c)).toBe(px(s, n, h - 1 - r, h - 1 - q, c));
              expect(px(r270, n, r, q, c)).toBe(px(s, n, h - 1 - q, r, c));
              expect(px(rm90, n, r, q, c)).toBe(px(r270, n, r, q, c));
              expect(px(r360, n, r, q, c)).toBe(px(s, n, r, q, c));
            }
      expect(Array.from(r90.labels)).toEqual(Array.from(s.labels));
      expect(r90.labels).not.toBe(s.labels);
      expect(r90.images).toBeInstanceOf(Uint8Array);
      expect([r90.count, r90.height, r90.width, r90.channels]).toEqual([3, h, h, ch]);
    });
  }

  it('a non-square 4x7x2 image rotated by 180 and -180 degrees is flipped in both axes exactly', () => {
    const s = randomSet(2, 4, 7, 2, 77);
    for (const deg of [180, -180, 540]) {
      const r = rotateImages(s, deg);
      expect([r.height, r.width]).toEqual([4, 7]);
      for (let n = 0; n < 2; n++)
        for (let i = 0; i < 4; i++)
          for (let j = 0; j < 7; j++)
            for (let c = 0; c < 2; c++) expect(px(r, n, i, j, c)).toBe(px(s, n, 3 - i, 6 - j, c));
    }
  });

  it('float pixels in [0, 1] rotate by 180 degrees to the flipped image on the 0..255 scale', () => {
    const rng = makeRng(4);
    const images = Float32Array.from({ length: 2 * 4 * 4 }, () => Math.round(rng() * 255) / 255);
    const s: ImageSet = {
      name: 'f',
      images,
      labels: new Uint8Array(2),
      count: 2,
      height: 4,
      width: 4,
      channels: 1,
      numClasses: 1,
    };
    const r = rotateImages(s, 180);
    for (let n = 0; n < 2; n++)
      for (let i = 0; i < 4; i++)
        for (let j = 0; j < 4; j++)
          expect(px(r, n, i, j, 0)).toBe(Math.round(255 * px(s, n, 3 - i, 3 - j, 0)));
  });

  it('a 45 degree rotation of a constant image keeps the centre, zeroes the corners; mass within the inscribed disc', () => {
    const s = constantSet(1, 9, 9, 200);
    const r = rotateImages(s, 45);
    expect(px(r, 0, 4, 4, 0)).toBe(200);
    expect(px(r, 0, 0, 0, 0)).toBe(0);
    expect(px(r, 0, 8, 8, 0)).toBe(0);
    // points within distance 4 of the centre map inside the image: full value (bilinear of a
    // constant) wherever all four neighbours are inside
    for (let i = 0; i < 9; i++)
      for (let j = 0; j < 9; j++)
        if ((i - 4) ** 2 + (j - 4) ** 2 <= 9) expect(px(r, 0, i, j, 0)).toBe(200);
  });

  it('refuses a non-finite angle and a broken set naming them', () => {
    const s = randomSet(1, 3, 3, 1, 1);
    for (const deg of [NaN, Infinity]) {
      expect(() => rotateImages(s, deg)).toThrow(ArgumentError);
      try {
        rotateImages(s, deg);
      } catch (e) {
        expect((e as ArgumentError).argument).toBe('degrees');
      }
    }
    const broken = { ...s, images: new Uint8Array(5) };
    expect(() => rotateImages(broken, 90)).toThrow(/set\.images/);
  });
});

describe('audit15 corruptImages', () => {
  it('translate shifts every image by whole pixels (|d| near the severity) with zero fill, exactly', () => {
    const s = randomSet(12, 16, 16, 1, 9);
    // make pixels non-zero so the shift is identifiable
    for (let i = 0; i < s.images.length; i++) s.images[i] = 1 + ((s.images[i] as number) % 255);
    for (const severity of [1, 3, 5]) {
      const d = [2, 3, 4, 5, 6][severity - 1]!;
      const t = corruptImages(s, 'translate', severity, 3);
      for (let n = 0; n < s.count; n++) {
        let found = false;
        for (let dr = -d; dr <= d && !found; dr++)
          for (let dq = -d; dq <= d && !found; dq++) {
            let ok = true;
            for (let r = 0; r < 16 && ok; r++)
              for (let q = 0; q < 16 && ok; q++) {
                const sr = r - dr;
                const sq = q - dq;
                const want = sr < 0 || sr >= 16 || sq < 0 || sq >= 16 ? 0 : px(s, n, sr, sq, 0);
                ok = px(t, n, r, q, 0) === want;
              }
            if (ok) {
              found = true;
              // the shift has length d up to rounding of each coordinate
              expect(Math.abs(Math.hypot(dr, dq) - d)).toBeLessThanOrEqual(Math.SQRT1_2 + 1e-9);
            }
          }
        expect(found).toBe(true);
      }
    }
  });

  it('contrast equals round(255 clip((x - mean) c + mean)) per image (float64 reference)', () => {
    const s = randomSet(3, 7, 5, 2, 13);
    const cs = [0.5, 0.35, 0.22, 0.12, 0.06];
    for (let sev = 1; sev <= 5; sev++) {
      const out = corruptImages(s, 'contrast', sev);
      const plane = 7 * 5 * 2;
      for (let n = 0; n < 3; n++) {
        let mean = 0;
        for (let i = 0; i < plane; i++) mean += (s.images[n * plane + i] as number) / 255;
        mean /= plane;
        for (let i = 0; i < plane; i++) {
          const x = (s.images[n * plane + i] as number) / 255;
          const want = Math.round(255 * Math.min(1, Math.max(0, (x - mean) * cs[sev - 1]! + mean)));
          expect(Math.abs((out.images[n * plane + i] as number) - want)).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  it('gaussian and shot noise have the documented moments on a mid-grey image (within 5 MC SE)', () => {
    const s = constantSet(40, 20, 20, 128); // 16,000 pixels at x = 128/255
    const x = 128 / 255;
    const n = s.images.length;
    const moments = (t: ImageSet): { mean: number; sd: number } => {
      let m = 0;
      let m2 = 0;
      for (const v of t.images) {
        m += v / 255 - x;
        m2 += (v / 255 - x) ** 2;
      }
      m /= n;
      return { mean: m, sd: Math.sqrt(m2 / n - m * m) };
    };
    const sig = 0.24; // severity 3
    const g = moments(corruptImages(s, 'gaussian-noise', 3, 1));
    // clipping at 0 and 1 is > 2 sd away: negligible; rounding adds 1/255^2/12 of variance
    expect(Math.abs(g.mean)).toBeLessThan((5 * sig) / Math.sqrt(n));
    expect(Math.abs(g.sd - sig)).toBeLessThan(5 * (sig / Math.sqrt(2 * n)) + 0.002);
    const lambda = 12; // severity 3: Poisson(lambda x)/lambda, variance x / lambda
    const sh = moments(corruptImages(s, 'shot-noise', 3, 1));
    const sdShot = Math.sqrt(x / lambda);
    expect(Math.abs(sh.mean)).toBeLessThan((5 * sdShot) / Math.sqrt(n) + 0.002);
    expect(Math.abs(sh.sd - sdShot)).toBeLessThan(5 * (sdShot / Math.sqrt(2 * n)) + 0.004);
  });

  it('impulse noise replaces about the documented fraction of pixels with 0 or 255', () => {
    const s = constantSet(40, 20, 20, 100);
    const n = s.images.length;
    for (const [sev, a] of [
      [1, 0.03],
      [5, 0.27],
    ] as const) {
      const t = corruptImages(s, 'impulse-noise', sev, 2);
      let changed = 0;
      for (const v of t.images) {
        if (v !== 100) {
          expect(v === 0 || v === 255).toBe(true);
          changed++;
        }
      }
      expect(Math.abs(changed / n - a)).toBeLessThan(5 * Math.sqrt((a * (1 - a)) / n));
    }
  });

  it('gaussian blur keeps a constant image constant away from the border and preserves an interior impulse mass', () => {
    const c = corruptImages(constantSet(1, 15, 15, 90), 'gaussian-blur', 2);
    expect(px(c, 0, 7, 7, 0)).toBe(90);
    const imp = constantSet(1, 21, 21, 0);
    imp.images[10 * 21 + 10] = 255;
    for (let sev = 1; sev <= 5; sev++) {
      const b = corruptImages(imp, 'gaussian-blur', sev);
      let mass = 0;
      for (const v of b.images) mass += v;
      // rounding of up to ~ 100 non-zero pixels to integers: within 0.5 each
      expect(Math.abs(mass - 255)).toBeLessThan(40);
      // symmetric kernel: the blurred impulse is symmetric
      expect(px(b, 0, 9, 10, 0)).toBe(px(b, 0, 11, 10, 0));
      expect(px(b, 0, 10, 9, 0)).toBe(px(b, 0, 10, 11, 0));
    }
  });

  it('every corruption is deterministic per seed, differs across seeds when random, keeps labels and the input', () => {
    const s = randomSet(4, 10, 10, 1, 5);
    const copy = s.images.slice();
    for (const name of CORRUPTIONS) {
      const a = corruptImages(s, name, 3, 7);
      const b = corruptImages(s, name, 3, 7);
      expect(a.images).toEqual(b.images);
      expect(Array.from(a.labels)).toEqual(Array.from(s.labels));
      const c = corruptImages(s, name, 3, 8);
      const random = ['gaussian-noise', 'shot-noise', 'impulse-noise', 'translate'].includes(name);
      if (random) expect(c.images).not.toEqual(a.images);
      else expect(c.images).toEqual(a.images);
      // a higher severity changes the image more (mean absolute change, same seed)
      const diff = (t: ImageSet): number =>
        Array.from(t.images).reduce((acc, v, i) => acc + Math.abs(v - (s.images[i] as number)), 0);
      expect(diff(corruptImages(s, name, 5, 7))).toBeGreaterThan(
        diff(corruptImages(s, name, 1, 7)),
      );
    }
    expect(s.images).toEqual(copy);
  });

  it('refuses severities outside 1..5, unknown corruptions and bad seeds, naming the argument', () => {
    const s = randomSet(1, 4, 4, 1, 1);
    const arg = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(ArgumentError);
        return (e as ArgumentError).argument;
      }
      return 'no error';
    };
    for (const sev of [0, 6, 2.5, NaN, -1]) {
      expect(arg(() => corruptImages(s, 'contrast', sev))).toBe('severity');
    }
    expect(arg(() => corruptImages(s, 'fog' as 'contrast', 2))).toBe('corruption');
    expect(arg(() => corruptImages(s, 'gaussian-noise', 2, NaN))).toBe('seed');
    expect(arg(() => uniformNoiseImages(s, 0))).toBe('count');
    expect(arg(() => uniformNoiseImages(s, 2.5))).toBe('count');
    expect(arg(() => uniformNoiseImages({ ...s, height: 0 }, 2))).toBe('like.height');
  });

  it('uniform noise images: shape of the template, deterministic per seed, pixels spread over 0..255', () => {
    const like = { height: 8, width: 6, channels: 3, numClasses: 10 };
    const a = uniformNoiseImages(like, 50, 3);
    const b = uniformNoiseImages(like, 50, 3);
    expect(a.images).toEqual(b.images);
    expect(a.images.length).toBe(50 * 8 * 6 * 3);
    expect([a.count, a.height, a.width, a.channels, a.numClasses]).toEqual([50, 8, 6, 3, 10]);
    const mean = Array.from(a.images).reduce((s, v) => s + v, 0) / a.images.length;
    // U{0..255}: mean 127.5, sd 73.9
    expect(Math.abs(mean - 127.5)).toBeLessThan((5 * 73.9) / Math.sqrt(a.images.length));
    expect(uniformNoiseImages(like, 50, 4).images).not.toEqual(a.images);
  });
});
