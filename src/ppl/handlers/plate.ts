/**
 * `plate`: a set of conditionally independent sites, optionally subsampled (Pyro's `plate`).
 *
 * When only `subsampleSize = B` of the `size = N` members are visited, every sample site inside
 * gets its log-probability multiplied by `N / B`, so that
 *
 * $$\frac{N}{B}\sum_{i\in\text{batch}} \log p(x_i\mid\theta)$$
 *
 * is an unbiased estimate of the full-data log-likelihood, and the minibatch ELBO is a properly
 * scaled estimate of the full ELBO (the KL of global latents is counted once, not once per batch).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { Messenger } from '../messenger.js';
import { subsample as subsampleSite, type Message, type PlateFrame } from '../runtime.js';

/** Options of {@link plate}. */
export interface PlateOptions {
  /** The indices of the members visited (e.g. the positions of the current minibatch). */
  subsample?: tf.Tensor | number[];
  /** Visit a random subset of this size (drawn through an effectful `subsample` site). */
  subsampleSize?: number;
}

/** Pushes a plate frame and scales log-probabilities by `size / subsampleSize`. @internal */
export class PlateMessenger extends Messenger {
  constructor(readonly frame: PlateFrame) {
    super();
  }
  override processMessage(msg: Message): void {
    if (msg.type !== 'sample') return;
    msg.cond = [this.frame, ...msg.cond];
    if (this.frame.subsampleSize !== this.frame.size) {
      msg.scale *= this.frame.size / this.frame.subsampleSize;
    }
  }
}

/**
 * Run `fn(indices)` inside a plate of `size` members; `indices` are the visited members
 * (all of `0..size-1` unless subsampled).
 *
 * @param name plate name (the subsample site is named after it).
 * @param size full number of members, e.g. the data set size.
 * @param options `subsample` indices or `subsampleSize`.
 * @param fn the body; receives the int32 indices.
 * @example
 * ```ts
 * // x, y: the current minibatch of a data set of 60000 points
 * plate('data', 60000, { subsample: batchIndices }, () =>
 *   sample('obs', new Categorical({ logits }), { obs: y }));
 * ```
 */
export function plate<R>(
  name: string,
  size: number,
  options: PlateOptions | ((indices: tf.Tensor) => R),
  fn?: (indices: tf.Tensor) => R,
): R {
  const body = typeof options === 'function' ? options : fn;
  const o: PlateOptions = typeof options === 'function' ? {} : options;
  if (body === undefined) throw new ArgumentError('fn', 'plate needs a body function');
  if (!Number.isInteger(size) || size < 1) {
    throw new ArgumentError('size', `expected an integer >= 1, got ${size}`);
  }
  let indices: tf.Tensor;
  if (o.subsample !== undefined) {
    indices = o.subsample instanceof tf.Tensor ? o.subsample : tf.tensor1d(o.subsample, 'int32');
    if (indices.rank !== 1) {
      throw new ArgumentError('subsample', `expected a 1-d tensor, got shape [${indices.shape}]`);
    }
  } else {
    const k = o.subsampleSize ?? size;
    if (!Number.isInteger(k) || k < 1 || k > size) {
      throw new ArgumentError('subsampleSize', `expected an integer in [1, ${size}], got ${k}`);
    }
    indices = subsampleSite(name, size, k);
  }
  const k = indices.shape[0] as number;
  if (k < 1 || k > size) {
    throw new ArgumentError('subsample', `expected between 1 and ${size} indices, got ${k}`);
  }
  const m = new PlateMessenger({ name, size, subsampleSize: k });
  return m.run(() => body(indices));
}
