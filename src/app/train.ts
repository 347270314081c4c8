/**
 * The training runner behind `deepprob train`: datasets from files, a model of the zoo, its
 * objective (cross-entropy, ELBO or evidential), the {@link fit} loop with a progress bar,
 * validation every epoch, atomic checkpoints, JSONL/CSV metric logs and `resume`.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Batcher } from '../data/batcher.js';
import { limitImageSet } from '../data/dataset.js';
import { DEFAULT_ESTIMATOR } from '../layers/estimator_registry.js';
import { setMode } from '../layers/model_utils.js';
import { getModelEntry } from '../models/registry.js';
import { CHECKPOINT_DIR, saveCheckpoint } from '../train/checkpoint.js';
import { evaluate, type EvalResult } from '../train/evaluate.js';
import { fit, type EpochRecord } from '../train/fit.js';
import { klDominanceWarning } from '../train/kl_guard.js';
import { writeMetricLogs } from '../train/metrics_log.js';
import { barProgress, quietProgress } from '../train/progress.js';
import { checkDataDir } from '../data/files.js';
import { ArgumentError, DeepProbError } from '../utils/errors.js';
import { makeDirs } from '../utils/file_io.js';
import { restoreSeedState, seedState, setSeed } from '../utils/seed.js';
import type { LoopPosition } from '../layers/fit_loop.js';
import { TrainingInterrupted, gracefulStop } from './graceful_stop.js';
import {
  checkConfig,
  RUN_OPTION_KEYS,
  TRAIN_CONFIG_KEYS,
  type RunOptions,
  type TrainConfig,
} from './run_config.js';
import { loadSplit, proportionalTestLimit, transformOf } from './run_data.js';
import { checkOptionKeys } from '../utils/options.js';
import { checkSetsAgainstModel, checkSplits } from './data_checks.js';
import { ensureWritableDir, removeCreatedDirs } from './run_dir.js';
import { lockRun, lockRunWaiting, type RunLockHandle } from './run_lock.js';
import { disposeModel } from '../layers/dispose_model.js';
import { checkKindOptions } from './train_kinds.js';
import { resumeRun } from './train_resume.js';
import { createOptimizer, createRunModel, epochSeed, lossOf } from './train_setup.js';
import { cellNumber, cellPercent } from '../utils/text_table.js';

/** Result of {@link runTraining}. */
export interface TrainResult {
  /** The trained model (caller disposes). */
  model: tf.LayersModel;
  /** Every epoch's record (including resumed history). */
  records: EpochRecord[];
  /** The checkpoint directory. */
  checkpoint: string;
  /** The configuration used. */
  config: TrainConfig;
  /** Wall time of this call (seconds). */
  seconds: number;
}

/** Set the learning rate of a tfjs optimizer in place (keeps its state). */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}

const fmtPct = (v: number | undefined): string => cellPercent(v, 2);

/** One line summarising an epoch record. */
export function describeRecord(r: EpochRecord): string {
  const parts = [
    `epoch ${r.epoch}`,
    `loss ${cellNumber(r.trainLoss, 4)} (nll ${cellNumber(r.trainNll, 4)}, kl ${cellNumber(r.trainKl, 4)})`,
    `train acc ${fmtPct(r.trainAccuracy)}`,
    `${cellNumber(r.imagesPerSec, 0)} img/s`,
    `test acc ${fmtPct(r.testAccuracy)}`,
  ];
  if (r.testAccuracyMean !== undefined) parts.push(`mean-weights ${fmtPct(r.testAccuracyMean)}`);
  if (r.testAccuracyMc !== undefined) parts.push(`MC-${r.mcSamples} ${fmtPct(r.testAccuracyMc)}`);
  if (r.testNll !== undefined) parts.push(`test nll ${cellNumber(r.testNll, 4)}`);
  return parts.join(' | ');
}

/**
 * Train a model of the zoo according to `config`, writing `out/checkpoint` every epoch and
 * `out/metrics.{jsonl,csv}`.
 *
 * @param config what to train.
 * @param options `resume`, `quiet`, `log`.
 * @example
 * ```ts
 * const r = await runTraining({ ...TRAIN_DEFAULTS, model: 'bayes-lenet5', out: 'runs/bnn', epochs: 1 });
 * ```
 */
export async function runTraining(
  config: TrainConfig,
  options: RunOptions = {},
): Promise<TrainResult> {
  const t0 = performance.now();
  if (config === null || typeof config !== 'object') {
    throw new ArgumentError('config', `expected a TrainConfig object, got ${String(config)}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `expected an object, got ${String(options)}`);
  }
  // a typo (`epocs`, `resum`) would silently train with the default
  checkOptionKeys(config, TRAIN_CONFIG_KEYS, 'runTraining (TrainConfig)');
  checkOptionKeys(options, RUN_OPTION_KEYS, 'runTraining (RunOptions)');
  const log = options.log ?? (options.quiet === true ? () => {} : (l: string) => console.error(l));
  // a folder is saved as an absolute path: `eval` or `--resume` may run from another directory
  const given: TrainConfig =
    config.dataDir === undefined ? { ...config } : { ...config, dataDir: resolve(config.dataDir) };
  const cfg: TrainConfig = { ...given };
  if (options.force === true && (options.resume === true || options.resumeOrStart === true)) {
    const other = options.resume === true ? '--resume' : '--resume-or-start';
    throw new ArgumentError(
      'force',
      `--force starts the run in ${cfg.out} over, ${other} continues it: give one of them`,
    );
  }
  checkConfig(cfg);
  checkDataDir(config.dataDir, cfg.dataset); // the folder as typed in its message
  if (options.resume === true && options.resumeOrStart !== true && !existsSync(cfg.out)) {
    throw new ArgumentError(
      'resume',
      `${cfg.out} does not exist, so there is no run to resume (train without --resume, or pass --resume-or-start)`,
    );
  }
  const created = ensureWritableDir(cfg.out);
  let lock: RunLockHandle;
  // a takeover (or a lost lock) is told even when quiet, as a replaced corrupt result is
  const lockLog = { log: options.log ?? ((l: string) => console.error(l)) };
  try {
    lock =
      options.waitForLock === true
        ? await lockRunWaiting(cfg.out, lockLog)
        : lockRun(cfg.out, lockLog);
  } catch (e) {
    removeCreatedDirs(created);
    throw e;
  }
  try {
    const held: HeldTensors = {};
    try {
      return await trainOwned(given, cfg, options, log, t0, lock, held);
    } catch (e) {
      // a model loaded or built before the failure (a resume refused after loading, data that
      // does not fit), and a resumed optimizer's state: freed, so that a failing call leaks no
      // tensor
      if (held.model !== undefined) disposeModel(held.model);
      if (held.optimizerState !== undefined) tf.dispose(held.optimizerState);
      throw e;
    }
  } catch (e) {
    // a run refused before its first checkpoint leaves no folder behind
    lock.release();
    removeCreatedDirs(created);
    throw e;
  } finally {
    lock.release();
  }
}

/** What a run has made that a failure before its end must free. */
interface HeldTensors {
  /** The model loaded from the checkpoint or built. */
  model?: tf.LayersModel;
  /** The optimizer's saved state read on resume (disposed once restored or on failure). */
  optimizerState?: tf.Tensor[];
}

/** {@link runTraining} once the run directory is checked and locked. */
async function trainOwned(
  config: TrainConfig,
  start: TrainConfig,
  options: RunOptions,
  log: (line: string) => void,
  t0: number,
  lock: RunLockHandle,
  held: HeldTensors,
): Promise<TrainResult> {
  // a run whose lock another process took over (its lease ran out while this one stalled) must
  // not overwrite that process's checkpoints
  const stillOwned = (): void => {
    const why = lock.lost();
    if (why !== undefined) {
      throw new DeepProbError(
        `${start.out}: this run lost its lock (${why}); stopped without writing a checkpoint`,
      );
    }
  };
  const resumed = await resumeRun(config, start, options, log, held);
  const { cfg, startEpoch, step, history, restoreOptimizer, midEpoch } = resumed;
  held.optimizerState = restoreOptimizer.map((n) => n.tensor);
  checkConfig(cfg);
  const entry = getModelEntry(cfg.model);
  if (options.explicit !== undefined) checkKindOptions(cfg.model, options.explicit);
  const fullTrain = loadSplit(cfg, 'train');
  const trainSet = cfg.limit !== undefined ? limitImageSet(fullTrain, cfg.limit) : fullTrain;
  const fullTest = loadSplit(cfg, 'test');
  // With --limit alone, validate on the same fraction of the test set.
  const testLimit =
    cfg.testLimit ?? proportionalTestLimit(cfg.limit, fullTrain.count, fullTest.count);
  const testSet = testLimit !== undefined ? limitImageSet(fullTest, testLimit) : fullTest;
  checkSplits(trainSet, testSet);
  const transform = transformOf(cfg, trainSet);
  const trainBatches = new Batcher(trainSet, {
    batchSize: cfg.batchSize,
    seed: cfg.seed,
    transform,
  });
  const testBatches = new Batcher(testSet, {
    batchSize: cfg.evalBatchSize ?? 500,
    shuffle: false,
    transform,
  });
  const model: tf.LayersModel =
    resumed.model ?? createRunModel(cfg, entry, trainSet.numClasses, trainBatches.inputShape, held);
  checkSetsAgainstModel(model, trainBatches.inputShape, [trainSet, testSet]);
  const { settings, optimizer } = createOptimizer(cfg, entry.kind, model);
  if (restoreOptimizer.length > 0) {
    await optimizer.setWeights(restoreOptimizer);
  }
  const kind = entry.kind;
  const loss = lossOf(kind, cfg, trainSet.count);
  makeDirs(cfg.out);
  const progress = options.progress ?? (options.quiet === true ? quietProgress() : barProgress());
  if (startEpoch < cfg.epochs)
    log(
      `deepprob: training ${cfg.model}${kind === 'bayesian' ? ` (${cfg.estimator ?? DEFAULT_ESTIMATOR})` : ''} on ` +
        `${trainSet.name} (${trainSet.count} images, input ${trainBatches.inputShape.join('x')}), ` +
        `${model.countParams()} parameters, batch ${cfg.batchSize}, lr ${cfg.lr}, epochs ${startEpoch + 1}..${cfg.epochs}`,
    );
  let checkpoint = join(cfg.out, CHECKPOINT_DIR);
  const records = [...history];
  // the stop messages show also with --quiet
  const stop = gracefulStop(
    options.handleSignals === true,
    options.log ?? ((l: string) => console.error(l)),
  );
  let stoppedAt: LoopPosition | undefined;
  const stateOf = (epoch: number, at: number) => ({
    version: 1 as const,
    epoch,
    step: at,
    config: cfg,
    optimizer: settings,
    seed: cfg.seed,
    metrics: records,
  });
  try {
    await fit(model, {
      optimizer,
      loss,
      train: trainBatches,
      epochs: cfg.epochs,
      initialEpoch: startEpoch,
      initialStep: step,
      ...(midEpoch !== undefined
        ? { initialBatch: midEpoch.batch, initialTotals: midEpoch.totals }
        : {}),
      progress,
      onEpochStart: (epoch, firstBatch) => {
        // mid-epoch resume: continue the weight-sampling stream where the stop left it
        if (firstBatch > 0 && midEpoch !== undefined) restoreSeedState(midEpoch.seedState);
        else setSeed(epochSeed(cfg.seed, epoch));
        setLearningRate(optimizer, cfg.lr * Math.pow(cfg.lrDecay ?? 1, epoch));
      },
      validate: async () => {
        const r: EvalResult = await evaluate(model, testBatches, {
          kind,
          mcSamples: cfg.mcSamples,
          ...(cfg.evidence !== undefined ? { evidence: cfg.evidence } : {}),
          setMode: (m, mode) => {
            setMode(m, mode);
          },
        });
        return r;
      },
      onEpochEnd: async (record) => {
        stillOwned();
        records.push(record);
        checkpoint = await saveCheckpoint<TrainConfig, EpochRecord>(
          cfg.out,
          model,
          optimizer,
          stateOf(record.epoch, record.step),
        );
        writeMetricLogs(cfg.out, records);
        log(describeRecord(record));
        const warning =
          kind === 'bayesian'
            ? klDominanceWarning(record, trainSet.numClasses, trainSet.count)
            : undefined;
        if (warning !== undefined) console.error(warning);
      },
      ...(stop.shouldStop !== undefined ? { shouldStop: stop.shouldStop } : {}),
      onStop: async (position) => {
        stoppedAt = position;
        if (position.batch === 0) return; // the epoch-end checkpoint is the position
        stillOwned();
        // a mid-epoch checkpoint: the batcher's position (its permutation is a function of the
        // seed and the epoch), the weight-sampling stream and the epoch's running totals
        checkpoint = await saveCheckpoint<TrainConfig, EpochRecord>(cfg.out, model, optimizer, {
          ...stateOf(position.epoch, position.step),
          batchInEpoch: position.batch,
          epochTotals: position.totals,
          ...(seedState() !== undefined ? { seedState: seedState() as number } : {}),
        });
      },
    });
  } finally {
    // a signal that arrived during the last step or the save is still queued in the event loop:
    // it is dispatched (a second signal exits now) before the handlers go
    await stop.end();
    optimizer.dispose();
    tf.dispose(restoreOptimizer.map((n) => n.tensor));
  }
  if (stop.signal !== undefined && stoppedAt !== undefined) {
    held.model = undefined;
    disposeModel(model);
    const where =
      stoppedAt.batch > 0
        ? `epoch ${stoppedAt.epoch + 1}, after batch ${stoppedAt.batch} of ${trainBatches.numBatches}`
        : `the end of epoch ${stoppedAt.epoch}`;
    throw new TrainingInterrupted(
      stop.signal,
      checkpoint,
      `deepprob: stopped by ${stop.signal} at ${where} (step ${stoppedAt.step}); saved the model, ` +
        `optimizer state and position in ${checkpoint}. Resume with: deepprob train --out ${cfg.out} --resume`,
    );
  }
  return {
    model,
    records,
    checkpoint,
    config: cfg,
    seconds: (performance.now() - t0) / 1000,
  };
}
