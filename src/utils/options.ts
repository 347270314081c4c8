/**
 * Option-object checks shared by the public constructors: an options object whose keys are not
 * the documented ones (a typo, or Pyro's snake_case name such as `num_warmup`) is an error
 * naming the key, never silently ignored.
 */
import { ArgumentError } from './errors.js';

/** `num_warmup` -> `numWarmup`. */
function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Throw unless every own key of `options` is one of `known` (keys whose value is `undefined`
 * count as absent).
 * @param options the options object given by the caller.
 * @param known the documented option names.
 * @param what the function or class the options belong to, for the message.
 * @throws ArgumentError naming the unknown key, with the camelCase name when it is one of
 *   `known`, else the list of known options.
 * @example
 * ```ts
 * checkOptionKeys({ num_warmup: 500 }, ['numSamples', 'warmupSteps'], 'MCMC');
 * // ArgumentError: num_warmup: not an option of MCMC (options: numSamples, warmupSteps)
 * ```
 */
export function checkOptionKeys(options: object, known: readonly string[], what: string): void {
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || known.includes(key)) continue;
    const camel = camelCase(key);
    const hint = known.includes(camel)
      ? `did you mean ${camel}?`
      : `options: ${[...known].sort().join(', ')}`;
    throw new ArgumentError(key, `not an option of ${what} (${hint})`);
  }
}

/**
 * A boolean option: `dflt` when undefined, else the value, which must be `true` or `false`.
 * @throws ArgumentError naming `name` otherwise.
 */
export function booleanOption(value: unknown, name: string, dflt: boolean): boolean {
  if (value === undefined) return dflt;
  if (typeof value !== 'boolean') {
    throw new ArgumentError(name, `expected true or false, got ${String(value)}`);
  }
  return value;
}

/**
 * The options object of `what`: `{}` when undefined, else a plain object whose keys are all in
 * `known` ({@link checkOptionKeys}).
 * @param options what the caller gave.
 * @param known the documented option names.
 * @param what the function or class, for the message.
 * @param name the argument the error names (default `'options'`).
 * @throws ArgumentError naming `name` when `options` is not an object, or the unknown key.
 * @example
 * ```ts
 * const o = optionsObject(options, ['kind', 'mcSamples'], 'evaluate');
 * ```
 */
export function optionsObject<T extends object>(
  options: T | undefined,
  known: readonly string[],
  what: string,
  name = 'options',
): T {
  if (options === undefined) return {} as T;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ArgumentError(name, `expected an options object of ${what}, got ${String(options)}`);
  }
  checkOptionKeys(options, known, what);
  return options;
}

/**
 * An integer option: `dflt` when undefined, else an integer `>= min`.
 * @param value what the caller gave.
 * @param name the option, for the message.
 * @param dflt the default.
 * @param min the least allowed value (default 1).
 * @throws ArgumentError naming `name` for a non-integer (a string, NaN, 2.5) or a value below `min`.
 * @example
 * ```ts
 * const n = integerOption(options.mcSamples, 'mcSamples', 10); // 0 or 2.5 throw
 * ```
 */
export function integerOption(value: unknown, name: string, dflt: number, min = 1): number {
  if (value === undefined) return dflt;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ArgumentError(name, `expected an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/**
 * A function argument (a callback, a loss).
 * @throws ArgumentError naming `name` with `expected` unless `value` is a function.
 */
export function checkFunction(value: unknown, name: string, expected = 'a function'): void {
  if (typeof value !== 'function') {
    throw new ArgumentError(
      name,
      `expected ${expected}, got ${value === null ? 'null' : typeof value}`,
    );
  }
}
