/**
 * Names of the GP modules (Pyro's `pyro.contrib.gp` `Parameterized` names): the prefix of their
 * parameters and sites, unique in the program unless given (`base`, `base_1`, `base_2`, ...).
 */
import { ArgumentError } from '../../../utils/errors.js';

/** How many modules of each base name were named so far. */
const nameCounts = new Map<string, number>();

/**
 * A module name not handed out before in this program: `base`, then `base_1`, `base_2`, ...
 * (so two kernels of one class never share parameters unless given the same `name`).
 * @internal
 */
export function uniqueName(base: string): string {
  const n = nameCounts.get(base) ?? 0;
  nameCounts.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

/** Check a module name option (a non-empty string) or make a unique one from `base`. @internal */
export function moduleName(name: unknown, base: string): string {
  if (name === undefined) return uniqueName(base);
  if (typeof name !== 'string' || name.length === 0) {
    throw new ArgumentError('name', `expected a non-empty string, got ${String(name)}`);
  }
  return name;
}
