/**
 * `trace`: record every site of a run (Pyro's `TraceMessenger`). Records in the post-processing
 * hook, so it sees the value chosen by handlers below it and by the default rule.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { Messenger, type Fn } from '../messenger.js';
import type { Message, PlateFrame } from '../runtime.js';
import { lastTensorId, Trace } from '../trace.js';

function frameStr(f: { size: number; subsampleSize: number; dim?: number }): string {
  const sub = f.subsampleSize === f.size ? '' : `, subsample ${f.subsampleSize}`;
  return `size ${f.size}${sub}${f.dim === undefined ? '' : `, dim ${f.dim}`}`;
}

/**
 * Records sites into {@link TraceMessenger.trace}. A plate entered again later in the same run
 * (NumPyro's two `with plate('J', 3)` blocks, Pyro's reused plate object) is one plate: its
 * subsample site is recorded once and the second entry reuses its indices; the same name with
 * another size, subsample size or dim is an error naming the plate. @internal
 */
export class TraceMessenger extends Messenger {
  readonly trace = new Trace();
  private readonly frames = new Map<string, PlateFrame>();
  constructor(private readonly paramOnly = false) {
    super();
  }
  /** Empty the trace (Pyro's `TraceMessenger._reset`), for `queue`'s next run. */
  override reset(): void {
    this.trace.nodes.clear();
    this.frames.clear();
  }
  override processMessage(msg: Message): void {
    if (msg.type !== 'subsample') return;
    const prev = this.trace.get(msg.name);
    if (prev === undefined) return;
    if (prev.type !== 'subsample') return; // a sample/param site of that name: add() reports it
    if (prev.size !== msg.size || prev.subsampleSize !== msg.subsampleSize) {
      throw new ArgumentError(
        msg.name,
        `plate '${msg.name}' entered again with ${frameStr(msg)}; earlier in this run it had ` +
          `${frameStr(prev)} (one name, one plate: give the other plate another name)`,
      );
    }
    msg.value = prev.value; // the same members as the first entry
    msg.infer = { ...msg.infer, _plateReentered: true };
  }
  override postprocessMessage(msg: Message): void {
    if (this.paramOnly && msg.type !== 'param') return;
    if (msg.type === 'subsample' && msg.infer._plateReentered === true) return;
    if (msg.type === 'sample') {
      for (const f of msg.cond) {
        const prev = this.frames.get(f.name);
        if (prev === undefined) this.frames.set(f.name, f);
        else if (
          prev.size !== f.size ||
          prev.subsampleSize !== f.subsampleSize ||
          prev.dim !== f.dim
        ) {
          throw new ArgumentError(
            f.name,
            `plate '${f.name}' at site '${msg.name}' has ${frameStr(f)}; earlier in this run it ` +
              `had ${frameStr(prev)} (one name, one plate: give the other plate another name)`,
          );
        }
      }
    }
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

/** The open {@link collectTraces} scopes, innermost last. */
const COLLECTORS: Trace[][] = [];

/**
 * Run `fn` and return its value with every trace `getTrace` made during it (in any nested
 * call): the owner of the scope frees their kept tensors (`Trace.dispose`) when done, e.g. SVI
 * after a user's loss function that traced the guide and replayed the model. Where `fn` throws,
 * the traces are freed here.
 *
 * @internal
 */
export function collectTraces<T>(fn: () => T): { value: T; traces: Trace[] } {
  const traces: Trace[] = [];
  COLLECTORS.push(traces);
  try {
    return { value: fn(), traces };
  } catch (e) {
    // the caller never sees them: free them here
    for (const t of traces) t.dispose();
    throw e;
  } finally {
    COLLECTORS.pop();
  }
}

/**
 * Record the sites of `fn`: a model or guide function, or an object with a `call` method (an
 * autoguide, as Pyro's `poutine.trace(guide)`).
 *
 * @example
 * ```ts
 * const tr = trace(model).getTrace(data);
 * tr.value('mu');           // the sampled value
 * tr.logProbSum();          // log p(mu, data)
 * tr.dispose();
 * trace(guide).getTrace(data).dispose(); // an autoguide's draws
 * ```
 */
export function trace<A extends unknown[], R>(
  fn: Fn<A, R>,
  options?: { paramOnly?: boolean },
): TracedFn<A, R>;
export function trace<A extends unknown[], R>(
  fn: { call: Fn<A, R> },
  options?: { paramOnly?: boolean },
): TracedFn<A, R>;
export function trace<A extends unknown[], R>(
  fn: Fn<A, R> | { call: Fn<A, R> },
  options: { paramOnly?: boolean } = {},
): TracedFn<A, R> {
  const f: Fn<A, R> | undefined =
    typeof fn === 'function'
      ? fn
      : fn !== null && typeof fn === 'object' && typeof fn.call === 'function'
        ? (...args: A) => fn.call(...args)
        : undefined;
  if (f === undefined) {
    throw new ArgumentError(
      'fn',
      `trace: expected the function to trace (or an object with a call method), got ${fn === null ? 'null' : typeof fn}`,
    );
  }
  const run = (...args: A): { trace: Trace; value: R } => {
    const m = new TraceMessenger(options.paramOnly ?? false);
    const value = m.run(() => f(...args));
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
    COLLECTORS[COLLECTORS.length - 1]?.push(tr as Trace);
    return tr as Trace;
  };
  return wrapped;
}
