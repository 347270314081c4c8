/**
 * `plateSeq`: Pyro's sequential plate, `for i in pyro.plate(name, size, subsample_size=k)`: a loop
 * over the members of a conditionally independent set, each with its own sites, optionally
 * subsampled.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { Messenger } from '../messenger.js';
import { HANDLER_STACK, type Message } from '../runtime.js';
import { checkPlateArgs, plateIndices } from './plate.js';

/** Options of {@link plateSeq}: a plate's, without `dim` (a sequential plate has none). */
export interface PlateSeqOptions {
  /** The indices of the members visited (e.g. the current minibatch). */
  subsample?: tf.Tensor | number[];
  /** Visit a random subset of this size (drawn through an effectful `subsample` site). */
  subsampleSize?: number;
}

/** Multiplies the scale of the sample sites of the loop body by `size / subsampleSize`. @internal */
export class PlateSeqMessenger extends Messenger {
  constructor(private readonly factor: number) {
    super();
  }
  override processMessage(msg: Message): void {
    if (msg.type === 'sample' && this.factor !== 1) msg.scale *= this.factor;
  }
  /** Yield `values` with this handler pushed; popped (with anything left above it) at the end. */
  *iterate(values: readonly number[]): Generator<number, void, undefined> {
    HANDLER_STACK.push(this);
    const depth = HANDLER_STACK.length;
    try {
      for (const v of values) yield v;
    } finally {
      const at = HANDLER_STACK.lastIndexOf(this, depth - 1);
      if (at >= 0) HANDLER_STACK.length = at;
    }
  }
}

/**
 * A sequential plate (Pyro's `for i in pyro.plate(name, size, subsample_size=k)`): iterate over
 * the visited members `i` of `0..size-1` (all of them in order, the given `subsample`, or `k` drawn
 * by the effectful subsample site `name`, which `trace`, `replay` and `seed` see as a vectorized
 * plate's). Every sample site made inside the loop body has its log-density scaled by
 * `size / k`, so that the sum over the visited members is an unbiased estimate of the full sum:
 *
 * $$\frac{N}{k}\sum_{i \in \text{subsample}} \log p(x_i \mid \theta)$$
 *
 * Sites are not broadcast (each iteration names its own sites, e.g. `` `y_${i}` ``); use
 * {@link plate} for a vectorized plate. The loop body runs while the iterator is active: leaving
 * the loop (`break`, an exception) removes the plate's handler. Arguments are checked when the
 * plate is made, before the first iteration.
 *
 * @param name the plate's name (its subsample site's name).
 * @param size the number of members `N`, an integer >= 1.
 * @param options `subsample` indices or `subsampleSize` (no `dim`).
 * @returns the visited indices, as numbers (an iterable carrying the plate's `name`, which
 *   `autoname` takes as its scope, as Pyro's `autoname(pyro.plate(...))`).
 * @throws ArgumentError naming `name`, `size`, `options`, `subsample` or `subsampleSize`.
 * @example
 * ```ts
 * const model = (y: number[]) => {
 *   const mu = sample('mu', new Normal(0, 10));
 *   for (const i of plateSeq('data', y.length, { subsampleSize: 10 })) {
 *     sample(`y_${i}`, new Normal(mu, 1), { obs: y[i] });
 *   }
 * };
 * ```
 */
export function plateSeq(
  name: string,
  size: number,
  options: PlateSeqOptions = {},
): Iterable<number> & { readonly name: string } {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ArgumentError('name', `expected a non-empty string, got ${String(name)}`);
  }
  checkPlateArgs('plateSeq', name, size, options, ['subsample', 'subsampleSize']);
  const k0 = options.subsampleSize;
  if (k0 !== undefined && (!Number.isInteger(k0) || k0 < 1 || k0 > size)) {
    throw new ArgumentError(
      'subsampleSize',
      `plateSeq '${name}': expected an integer in [1, ${size}], got ${k0}`,
    );
  }
  return {
    name,
    [Symbol.iterator]: () => {
      // the indices when the loop starts (an effectful site, seen by the handlers around it)
      const t = plateIndices(name, size, options);
      const values = Array.from(t.dataSync());
      // outside any handler nobody records the indices: they are this loop's
      if (HANDLER_STACK.length === 0 && t !== options.subsample) t.dispose();
      return new PlateSeqMessenger(size / values.length).iterate(values);
    },
  };
}
