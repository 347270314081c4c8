/**
 * The training runner behind `deepprob train`: datasets from files, a model of the zoo, its
 * objective (cross-entropy, ELBO or evidential), the {@link fit} loop with a progress bar,
 * validation every epoch, atomic checkpoints, JSONL/CSV metric logs and `resume`.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { GroupedOptimizer } from '../train/grouped_optimizer.js';
import { Batcher } from '../data/batcher.js';
import { limitImageSet } from '../data/dataset.js';
import { DEFAULT_ESTIMATOR } from '../layers/estimator_registry.js';
import { parseKLWeight } from '../layers/kl_schedules.js';
import { posteriorRhoVariables, setMode } from '../layers/model_utils.js';
import { createModel, getModelEntry, MODELS, type ModelKind } from '../models/registry.js';
import {
  CHECKPOINT_DIR,
  loadCheckpoint,
  recoverCheckpoint,
  saveCheckpoint,
  type OptimizerSettings,
} from '../train/checkpoint.js';
import { evaluate, type EvalResult } from '../train/evaluate.js';
import { fit, type EpochRecord } from '../train/fit.js';
import { crossEntropyLoss, elboLoss, evidentialLoss, type TrainLoss } from '../train/loss.js';
import { klDominanceWarning } from '../train/kl_guard.js';
import { writeMetricLogs } from '../train/metrics_log.js';
import { barProgress, quietProgress } from '../train/progress.js';
import { checkDataDir } from '../data/files.js';
import { ArgumentError, DeepProbError } from '../utils/errors.js';
import { makeDirs } from '../utils/file_io.js';
import { restoreSeedState, seedState, setSeed } from '../utils/seed.js';
import type { EpochTotals, LoopPosition } from '../layers/fit_loop.js';
import { TrainingInterrupted, gracefulStop } from './graceful_stop.js';
import {
  checkConfig,
  loadSplit,
  proportionalTestLimit,
  transformOf,
  RUN_OPTION_KEYS,
  TRAIN_CONFIG_KEYS,
  type RunOptions,
  type TrainConfig,
} from './run_config.js';
import { checkOptionKeys } from '../utils/options.js';
import { checkSetsAgainstModel, checkSplits } from './data_checks.js';
import { checkSavedConfig } from './open_run.js';
import { ensureWritableDir, removeCreatedDirs } from './run_dir.js';
import { lockRun, lockRunWaiting, type RunLockHandle } from './run_lock.js';
import { disposeModel } from '../layers/dispose_model.js';

function lossOf(kind: ModelKind, config: TrainConfig, datasetSize: number): TrainLoss {
  if (kind === 'bayesian') {
    return elboLoss({
      datasetSize,
      klWeight: parseKLWeight(config.klWeight),
      ...(config.trainSamples !== undefined ? { samples: config.trainSamples } : {}),
    });
  }
  if (kind === 'evidential') {
    return evidentialLoss({
      ...(config.evidentialLoss !== undefined ? { loss: config.evidentialLoss } : {}),
      ...(config.evidence !== undefined ? { evidence: config.evidence } : {}),
    });
  }
  return crossEntropyLoss();
}

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

/** Seed used for epoch `epoch` (weight sampling), derived from the run seed. */
function epochSeed(seed: number, epoch: number): number {
  return (Math.imul(seed >>> 0, 2654435761) + epoch * 40503 + 1) >>> 0;
}

function fmtPct(v: number | undefined): string {
  return v === undefined ? '-' : `${(100 * v).toFixed(2)}%`;
}

/** One line summarising an epoch record. */
export function describeRecord(r: EpochRecord): string {
  const parts = [
    `epoch ${r.epoch}`,
    `loss ${r.trainLoss.toFixed(4)} (nll ${r.trainNll.toFixed(4)}, kl ${r.trainKl.toFixed(4)})`,
    `train acc ${fmtPct(r.trainAccuracy)}`,
    `${r.imagesPerSec.toFixed(0)} img/s`,
    `test acc ${fmtPct(r.testAccuracy)}`,
  ];
  if (r.testAccuracyMean !== undefined) parts.push(`mean-weights ${fmtPct(r.testAccuracyMean)}`);
  if (r.testAccuracyMc !== undefined) parts.push(`MC-${r.mcSamples} ${fmtPct(r.testAccuracyMc)}`);
  if (r.testNll !== undefined) parts.push(`test nll ${r.testNll.toFixed(4)}`);
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
    const held: { model?: tf.LayersModel } = {};
    try {
      return await trainOwned(given, cfg, options, log, t0, lock, held);
    } catch (e) {
      // a model loaded or built before the failure (a resume refused after loading, data that
      // does not fit): freed, so that a failing call leaks no tensor
      if (held.model !== undefined) disposeModel(held.model);
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

/** {@link runTraining} once the run directory is checked and locked. */
async function trainOwned(
  config: TrainConfig,
  start: TrainConfig,
  options: RunOptions,
  log: (line: string) => void,
  t0: number,
  lock: RunLockHandle,
  held: { model?: tf.LayersModel },
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
  let cfg = start;
  let model: tf.LayersModel | undefined;
  let startEpoch = 0;
  let step = 0;
  let history: EpochRecord[] = [];
  let restoreOptimizer: { name: string; tensor: tf.Tensor }[] = [];
  let midEpoch: { batch: number; totals: EpochTotals; seedState: number | undefined } | undefined;
  const existing = recoverCheckpoint(cfg.out);
  const hasCheckpoint = existing !== undefined;
  if (
    hasCheckpoint &&
    options.resume !== true &&
    options.resumeOrStart !== true &&
    options.force !== true
  ) {
    throw new ArgumentError(
      'out',
      `${cfg.out} already holds a run (${existing}); pass --resume to continue it, or --force to start it over`,
    );
  }
  if (!hasCheckpoint && options.resume === true && options.resumeOrStart !== true) {
    throw new ArgumentError(
      'resume',
      `no checkpoint in ${cfg.out} to resume (train without --resume, or pass --resume-or-start)`,
    );
  }
  if ((options.resume === true || options.resumeOrStart === true) && hasCheckpoint) {
    const ck = await loadCheckpoint<TrainConfig, EpochRecord>(cfg.out);
    held.model = ck.model;
    if (ck.state === undefined) {
      throw new ArgumentError('resume', `${ck.dir} has no state.json; cannot resume`);
    }
    // the saved configuration against its ranges and the saved network (an edited state.json)
    checkSavedConfig(ck.state.config, ck.model, ck.dir, cfg.out);
    // the saved configuration wins, except the number of epochs (to extend a run) and paths
    const saved = ck.state.config;
    const explicit = options.explicit;
    if (explicit !== undefined) checkResumeOptions(config, saved, explicit);
    const epochs =
      explicit === undefined || explicit.includes('epochs') ? config.epochs : saved.epochs;
    // a typed --data-dir says where the run's data is now (it may have moved since)
    const moved =
      explicit !== undefined && explicit.includes('dataDir') && config.dataDir !== saved.dataDir
        ? config.dataDir
        : undefined;
    cfg = { ...saved, epochs, out: config.out, ...(moved !== undefined ? { dataDir: moved } : {}) };
    if (moved === undefined) {
      checkDataDir(cfg.dataDir, cfg.dataset, 'data-dir', `saved in ${join(ck.dir, 'state.json')}`);
    } else {
      log(`deepprob: the run's data is read from ${moved} (saved: ${saved.dataDir ?? 'bundled'})`);
    }
    model = ck.model;
    startEpoch = ck.state.epoch;
    step = ck.state.step;
    history = ck.state.metrics;
    if ((ck.state.batchInEpoch ?? 0) > 0 && ck.state.epochTotals !== undefined) {
      midEpoch = {
        batch: ck.state.batchInEpoch as number,
        totals: ck.state.epochTotals,
        seedState: ck.state.seedState,
      };
    }
    restoreOptimizer = ck.optimizerWeights();
    log(
      `deepprob: resuming ${cfg.model} from ${ck.dir} after epoch ${startEpoch}` +
        (midEpoch !== undefined
          ? ` and ${midEpoch.batch} batches of epoch ${startEpoch + 1}`
          : '') +
        ` (step ${step})`,
    );
    const extension = lrExtensionNote(saved, cfg.epochs);
    if (extension !== undefined) log(extension);
  }
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
  if (model === undefined) {
    setSeed(cfg.seed);
    const priors: Record<string, unknown> = {};
    if (cfg.priorMu !== undefined) priors.priorMu = cfg.priorMu;
    if (cfg.priorSigma !== undefined) priors.priorSigma = cfg.priorSigma;
    if (cfg.rhoInit !== undefined) priors.posteriorRhoInitial = [cfg.rhoInit, 0.1];
    try {
      model = held.model = createModel(cfg.model, {
        numClasses: trainSet.numClasses,
        inputShape: trainBatches.inputShape,
        ...(cfg.activation !== undefined ? { activation: cfg.activation } : {}),
        ...(entry.kind === 'bayesian'
          ? { bayesian: cfg.estimator ?? DEFAULT_ESTIMATOR, priors }
          : {}),
      });
    } catch (e) {
      if (e instanceof ArgumentError && e.argument !== 'inputShape') throw e;
      // tfjs refuses a network whose feature maps shrink to nothing
      throw new ArgumentError(
        'input-size',
        `${cfg.model} cannot take ${trainBatches.inputShape.join('x')} inputs (a convolution or ` +
          `pooling leaves no pixels); use a larger --input-size (the model's default is ` +
          `${entry.defaultInputShape[0]})`,
      );
    }
  }
  checkSetsAgainstModel(model, trainBatches.inputShape, [trainSet, testSet]);
  const settings: OptimizerSettings = {
    name: 'adam',
    learningRate: cfg.lr,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
  };
  const adam = (lr: number): tf.Optimizer =>
    tf.train.adam(lr, settings.beta1, settings.beta2, settings.epsilon);
  const rhoScale = cfg.rhoLrScale ?? 1;
  let optimizer: tf.Optimizer;
  if (rhoScale !== 1 && entry.kind === 'bayesian') {
    // one Adam for the posterior scales at lr * rhoLrScale, one for the rest at lr
    const rhoNames = new Set(
      posteriorRhoVariables(model).map((v) => (v.read() as tf.Variable).name),
    );
    optimizer = new GroupedOptimizer(adam, settings.learningRate, [
      { matches: (name) => rhoNames.has(name), lrScale: rhoScale },
    ]);
  } else {
    optimizer = adam(settings.learningRate);
  }
  if (restoreOptimizer.length > 0) {
    await optimizer.setWeights(restoreOptimizer);
  }
  const kind = entry.kind;
  const loss = lossOf(kind, cfg, trainSet.count);
  makeDirs(cfg.out);
  const progress = options.progress ?? (options.quiet === true ? quietProgress() : barProgress());
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

/**
 * What a resumed run extended past its saved epochs does with the learning rate, as a line for the
 * log (undefined when it keeps a constant rate or is not extended): the run keeps its per-epoch
 * decay `d` (saved; from the model's recipe for the saved number of epochs `E` unless given), so
 * the epochs done keep the rates they were trained with and epoch `e` (0-based) of the extension
 * uses `lr * d^e` as before, falling below the recipe's final fraction `d^(E-1)`.
 * @param saved the saved configuration.
 * @param epochs the epochs of the resumed run.
 */
export function lrExtensionNote(saved: TrainConfig, epochs: number): string | undefined {
  const d = saved.lrDecay ?? 1;
  if (d === 1 || epochs <= saved.epochs) return undefined;
  const at = (e: number): string => `${Number(Math.pow(d, e).toPrecision(3))}x`;
  return (
    `deepprob: extending ${saved.epochs} to ${epochs} epochs: the saved lr decay ${Number(d.toPrecision(4))} ` +
    `per epoch continues (epoch ${saved.epochs} trained at ${at(saved.epochs - 1)} lr, epochs ` +
    `${saved.epochs + 1}..${epochs} at ${at(saved.epochs)}..${at(epochs - 1)} of lr ${saved.lr})`
  );
}

/**
 * The options that only one kind of model reads, by configuration field: the others train without
 * them (a Bayesian option given to a plain model was saved and silently ignored).
 */
export const KIND_OPTIONS: Readonly<Record<string, { flag: string; kind: ModelKind }>> = {
  estimator: { flag: 'estimator', kind: 'bayesian' },
  klWeight: { flag: 'kl-weight', kind: 'bayesian' },
  priorMu: { flag: 'prior-mu', kind: 'bayesian' },
  priorSigma: { flag: 'prior-sigma', kind: 'bayesian' },
  rhoInit: { flag: 'rho-init', kind: 'bayesian' },
  rhoLrScale: { flag: 'rho-lr-scale', kind: 'bayesian' },
  trainSamples: { flag: 'train-samples', kind: 'bayesian' },
  evidentialLoss: { flag: 'loss', kind: 'evidential' },
  evidence: { flag: 'evidence', kind: 'evidential' },
};

/**
 * Refuse an option the user gave that the model's kind does not read (`--kl-weight` for the plain
 * `lenet5`, `--loss` for a Bayesian model), before any data is loaded. Only the options in
 * `explicit` count: defaults and a recipe's settings are never refused.
 * @param model the model trained.
 * @param explicit the configuration fields given on the command line.
 * @throws ArgumentError naming the option, the model and its kind, and the models that read it.
 */
export function checkKindOptions(model: string, explicit: readonly string[]): void {
  const kind = getModelEntry(model).kind;
  for (const key of explicit) {
    const o = KIND_OPTIONS[key];
    if (o === undefined || o.kind === kind) continue;
    const takers = Object.values(MODELS)
      .filter((e) => e.kind === o.kind)
      .map((e) => e.name);
    throw new ArgumentError(
      o.flag,
      `--${o.flag} applies to ${o.kind} models only (${takers.join(', ')}); ${model} is a ` +
        `${kind} model and would ignore it (leave --${o.flag} out, or train one of those)`,
    );
  }
}

/** Fields a resumed run may take from the command line (the rest come from the saved run). */
const RESUME_FREE = new Set(['epochs', 'out', 'dataDir']);

/**
 * On resume, every field the user gave (other than `epochs`, `out` and `dataDir`, which says where
 * the run's data is now) must equal the saved one:
 * the saved configuration wins, so a different value would be silently ignored.
 * @throws ArgumentError naming the option (`--lr`, ...) and both values.
 */
function checkResumeOptions(
  given: TrainConfig,
  saved: TrainConfig,
  explicit: readonly string[],
): void {
  for (const key of explicit) {
    if (RESUME_FREE.has(key)) continue;
    if (key === 'inputSize' || key === 'inputWidth') {
      // one flag, --input-size n|HxW, sets both sides
      const side = (c: TrainConfig): string | undefined =>
        c.inputSize === undefined
          ? undefined
          : c.inputWidth === undefined || c.inputWidth === c.inputSize
            ? String(c.inputSize)
            : `${c.inputSize}x${c.inputWidth}`;
      const g = side(given);
      const v = side(saved);
      if (g === undefined || g === v) continue;
      throw new ArgumentError(
        'input-size',
        `--resume continues the saved run, whose input size is ${v ?? "the model's default"}; got ${g} (leave --input-size out to resume, or train a new run in another --out)`,
      );
    }
    const g = (given as unknown as Record<string, unknown>)[key];
    const v = (saved as unknown as Record<string, unknown>)[key];
    if (g === undefined || JSON.stringify(g) === JSON.stringify(v)) continue;
    const flag = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    throw new ArgumentError(
      flag,
      `--resume continues the saved run, whose ${flag} is ${JSON.stringify(v) ?? 'unset'}; got ${JSON.stringify(g)} (leave --${flag} out to resume, or train a new run in another --out)`,
    );
  }
}
