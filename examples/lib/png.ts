/** PNG output for the examples (pngjs), written atomically (temp file + rename). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';

/** Write a PNG atomically. */
export function writePng(file: string, png: PNG): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, PNG.sync.write(png));
  fs.renameSync(tmp, file);
}

/**
 * A grid of grey images (values in [0, 1], `count` images of `h × w`, row-major) with `cols`
 * columns, each image scaled up `zoom` times, separated by a 1-pixel dark border.
 */
export function imageGrid(
  pixels: ArrayLike<number>,
  count: number,
  h: number,
  w: number,
  cols: number,
  zoom = 2,
): PNG {
  const rows = Math.ceil(count / cols);
  const cw = w * zoom + 1;
  const ch = h * zoom + 1;
  const png = new PNG({ width: cols * cw + 1, height: rows * ch + 1 });
  png.data.fill(0);
  for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
  for (let k = 0; k < count; k++) {
    const r0 = Math.floor(k / cols) * ch + 1;
    const c0 = (k % cols) * cw + 1;
    for (let y = 0; y < h * zoom; y++) {
      for (let x = 0; x < w * zoom; x++) {
        const v = pixels[k * h * w + Math.floor(y / zoom) * w + Math.floor(x / zoom)] as number;
        const g = Math.max(0, Math.min(255, Math.round(v * 255)));
        const o = ((r0 + y) * png.width + c0 + x) * 4;
        png.data[o] = g;
        png.data[o + 1] = g;
        png.data[o + 2] = g;
      }
    }
  }
  return png;
}
