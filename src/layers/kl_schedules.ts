/**
 * KL-weight schedules `beta` of the minibatch ELBO, in BayesianCNN's convention
 * (`metrics.get_beta`): the loss of minibatch `i` (1-based) of `M` is
 *
 * $$\mathcal L_i = \mathrm{NLL}_i + \beta_i\,\mathrm{KL}/N$$
 *
 * (BayesianCNN's `N * NLL_i + beta_i * KL`, divided by the data-set size `N`; see `ELBOLoss`).
 * `beta = 1` is the exact negative ELBO per example; Blundell's and the uniform schedule spread
 * one KL over the `M` minibatches of an epoch (their epoch average is `1/M`).
 *
 * - {@link constantKL}: `beta_i = c`.
 * - {@link blundellKL}: `beta_i = 2^(M-i) / (2^M - 1)` (Blundell et al. 2015, eq. 9): early
 *   minibatches carry most of the KL; sums to 1 over the epoch.
 * - {@link uniformKL}: `beta_i = 1/M` (BayesianCNN's "Standard").
 * - {@link soenderbyKL}: linear warm-up (Sønderby et al. 2016),
 *   `beta = min(1, epoch / warmupEpochs)` with 0-based epochs; BayesianCNN uses
 *   `warmupEpochs = floor(numEpochs / 4)`.
 */
import { ArgumentError } from '../utils/errors.js';
import { booleanOption, optionsObject } from '../utils/options.js';
import type { StepContext } from './step_context.js';

/** Where training is when the weight is asked for (the trainer's {@link StepContext}). */
export type KLScheduleContext = StepContext;

/** A KL-weight schedule: `beta` for a minibatch. */
export type KLSchedule = (ctx: KLScheduleContext) => number;

/** A schedule given by value: a number (constant), a name, or a function. */
export type KLScheduleSpec =
  number | 'blundell' | 'uniform' | 'standard' | 'soenderby' | 'constant' | KLSchedule;

/**
 * Constant weight `beta = c` (`c = 1`: the exact ELBO).
 * @param c a finite number >= 0. Default 1.
 */
export function constantKL(c = 1): KLSchedule {
  if (typeof c !== 'number' || !Number.isFinite(c) || c < 0) {
    throw new ArgumentError('klWeight', `expected a finite number >= 0, got ${String(c)}`);
  }
  return () => c;
}

function checkCtx(ctx: KLScheduleContext): void {
  if (!Number.isInteger(ctx.numBatches) || ctx.numBatches < 1) {
    throw new ArgumentError(
      'numBatches',
      `expected an integer >= 1, got ${String(ctx.numBatches)}`,
    );
  }
  if (!Number.isInteger(ctx.step) || ctx.step < 0 || ctx.step >= ctx.numBatches) {
    throw new ArgumentError(
      'step',
      `expected the minibatch index in [0, ${ctx.numBatches - 1}], got ${String(ctx.step)}`,
    );
  }
}

/**
 * Blundell et al.'s schedule `beta_i = 2^(M-i) / (2^M - 1)`, `i = step + 1`; computed as
 * `2^-i / (1 - 2^-M)` so that it stays finite for any `M`.
 * @example
 * ```ts
 * blundellKL()({ step: 0, numBatches: 2, epoch: 0 }); // 2/3
 * ```
 */
export function blundellKL(): KLSchedule {
  return (ctx) => {
    checkCtx(ctx);
    const i = ctx.step + 1;
    return Math.pow(2, -i) / (1 - Math.pow(2, -ctx.numBatches));
  };
}

/** The uniform schedule `beta_i = 1/M`. */
export function uniformKL(): KLSchedule {
  return (ctx) => {
    checkCtx(ctx);
    return 1 / ctx.numBatches;
  };
}

/** Options of {@link soenderbyKL}. */
export interface SoenderbyOptions {
  /** Epochs of warm-up. Default `max(1, floor(numEpochs / 4))` (BayesianCNN). */
  warmupEpochs?: number;
  /** Ramp within epochs too: `beta = min(1, (epoch + step/M) / warmupEpochs)`. Default false. */
  perStep?: boolean;
}

/**
 * Sønderby et al.'s linear warm-up `beta = min(1, epoch / warmupEpochs)` (0 in the first epoch).
 * @throws ArgumentError for an unknown option, `warmupEpochs` not > 0 or `perStep` not a boolean,
 *   and (at a step) when neither `warmupEpochs` nor the context's `numEpochs` is known.
 */
export function soenderbyKL(options: SoenderbyOptions = {}): KLSchedule {
  optionsObject(options, ['warmupEpochs', 'perStep'], 'soenderbyKL');
  booleanOption(options.perStep, 'perStep', false);
  // an infinite warm-up would keep the KL weight at 0 for ever
  if (
    options.warmupEpochs !== undefined &&
    !(options.warmupEpochs > 0 && Number.isFinite(options.warmupEpochs))
  ) {
    throw new ArgumentError(
      'warmupEpochs',
      `expected a finite number > 0, got ${options.warmupEpochs}`,
    );
  }
  return (ctx) => {
    let warm = options.warmupEpochs;
    if (warm === undefined) {
      if (ctx.numEpochs === undefined) {
        throw new ArgumentError(
          'numEpochs',
          "the 'soenderby' KL schedule needs numEpochs (or warmupEpochs) to be known",
        );
      }
      warm = Math.max(1, Math.floor(ctx.numEpochs / 4));
    }
    const t = options.perStep === true ? ctx.epoch + ctx.step / ctx.numBatches : ctx.epoch;
    return Math.min(1, t / warm);
  };
}

/**
 * The one parser of a KL weight as users write it (API, `--kl-weight`, a saved configuration):
 * a finite number >= 0 or its decimal string (`'0.1'`, `'1e-3'`), a schedule name
 * (`'blundell'`, `'uniform'` = `'standard'`, `'soenderby'`, `'constant'` = 1; any letter case, so
 * BayesianCNN's `'Blundell'`, `'Soenderby'`, `'Standard'` are these) or a function.
 * @param spec the weight; undefined means 1 (the exact ELBO).
 * @returns the spec with a numeric string turned into its number.
 * @throws ArgumentError naming `klWeight` for anything else (negative, non-finite, unknown name).
 */
export function parseKLWeight(spec: KLScheduleSpec | string | undefined): KLScheduleSpec {
  if (spec === undefined) return 1;
  if (typeof spec === 'function') return spec;
  if (typeof spec === 'string' && spec.trim() !== '' && !Number.isNaN(Number(spec))) {
    spec = Number(spec);
  }
  if (typeof spec === 'number') {
    constantKL(spec);
    return spec;
  }
  // BayesianCNN's spelling (`beta_type = 'Blundell' | 'Soenderby' | 'Standard'`) is the same name
  const name = typeof spec === 'string' ? spec.toLowerCase() : spec;
  if (
    name === 'blundell' ||
    name === 'uniform' ||
    name === 'standard' ||
    name === 'soenderby' ||
    name === 'constant'
  ) {
    return name;
  }
  throw new ArgumentError(
    'klWeight',
    `expected a number >= 0, a function or one of 'blundell', 'uniform', 'soenderby', 'constant', got '${String(spec)}'`,
  );
}

/**
 * A schedule from a KL weight as {@link parseKLWeight} reads it.
 * @throws ArgumentError naming `klWeight` for anything else.
 */
export function klSchedule(spec: KLScheduleSpec | string | undefined): KLSchedule {
  const w = parseKLWeight(spec);
  if (typeof w === 'function') return w;
  if (typeof w === 'number') return constantKL(w);
  switch (w) {
    case 'blundell':
      return blundellKL();
    case 'uniform':
    case 'standard':
      return uniformKL();
    case 'soenderby':
      return soenderbyKL();
    default:
      return constantKL(1);
  }
}

/**
 * BayesianCNN's `metrics.get_beta(batch_idx, m, beta_type, epoch, num_epochs)`: the KL weight of
 * minibatch `batchIdx` (0-based) of `m`, with the repository's names:
 *
 * - a number: that weight;
 * - `'Blundell'`: `beta = 2^(m - (batchIdx + 1)) / (2^m - 1)`;
 * - `'Soenderby'`: `beta = min(epoch / floor(numEpochs / 4), 1)` (the floor is taken as at least 1,
 *   where the reference divides by zero for `numEpochs < 4`);
 * - `'Standard'`: `beta = 1 / m`.
 *
 * Names are read in any letter case (and `'uniform'`, `'constant'` = 1 as {@link klSchedule});
 * an unknown name is refused (the reference silently returns 0).
 *
 * @param batchIdx the minibatch index in `[0, m - 1]`.
 * @param m minibatches per epoch.
 * @param betaType the weight or the schedule's name.
 * @param epoch the epoch (0-based), needed by `'Soenderby'`.
 * @param numEpochs the epochs of the run, needed by `'Soenderby'`.
 * @throws ArgumentError naming `klWeight`, `step` (batchIdx), `numBatches` (m), `epoch` or
 *   `numEpochs`.
 * @example
 * ```ts
 * getBeta(0, 3, 'Blundell'); // 4/7
 * getBeta(5, 10, 'Soenderby', 2, 20); // 0.4
 * ```
 */
export function getBeta(
  batchIdx: number,
  m: number,
  betaType: KLScheduleSpec | string,
  epoch?: number,
  numEpochs?: number,
): number {
  const schedule = klSchedule(betaType);
  if (!Number.isInteger(m) || m < 1) {
    throw new ArgumentError('numBatches', `expected an integer >= 1, got ${String(m)}`);
  }
  if (!Number.isInteger(batchIdx) || batchIdx < 0 || batchIdx >= m) {
    throw new ArgumentError(
      'step',
      `expected the minibatch index in [0, ${m - 1}], got ${String(batchIdx)}`,
    );
  }
  if (epoch !== undefined && (!Number.isInteger(epoch) || epoch < 0)) {
    throw new ArgumentError('epoch', `expected an integer >= 0, got ${String(epoch)}`);
  }
  if (numEpochs !== undefined && (!Number.isInteger(numEpochs) || numEpochs < 1)) {
    throw new ArgumentError('numEpochs', `expected an integer >= 1, got ${String(numEpochs)}`);
  }
  if (
    typeof betaType === 'string' &&
    betaType.toLowerCase() === 'soenderby' &&
    epoch === undefined
  ) {
    throw new ArgumentError('epoch', "the 'Soenderby' KL weight needs the epoch (and numEpochs)");
  }
  const ctx: KLScheduleContext = { step: batchIdx, numBatches: m, epoch: epoch ?? 0 };
  if (numEpochs !== undefined) ctx.numEpochs = numEpochs;
  return schedule(ctx);
}
