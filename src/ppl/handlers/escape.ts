/**
 * `escape`: leave a run at a chosen sample site (Pyro's `poutine.escape` / `EscapeMessenger`),
 * throwing {@link NonlocalExit} with the site's message. The building block of `queue`'s
 * sequential enumeration: a run stops at the first discrete site not yet decided, and the
 * partial trace is extended with each of the site's values.
 */
import { ArgumentError } from '../../utils/errors.js';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import { HANDLER_STACK, type Message } from '../runtime.js';
import type { Trace } from '../trace.js';
import { BlockMessenger } from './block.js';
import { isEnumerable } from './enum_support.js';

/**
 * Thrown by {@link escape} at the site where the run leaves (Pyro's `NonlocalExit`); `site` is
 * that site's message, as the handlers inside `escape` saw it (no value yet). The handlers the
 * exception passes are popped by their `run`; those left on the stack are reset by
 * {@link NonlocalExit.resetStack}.
 */
export class NonlocalExit extends Error {
  constructor(readonly site: Message) {
    super(`nonlocal exit at site '${site.name}'`);
    this.name = 'NonlocalExit';
  }
  /**
   * Reset the handlers still on the stack (Pyro's `reset_stack`), innermost first, down to the
   * first `block` that hides the site: an enclosing `trace` forgets the sites of the run that
   * escaped, so that `queue` can run the model again under it.
   */
  resetStack(): void {
    for (let i = HANDLER_STACK.length - 1; i >= 0; i--) {
      const h = HANDLER_STACK[i];
      if (h instanceof Messenger) h.reset();
      if (h instanceof BlockMessenger && h.hides(this.site)) break;
    }
  }
}

/** Leaves the run at the sample sites `escapeFn` picks. @internal */
export class EscapeMessenger extends Messenger {
  constructor(private readonly escapeFn: (msg: Message) => boolean) {
    super();
  }
  override processMessage(msg: Message): void {
    if (msg.type !== 'sample' || !this.escapeFn(msg)) return;
    // as Pyro's: handlers outside never see it; the handlers inside post-process it (an inner
    // trace records the site, with no value), then the continuation throws
    msg.done = true;
    msg.stop = true;
    msg.continuation = (m) => {
      throw new NonlocalExit(m);
    };
  }
}

/**
 * Run `fn`, leaving it with a {@link NonlocalExit} at the first sample site for which
 * `escapeFn(msg)` is true: the site is not drawn, the handlers outside `escape` never see it, and
 * those inside post-process it before the exit (so `escape(trace(fn))` records it, without a
 * value, while `trace(escape(fn))` does not).
 *
 * @param escapeFn decides at each sample site, e.g. `(msg) => discreteEscape(partialTrace, msg)`.
 * @throws ArgumentError naming `fn` or `escapeFn` when not a function.
 * @example
 * ```ts
 * try {
 *   escape(model, (msg) => msg.name === 'y')();
 * } catch (e) {
 *   if (e instanceof NonlocalExit) console.log(e.site.name); // 'y'
 * }
 * ```
 */
export function escape<A extends unknown[], R>(
  fn: Fn<A, R>,
  escapeFn: (msg: Message) => boolean,
): Fn<A, R> {
  if (typeof escapeFn !== 'function') {
    throw new ArgumentError(
      'escapeFn',
      `escape: expected a function of the site's message, got ${typeof escapeFn}`,
    );
  }
  return wrapWith(fn, () => new EscapeMessenger(escapeFn));
}

/**
 * Pyro's `util.discrete_escape`: a latent sample site not in the partial trace `tr` whose
 * distribution can be enumerated (a finite discrete support, or one-hot vectors).
 */
export function discreteEscape(tr: Trace, msg: Message): boolean {
  return (
    msg.type === 'sample' &&
    !msg.isObserved &&
    !tr.has(msg.name) &&
    msg.fn !== null &&
    isEnumerable(msg.fn)
  );
}

/** Pyro's `util.all_escape`: any latent sample site not in the partial trace `tr`. */
export function allEscape(tr: Trace, msg: Message): boolean {
  return msg.type === 'sample' && !msg.isObserved && !tr.has(msg.name);
}
