/**
 * `uncondition`: sample the observed sites instead of scoring them (Pyro's
 * `poutine.uncondition`), e.g. to draw fake data from a model written with `obs`.
 */
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import type { Message } from '../runtime.js';

/** Turns observed sample sites into drawn ones. @internal */
export class UnconditionMessenger extends Messenger {
  override processMessage(msg: Message): void {
    if (msg.type !== 'sample' || !msg.isObserved) return;
    if (msg.infer._scanStacked === true) return; // a scan unconditioned its steps already
    msg.infer = { ...msg.infer, wasObserved: true, obs: msg.value };
    msg.isObserved = false;
    msg.value = null;
    msg.done = false;
  }
}

/**
 * Draw every observed sample site of `fn` (given by `obs`, or by a `condition` inside this
 * handler) from its distribution, as a latent site; the observed value is kept in the site's
 * `infer.obs` (and `infer.wasObserved` is true). As Pyro's, this includes `deterministic` sites
 * (observed point masses `Delta(v).mask(false)`): they become latent, are drawn from their point
 * mass, so they keep the value `v` the model computed (now of the unconditioned draws), and keep
 * `infer.deterministic`, by which `Predictive` and the log-likelihoods still recognize them. A
 * `condition` outside `uncondition` observes the sites again.
 *
 * $$y \sim p(y \mid z) \text{ instead of } \log p(y = y_{\text{obs}} \mid z)$$
 *
 * @example
 * ```ts
 * const fake = trace(uncondition(model)).getTrace(x).value('y'); // y drawn from the model
 * ```
 */
export function uncondition<A extends unknown[], R>(fn: Fn<A, R>): Fn<A, R> {
  return wrapWith(fn, () => new UnconditionMessenger());
}
