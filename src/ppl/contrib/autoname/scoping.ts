/**
 * Automatic naming of sample sites (Pyro's `pyro.contrib.autoname`): {@link scope} prepends
 * `prefix/` to the names of the sample sites inside it (scopes compose, outer first:
 * `b/a/x`), and {@link nameCount} gives the repeated names of one run a counter suffix, the
 * first left as it is: `x`, `x__1`, `x__2`. Under `nameCount`, a scope entered again gets the
 * counter on the scope: `a/x`, `a__1/x`, `a__2/x` (unless the scope is `inner`, when the counter
 * goes on the sites: `a/x`, `a/x__1`). As in Pyro, only sample sites are renamed (not params).
 */
import { ArgumentError } from '../../../utils/errors.js';
import { checkOptionKeys } from '../../../utils/options.js';
import { Messenger, type Fn } from '../../messenger.js';
import { HANDLER_STACK, type Message } from '../../runtime.js';

/**
 * `name` with a counter suffix while `(name, label)` is taken: `x` -> `x__1` -> `x__2`; a name
 * already ending in `__k` counts on from `k` (Pyro's `_increment_name`).
 */
function incrementName(taken: Set<string>, name: string, label: string): string {
  let n = name;
  while (taken.has(`${label}\u0000${n}`)) {
    const parts = n.split('__');
    const last = parts[parts.length - 1] as string;
    if (parts.length > 1 && /^\d+$/.test(last)) {
      n = [...parts.slice(0, -1), String(Number(last) + 1)].join('__');
    } else n = `${n}__1`;
  }
  return n;
}

/** Pyro's `NameCountMessenger`: counter suffixes on names repeated in one run. @internal */
export class NameCountMessenger extends Messenger {
  private readonly taken = new Set<string>();
  /** The free name for `name` of kind `label` (`'sample'` or `'scope'`). */
  increment(name: string, label: string): string {
    return incrementName(this.taken, name, label);
  }
  /** Mark `name` of kind `label` as used. */
  add(name: string, label: string): void {
    this.taken.add(`${label}\u0000${name}`);
  }
  override processMessage(msg: Message): void {
    if (msg.type === 'sample') msg.name = this.increment(msg.name, 'sample');
  }
  override postprocessMessage(msg: Message): void {
    if (msg.type === 'sample') this.add(msg.name, 'sample');
  }
}

/** Pyro's `ScopeMessenger`: `prefix/` before the names of the sample sites inside. @internal */
export class ScopeMessenger extends Messenger {
  constructor(public prefix: string) {
    super();
  }
  override processMessage(msg: Message): void {
    if (msg.type === 'sample') msg.name = `${this.prefix}/${msg.name}`;
  }
}

/**
 * The prefix a scope entered now takes (Pyro's effectful `_collect_scope`): the handlers on the
 * stack, innermost first, rewrite `prefix` as they would a site name (enclosing scopes prepend
 * theirs, `nameCount` adds a counter when that full scope path was entered before in its run);
 * the last path segment is the prefix, and every `nameCount` records the full path.
 */
function collectScope(prefix: string): string {
  let path = prefix;
  for (let i = HANDLER_STACK.length - 1; i >= 0; i--) {
    const h = HANDLER_STACK[i];
    if (h instanceof ScopeMessenger) path = `${h.prefix}/${path}`;
    else if (h instanceof NameCountMessenger) path = h.increment(path, 'scope');
  }
  for (const h of HANDLER_STACK) if (h instanceof NameCountMessenger) h.add(path, 'scope');
  return path.split('/').pop() as string;
}

/** Options of {@link scope}. */
export interface ScopeOptions {
  /** The prefix; default: the function's name (Pyro's `fn.__code__.co_name`). */
  prefix?: string;
  /**
   * Where `nameCount`'s counters go when the scope is entered more than once: on the scope
   * (`a__1/x`, default) or, with `inner: true`, on the sites inside (`a/x__1`).
   */
  inner?: boolean;
}

/**
 * Prefix the sample sites of `fn` with `prefix/` (Pyro's `pyro.contrib.autoname.scope`): each
 * call of the returned function runs `fn` in the scope. Scopes nest, outer prefixes first.
 *
 * @param fn the model (or any stochastic function).
 * @param options `prefix` (default `fn.name`), `inner`.
 * @returns `fn` in the scope.
 * @example
 * ```ts
 * const model = scope(() => sample('x', new Bernoulli(0.5)), { prefix: 'a' });
 * trace(model).getTrace().get('a/x'); // the site
 * const outer = scope(() => scope(() => sample('x', d), { prefix: 'a' })(), { prefix: 'b' });
 * // site 'b/a/x'
 * ```
 */
export function scope<A extends unknown[], R>(fn: Fn<A, R>, options: ScopeOptions = {}): Fn<A, R> {
  if (typeof fn !== 'function') {
    throw new ArgumentError('fn', `scope: expected a function to scope, got ${typeof fn}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `scope: expected an object, got ${String(options)}`);
  }
  checkOptionKeys(options, ['prefix', 'inner'], 'scope');
  const prefix = options.prefix ?? fn.name;
  if (typeof prefix !== 'string' || prefix.length === 0 || prefix.includes('/')) {
    throw new ArgumentError(
      'prefix',
      `scope: expected a non-empty name without '/'` +
        (options.prefix === undefined ? ' (the function has no name: give prefix)' : '') +
        `, got ${JSON.stringify(prefix)}`,
    );
  }
  if (options.inner !== undefined && typeof options.inner !== 'boolean') {
    throw new ArgumentError('inner', `scope: expected true or false, got ${String(options.inner)}`);
  }
  const inner = options.inner === true;
  return (...args: A): R => {
    const p = inner ? prefix : collectScope(prefix);
    return new ScopeMessenger(p).run(() => fn(...args));
  };
}

/**
 * Give the sample sites whose names repeat within one run of `fn` a counter suffix (Pyro's
 * `pyro.contrib.autoname.name_count`): the first `x` stays `x`, the next are `x__1`, `x__2`, ...
 * Each call of the returned function starts counting afresh.
 *
 * @param fn the model.
 * @returns `fn` with counted names.
 * @example
 * ```ts
 * const model = nameCount(() => {
 *   for (let i = 0; i < 3; i++) sample('x', new Bernoulli(0.5));
 * }); // sites x, x__1, x__2
 * ```
 */
export function nameCount<A extends unknown[], R>(fn: Fn<A, R>): Fn<A, R> {
  if (typeof fn !== 'function') {
    throw new ArgumentError('fn', `nameCount: expected a function, got ${typeof fn}`);
  }
  return (...args: A): R => new NameCountMessenger().run(() => fn(...args));
}
