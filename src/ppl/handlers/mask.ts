/**
 * `mask`: zero the log-probability of masked-out elements of every sample site (Pyro's
 * `MaskMessenger`): `log p -> mask ? log p : 0`. Masks combine by logical and.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import type { Message } from '../runtime.js';

/** Combines a mask into `msg.mask`. @internal */
export class MaskMessenger extends Messenger {
  constructor(private readonly maskValue: tf.Tensor | boolean) {
    super();
  }
  override processMessage(msg: Message): void {
    if (msg.type !== 'sample') return;
    const m = this.maskValue;
    if (msg.mask === null || msg.mask === true) msg.mask = m;
    else if (msg.mask === false || m === false) msg.mask = false;
    else if (m === true) return;
    else msg.mask = tf.logicalAnd(tf.cast(msg.mask, 'bool'), tf.cast(m, 'bool'));
  }
}

/**
 * Mask the log-densities of `fn`'s sample sites with a boolean tensor (broadcast against each
 * site's log-probability) or a boolean.
 *
 * @example
 * ```ts
 * const masked = mask(model, tf.tensor1d([true, false, true], 'bool'));
 * ```
 */
export function mask<A extends unknown[], R>(fn: Fn<A, R>, m: tf.Tensor | boolean): Fn<A, R> {
  if (typeof m !== 'boolean' && !(m instanceof tf.Tensor && !m.isDisposed)) {
    throw new ArgumentError('mask', `expected true, false or a live tensor, got ${typeof m}`);
  }
  return wrapWith(fn, () => new MaskMessenger(m));
}
