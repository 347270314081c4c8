/**
 * `scale`: multiply the log-probability of every sample site by a positive factor (Pyro's
 * `ScaleMessenger`), e.g. `N / batchSize` for a minibatch estimate of a full-data likelihood.
 */
import { ArgumentError } from '../../utils/errors.js';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import type { Message } from '../runtime.js';

/** Multiplies `msg.scale`. @internal */
export class ScaleMessenger extends Messenger {
  constructor(private readonly factor: number) {
    super();
    if (!(factor > 0) || !Number.isFinite(factor)) {
      throw new ArgumentError('scale', `expected a finite number > 0, got ${factor}`);
    }
  }
  override processMessage(msg: Message): void {
    msg.scale *= this.factor;
  }
}

/**
 * Scale the log-densities of `fn`'s sites by `factor`.
 *
 * @example
 * ```ts
 * const scaled = scale(model, 60000 / 128);
 * ```
 */
export function scale<A extends unknown[], R>(fn: Fn<A, R>, factor: number): Fn<A, R> {
  new ScaleMessenger(factor); // validate now, not at the first call
  return wrapWith(fn, () => new ScaleMessenger(factor));
}
