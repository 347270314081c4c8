/**
 * `queue`: sequential enumeration of a model's discrete sites, one complete trace per call
 * (Pyro's `poutine.queue`), with Pyro's `util.enum_extend` and `infer.enum.iter_discrete_traces`.
 *
 * A call takes a partial trace from the queue and runs the model replaying it, under `escape`:
 * the run either completes (its value is returned) or leaves at the first site the partial trace
 * does not decide (`discreteEscape`: an enumerable latent site), and then the partial trace,
 * extended by that site with each of its values (`enumExtend`), goes back into the queue. Starting
 * from one empty trace, repeated calls until the queue is empty visit every assignment of the
 * discrete sites once: `prod_i K_i` complete runs.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { Messenger, type Fn } from '../messenger.js';
import type { Message } from '../runtime.js';
import { lastTensorId, Trace } from '../trace.js';
import { enumerateSupportTable, isEnumerable } from './enum_support.js';
import { discreteEscape, EscapeMessenger, NonlocalExit } from './escape.js';
import { trace, TraceMessenger } from './trace.js';

/**
 * A queue of partial traces (Pyro passes a `queue.Queue` or `LifoQueue`). The queue owns the
 * traces in it: {@link queue} disposes each trace it takes once its run is over.
 */
export interface PartialTraceQueue {
  put(tr: Trace): void;
  get(): Trace;
  empty(): boolean;
}

/**
 * A FIFO queue of partial traces (Python's `queue.Queue`), or LIFO with `{lifo: true}`
 * (`LifoQueue`, what `iter_discrete_traces` uses: depth first, so it holds at most `sum_i K_i`
 * traces instead of the last site's `prod_i K_i`). `dispose()` frees the traces still in it.
 */
export class TraceQueue implements PartialTraceQueue {
  private readonly items: Trace[] = [];
  private readonly lifo: boolean;
  constructor(options: { lifo?: boolean } = {}) {
    checkOptionKeys(options, ['lifo'], 'TraceQueue');
    this.lifo = options.lifo ?? false;
  }
  put(tr: Trace): void {
    this.items.push(tr);
  }
  get(): Trace {
    const tr = this.lifo ? this.items.pop() : this.items.shift();
    if (tr === undefined) throw new ArgumentError('queue', 'TraceQueue.get: the queue is empty');
    return tr;
  }
  empty(): boolean {
    return this.items.length === 0;
  }
  /** Number of traces waiting. */
  get size(): number {
    return this.items.length;
  }
  /** Dispose the traces still in the queue and empty it. */
  dispose(): void {
    for (const tr of this.items.splice(0)) tr.dispose();
  }
}

/** Extends a partial trace at an escaped site into new partial traces (Pyro's `extend_fn`). */
export type ExtendFn = (partial: Trace, site: Message, numSamples: number) => Trace[];

/** Options of {@link queue} (Pyro's `max_tries`, `extend_fn`, `escape_fn`, `num_samples`). */
export interface QueueOptions {
  /** Runs one call may try before giving up (default `1e6`). */
  maxTries?: number;
  /** How a partial trace grows at the escaped site (default {@link enumExtend}). */
  extendFn?: ExtendFn;
  /** Where a run leaves, given the partial trace it replays (default `discreteEscape`). */
  escapeFn?: (partial: Trace, msg: Message) => boolean;
  /** At most this many extensions per escaped site (default `-1`: all of them). */
  numSamples?: number;
}

/**
 * A copy of `tr` owning clones of its values, taken at the moment a run escapes: a `plate` left by
 * the escape frees the indices its `subsample` site holds.
 */
function snapshot(tr: Trace): Trace {
  const start = lastTensorId();
  const copy = new Trace();
  for (const s of tr.sites()) {
    copy.add({ ...s, value: s.value === null ? null : s.value.clone(), cond: [...s.cond] });
  }
  copy.keepCreatedAfter(start);
  return copy;
}

/** A copy of `partial` plus `site` at a clone of `value`, the copy owning every value it holds. */
function extended(partial: Trace, site: Message, value: tf.Tensor, infer = site.infer): Trace {
  const start = lastTensorId();
  const tr = new Trace();
  for (const s of partial.sites()) {
    tr.add({ ...s, value: s.value === null ? null : s.value.clone(), cond: [...s.cond] });
  }
  tr.add({
    ...site,
    value: value.clone(),
    cond: [...site.cond],
    infer: { ...infer },
    continuation: undefined,
  });
  tr.keepCreatedAfter(start);
  return tr;
}

/** The `K` values of `site`'s support, each broadcast over its batch shape: `[K, ...batch, ...event]`. */
function supportValues(site: Message): tf.Tensor[] {
  const fn = site.fn;
  if (fn === null) throw new ArgumentError(site.name, `site '${site.name}' has no distribution`);
  const table = enumerateSupportTable(fn, site.name);
  return tf.tidy(() => {
    const k = table.shape[0] as number;
    const shape = [k, ...fn.batchShape.map(() => 1), ...fn.eventShape];
    const all = tf.broadcastTo(tf.reshape(table, shape), [k, ...fn.batchShape, ...fn.eventShape]);
    table.dispose();
    return tf.unstack(all);
  });
}

/**
 * Pyro's `util.enum_extend`: one copy of the partial trace per value of the site's support
 * (`enumerate_support()`, each value the same over the site's batch), the site holding it; at
 * most `numSamples` of them when `numSamples >= 0` (Pyro's code lets one more through).
 */
export function enumExtend(partial: Trace, site: Message, numSamples = -1): Trace[] {
  const values = supportValues(site);
  const n = numSamples >= 0 ? Math.min(numSamples, values.length) : values.length;
  try {
    return values.slice(0, n).map((v) => extended(partial, site, v));
  } finally {
    tf.dispose(values);
  }
}

/**
 * Replays the latent and subsample sites of a partial trace (value, a clone owned by the run, and
 * infer record).
 */
class PartialReplayMessenger extends Messenger {
  constructor(private readonly source: Trace) {
    super();
  }
  override processMessage(msg: Message): void {
    if (msg.type === 'param' || msg.isObserved) return;
    const site = this.source.get(msg.name);
    if (site === undefined || site.value === null || site.isObserved) return;
    msg.value = site.value.clone();
    msg.infer = { ...site.infer }; // as Pyro's replay: the site's infer record too
  }
}

function checkQueue(q: unknown): void {
  const ok =
    q !== null &&
    typeof q === 'object' &&
    ['put', 'get', 'empty'].every((m) => typeof (q as Record<string, unknown>)[m] === 'function');
  if (!ok) {
    throw new ArgumentError(
      'queue',
      'queue: expected a queue of partial traces with put/get/empty (a TraceQueue holding ' +
        `new Trace() to start), got ${String(q)}`,
    );
  }
}

/**
 * Sequential enumeration of `fn`'s discrete sites through the queue of partial traces `q`
 * (Pyro's `poutine.queue`). Each call takes partial traces from `q` until one runs to the end,
 * returning its value; each run that stops at an undecided site puts its extensions back. Start
 * `q` with one empty `Trace`; calling until `q.empty()` runs the model once per assignment of its
 * discrete latent sites (`2^3 = 8` runs for three Bernoulli sites), continuous sites drawn as
 * usual (and replayed, from the partial trace, once drawn before an escaped site).
 *
 * $$\{z_1, \dots, z_n\} \in \prod_i \operatorname{supp}(z_i), \text{ one complete run each}$$
 *
 * The partial traces own their values (clones); the queue owns the traces in it, and each trace
 * taken is disposed after its run. The sites' distributions in a queued trace are the escaped
 * run's and may have been freed: only values are replayed.
 *
 * @param q the queue (a {@link TraceQueue}, or any `{put, get, empty}`).
 * @param options `maxTries` (default `1e6`), `extendFn` (default {@link enumExtend}), `escapeFn`
 *   (default `discreteEscape`), `numSamples` (default `-1`, all).
 * @throws ArgumentError naming `queue` (not a queue; empty at a `get`, where Pyro asserts since a
 *   blocking queue would deadlock), or the option; `Error` once `maxTries` runs escaped (Pyro's
 *   `ValueError("max tries (n) exceeded")`).
 * @example
 * ```ts
 * const q = new TraceQueue();
 * q.put(new Trace());
 * const f = trace(queue(model, q));
 * const traces: Trace[] = [];
 * while (!q.empty()) traces.push(f.getTrace()); // one per assignment of the discrete sites
 * ```
 */
export function queue<A extends unknown[], R>(
  fn: Fn<A, R>,
  q: PartialTraceQueue,
  options: QueueOptions = {},
): Fn<A, R> {
  if (typeof fn !== 'function') {
    throw new ArgumentError('fn', `queue: expected the model function, got ${typeof fn}`);
  }
  checkQueue(q);
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `queue: expected an object, got ${String(options)}`);
  }
  checkOptionKeys(options, ['maxTries', 'extendFn', 'escapeFn', 'numSamples'], 'queue');
  const maxTries = options.maxTries ?? 1e6;
  if (!Number.isInteger(maxTries) || maxTries < 1) {
    throw new ArgumentError('maxTries', `queue: expected an integer >= 1, got ${String(maxTries)}`);
  }
  const numSamples = options.numSamples ?? -1;
  if (!Number.isInteger(numSamples) || numSamples < -1) {
    throw new ArgumentError(
      'numSamples',
      `queue: expected an integer >= 0, or -1 for all, got ${String(numSamples)}`,
    );
  }
  for (const k of ['extendFn', 'escapeFn'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'function') {
      throw new ArgumentError(k, `queue: expected a function, got ${typeof options[k]}`);
    }
  }
  const extendFn = options.extendFn ?? enumExtend;
  const escapeFn = options.escapeFn ?? discreteEscape;
  return (...args: A): R => {
    for (let i = 0; i < maxTries; i++) {
      if (q.empty()) {
        throw new ArgumentError(
          'queue',
          'queue: the queue of partial traces is empty (put new Trace() in it to start; every ' +
            'assignment has been run once it is empty)',
        );
      }
      const next = q.get();
      const tm = new TraceMessenger();
      let partial: Trace | undefined;
      const esc = new EscapeMessenger((msg) => {
        const leave = escapeFn(next, msg);
        if (leave) partial = snapshot(tm.trace);
        return leave;
      });
      const replayer = new PartialReplayMessenger(next);
      try {
        return tm.run(() => esc.run(() => replayer.run(() => fn(...args))));
      } catch (e) {
        if (!(e instanceof NonlocalExit)) throw e;
        e.resetStack();
        for (const tr of extendFn(partial ?? tm.trace, e.site, numSamples)) q.put(tr);
      } finally {
        next.dispose();
        partial?.dispose();
      }
    }
    throw new Error(`queue: max tries (${maxTries}) exceeded`);
  };
}

/**
 * Pyro's `iter_discrete_escape`: a latent site marked `{infer: {enumerate: 'sequential'}}` not in
 * the partial trace.
 *
 * @throws ArgumentError naming the site when it is marked so but its distribution cannot be
 *   enumerated (a continuous site, or a discrete one with an unbounded support), before any run
 *   for it starts.
 */
export function iterDiscreteEscape(partial: Trace, msg: Message): boolean {
  const marked =
    msg.type === 'sample' &&
    !msg.isObserved &&
    msg.infer['enumerate'] === 'sequential' &&
    !partial.has(msg.name);
  if (marked && msg.value === null && msg.fn !== null && !isEnumerable(msg.fn)) {
    throw new ArgumentError(
      msg.name,
      `site '${msg.name}' is marked enumerate: 'sequential', but its distribution ` +
        `${msg.fn.name} has the ${msg.fn.support.isDiscrete ? 'unbounded ' : ''}support ` +
        `${msg.fn.support.name}, which cannot be enumerated: sequential enumeration runs once ` +
        'per value and needs a finite support (a boolean, one integer interval for the whole ' +
        'batch with no event dims, or one-hot vectors); remove the mark to sample the site',
    );
  }
  return marked;
}

/** Pyro's `iter_discrete_extend`: {@link enumExtend}, each site noting `infer._enumTotal = K`. */
export function iterDiscreteExtend(partial: Trace, site: Message): Trace[] {
  const values = supportValues(site);
  const infer = { ...site.infer, _enumTotal: values.length };
  try {
    return values.map((v) => extended(partial, site, v, infer));
  } finally {
    tf.dispose(values);
  }
}

/**
 * Every complete trace of `fn` over the values of its sites marked `{infer: {enumerate:
 * 'sequential'}}` (Pyro's `iter_discrete_traces`): a generator of `prod_i K_i` traces, depth
 * first (a LIFO queue), continuous sites drawn as usual. Each yielded trace is the caller's to
 * dispose; stopping the generator early frees the traces still queued.
 *
 * @example
 * ```ts
 * for (const tr of iterDiscreteTraces(model, data)) {
 *   logps.push(tr.logProbSum().arraySync() as number); // one per assignment
 *   tr.dispose();
 * }
 * ```
 */
export function* iterDiscreteTraces<A extends unknown[]>(
  fn: Fn<A, unknown>,
  ...args: A
): Generator<Trace, void, undefined> {
  const q = new TraceQueue({ lifo: true });
  q.put(new Trace());
  const traced = trace(
    queue(fn, q, { escapeFn: iterDiscreteEscape, extendFn: iterDiscreteExtend }),
  );
  try {
    while (!q.empty()) yield traced.getTrace(...args);
  } finally {
    q.dispose();
  }
}
