/**
 * The trainer's loop: the layers' one epoch loop ({@link epochLoop}) over seeded mini-batches
 * with one {@link trainStep} per batch, running averages on a progress reporter, validation and a
 * callback (checkpointing, logs) after every epoch, a cooperative stop after any step and a start
 * in the middle of an epoch. Pure TF.js (no file system): the Node runner (`app/train.ts`) adds
 * files and signals.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError, DeepProbError } from '../utils/errors.js';
import { checkFunction, integerOption, optionsObject } from '../utils/options.js';
import { Batcher } from '../data/batcher.js';
import { epochLoop, type EpochTotals, type LoopPosition } from '../layers/fit_loop.js';
import type { EvalResult } from './evaluate.js';
import type { TrainLoss } from './loss.js';
import type { ProgressReporter } from './progress.js';
import { checkTrainer, trainableVariables, uncheckedStep } from './step.js';
import { checkSetsAgainstModel } from './set_checks.js';

/** Metrics of one epoch (train averages are per image over the epoch). */
export interface EpochRecord {
  [key: string]: number | string | undefined;
  /** Epoch number, 1-based. */
  epoch: number;
  /** Optimizer steps done after this epoch. */
  step: number;
  trainLoss: number;
  trainNll: number;
  trainKl: number;
  trainAccuracy: number;
  /** Training throughput of this epoch. */
  imagesPerSec: number;
  /** Wall time of the training part of the epoch. */
  trainSeconds: number;
  /** Wall time of validation. */
  evalSeconds?: number;
  testAccuracy?: number;
  testAccuracyMean?: number;
  testAccuracyMc?: number;
  testNll?: number;
  testEntropy?: number;
  testMutualInformation?: number;
  testEvidentialUncertainty?: number;
  mcSamples?: number;
}

/** Options of {@link fit}. */
export interface FitOptions {
  /** The optimizer (its state carries over between calls). */
  optimizer: tf.Optimizer;
  /** The objective. */
  loss: TrainLoss;
  /** Training batches. */
  train: Batcher;
  /** Last epoch to run (exclusive upper bound of 0-based epochs). */
  epochs: number;
  /** First 0-based epoch (resume), default 0. */
  initialEpoch?: number;
  /** Steps already done (resume), default 0. */
  initialStep?: number;
  /** Batches of `initialEpoch` already trained (resume in the middle of an epoch), default 0. */
  initialBatch?: number;
  /** Totals of those batches (so that the epoch's averages cover the whole epoch). */
  initialTotals?: EpochTotals;
  /** Progress display (default none). */
  progress?: ProgressReporter;
  /**
   * Called before each epoch with the batch it starts at (0 unless resumed mid-epoch), e.g. to
   * re-seed weight sampling.
   */
  onEpochStart?: (epoch: number, firstBatch: number) => void;
  /** Validation after each epoch. */
  validate?: (epoch: number) => Promise<EvalResult | undefined>;
  /** Called with each epoch's record (checkpoints, logs). */
  onEpochEnd?: (record: EpochRecord) => Promise<void> | void;
  /** Stop an epoch after this many batches (smoke tests), default all. */
  maxBatchesPerEpoch?: number;
  /** Checked after every step: true stops training there (graceful stop). */
  shouldStop?: () => boolean;
  /** Called once when `shouldStop` ended training, with the position to resume from. */
  onStop?: (position: LoopPosition) => Promise<void> | void;
}

/**
 * Train `model` for epochs `initialEpoch .. epochs - 1` (from batch `initialBatch` of the first)
 * with the layers' one loop ({@link epochLoop}) and one step ({@link trainStep}).
 *
 * @returns the records of the epochs completed.
 * @throws ArgumentError before the first step naming the option (an unknown key, `epochs`,
 *   `train` not a `data.Batcher`, `optimizer`, `loss`, `initialEpoch`/`initialBatch`/
 *   `initialStep`/`maxBatchesPerEpoch` out of range, `initialTotals` not the totals `onStop`
 *   reported, `progress` not a reporter, a callback not a function), `model` (fewer
 *   than 2 class outputs), or `train` again when its images are not the model's input shape or
 *   its labels not among the model's classes.
 * @example
 * ```ts
 * const records = await fit(net, { optimizer: tf.train.adam(1e-3), loss: crossEntropyLoss(),
 *   train: new Batcher(trainSet, { batchSize: 64, seed: 1 }), epochs: 5 });
 * ```
 */
export async function fit(model: tf.LayersModel, options: FitOptions): Promise<EpochRecord[]> {
  checkFitOptions(model, options);
  const { optimizer, loss, train, epochs } = options;
  const progress = options.progress;
  const vars = trainableVariables(model);
  const perEpoch = Math.min(train.numBatches, options.maxBatchesPerEpoch ?? Infinity);
  const records: EpochRecord[] = [];
  let t0 = performance.now();
  let nStart: number | undefined;
  const { stopped } = await epochLoop({
    source: train,
    epochs,
    numBatches: perEpoch,
    start: {
      epoch: options.initialEpoch ?? 0,
      batch: options.initialBatch ?? 0,
      step: options.initialStep ?? 0,
      ...(options.initialTotals !== undefined ? { totals: options.initialTotals } : {}),
    },
    step: (batch, ctx) => {
      const s = uncheckedStep(model, optimizer, loss, batch.x, batch.y as tf.Tensor1D, ctx, vars);
      if (!Number.isFinite(s.loss)) {
        progress?.stop();
        throw new DeepProbError(
          `training diverged: loss ${s.loss} at epoch ${ctx.epoch + 1}, batch ${ctx.step + 1} ` +
            '(lower --lr, or check --kl-weight and the prior)',
        );
      }
      return s;
    },
    onEpochStart: (epoch, firstBatch) => {
      options.onEpochStart?.(epoch, firstBatch);
      progress?.start(`epoch ${epoch + 1}/${epochs}`, perEpoch);
      t0 = performance.now();
      nStart = undefined;
    },
    onStep: (p, stats) => {
      const secs = (performance.now() - t0) / 1000;
      const t = p.totals;
      nStart ??= t.n - stats.size;
      progress?.update(p.batch, {
        loss: t.loss / t.n,
        nll: t.nll / t.n,
        kl: t.kl / t.n,
        acc: t.correct / t.n,
        ips: (t.n - nStart) / Math.max(secs, 1e-9),
      });
    },
    onEpochEnd: async (epoch, totals, step) => {
      progress?.stop();
      const trainSeconds = (performance.now() - t0) / 1000;
      const n = Math.max(1, totals.n);
      const trained = totals.n - (nStart ?? totals.n);
      const record: EpochRecord = {
        epoch: epoch + 1,
        step,
        trainLoss: totals.loss / n,
        trainNll: totals.nll / n,
        trainKl: totals.kl / n,
        trainAccuracy: totals.correct / n,
        imagesPerSec: trained / Math.max(trainSeconds, 1e-9),
        trainSeconds,
      };
      if (options.validate !== undefined) {
        const e0 = performance.now();
        const r = await options.validate(epoch);
        if (r !== undefined) addEvaluation(record, r, (performance.now() - e0) / 1000);
      }
      records.push(record);
      await options.onEpochEnd?.(record);
    },
    ...(options.shouldStop !== undefined ? { shouldStop: options.shouldStop } : {}),
  });
  if (stopped !== undefined) {
    progress?.stop();
    await options.onStop?.(stopped);
  }
  return records;
}

/** The options of {@link fit}. */
const FIT_OPTIONS = [
  'optimizer',
  'loss',
  'train',
  'epochs',
  'initialEpoch',
  'initialStep',
  'initialBatch',
  'initialTotals',
  'progress',
  'onEpochStart',
  'validate',
  'onEpochEnd',
  'maxBatchesPerEpoch',
  'shouldStop',
  'onStop',
];

/**
 * Check {@link fit}'s model and options before the first step: the option names, the optimizer
 * and loss, the batcher's images against the model's input and its labels against the model's
 * classes, the epoch and resume counters, the callbacks.
 * @throws ArgumentError naming the option (or `model`).
 */
function checkFitOptions(model: tf.LayersModel, options: FitOptions): void {
  if (options === undefined) throw new ArgumentError('options', 'expected the options of fit');
  optionsObject(options, FIT_OPTIONS, 'fit');
  const { train, epochs } = options;
  if (typeof epochs !== 'number' || !Number.isInteger(epochs) || epochs < 0) {
    throw new ArgumentError('epochs', `expected a non-negative integer, got ${String(epochs)}`);
  }
  if (!(train instanceof Batcher)) {
    throw new ArgumentError('train', `expected a data.Batcher, got ${String(train)}`);
  }
  const initialEpoch = integerOption(options.initialEpoch, 'initialEpoch', 0, 0);
  if (initialEpoch > epochs) {
    throw new ArgumentError(
      'initialEpoch',
      `expected at most epochs (${epochs}), got ${initialEpoch}`,
    );
  }
  integerOption(options.initialStep, 'initialStep', 0, 0);
  const batch = integerOption(options.initialBatch, 'initialBatch', 0, 0);
  if (batch > train.numBatches) {
    throw new ArgumentError(
      'initialBatch',
      `expected at most the ${train.numBatches} batches of an epoch, got ${batch}`,
    );
  }
  integerOption(options.maxBatchesPerEpoch, 'maxBatchesPerEpoch', 1, 1);
  for (const k of ['onEpochStart', 'validate', 'onEpochEnd', 'shouldStop', 'onStop'] as const) {
    if (options[k] !== undefined) checkFunction(options[k], k);
  }
  checkProgress(options.progress);
  if (options.initialTotals !== undefined) checkTotals(options.initialTotals);
  checkTrainer(model, options.optimizer, options.loss);
  checkSetsAgainstModel(model, train.inputShape, [train.set], { shape: 'train', labels: 'train' });
}

/**
 * A progress reporter: an object with the functions `start`, `update` and `stop` (what the loop
 * calls).
 * @throws ArgumentError naming `progress` otherwise.
 */
function checkProgress(progress: unknown): void {
  if (progress === undefined) return;
  const missing =
    progress === null || typeof progress !== 'object'
      ? ['start', 'update', 'stop']
      : (['start', 'update', 'stop'] as const).filter(
          (k) => typeof (progress as Record<string, unknown>)[k] !== 'function',
        );
  if (missing.length > 0) {
    throw new ArgumentError(
      'progress',
      `expected a ProgressReporter {start, update, stop}, got ${typeof progress === 'object' && progress !== null ? `an object without ${missing.join(', ')}` : String(progress)}`,
    );
  }
}

/**
 * The running totals of a resumed epoch: finite numbers `loss`, `nll`, `kl`, and counts
 * `correct`, `n`, `steps` (integers >= 0).
 * @throws ArgumentError naming `initialTotals` otherwise.
 */
function checkTotals(t: unknown): void {
  const o = t as Record<string, unknown> | null;
  const ok =
    o !== null &&
    typeof o === 'object' &&
    (['loss', 'nll', 'kl'] as const).every(
      (k) => typeof o[k] === 'number' && Number.isFinite(o[k]),
    ) &&
    (['correct', 'n', 'steps'] as const).every(
      (k) => typeof o[k] === 'number' && Number.isInteger(o[k]) && (o[k] as number) >= 0,
    );
  if (!ok) {
    throw new ArgumentError(
      'initialTotals',
      `expected {loss, nll, kl: finite numbers; correct, n, steps: integers >= 0} (the totals onStop reported), got ${JSON.stringify(t)}`,
    );
  }
}

/** Copy an evaluation into an epoch record. */
function addEvaluation(record: EpochRecord, r: EvalResult, seconds: number): void {
  record.evalSeconds = seconds;
  record.testAccuracy = r.accuracy;
  record.testNll = r.nll;
  record.testEntropy = r.entropy;
  if (r.accuracyMean !== undefined) record.testAccuracyMean = r.accuracyMean;
  if (r.accuracyMc !== undefined) record.testAccuracyMc = r.accuracyMc;
  if (r.mutualInformation !== undefined) record.testMutualInformation = r.mutualInformation;
  if (r.mcSamples !== undefined) record.mcSamples = r.mcSamples;
  if (r.evidentialUncertainty !== undefined) {
    record.testEvidentialUncertainty = r.evidentialUncertainty;
  }
}
