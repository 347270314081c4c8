/** Option parsers shared by the subcommands: they fail with the option's name and the expected form. */
import { InvalidArgumentError } from 'commander';
import { cellPercent } from '../utils/text_table.js';
import {
  checkRange,
  OPTION_RANGES,
  rangeText,
  type OptionRange,
  type RangedOption,
} from '../app/option_ranges.js';
import { parseKLWeight } from '../layers/kl_schedules.js';
import {
  DEFAULT_ESTIMATOR,
  ESTIMATOR_NAMES,
  type Estimator,
} from '../layers/estimator_registry.js';

/** A decimal number as written on a command line: digits, an optional fraction and exponent. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * The number a flag's value spells in decimal notation (`12`, `-0.5`, `1e-3`, surrounding blanks
 * ignored), else `NaN`: JavaScript's `Number` also reads `0x10` (16), `0b1`, `0o7` and `''` (0),
 * which no other CLI (argparse's `int`/`float`, commander's examples) takes for a count or a rate.
 *
 * @param value the flag's text.
 * @returns the number, or NaN when `value` is not a decimal number.
 * @example
 * ```ts
 * decimal('1e-3'); // 0.001
 * decimal('0x10'); // NaN
 * ```
 */
export function decimal(value: string): number {
  const v = value.trim();
  return DECIMAL.test(v) ? Number(v) : NaN;
}

/** Parse a positive integer option value. */
export function positiveInt(value: string): number {
  const n = decimal(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  }
  return n;
}

/** Parse an integer option value. */
export function integer(value: string): number {
  const n = decimal(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`expected an integer, got '${value}'`);
  return n;
}

/** Parse a finite number option value. */
export function finiteNumber(value: string): number {
  const n = decimal(value);
  if (value.trim() === '' || !Number.isFinite(n)) {
    throw new InvalidArgumentError(`expected a number, got '${value}'`);
  }
  return n;
}

/** Parse a number > 0. */
export function positiveNumber(value: string): number {
  const n = finiteNumber(value);
  if (!(n > 0)) throw new InvalidArgumentError(`expected a number > 0, got '${value}'`);
  return n;
}

/**
 * The parser of a ranged option: a number (an integer where the range says so) inside
 * {@link OPTION_RANGES}`[name]`, else commander's error naming the option and the range.
 * @param name the option name without dashes.
 * @example
 * ```ts
 * program.option('--epochs <n>', help('epochs to train', 'epochs'), ranged('epochs'), 5);
 * ```
 */
export function ranged(name: RangedOption): (value: string) => number {
  return (value: string) => {
    const n = decimal(value);
    try {
      checkRange(name, n);
    } catch {
      const r: OptionRange = OPTION_RANGES[name];
      throw new InvalidArgumentError(
        `expected ${r.integer === true ? 'an integer' : 'a number'} in ${rangeText(name).replace(' integer', '')}, got '${value}'`,
      );
    }
    return n;
  };
}

/** The value of `--input-size`: one side for square inputs, or `[height, width]`. */
export type InputSize = number | [number, number];

/**
 * The parser of `--input-size`: `n` (square `n x n` inputs) or `HxW` (e.g. `28x56`; `x` or `X`),
 * each side an integer in the `input-size` range.
 */
export function inputSizeOption(value: string): InputSize {
  const parts = value.trim().split(/[xX]/);
  if (parts.length === 1) return ranged('input-size')(value);
  if (parts.length !== 2) {
    throw new InvalidArgumentError(
      `expected a side n or height x width HxW (e.g. 28x56), got '${value}'`,
    );
  }
  const side = ranged('input-size');
  const sides: [number, number] = [side(parts[0] as string), side(parts[1] as string)];
  return sides[0] === sides[1] ? sides[0] : sides;
}

/** A help line with the option's range appended: `'<what> (range [1, 100000] integer)'`. */
export function help(what: string, name: RangedOption): string {
  return `${what}; range ${rangeText(name)}`;
}

/**
 * The parser of `--kl-weight`: a number in the `kl-weight` range, or a schedule name of the
 * layers (`blundell | uniform | standard | soenderby | constant`, see `parseKLWeight`).
 */
export function klWeightOption(value: string): string {
  const v = value.trim();
  if (/^[a-z-]+$/i.test(v)) {
    try {
      parseKLWeight(v);
    } catch {
      throw new InvalidArgumentError(
        `expected a number or blundell | uniform | standard | soenderby | constant, got '${value}'`,
      );
    }
    // BayesianCNN's spelling ('Blundell', 'Soenderby', 'Standard') is the same schedule
    return v.toLowerCase();
  }
  ranged('kl-weight')(v);
  return v;
}

/** A parser accepting one of `choices`. */
export function oneOf<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value: string) => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, got '${value}'`);
    }
    return value as T;
  };
}

/** Format a fraction as a percentage with two decimals (`n/a` when not finite, `-` when absent). */
export function pct(v: number | undefined): string {
  return cellPercent(v, 2);
}

/**
 * `--estimator <name>` without a commander default, for commands where the model's recipe
 * decides it when left out (`deepprob train`, the queue's training jobs).
 * @param what the start of its help line.
 */
export function recipeEstimatorOption(
  what: string,
): [string, string, (value: string) => Estimator] {
  const [flag, text, parse] = estimatorOption(what);
  return [flag, `${text} (default: the model's recipe, else ${DEFAULT_ESTIMATOR})`, parse];
}

/**
 * The arguments of commander's `.option(...)` for `--estimator <name>`: a registered estimator of
 * the layers' registry (`reparam | local | flipout`, read in any letter case), default
 * {@link DEFAULT_ESTIMATOR}.
 * @param what the start of its help line (e.g. `'Bayesian estimator'`).
 * @example
 * ```ts
 * program.command('train').option(...estimatorOption('Bayesian estimator'));
 * ```
 */
export function estimatorOption(
  what: string,
): [string, string, (value: string) => Estimator, Estimator] {
  return [
    '--estimator <name>',
    `${what}: ${ESTIMATOR_NAMES.join(' | ')}`,
    // in any letter case, as --kl-weight's schedule names (`--estimator Flipout`)
    (value: string) => {
      const name = value.trim().toLowerCase();
      return (ESTIMATOR_NAMES as readonly string[]).includes(name)
        ? (name as Estimator)
        : oneOf(ESTIMATOR_NAMES)(value);
    },
    DEFAULT_ESTIMATOR,
  ];
}
