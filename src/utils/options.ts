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
