/**
 * `replay`: reuse the values of another trace (Pyro's `ReplayMessenger`). Latent sample sites
 * and subsample sites found in `trace` take their recorded value, so running a model under
 * `replay(model, {trace: guideTrace})` evaluates it at the guide's sample.
 */
import { ArgumentError } from '../../utils/errors.js';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import type { Message } from '../runtime.js';
import type { Trace } from '../trace.js';

/** Copies values from a recorded trace. @internal */
export class ReplayMessenger extends Messenger {
  constructor(private readonly source: Trace) {
    super();
  }
  override processMessage(msg: Message): void {
    if (msg.type === 'param') return;
    const site = this.source.get(msg.name);
    if (site === undefined || msg.isObserved || site.value === null) return;
    msg.value = site.value;
  }
}

/**
 * Run `fn` with the sample values of `trace`.
 *
 * @example
 * ```ts
 * const guideTr = trace(guide).getTrace(data);
 * const modelTr = trace(replay(model, { trace: guideTr })).getTrace(data);
 * ```
 */
export function replay<A extends unknown[], R>(fn: Fn<A, R>, options: { trace: Trace }): Fn<A, R> {
  if (
    options === null ||
    typeof options !== 'object' ||
    options.trace === null ||
    typeof options.trace !== 'object' ||
    typeof (options.trace as Partial<Trace>).get !== 'function'
  ) {
    throw new ArgumentError(
      'trace',
      'replay: expected {trace} with a Trace from trace(fn).getTrace()',
    );
  }
  return wrapWith(fn, () => new ReplayMessenger(options.trace));
}
