/**
 * `trace`: record every site of a run (Pyro's `TraceMessenger`). Records in the post-processing
 * hook, so it sees the value chosen by handlers below it and by the default rule.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { Messenger, type Fn } from '../messenger.js';
import type { Message } from '../runtime.js';
import { lastTensorId, Trace } from '../trace.js';

/** Records sites into {@link TraceMessenger.trace}. @internal */
export class TraceMessenger extends Messenger {
  readonly trace = new Trace();
  constructor(private readonly paramOnly = false) {
    super();
  }
  override postprocessMessage(msg: Message): void {
    if (this.paramOnly && msg.type !== 'param') return;
    this.trace.add({ ...msg, cond: [...msg.cond], infer: { ...msg.infer } });
  }
}

/** A model wrapped by {@link trace}: callable, plus `getTrace`. */
export interface TracedFn<A extends unknown[], R> {
  (...args: A): R;
  /**
   * Run the model once under `tf.tidy` and return its trace. Site values and the tensors of the
   * sites' distributions are kept; call `trace.dispose()` when done.
   */
  getTrace(...args: A): Trace;
  /** Like `getTrace`, without the tidy and keep: for use inside an enclosing `tf.tidy`. */
  getTraceUntidied(...args: A): { trace: Trace; value: R };
}

/**
 * Record the sites of `fn`.
 *
 * @example
 * ```ts
 * const tr = trace(model).getTrace(data);
 * tr.value('mu');           // the sampled value
 * tr.logProbSum();          // log p(mu, data)
 * tr.dispose();
 * ```
 */
export function trace<A extends unknown[], R>(
  fn: Fn<A, R>,
  options: { paramOnly?: boolean } = {},
): TracedFn<A, R> {
  if (typeof fn !== 'function') {
    throw new ArgumentError('fn', `trace: expected the function to trace, got ${typeof fn}`);
  }
  const run = (...args: A): { trace: Trace; value: R } => {
    const m = new TraceMessenger(options.paramOnly ?? false);
    const value = m.run(() => fn(...args));
    return { trace: m.trace, value };
  };
  const wrapped = ((...args: A) => run(...args).value) as TracedFn<A, R>;
  wrapped.getTraceUntidied = run;
  wrapped.getTrace = (...args: A) => {
    const start = lastTensorId();
    let tr: Trace | undefined;
    tf.tidy(() => {
      tr = run(...args).trace;
      tr.keepCreatedAfter(start);
    });
    return tr as Trace;
  };
  return wrapped;
}
