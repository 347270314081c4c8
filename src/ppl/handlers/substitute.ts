/**
 * `substitute`: give param (and latent sample) sites fixed values (NumPyro's `substitute`; Pyro's
 * sets params only), e.g. to evaluate a model at chosen parameters without touching the
 * parameter store. Observed sites keep their data, unlike NumPyro's (see {@link substitute}).
 */
import * as tf from '@tensorflow/tfjs';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import { checkSiteData } from './handler_args.js';
import type { Message } from '../runtime.js';

/**
 * Values by site name, or a function of the message returning a value or `undefined` (NumPyro's
 * `substitute_fn`, e.g. `(msg) => msg.name.startsWith('w') ? tf.zeros(...) : undefined`).
 */
export type SubstituteData =
  | Record<string, tf.Tensor | tf.TensorLike>
  | ((msg: Message) => tf.Tensor | tf.TensorLike | undefined | null);

/** Sets `msg.value` from the data. @internal */
export class SubstituteMessenger extends Messenger {
  constructor(private readonly data: SubstituteData) {
    super();
  }
  override processMessage(msg: Message): void {
    if (msg.type === 'subsample' || msg.isObserved) return;
    if (msg.infer._scanStacked === true) return; // a scan gave its steps the value already
    let v: tf.Tensor | tf.TensorLike | undefined;
    if (typeof this.data === 'function') {
      v = this.data(msg) ?? undefined;
      if (v !== undefined) checkSiteData({ [msg.name]: v }, 'substitute (the function)');
    } else if (msg.name in this.data) v = this.data[msg.name];
    if (v === undefined) return;
    msg.value = v instanceof tf.Tensor ? v : tf.tensor(v);
  }
}

/**
 * Substitute values for param and latent sample sites of `fn`: from a record by site name, or
 * from a function of each site's message (NumPyro's `substitute(fn, substitute_fn=...)`)
 * returning the value, or `undefined`/`null` to leave the site alone. Observed sites keep their
 * data (use `condition` to change it).
 *
 * Which sites are set differs between Pyro and NumPyro, and this handler lies between them:
 *
 * | site | Pyro `poutine.substitute` | NumPyro `handlers.substitute` | here |
 * |---|---|---|---|
 * | `param` | set | set | set |
 * | latent `sample` | kept | set | set |
 * | observed `sample` (`obs`, `condition`) | kept | value replaced, still observed and scored | kept |
 * | `deterministic` | kept | set | kept (an observed site) |
 * | plate subsample indices | kept | set | kept (use `replay`) |
 *
 * So a NumPyro program that substitutes data must use `condition` here, and one that substitutes
 * a plate's members must `replay` a trace holding them.
 *
 * @throws ArgumentError naming `data` (and the site) for a value that is not a live numeric
 *   tensor or numeric array: at the call for a record, when the site is reached for a function.
 * @example
 * ```ts
 * const fixed = substitute(guide, { q_loc: tf.scalar(0.3) });
 * const atZero = substitute(model, (msg) => (msg.type === 'param' ? tf.scalar(0) : undefined));
 * ```
 */
export function substitute<A extends unknown[], R>(fn: Fn<A, R>, data: SubstituteData): Fn<A, R> {
  if (typeof data !== 'function') checkSiteData(data, 'substitute');
  return wrapWith(fn, () => new SubstituteMessenger(data));
}
