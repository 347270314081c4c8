/**
 * `markov`: a Markov dependency declaration (Pyro's `pyro.markov`, `MarkovMessenger`), the
 * statistical counterpart of a memory arena. Around a time loop it tells enumeration that the
 * sites of step `t` depend on those of steps `t - history .. t` only:
 *
 * $$p(x_{0:T}) = \prod_t p(x_t \mid x_{t-h:t-1}),$$
 *
 * so `enumerate` may give an enumerated site of step `t` the batch dim freed by step
 * `t - history - 1`: a chain of `T` discrete sites uses `history + 1` enumeration dims instead
 * of `T`, and `TraceEnumELBO`, `inferDiscrete` and HMC/NUTS with discrete sites summed out
 * eliminate it sequentially in `O(T K^{history+1})`.
 *
 * Each sample site inside records in `infer._markovScope` the sites of the visible steps (name ->
 * how many enclosing markov contexts see it) and in `infer._markovDepth` how many markov contexts
 * enclose it; `enumerate` reads both (a site is visible when every markov context that encloses
 * it sees it). A site whose computation uses a site older than the declared history breaks the
 * declaration: its log-density is read with the dims of the newer sites that reuse them.
 */
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { Messenger } from '../messenger.js';
import { HANDLER_STACK, type Message } from '../runtime.js';

/** Options of {@link markov}. */
export interface MarkovOptions {
  /**
   * How many previous steps the sites of a step may depend on (default 1: a first-order chain;
   * 2: a second-order one; 0: the steps are independent, like a plate).
   */
  history?: number;
  /**
   * Keep the steps of a finished context visible to its siblings (default false): with branching
   * recursion, `true` lets neighbouring branches at one level depend on each other; `false` makes
   * them independent given their shared ancestors.
   */
  keep?: boolean;
}

/** The markov scope of a site: visible site name -> how many markov contexts see it. */
export type MarkovScope = Map<string, number>;

/**
 * Records, for every sample site, the sites of the steps it may depend on (Pyro's reentrant
 * `MarkovMessenger`): entered once per step, pushed on the handler stack once however deep the
 * steps nest. @internal (use {@link markov})
 */
export class MarkovMessenger extends Messenger {
  private pos = -1;
  private readonly steps: Set<string>[] = [];
  private active = 0;

  constructor(
    readonly history: number,
    readonly keep: boolean,
  ) {
    super();
  }

  override processMessage(msg: Message): void {
    if (msg.type !== 'sample' || msg.done || this.pos < 0) return;
    const before = msg.infer._markovScope as MarkovScope | undefined;
    const scope: MarkovScope = new Map(before ?? []);
    for (let p = Math.max(0, this.pos - this.history); p <= this.pos; p++) {
      for (const name of this.steps[p] as Set<string>) scope.set(name, (scope.get(name) ?? 0) + 1);
    }
    const depth = ((msg.infer._markovDepth as number | undefined) ?? 0) + 1;
    msg.infer = { ...msg.infer, _markovScope: scope, _markovDepth: depth };
    (this.steps[this.pos] as Set<string>).add(msg.name);
  }

  /** Open a new step (one level deeper). */
  enterStep(): void {
    this.pos++;
    if (this.steps.length <= this.pos) this.steps.push(new Set());
  }

  /** Close the innermost step. */
  exitStep(): void {
    if (!this.keep) this.steps.pop();
    this.pos--;
    if (this.pos < 0) this.steps.length = 0;
  }

  /** Run `fn` as one step (nested in the steps already open), pushing the handler once. */
  step<R>(fn: () => R): R {
    this.enterStep();
    try {
      if (this.active > 0) return fn();
      this.active++;
      try {
        return this.run(fn);
      } finally {
        this.active--;
      }
    } finally {
      this.exitStep();
    }
  }

  /** Yield `values`, each as one more nested step; the handler stays pushed until the end. */
  *iterate<T>(values: Iterable<T>): Generator<T, void, undefined> {
    HANDLER_STACK.push(this);
    const depth = HANDLER_STACK.length;
    this.active++;
    let entered = 0;
    try {
      for (const v of values) {
        this.enterStep();
        entered++;
        yield v;
      }
    } finally {
      for (; entered > 0; entered--) this.exitStep();
      this.active--;
      const at = HANDLER_STACK.lastIndexOf(this, depth - 1);
      if (at >= 0) HANDLER_STACK.length = at;
    }
  }
}

function checkedOptions(options: unknown): { history: number; keep: boolean } {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError(
      'options',
      `markov: expected {history?, keep?}, got ${String(options)}`,
    );
  }
  checkOptionKeys(options, ['history', 'keep'], 'markov');
  const o = options as MarkovOptions;
  const history = o.history ?? 1;
  if (typeof history !== 'number' || !Number.isInteger(history) || history < 0) {
    throw new ArgumentError(
      'history',
      `markov: expected an integer >= 0 (how many previous steps a step depends on), got ` +
        `${String(history)}`,
    );
  }
  const keep = o.keep ?? false;
  if (typeof keep !== 'boolean') {
    throw new ArgumentError('keep', `markov: expected true or false, got ${String(keep)}`);
  }
  return { history, keep };
}

/** `0, 1, ..., n - 1`. */
function* range(n: number): Generator<number, void, undefined> {
  for (let i = 0; i < n; i++) yield i;
}

/**
 * Declare Markov structure (Pyro's `pyro.markov`). Two forms:
 *
 * - **iterator**: `for (const t of markov(T))` (or `markov(iterable)`) runs the loop body of step
 *   `t` in a context that sees steps `t - history .. t`;
 * - **function** (Pyro's decorator, for recursion): `markov(fn)` returns `fn` running as one more
 *   nested step each time it is called, so a recursive `step(t)` calling `step(t + 1)` declares a
 *   chain.
 *
 * Under enumeration (`TraceEnumELBO`, `inferDiscrete`, MCMC with discrete sites), an enumerated
 * site of step `t` reuses the batch dim of step `t - history - 1`: a `T`-step chain needs
 * `history + 1` enumeration dims (tfjs allows 5 plate and enumeration dims together, 15 on the cpu
 * backend: `maxEnumRank()`).
 *
 * @param steps the number of steps `T` (iterates `0..T-1`), an iterable of step values, or the
 *   function to run as one step per call.
 * @param options `history` (default 1) and `keep` (default false).
 * @example
 * ```ts
 * // a hidden Markov model: x_t ~ Cat(trans[x_{t-1}]), y_t ~ N(locs[x_t], 1)
 * const model = (ys: number[]) => {
 *   let x: tf.Tensor = tf.scalar(0, 'int32');
 *   for (const t of markov(ys.length)) {
 *     const probs = tf.gather(trans, tf.cast(x, 'int32'));
 *     x = sample(`x_${t}`, new Categorical({ probs }), { infer: { enumerate: 'parallel' } });
 *     sample(`y_${t}`, new Normal(tf.gather(locs, tf.cast(x, 'int32')), 1), { obs: ys[t] });
 *   }
 * };
 * // the same chain by recursion
 * const step = markov((t: number, x: tf.Tensor): void => {
 *   // ... sample x_t given x, observe y_t ...
 *   if (t + 1 < T) step(t + 1, xt);
 * });
 * ```
 */
export function markov(steps: number, options?: MarkovOptions): Iterable<number>;
export function markov<T>(steps: Iterable<T>, options?: MarkovOptions): Iterable<T>;
export function markov<A extends unknown[], R>(
  fn: (...args: A) => R,
  options?: MarkovOptions,
): (...args: A) => R;
export function markov<T, A extends unknown[], R>(
  steps: number | Iterable<T> | ((...args: A) => R),
  options: MarkovOptions = {},
): Iterable<number> | Iterable<T> | ((...args: A) => R) {
  const { history, keep } = checkedOptions(options);
  if (typeof steps === 'function') {
    const m = new MarkovMessenger(history, keep);
    return (...args: A): R => m.step(() => steps(...args));
  }
  let values: Iterable<unknown>;
  if (typeof steps === 'number') {
    if (!Number.isInteger(steps) || steps < 0) {
      throw new ArgumentError(
        'steps',
        `markov: expected the number of steps (an integer >= 0), got ${steps}`,
      );
    }
    values = { [Symbol.iterator]: () => range(steps) };
  } else if (
    steps !== null &&
    typeof steps === 'object' &&
    typeof (steps as Partial<Iterable<T>>)[Symbol.iterator] === 'function'
  ) {
    values = steps as Iterable<T>;
  } else {
    throw new ArgumentError(
      'steps',
      `markov: expected a number of steps, an iterable or a function, got ${String(steps)}`,
    );
  }
  // a fresh context per loop, so that the same iterable can be looped over in every model run
  return { [Symbol.iterator]: () => new MarkovMessenger(history, keep).iterate(values) } as
    Iterable<number> | Iterable<T>;
}
