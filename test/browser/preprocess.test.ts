import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  centerOfMass,
  decodePixels,
  inkBox,
  resampleArea,
  toMnist,
  type Gray,
} from '../../web/src/preprocess.js';
import { mnistTest } from '../../scripts/web-node.js';

function blank(w: number, h: number): Gray {
  return { width: w, height: h, data: new Float32Array(w * h) };
}

/** Nearest-neighbour upscale by an integer factor (a 28x28 digit drawn on a 280x280 pad). */
function upscale(img: Float32Array, size: number, f: number): Gray {
  const out = blank(size * f, size * f);
  for (let y = 0; y < size * f; y++) {
    for (let x = 0; x < size * f; x++) {
      out.data[y * size * f + x] = img[Math.floor(y / f) * size + Math.floor(x / f)] ?? 0;
    }
  }
  return out;
}

function correlation(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] ?? 0) - ma;
    const db = (b[i] ?? 0) - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe('web demo preprocessing (drawing -> MNIST-like 28x28)', () => {
  it('finds no ink on a blank pad and returns undefined', () => {
    expect(inkBox(blank(280, 280))).toBeUndefined();
    expect(toMnist(blank(280, 280))).toBeUndefined();
  });

  it('area resampling preserves the mean intensity of the window', () => {
    const img = blank(37, 23);
    for (let i = 0; i < img.data.length; i++) img.data[i] = ((i * 7919) % 101) / 100;
    const out = resampleArea(img, 0, 0, 37, 23, 9, 5);
    const mean = (a: Float32Array): number => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(out.data)).toBeCloseTo(mean(img.data), 5);
  });

  it('scales the ink box to 20 px and centres its mass at (14, 14)', () => {
    const img = blank(280, 280);
    // A 40x120 bar in the top-left corner.
    for (let y = 10; y < 130; y++) for (let x = 20; x < 60; x++) img.data[y * 280 + x] = 1;
    const out = toMnist(img);
    expect(out).toBeDefined();
    const g: Gray = { width: 28, height: 28, data: out as Float32Array };
    const box = inkBox(g, 0.5);
    expect(box && box.y1 - box.y0).toBe(20);
    expect(box && box.x1 - box.x0).toBe(7); // round(40 * 20 / 120)
    const { cx, cy } = centerOfMass(g);
    expect(Math.abs(cx - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(cy - 14)).toBeLessThanOrEqual(0.5);
  });

  it('turns real MNIST digits, upscaled to the pad, back into close copies of themselves', () => {
    const { images } = mnistTest(0, 20);
    for (const img of images) {
      const back = toMnist(upscale(img, 28, 10));
      expect(back).toBeDefined();
      expect(correlation(back as Float32Array, img)).toBeGreaterThan(0.95);
    }
  });

  it('decodes the bundled samples and rejects a wrong length', () => {
    const file = JSON.parse(readFileSync('web/public/samples.json', 'utf8')) as {
      groups: { items: { pixels: string }[] }[];
    };
    const first = file.groups[0]?.items[0]?.pixels ?? '';
    const px = decodePixels(first);
    expect(px.length).toBe(784);
    expect(Math.max(...px)).toBeLessThanOrEqual(1);
    expect(Math.max(...px)).toBeGreaterThan(0.9);
    expect(() => decodePixels(btoa('abc'))).toThrow(/784 bytes/);
  });
});
