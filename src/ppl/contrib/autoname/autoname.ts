/**
 * Pyro's `pyro.contrib.autoname.autoname`: unique, structured names for sample sites from the
 * functions and loops they are drawn in. Functions wrapped by {@link autoname} and iterations of
 * loops wrapped by it are name scopes; {@link sample} (and {@link genname}) under an active
 * `autoname` function name a site `scope_1/.../scope_k/name`, where
 *
 * - a scope entered again inside the same parent scope gets a counter, `f`, `f__1`, `f__2`, ...,
 *   and each loop iteration is a new entry of the loop's scope (`time`, `time__1`, ...);
 * - a name drawn again inside the same scope gets a bare counter, `x`, `x1`, `x2`, ...;
 * - `sample(dist)` without a name uses the distribution's class name (`Bernoulli`).
 *
 * A top-level call starts afresh (its scope has no counter), so each run of a model gives the
 * same names. Outside every `autoname` function, names are left as they are (a loop's scopes
 * alone do not rename, as in Pyro). Plain `ppl.sample` sites are never renamed.
 */
import type * as tf from '@tensorflow/tfjs';
import { Distribution } from '../../../distributions/distribution.js';
import { ArgumentError } from '../../../utils/errors.js';
import { checkOptionKeys } from '../../../utils/options.js';
import type { Fn } from '../../messenger.js';
import { sample as pplSample, type SampleOptions } from '../../runtime.js';

/** One entry of a name scope: its name, its counter, the names allocated inside it. */
class NameScope {
  counter = 0;
  private readonly namespace = new Map<string, number>();
  constructor(readonly name: string) {}
  /** `name`, or `name__k` for the k-th re-entry. */
  toString(): string {
    return this.counter > 0 ? `${this.name}__${this.counter}` : this.name;
  }
  /** How often `name` was allocated in this scope before (0 the first time). */
  allocate(name: string): number {
    const k = this.namespace.get(name) ?? 0;
    this.namespace.set(name, k + 1);
    return k;
  }
}

/** The scopes entered, outermost first (Pyro's global `_SCOPE_STACK`). */
const SCOPES: NameScope[] = [];
/** How many `autoname` functions are running (Pyro's messenger on the handler stack). */
let active = 0;

/** Push a new entry of scope `name`, counted in the enclosing scope (none at top level). */
function pushScope(name: string): NameScope {
  const s = new NameScope(name);
  const parent = SCOPES[SCOPES.length - 1];
  s.counter = parent === undefined ? 0 : parent.allocate(name);
  SCOPES.push(s);
  return s;
}

/** Pop scope `s` (and anything an interrupted body left above it). */
function popScope(s: NameScope): void {
  const i = SCOPES.lastIndexOf(s);
  if (i >= 0) SCOPES.length = i;
}

function checkScopeName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.includes('/')) {
    throw new ArgumentError(
      'name',
      `autoname: expected a non-empty name without '/' for ${what}, got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

/** Options of {@link autoname}. */
export interface AutonameOptions {
  /** The scope's name; default the function's name (a loop: the iterable's `name`). */
  name?: string;
}

/**
 * A unique name for `name` in the current scopes (Pyro's effectful `genname`): under an
 * `autoname` function `scope_1/.../scope_k/name`, with a counter suffix `name1`, `name2`, ...
 * when `name` was drawn before in the innermost scope; elsewhere `name` itself.
 * @param name the base name. Default `'name'`.
 * @returns the name to use.
 * @throws ArgumentError naming `name` unless it is a non-empty string.
 */
export function genname(name: string = 'name'): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ArgumentError('name', `genname: expected a non-empty string, got ${String(name)}`);
  }
  if (active === 0) return name;
  const inner = SCOPES[SCOPES.length - 1] as NameScope;
  const k = inner.allocate(name);
  const fresh = k > 0 ? `${name}${k}` : name;
  return `${SCOPES.map((s) => s.toString()).join('/')}/${fresh}`;
}

/**
 * Make a function or a loop a name scope (Pyro's `pyro.contrib.autoname.autoname`).
 *
 * - `autoname(fn, {name})`: each call of the returned function runs `fn` in a new entry of the
 *   scope `name` (default `fn.name`), counted in its caller's scope: `f`, `f__1`, ...;
 * - `autoname(iterable, {name})`: the same items, each iteration a new entry of the scope
 *   `name` (default the iterable's `name` property, e.g. a plate's), `time`, `time__1`, ...
 *
 * Use {@link sample} for the sites to name.
 *
 * @example
 * ```ts
 * const f1 = autoname(function f1() { sample(new Bernoulli({ probs: 0.5 })); });
 * const model = autoname(() => {
 *   for (const t of autoname([0, 1, 2], { name: 'time' })) {
 *     sample(new Bernoulli({ probs: 0.5 })); // model/time/Bernoulli, model/time__1/Bernoulli, ...
 *     f1();                                    // model/time/f1/Bernoulli, model/time__1/f1/...
 *   }
 * }, { name: 'model' });
 * ```
 * @throws ArgumentError naming `fn` (neither a function nor an iterable), `name` or the option.
 */
export function autoname<A extends unknown[], R>(fn: Fn<A, R>, options?: AutonameOptions): Fn<A, R>;
export function autoname<T>(iterable: Iterable<T>, options?: AutonameOptions): Iterable<T>;
export function autoname<A extends unknown[], R, T>(
  fn: Fn<A, R> | Iterable<T>,
  options: AutonameOptions = {},
): Fn<A, R> | Iterable<T> {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `autoname: expected an object, got ${String(options)}`);
  }
  checkOptionKeys(options, ['name'], 'autoname');
  if (typeof fn === 'function') {
    const name = checkScopeName(options.name ?? fn.name, 'the function (give name)');
    return (...args: A): R => {
      const s = pushScope(name);
      active++;
      try {
        return fn(...args);
      } finally {
        active--;
        popScope(s);
      }
    };
  }
  const iterable = fn as unknown;
  if (
    iterable === null ||
    typeof iterable !== 'object' ||
    typeof (iterable as Iterable<T>)[Symbol.iterator] !== 'function'
  ) {
    throw new ArgumentError(
      'fn',
      `autoname: expected a function or an iterable, got ${iterable === null ? 'null' : typeof iterable}`,
    );
  }
  const own = (iterable as { name?: unknown }).name;
  const name = checkScopeName(options.name ?? own, 'the loop (give name)');
  const items = iterable as Iterable<T>;
  return {
    *[Symbol.iterator](): Iterator<T> {
      for (const item of items) {
        const s = pushScope(name);
        try {
          yield item;
        } finally {
          popScope(s);
        }
      }
    },
  };
}

/** Options of {@link sample}: `ppl.sample`'s, and the base name when no name is given. */
export interface AutonameSampleOptions extends SampleOptions {
  /** The base name (default the distribution's class name). */
  name?: string;
}

/**
 * A sample site named by {@link genname} (Pyro's `pyro.contrib.autoname.sample`):
 * `sample(name, dist, options)` as `ppl.sample` with the name made unique in its scopes, or
 * `sample(dist, options)` with the base name `options.name` or the distribution's class name.
 * @returns the site's value.
 * @throws ArgumentError naming `dist` or the argument.
 */
export function sample(name: string, dist: Distribution, options?: SampleOptions): tf.Tensor;
export function sample(dist: Distribution, options?: AutonameSampleOptions): tf.Tensor;
export function sample(
  a: string | Distribution,
  b?: Distribution | AutonameSampleOptions,
  c: SampleOptions = {},
): tf.Tensor {
  if (typeof a === 'string') return pplSample(genname(a), b as Distribution, c);
  if (!(a instanceof Distribution)) {
    throw new ArgumentError(
      'dist',
      `autoname.sample: expected a name and a Distribution, or a Distribution, got ${a === null ? 'null' : typeof a}`,
    );
  }
  const o = b ?? {};
  if (o === null || typeof o !== 'object' || o instanceof Distribution) {
    throw new ArgumentError('options', `autoname.sample: expected an options object`);
  }
  const { name, ...rest } = o as AutonameSampleOptions;
  return pplSample(genname(name ?? a.constructor.name), a, rest);
}
