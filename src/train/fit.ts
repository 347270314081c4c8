/**
 * The training loop: epochs of seeded mini-batches, one optimizer step per batch, running
 * averages on a progress reporter, validation and a callback (checkpointing, logs) after every
 * epoch. Pure TF.js (no file system): the Node runner ({@link runTraining}) adds files.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import type { Batcher } from '../data/batcher.js';
import type { EvalResult } from './evaluate.js';
import type { TrainLoss } from './loss.js';
import type { ProgressReporter } from './progress.js';
import { trainStep, trainableVariables } from './step.js';

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
  /** Progress display (default none). */
  progress?: ProgressReporter;
  /** Called before each epoch, e.g. to re-seed weight sampling. */
  onEpochStart?: (epoch: number) => void;
  /** Validation after each epoch. */
  validate?: (epoch: number) => Promise<EvalResult | undefined>;
  /** Called with each epoch's record (checkpoints, logs). */
  onEpochEnd?: (record: EpochRecord) => Promise<void> | void;
  /** Stop an epoch after this many batches (smoke tests), default all. */
  maxBatchesPerEpoch?: number;
}

/**
 * Train `model` for epochs `initialEpoch .. epochs - 1`.
 *
 * @returns the records of the epochs run.
 * @example
 * ```ts
 * const records = await fit(net, { optimizer: tf.train.adam(1e-3), loss: crossEntropyLoss(),
 *   train: new Batcher(trainSet, { batchSize: 64, seed: 1 }), epochs: 5 });
 * ```
 */
export async function fit(model: tf.LayersModel, options: FitOptions): Promise<EpochRecord[]> {
  const { optimizer, loss, train, epochs } = options;
  const first = options.initialEpoch ?? 0;
  if (!Number.isInteger(epochs) || epochs < 0) {
    throw new ArgumentError('epochs', `expected a non-negative integer, got ${epochs}`);
  }
  const progress = options.progress;
  const vars = trainableVariables(model);
  const perEpoch = Math.min(train.numBatches, options.maxBatchesPerEpoch ?? Infinity);
  let step = options.initialStep ?? 0;
  const records: EpochRecord[] = [];
  for (let epoch = first; epoch < epochs; epoch++) {
    options.onEpochStart?.(epoch);
    progress?.start(`epoch ${epoch + 1}/${epochs}`, perEpoch);
    const sums = { loss: 0, nll: 0, kl: 0, correct: 0, n: 0 };
    const t0 = performance.now();
    let b = 0;
    for (const batch of train.batches(epoch)) {
      if (b >= perEpoch) {
        batch.dispose();
        break;
      }
      let s;
      try {
        s = trainStep(
          model,
          optimizer,
          loss,
          batch.x,
          batch.y,
          { step: b, epoch, numBatches: perEpoch, numEpochs: epochs, globalStep: step },
          vars,
        );
      } finally {
        batch.dispose();
      }
      if (!Number.isFinite(s.loss)) {
        progress?.stop();
        throw new Error(
          `training diverged: loss ${s.loss} at epoch ${epoch + 1}, batch ${b + 1} (lower --lr?)`,
        );
      }
      sums.loss += s.loss * s.size;
      sums.nll += s.nll * s.size;
      sums.kl += s.kl * s.size;
      sums.correct += s.correct;
      sums.n += s.size;
      step++;
      b++;
      const secs = (performance.now() - t0) / 1000;
      progress?.update(b, {
        loss: sums.loss / sums.n,
        nll: sums.nll / sums.n,
        kl: sums.kl / sums.n,
        acc: sums.correct / sums.n,
        ips: sums.n / Math.max(secs, 1e-9),
      });
      // Let timers (progress redraws, signals) run between steps.
      await new Promise((r) => setTimeout(r, 0));
    }
    progress?.stop();
    const trainSeconds = (performance.now() - t0) / 1000;
    const n = Math.max(1, sums.n);
    const record: EpochRecord = {
      epoch: epoch + 1,
      step,
      trainLoss: sums.loss / n,
      trainNll: sums.nll / n,
      trainKl: sums.kl / n,
      trainAccuracy: sums.correct / n,
      imagesPerSec: sums.n / Math.max(trainSeconds, 1e-9),
      trainSeconds,
    };
    if (options.validate !== undefined) {
      const e0 = performance.now();
      const r = await options.validate(epoch);
      if (r !== undefined) {
        record.evalSeconds = (performance.now() - e0) / 1000;
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
    }
    records.push(record);
    await options.onEpochEnd?.(record);
  }
  return records;
}
