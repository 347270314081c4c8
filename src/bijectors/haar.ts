/**
 * The orthonormal discrete Haar wavelet transform along a time dim (Pyro's
 * `HaarTransform(dim, flip)`). Along an axis of length `N`, with `m = ⌊N/2⌋`, the pairs
 * `(x_{2i}, x_{2i+1})` give
 *
 * $$\mathrm{lo}_i = \frac{x_{2i} + x_{2i+1}}{\sqrt2},\qquad
 *   \mathrm{hi}_i = \frac{x_{2i} - x_{2i+1}}{\sqrt2},\qquad
 *   H(x) = \big[H(\mathrm{lo}),\ \mathrm{hi},\ x_{2m:}\big]\ (H(\mathrm{lo}) = \mathrm{lo}
 *   \text{ when } m < 2),$$
 *
 * recursively on the averages, a trailing odd element passed through (for `N` not a power of two
 * a block-structured Haar transform, as Pyro's `haar_transform`). Every step is an orthogonal map
 * (a rotation by 45° of each pair), so `H^T H = I`, the inverse undoes the steps in reverse
 * (`x_{2i} = (lo_i + hi_i)/√2`, `x_{2i+1} = (lo_i - hi_i)/√2`) and `log|det J| = 0`. With
 * `flip`, the time axis is reversed first (`H(x_{N-1}, ..., x_0)`).
 *
 * Implemented with slices and reshapes: `O(N)` work per row, differentiable.
 */
import * as tf from '@tensorflow/tfjs';
import { Bijector, type BijectorOptions, type ForwardResult } from './bijector.js';
import { ArgumentError } from '../utils/errors.js';
import { alongDim, checkTimeDim } from './along_dim.js';

const R2 = Math.SQRT1_2;

/** `x[..., a:a+len]` of the last axis. */
function lastSlice(x: tf.Tensor, a: number, len: number): tf.Tensor {
  const begin = x.shape.map(() => 0);
  const size = [...x.shape];
  begin[x.rank - 1] = a;
  size[x.rank - 1] = len;
  return tf.slice(x, begin, size);
}

/** Pyro's `haar_transform` of the last axis. */
function haar(x: tf.Tensor): tf.Tensor {
  const len = x.shape[x.rank - 1] as number;
  const m = Math.floor(len / 2);
  if (m === 0) return x;
  const lead = x.shape.slice(0, -1);
  const pairs = tf.reshape(lastSlice(x, 0, 2 * m), [...lead, m, 2]);
  const [even, odd] = tf.unstack(pairs, pairs.rank - 1) as [tf.Tensor, tf.Tensor];
  let lo = tf.mul(tf.add(even, odd), R2);
  const hi = tf.mul(tf.sub(even, odd), R2);
  if (m >= 2) lo = haar(lo);
  const parts = [lo, hi];
  if (len > 2 * m) parts.push(lastSlice(x, 2 * m, len - 2 * m));
  return tf.concat(parts, x.rank - 1);
}

/** Pyro's `inverse_haar_transform` of the last axis. */
function inverseHaar(y: tf.Tensor): tf.Tensor {
  const len = y.shape[y.rank - 1] as number;
  const m = Math.floor(len / 2);
  if (m === 0) return y;
  let lo = lastSlice(y, 0, m);
  const hi = lastSlice(y, m, m);
  if (m >= 2) lo = inverseHaar(lo);
  const even = tf.mul(tf.add(lo, hi), R2);
  const odd = tf.mul(tf.sub(lo, hi), R2);
  const evenOdd = tf.reshape(tf.stack([even, odd], even.rank), [...y.shape.slice(0, -1), 2 * m]);
  return len > 2 * m ? tf.concat([evenOdd, lastSlice(y, 2 * m, len - 2 * m)], y.rank - 1) : evenOdd;
}

/**
 * The orthonormal Haar transform along `dim` (optionally of the time-reversed axis).
 *
 * @example
 * ```ts
 * const h = new HaarTransform(-1);
 * h.forward([1, 3]);      // [4/√2, -2/√2]
 * h.inverse(h.forward([1, 2, 3])); // [1, 2, 3]
 * ```
 */
export class HaarTransform extends Bijector {
  /** The time dim (negative, counted from the right). */
  readonly dim: number;
  /** Whether the time axis is reversed before the transform. */
  readonly flip: boolean;

  /**
   * @param dim the time dim, a negative integer (default -1); the bijector's event rank is `-dim`.
   * @param flip reverse the time axis first (default false).
   * @param options name and validation flag.
   * @throws ArgumentError naming `dim` or `flip`.
   */
  constructor(dim = -1, flip = false, options: BijectorOptions = {}) {
    super(options);
    this.dim = checkTimeDim(dim);
    if (typeof flip !== 'boolean') {
      throw new ArgumentError('flip', `expected a boolean, got ${String(flip)}`);
    }
    this.flip = flip;
  }
  override get eventRank(): number {
    return -this.dim;
  }

  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    const y = alongDim(x, this.dim, (t) => haar(this.flip ? tf.reverse(t, -1) : t));
    return { y, logDet: tf.zeros(x.shape.slice(0, x.rank + this.dim)) };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    return alongDim(y, this.dim, (t) => {
      const x = inverseHaar(t);
      return this.flip ? tf.reverse(x, -1) : x;
    });
  }
}
