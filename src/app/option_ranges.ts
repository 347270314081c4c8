/**
 * The documented ranges of the numeric options of the runners and the CLI: one table read by the
 * CLI's parsers and `--help`, by `checkConfig` (so that the API and a checkpoint's saved
 * configuration obey them too) and by docs/guides/cli.md.
 */
import { ArgumentError } from '../utils/errors.js';

/** The documented range of a numeric option (inclusive bounds unless `open`). */
export interface OptionRange {
  /** Smallest accepted value. */
  min: number;
  /** Largest accepted value. */
  max: number;
  /** Integers only. */
  integer?: boolean;
  /** `min` itself is excluded (`(min, max]`). */
  openMin?: boolean;
  /** `max` itself is excluded. */
  openMax?: boolean;
  /** Why these bounds (shown in docs/guides/cli.md). */
  why: string;
}

/**
 * The range of every numeric option of every command, by option name (one table: the parsers,
 * `--help` and docs/guides/cli.md read it; `test/cli/ranges.test.ts` checks that the docs list each); {@link checkConfig} applies them to
 * every configuration, also one read from a checkpoint or given through the API.
 */
export const OPTION_RANGES = {
  epochs: {
    min: 1,
    max: 100_000,
    integer: true,
    why: 'at least one pass; an upper bound that still fits a 32-bit step counter with any batch',
  },
  'batch-size': {
    min: 1,
    max: 65_536,
    integer: true,
    why: 'a batch is one tensor of batch x H x W x C floats; 65,536 MNIST images are 270 MB',
  },
  lr: {
    min: 1e-8,
    max: 1,
    why: "Adam's step is about lr per weight: below 1e-8 nothing moves in float32, above 1 every weight jumps past its scale",
  },
  'lr-decay': {
    min: 0,
    max: 1,
    openMin: true,
    why: 'a factor per epoch: 1 keeps the rate, values in (0, 1) decay it',
  },
  'mc-samples': {
    min: 1,
    max: 10_000,
    integer: true,
    why: 'forward passes per test batch; the Monte Carlo error falls as 1/sqrt(S), 10,000 is far past any use',
  },
  seed: { min: 0, max: 4_294_967_295, integer: true, why: 'seeds are unsigned 32-bit integers' },
  limit: { min: 1, max: 1e9, integer: true, why: 'a count of images' },
  'test-limit': { min: 1, max: 1e9, integer: true, why: 'a count of images' },
  'ood-limit': { min: 1, max: 1e9, integer: true, why: 'a count of images' },
  'train-limit': { min: 1, max: 1e9, integer: true, why: 'a count of images' },
  calibration: { min: 1, max: 1e9, integer: true, why: 'a count of images' },
  'kl-weight': {
    min: 0,
    max: 1000,
    why: 'beta of NLL + beta KL / N: 1 is the ELBO; beyond 1000 the KL term alone decides the posterior (it collapses to the prior)',
  },
  'prior-mu': {
    min: -10,
    max: 10,
    why: 'the prior mean of network weights: weights of a trained net are O(1), a mean of 10 already forces every weight far from any useful value',
  },
  'prior-sigma': {
    min: 1e-3,
    max: 100,
    why: 'the prior std of weights: below 1e-3 the KL of the initial posterior (std softplus(-3) = 0.049) is over 1,000 nats per weight and training diverges; above 100 the prior is flat for any weight',
  },
  'train-samples': {
    min: 1,
    max: 64,
    integer: true,
    why: 'forward passes per training step (the data term averaged over weight samples): the step costs S times one pass, and past 64 a larger batch buys more',
  },
  'rho-init': {
    min: -20,
    max: 5,
    why: 'the initial posterior std is softplus(rho): from 2e-9 (rho = -20, a point mass in float32) to 5 (rho = 5, noise that swamps any weight)',
  },
  'rho-lr-scale': {
    min: 0.01,
    max: 1000,
    why: "a multiplier of Adam's learning rate for the posterior scales: below 0.01 they stay at their initial value for any run length, above 1000 one step moves rho by more than its whole useful range",
  },
  'input-size': {
    min: 8,
    max: 512,
    integer: true,
    why: 'the image side fed to the model (each model also needs its own minimum: 16 for LeNet-5, 23 for 3Conv3FC, 29 for AlexNet); 512 x 512 is the largest a CPU trainer takes in reasonable time',
  },
  ensemble: { min: 1, max: 100, integer: true, why: 'members trained one after the other' },
  bins: {
    min: 1,
    max: 1000,
    integer: true,
    why: 'calibration bins; more bins than test images per bin make the ECE noise',
  },
  alpha: { min: 0, max: 1, openMin: true, openMax: true, why: 'a miscoverage probability' },
  'swag-epochs': { min: 1, max: 1000, integer: true, why: 'epochs of SGD collected by SWAG' },
  moped: {
    min: 1e-12,
    max: 10,
    why: 'MOPED posterior std delta * abs(w): delta is a relative scale; down to 1e-12, a point mass whose rho = log(expm1(s)) is still finite in float32',
  },
  'posterior-sigma': {
    min: 1e-12,
    max: 10,
    why: 'a posterior std of weights, down to 1e-12 (a point mass, as --moped)',
  },
} as const satisfies Readonly<Record<string, OptionRange>>;

/** The names of the ranged options. */
export type RangedOption = keyof typeof OPTION_RANGES;

/** The range of `name` as text, e.g. `1..100000 (integer)` or `(0, 1]`. */
export function rangeText(name: RangedOption): string {
  const r: OptionRange = OPTION_RANGES[name];
  const lo = r.openMin === true ? '(' : '[';
  const hi = r.openMax === true ? ')' : ']';
  return `${lo}${r.min}, ${r.max}${hi}${r.integer === true ? ' integer' : ''}`;
}

/**
 * Check a value against the range of option `name`.
 * @param name the option (its range in {@link OPTION_RANGES}).
 * @param value the value.
 * @param argument the name used in the error (default the option's).
 * @throws ArgumentError naming `argument` and the range.
 */
export function checkRange(name: RangedOption, value: number, argument: string = name): void {
  const r: OptionRange = OPTION_RANGES[name];
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (r.integer !== true || Number.isInteger(value)) &&
    value >= r.min &&
    value <= r.max &&
    !(r.openMin === true && value === r.min) &&
    !(r.openMax === true && value === r.max);
  if (!ok) {
    throw new ArgumentError(
      argument,
      `expected ${r.integer === true ? 'an integer' : 'a number'} in ${rangeText(name).replace(' integer', '')}, got ${String(value)}`,
    );
  }
}
