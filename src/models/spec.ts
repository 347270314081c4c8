/**
 * Architectures as data: a network is a list of {@link LayerSpec}s, and {@link buildSequential}
 * turns one list into either the plain `tf.sequential` model or its Bayesian twin (every conv
 * and dense replaced by the chosen variational estimator, everything else unchanged). One
 * description per architecture keeps the two twins identical by construction.
 */
import { ArgumentError } from '../utils/errors.js';

/** Conv/pool padding: `'valid'`, `'same'`, or an explicit number of zero pixels on each side. */
export type Padding = 'valid' | 'same' | number;

/** Elementwise activations used by the zoo. */
export type Activation = 'relu' | 'softplus';

/** One layer of an architecture. */
export type LayerSpec =
  | {
      kind: 'conv';
      name: string;
      filters: number;
      kernelSize: number;
      stride?: number;
      padding?: Padding;
      bias?: boolean;
    }
  | { kind: 'dense'; name: string; units: number; bias?: boolean }
  | { kind: 'act'; fn: Activation }
  | { kind: 'maxpool'; size: number; stride: number }
  | { kind: 'flatten' }
  | { kind: 'dropout'; rate: number };

/** Output size of a conv/pool along one axis. */
export function outSize(n: number, k: number, s: number, p: Padding): number {
  for (const [name, v] of [
    ['n', n],
    ['k', k],
    ['s', s],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new ArgumentError(name, `expected an integer >= 1, got ${String(v)}`);
    }
  }
  if (p !== 'same' && p !== 'valid' && !(Number.isInteger(p) && p >= 0)) {
    throw new ArgumentError('p', `expected 'valid', 'same' or an integer >= 0, got ${String(p)}`);
  }
  if (p === 'same') return Math.ceil(n / s);
  const pad = p === 'valid' ? 0 : p;
  return Math.floor((n + 2 * pad - k) / s) + 1;
}

/**
 * The spatial side a square `n x n` input keeps after the layers of `specs` (convolutions with
 * {@link outSize}, max-poolings as `'valid'` windows), or 0 once a layer leaves no pixels.
 *
 * @param specs the architecture.
 * @param n the input side.
 * @example
 * ```ts
 * featureSide(lenet5Spec(10, 'mindspore'), 32); // 5: conv 28, pool 14, conv 10, pool 5
 * ```
 */
export function featureSide(specs: readonly LayerSpec[], n: number): number {
  checkSpecs(specs);
  if (!Number.isInteger(n) || n < 1) {
    throw new ArgumentError('n', `expected an integer >= 1, got ${String(n)}`);
  }
  let h = n;
  for (const s of specs) {
    if (s.kind === 'conv') h = outSize(h, s.kernelSize, s.stride ?? 1, s.padding ?? 'valid');
    else if (s.kind === 'maxpool') h = outSize(h, s.size, s.stride, 'valid');
    else if (s.kind === 'flatten') break;
    if (h <= 0) return 0;
  }
  return h;
}

/**
 * The smallest square input side the architecture takes: the least `n` with every feature map of
 * {@link featureSide} at least 1x1 (the side after each layer is non-decreasing in `n`, so every
 * larger side works too). A window that no longer fits (`n + 2p < k`) is what it rules out, e.g.
 * 16 for the MindSpore LeNet-5 (`((16 - 4) / 2 - 4) / 2 = 1`).
 *
 * @param specs the architecture.
 * @example
 * ```ts
 * minInputSide(alexnetSpec(10)); // 29
 * ```
 */
export function minInputSide(specs: readonly LayerSpec[]): number {
  checkSpecs(specs);
  let n = 1;
  while (featureSide(specs, n) < 1) n++;
  return n;
}

/** @throws ArgumentError naming `specs` unless it is an array of layer specs. */
function checkSpecs(specs: unknown): void {
  if (!Array.isArray(specs) || specs.some((x) => x === null || typeof x !== 'object')) {
    throw new ArgumentError('specs', `expected an array of layer specs, got ${String(specs)}`);
  }
}
