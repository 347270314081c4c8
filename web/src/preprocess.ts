/**
 * Turn a drawing into an MNIST-like 28x28 image, the way the MNIST digits were made (LeCun et al.):
 * crop the ink's bounding box, scale it (keeping the aspect ratio) so that its longer side is
 * 20 pixels, with area averaging, and place it in a 28x28 field so that its centre of mass is at
 * the field's centre.
 *
 * Pure functions on typed arrays, no DOM, so they are unit tested in Node.
 */

/** Side of an MNIST image. */
export const MNIST_SIZE = 28;
/** Side of the box the digit is scaled into. */
export const MNIST_BOX = 20;

/** A grey image, row-major, values in [0, 1]. */
export interface Gray {
  width: number;
  height: number;
  data: Float32Array;
}

/** Bounding box of the pixels above `threshold`, or undefined for a blank image. */
export function inkBox(
  img: Gray,
  threshold = 0.05,
): { x0: number; y0: number; x1: number; y1: number } | undefined {
  let x0 = img.width;
  let y0 = img.height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if ((img.data[y * img.width + x] ?? 0) > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return x1 < 0 ? undefined : { x0, y0, x1: x1 + 1, y1: y1 + 1 };
}

/**
 * Area-averaging resample of the window `[sx0, sx0 + sw) x [sy0, sy0 + sh)` of `img` to
 * `outW x outH`: each output pixel is the mean of the source area it covers, fractional pixels
 * weighted by their covered fraction.
 */
export function resampleArea(
  img: Gray,
  sx0: number,
  sy0: number,
  sw: number,
  sh: number,
  outW: number,
  outH: number,
): Gray {
  const out = new Float32Array(outW * outH);
  const fx = sw / outW;
  const fy = sh / outH;
  for (let oy = 0; oy < outH; oy++) {
    const ya = sy0 + oy * fy;
    const yb = ya + fy;
    for (let ox = 0; ox < outW; ox++) {
      const xa = sx0 + ox * fx;
      const xb = xa + fx;
      let sum = 0;
      let area = 0;
      for (let y = Math.floor(ya); y < Math.ceil(yb); y++) {
        const wy = Math.min(yb, y + 1) - Math.max(ya, y);
        if (wy <= 0) continue;
        for (let x = Math.floor(xa); x < Math.ceil(xb); x++) {
          const wx = Math.min(xb, x + 1) - Math.max(xa, x);
          if (wx <= 0) continue;
          const inside = x >= 0 && y >= 0 && x < img.width && y < img.height;
          sum += wx * wy * (inside ? (img.data[y * img.width + x] ?? 0) : 0);
          area += wx * wy;
        }
      }
      out[oy * outW + ox] = area > 0 ? sum / area : 0;
    }
  }
  return { width: outW, height: outH, data: out };
}

/** Centre of mass `(cx, cy)` of an image, in pixel-index coordinates (pixel `i` at `i`). */
export function centerOfMass(img: Gray): { cx: number; cy: number } {
  let m = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const v = img.data[y * img.width + x] ?? 0;
      m += v;
      sx += v * x;
      sy += v * y;
    }
  }
  return m > 0 ? { cx: sx / m, cy: sy / m } : { cx: (img.width - 1) / 2, cy: (img.height - 1) / 2 };
}

/**
 * MNIST-style normalisation of a drawing: crop to the ink, scale the longer side to 20 px (area
 * averaging), and paste into 28x28 so that the centre of mass lands on pixel (14, 14), as in
 * MNIST (integer shift; pixel-index coordinates).
 *
 * @param img the drawing, white ink (1) on black (0).
 * @returns 784 values in [0, 1], or undefined when nothing is drawn.
 */
export function toMnist(img: Gray): Float32Array | undefined {
  const box = inkBox(img);
  if (box === undefined) return undefined;
  const w = box.x1 - box.x0;
  const h = box.y1 - box.y0;
  const scale = MNIST_BOX / Math.max(w, h);
  const outW = Math.max(1, Math.round(w * scale));
  const outH = Math.max(1, Math.round(h * scale));
  const digit = resampleArea(img, box.x0, box.y0, w, h, outW, outH);
  const { cx, cy } = centerOfMass(digit);
  const dx = Math.round(MNIST_SIZE / 2 - cx);
  const dy = Math.round(MNIST_SIZE / 2 - cy);
  const out = new Float32Array(MNIST_SIZE * MNIST_SIZE);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const tx = x + dx;
      const ty = y + dy;
      if (tx < 0 || ty < 0 || tx >= MNIST_SIZE || ty >= MNIST_SIZE) continue;
      out[ty * MNIST_SIZE + tx] = Math.min(1, digit.data[y * outW + x] ?? 0);
    }
  }
  return out;
}

/** Decode a base64 string of 784 bytes (0..255) into 784 floats in [0, 1]. */
export function decodePixels(b64: string): Float32Array {
  const bin = atob(b64);
  if (bin.length !== MNIST_SIZE * MNIST_SIZE) {
    throw new Error(`samples.json: expected 784 bytes per image, got ${bin.length}`);
  }
  const out = new Float32Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i) / 255;
  return out;
}
