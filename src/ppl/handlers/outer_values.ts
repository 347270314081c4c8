/**
 * The values that the handlers outside a hidden run would give its sites: `condition`,
 * `substitute` and `replay` on the stack when the run starts, applied to the run's messages as
 * they would be were the run not hidden (innermost first, up to the first `block` outside that
 * hides the site). A hidden run (e.g. `inferDiscrete`'s enumerated pass, under `block`) so sees
 * the continuous values that its caller fixes — a posterior draw of `Predictive`, a guide's trace
 * replayed — instead of fresh draws of them.
 */
import { Messenger } from '../messenger.js';
import { HANDLER_STACK, type Handler, type Message } from '../runtime.js';
import { BlockMessenger } from './block.js';
import { ConditionMessenger } from './condition.js';
import { ReplayMessenger } from './replay.js';
import { SubstituteMessenger } from './substitute.js';

/** The handlers on the stack now, innermost first (a snapshot, taken before a hidden run). */
export function outerHandlers(): Handler[] {
  return [...HANDLER_STACK].reverse();
}

/**
 * Applies the value-setting handlers of `outer` (innermost first) to each message: for a site
 * `x`, `x`'s value is the one the outer `condition`/`substitute`/`replay` would give it (and
 * `condition` makes it observed), stopping at the first outer `block` that hides `x`, as the
 * stack would.
 *
 * @internal
 */
export class OuterValuesMessenger extends Messenger {
  /** @param outer the handlers outside the hidden run, innermost first ({@link outerHandlers}). */
  constructor(private readonly outer: readonly Handler[]) {
    super();
  }
  override processMessage(msg: Message): void {
    for (const h of this.outer) {
      if (h instanceof BlockMessenger && h.hides(msg)) return;
      if (
        h instanceof ConditionMessenger ||
        h instanceof SubstituteMessenger ||
        h instanceof ReplayMessenger
      ) {
        h.processMessage(msg);
      }
    }
  }
}
