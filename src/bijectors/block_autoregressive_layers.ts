/**
 * The layers of the block neural autoregressive flow ({@link BlockAutoregressive}): their sizes
 * `D -> D f_1 -> ... -> D f_{L-1} -> D`, Pyro's initial parameters (Glorot-uniform blocks of
 * `V`, `g = log U(0, 1)`, `b ~ U(±1/sqrt(out))`), and the diagonal-block and strictly-lower-block
 * masks `M_d`, `M_o` of each `[D f_l, D f_{l-1}]` weight.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { makeRng } from '../utils/seed.js';

/** One masked block layer: `V` `[out, in]`, `g` `[out]` and the bias `[out]`. */
export interface BlockAutoregressiveLayer<T = tf.Tensor> {
  /** The free weights `V`, `[D f_l, D f_{l-1}]` (entries off the lower block triangle unused). */
  weight: T;
  /** The log row norms `g`, `[D f_l]`. */
  diagWeight: T;
  /** The bias `b`, `[D f_l]`. */
  bias: T;
}

/** Check hidden factors: a non-empty array of integers >= 1. @internal */
export function checkFactors(h: unknown): number[] {
  if (!Array.isArray(h) || h.length === 0 || h.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new ArgumentError(
      'hiddenFactors',
      `expected a non-empty array of integers >= 1, got ${JSON.stringify(h)}`,
    );
  }
  return [...(h as number[])];
}

/** Check an input dimension: an integer >= 1. @internal */
export function checkDim(d: unknown): number {
  if (!Number.isInteger(d) || (d as number) < 1) {
    throw new ArgumentError('inputDim', `expected an integer >= 1, got ${String(d)}`);
  }
  return d as number;
}

/**
 * The layer sizes `[in, out]` of a BNAF on `R^D` with the given hidden factors:
 * `D -> D f_1 -> ... -> D f_{L-1} -> D`.
 */
export function blockAutoregressiveSizes(
  inputDim: number,
  hiddenFactors: readonly number[],
): [number, number][] {
  const d = checkDim(inputDim);
  const f = [1, ...checkFactors(hiddenFactors), 1];
  return f.slice(1).map((fo, l) => [d * (f[l] as number), d * fo]);
}

/**
 * Pyro's initial parameters of a BNAF (plain arrays): in block row `k` of each layer, the columns
 * of blocks `<= k` of `V` from Glorot's uniform `U(±sqrt(6 / (fan_in + fan_out)))` with
 * `fan_in = (k+1) in / D`, `fan_out = out / D`; `g = log U(0, 1)`; `b ~ U(±1/sqrt(out))`.
 * @param inputDim `D`.
 * @param hiddenFactors the hidden factors.
 * @param seed the seed of the draws (default: the global seed stream).
 */
export function initBlockAutoregressive(
  inputDim: number,
  hiddenFactors: readonly number[],
  seed?: number,
): BlockAutoregressiveLayer<number[][] | number[]>[] {
  const sizes = blockAutoregressiveSizes(inputDim, hiddenFactors);
  const d = inputDim;
  const rng = makeRng(seed);
  const u = (a: number, b: number): number => a + (b - a) * rng();
  return sizes.map(([nIn, nOut]) => {
    const bi = nIn / d;
    const bo = nOut / d;
    const weight: number[][] = [];
    for (let j = 0; j < nOut; j++) {
      const k = Math.floor(j / bo);
      const fanIn = (k + 1) * bi;
      const bound = Math.sqrt(6 / (fanIn + bo));
      weight.push(Array.from({ length: nIn }, (_, i) => (i < fanIn ? u(-bound, bound) : 0)));
    }
    const diagWeight = Array.from({ length: nOut }, () => Math.log(Math.max(rng(), 1e-12)));
    const r = 1 / Math.sqrt(nOut);
    const bias = Array.from({ length: nOut }, () => u(-r, r));
    return { weight, diagWeight, bias };
  });
}

/** The diagonal-block and strictly-lower-block masks `[out, in]` of one layer. */
export function blockMasks(
  inputDim: number,
  nIn: number,
  nOut: number,
): { diag: tf.Tensor2D; lower: tf.Tensor2D } {
  const bi = nIn / inputDim;
  const bo = nOut / inputDim;
  const diag = new Float32Array(nOut * nIn);
  const lower = new Float32Array(nOut * nIn);
  for (let j = 0; j < nOut; j++) {
    const kj = Math.floor(j / bo);
    for (let i = 0; i < nIn; i++) {
      const ki = Math.floor(i / bi);
      if (ki === kj) diag[j * nIn + i] = 1;
      else if (ki < kj) lower[j * nIn + i] = 1;
    }
  }
  return { diag: tf.tensor2d(diag, [nOut, nIn]), lower: tf.tensor2d(lower, [nOut, nIn]) };
}
