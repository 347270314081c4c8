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
    if (msg.infer._scanStacked === true) return; // a scan gave its steps the value already
    const site = this.source.get(msg.name);
    if (site === undefined || msg.isObserved || site.value === null) return;
    msg.value = site.value;
  }
}

/**
 * Run `fn` with the sample values of `trace`. The trace may be given as `{trace}` or directly, as
 * Pyro's positional `poutine.replay(model, guide_trace)`.
 *
 * @example
 * ```ts
 * const guideTr = trace(guide).getTrace(data);
 * const modelTr = trace(replay(model, { trace: guideTr })).getTrace(data);
 * const same = trace(replay(model, guideTr)).getTrace(data); // Pyro's positional form
 * ```
 */
export function replay<A extends unknown[], R>(
  fn: Fn<A, R>,
  options: { trace: Trace } | Trace,
): Fn<A, R> {
  const isTrace = (t: unknown): t is Trace =>
    t !== null &&
    typeof t === 'object' &&
    typeof (t as Partial<Trace>).get === 'function' &&
    (t as Partial<Trace>).nodes instanceof Map;
  const source: unknown = isTrace(options)
    ? options
    : options !== null && typeof options === 'object'
      ? (options as { trace?: unknown }).trace
      : undefined;
  if (!isTrace(source)) {
    throw new ArgumentError(
      'trace',
      'replay: expected {trace} with a Trace from trace(fn).getTrace(), or the Trace itself',
    );
  }
  return wrapWith(fn, () => new ReplayMessenger(source));
}
