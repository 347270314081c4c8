/**
 * Architectures as data: a network is a list of {@link LayerSpec}s, and {@link buildSequential}
 * turns one list into either the plain `tf.sequential` model or its Bayesian twin (every conv
 * and dense replaced by the chosen variational estimator, everything else unchanged). One
 * description per architecture keeps the two twins identical by construction.
 */

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
  if (p === 'same') return Math.ceil(n / s);
  const pad = p === 'valid' ? 0 : p;
  return Math.floor((n + 2 * pad - k) / s) + 1;
}
