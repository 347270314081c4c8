/**
 * The Node training and evaluation runners behind `deepprob train` / `deepprob eval`: datasets
 * from files, a model of the zoo, its objective (cross-entropy, ELBO or evidential), the
 * {@link fit} loop with a progress bar, validation every epoch, atomic checkpoints, JSONL/CSV
 * metric logs and `resume`.
 */
import { existsSync, mkdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { Batcher } from '../data/batcher.js';
import { limitImageSet, type ImageSet } from '../data/dataset.js';
import { loadDataset } from '../data/files.js';
import type { ImageTransform } from '../data/transform.js';
import { bayesianLayers, setMode } from '../layers/index.js';
import { createModel, getModelEntry, type Estimator, type ModelKind } from '../models/index.js';
import { ArgumentError } from '../utils/errors.js';
import { setSeed } from '../utils/seed.js';
import {
  CHECKPOINT_DIR,
  loadCheckpoint,
  saveCheckpoint,
  type OptimizerSettings,
} from './checkpoint.js';
import { evaluate, type EvalKind, type EvalResult, type PerExample } from './evaluate.js';

/** Per-image uncertainties returned by {@link runEvaluation} with `perExample`. */
export type PerExampleLike = PerExample;
import { fit, type EpochRecord } from './fit.js';
import { crossEntropyLoss, elboLoss, evidentialLoss, type TrainLoss } from './loss.js';
import { writeMetricLogs } from './metrics_log.js';
import { klDominanceWarning } from './kl_guard.js';
import { barProgress, quietProgress, type ProgressReporter } from './progress.js';
import { join } from 'node:path';

/** Configuration of a training run (saved in the checkpoint's `state.json`). */
export interface TrainConfig {
  /** Model name of the zoo (`bayes-lenet5`, `lenet5`, ...). */
  model: string;
  /** Estimator of Bayesian models (default `'reparam'`). */
  estimator?: Estimator;
  /** Dataset name (`mnist`, `fashion-mnist`, ...). */
  dataset: string;
  /** Directory of the dataset files (default: the loader's). */
  dataDir?: string;
  /** Epochs to train in total. */
  epochs: number;
  /** Mini-batch size. */
  batchSize: number;
  /** Adam learning rate. */
  lr: number;
  /** Learning-rate decay per epoch: epoch `e` (0-based) uses `lr * lrDecay^e`. Default 1. */
  lrDecay?: number;
  /** MC samples of the validation predictive. */
  mcSamples: number;
  /** Run directory (checkpoint, logs). */
  out: string;
  /** Seed of shuffling and weight sampling. */
  seed: number;
  /** Use the first N training images only. */
  limit?: number;
  /** Use the first N test images only. */
  testLimit?: number;
  /** KL weight of the ELBO: a number or a `layers` schedule name. Default 1. */
  klWeight?: number | string;
  /** Prior N(priorMu, priorSigma^2) of Bayesian layers. */
  priorMu?: number;
  priorSigma?: number;
  /** Mean of the initial posterior rho (`sigma = softplus(rho)`); std 0.1. */
  rhoInit?: number;
  /** Input side (default: the model's, 32 for LeNet5/AlexNet/3Conv3FC, 28 for the conv 20/50 LeNet). */
  inputSize?: number;
  /** Pad or bilinear-resize to `inputSize` (default pad). */
  resize?: 'pad' | 'bilinear';
  /** Normalisation name (default: the dataset's mean/std). */
  normalize?: string;
  /** Evidential loss name (evidential models). */
  evidentialLoss?: string;
  /** Evidence function of evidential models: relu | softplus | exp (default softplus). */
  evidence?: string;
  /** Batch size of evaluation (default 500). */
  evalBatchSize?: number;
}

/** Defaults of {@link TrainConfig}. */
export const TRAIN_DEFAULTS = {
  estimator: 'reparam' as Estimator,
  dataset: 'mnist',
  epochs: 5,
  batchSize: 64,
  lr: 1e-3,
  mcSamples: 10,
  seed: 1,
  klWeight: 1,
};

/** Options of the runners that are not part of the saved configuration. */
export interface RunOptions {
  /** Continue from the checkpoint in `out` when there is one. */
  resume?: boolean;
  /** No progress bar or lines. */
  quiet?: boolean;
  /** Where summary lines go (default stderr unless quiet). */
  log?: (line: string) => void;
  /** A custom progress reporter. */
  progress?: ProgressReporter;
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

function datasetNormalization(dataset: string): string {
  if (dataset === 'mnist') return 'mnist';
  if (dataset === 'fashion-mnist' || dataset === 'fashion') return 'fashion-mnist';
  if (dataset === 'cifar10') return 'cifar10';
  if (dataset === 'cifar100') return 'cifar100';
  return 'unit';
}

/** The input transform of a configuration. */
export function transformOf(config: TrainConfig, set: ImageSet): ImageTransform {
  const entry = getModelEntry(config.model);
  const size = config.inputSize ?? entry.defaultInputShape[0];
  const t: ImageTransform = {
    normalize: config.normalize ?? datasetNormalization(config.dataset),
    resize: config.resize ?? 'pad',
  };
  if (size !== set.height || size !== set.width) t.size = size;
  return t;
}

function checkConfig(c: TrainConfig): void {
  const posInt = (v: number | undefined, name: string): void => {
    if (v !== undefined && (!Number.isInteger(v) || v <= 0)) {
      throw new ArgumentError(name, `expected a positive integer, got ${v}`);
    }
  };
  posInt(c.epochs, 'epochs');
  posInt(c.batchSize, 'batchSize');
  posInt(c.mcSamples, 'mcSamples');
  posInt(c.limit, 'limit');
  posInt(c.testLimit, 'testLimit');
  if (!(c.lr > 0) || !Number.isFinite(c.lr)) {
    throw new ArgumentError('lr', `expected a finite number > 0, got ${c.lr}`);
  }
  if (c.lrDecay !== undefined && !(c.lrDecay > 0 && c.lrDecay <= 1)) {
    throw new ArgumentError('lrDecay', `expected a number in (0, 1], got ${c.lrDecay}`);
  }
  if (!Number.isFinite(c.seed)) throw new ArgumentError('seed', `expected a number, got ${c.seed}`);
  if (c.priorSigma !== undefined && !(c.priorSigma > 0)) {
    throw new ArgumentError('priorSigma', `expected a number > 0, got ${c.priorSigma}`);
  }
  getModelEntry(c.model);
}

function parseKlWeight(
  w: number | string | undefined,
): number | 'blundell' | 'uniform' | 'soenderby' {
  if (w === undefined) return 1;
  if (typeof w === 'number') return w;
  const n = Number(w);
  if (w.trim() !== '' && Number.isFinite(n)) return n;
  if (w === 'blundell' || w === 'uniform' || w === 'soenderby') return w;
  throw new ArgumentError(
    'klWeight',
    `expected a number >= 0 or one of blundell, uniform, soenderby, got '${w}'`,
  );
}

function lossOf(kind: ModelKind, config: TrainConfig, datasetSize: number): TrainLoss {
  if (kind === 'bayesian') {
    return elboLoss({ datasetSize, klWeight: parseKlWeight(config.klWeight) });
  }
  if (kind === 'evidential') {
    return evidentialLoss({
      ...(config.evidentialLoss !== undefined ? { loss: config.evidentialLoss } : {}),
      ...(config.evidence !== undefined ? { evidence: config.evidence } : {}),
    });
  }
  return crossEntropyLoss();
}

function load(config: TrainConfig, split: 'train' | 'test', limit?: number): ImageSet {
  const set = loadDataset(config.dataset, {
    split,
    ...(config.dataDir !== undefined ? { dir: config.dataDir } : {}),
  });
  return limit !== undefined ? limitImageSet(set, limit) : set;
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

/** The evaluation kind of a model kind. */
function evalKind(kind: ModelKind): EvalKind {
  return kind;
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
  const log = options.log ?? (options.quiet === true ? () => {} : (l: string) => console.error(l));
  let cfg: TrainConfig = { ...config };
  let model: tf.LayersModel | undefined;
  let startEpoch = 0;
  let step = 0;
  let history: EpochRecord[] = [];
  let restoreOptimizer: { name: string; tensor: tf.Tensor }[] = [];
  const hasCheckpoint =
    existsSync(join(cfg.out, CHECKPOINT_DIR, 'model.json')) ||
    existsSync(join(cfg.out, `${CHECKPOINT_DIR}.old`, 'model.json'));
  if (options.resume === true && hasCheckpoint) {
    const ck = await loadCheckpoint<TrainConfig, EpochRecord>(cfg.out);
    if (ck.state === undefined) {
      throw new ArgumentError('resume', `${ck.dir} has no state.json; cannot resume`);
    }
    // the saved configuration wins, except the number of epochs (to extend a run) and paths
    cfg = { ...ck.state.config, epochs: config.epochs, out: config.out };
    model = ck.model;
    startEpoch = ck.state.epoch;
    step = ck.state.step;
    history = ck.state.metrics;
    restoreOptimizer = ck.optimizerWeights();
    log(`deepprob: resuming ${cfg.model} from ${ck.dir} after epoch ${startEpoch} (step ${step})`);
  }
  checkConfig(cfg);
  const entry = getModelEntry(cfg.model);
  const trainSet = load(cfg, 'train', cfg.limit);
  const testSet = load(cfg, 'test', cfg.testLimit);
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
    model = createModel(cfg.model, {
      numClasses: trainSet.numClasses,
      inputShape: trainBatches.inputShape,
      ...(entry.kind === 'bayesian' ? { bayesian: cfg.estimator ?? 'reparam', priors } : {}),
    });
  }
  const settings: OptimizerSettings = {
    name: 'adam',
    learningRate: cfg.lr,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
  };
  const optimizer = tf.train.adam(
    settings.learningRate,
    settings.beta1,
    settings.beta2,
    settings.epsilon,
  );
  if (restoreOptimizer.length > 0) {
    await optimizer.setWeights(restoreOptimizer);
  }
  const kind = entry.kind;
  const loss = lossOf(kind, cfg, trainSet.count);
  mkdirSync(cfg.out, { recursive: true });
  const progress = options.progress ?? (options.quiet === true ? quietProgress() : barProgress());
  log(
    `deepprob: training ${cfg.model}${kind === 'bayesian' ? ` (${cfg.estimator ?? 'reparam'})` : ''} on ` +
      `${trainSet.name} (${trainSet.count} images, input ${trainBatches.inputShape.join('x')}), ` +
      `${model.countParams()} parameters, batch ${cfg.batchSize}, lr ${cfg.lr}, epochs ${startEpoch + 1}..${cfg.epochs}`,
  );
  let checkpoint = join(cfg.out, CHECKPOINT_DIR);
  const records = [...history];
  try {
    await fit(model, {
      optimizer,
      loss,
      train: trainBatches,
      epochs: cfg.epochs,
      initialEpoch: startEpoch,
      initialStep: step,
      progress,
      onEpochStart: (epoch) => {
        setSeed(epochSeed(cfg.seed, epoch));
        setLearningRate(optimizer, cfg.lr * Math.pow(cfg.lrDecay ?? 1, epoch));
      },
      validate: async () => {
        const r: EvalResult = await evaluate(model, testBatches, {
          kind: evalKind(kind),
          mcSamples: cfg.mcSamples,
          ...(cfg.evidence !== undefined ? { evidence: cfg.evidence } : {}),
          setMode: (m, mode) => {
            setMode(m, mode);
          },
        });
        return r;
      },
      onEpochEnd: async (record) => {
        records.push(record);
        checkpoint = await saveCheckpoint<TrainConfig, EpochRecord>(cfg.out, model, optimizer, {
          version: 1,
          epoch: record.epoch,
          step: record.step,
          config: cfg,
          optimizer: settings,
          seed: cfg.seed,
          metrics: records,
        });
        writeMetricLogs(cfg.out, records);
        log(describeRecord(record));
        const warning =
          kind === 'bayesian'
            ? klDominanceWarning(record, trainSet.numClasses, trainSet.count)
            : undefined;
        if (warning !== undefined) console.error(warning);
      },
    });
  } finally {
    optimizer.dispose();
    tf.dispose(restoreOptimizer.map((n) => n.tensor));
  }
  return {
    model,
    records,
    checkpoint,
    config: cfg,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Options of {@link runEvaluation}. */
export interface EvalConfig {
  /** Run or checkpoint directory. */
  checkpoint: string;
  /** Dataset (default: the one trained on). */
  dataset?: string;
  /** Dataset directory. */
  dataDir?: string;
  /** MC samples (default: the training configuration's, else 10). */
  mcSamples?: number;
  /** Evaluate the first N test images only. */
  limit?: number;
  /** Batch size (default 500). */
  batchSize?: number;
  /** Also return per-image uncertainties. */
  perExample?: boolean;
}

/** Result of {@link runEvaluation}. */
export interface EvalRunResult extends EvalResult {
  /** Model name. */
  model: string;
  /** Dataset evaluated. */
  dataset: string;
  /** Checkpoint directory used. */
  checkpoint: string;
  /** Wall time (seconds). */
  seconds: number;
}

/**
 * Evaluate a checkpoint on a test set (accuracy with one sample, mean weights and MC, NLL,
 * entropy, mutual information).
 *
 * @param config checkpoint directory and overrides.
 * @param options `log`, `quiet`.
 * @example
 * ```ts
 * const r = await runEvaluation({ checkpoint: 'runs/bnn', mcSamples: 20 });
 * ```
 */
export async function runEvaluation(
  config: EvalConfig,
  options: RunOptions = {},
): Promise<EvalRunResult> {
  const t0 = performance.now();
  const ck = await loadCheckpoint<TrainConfig, EpochRecord>(config.checkpoint);
  const model = ck.model;
  try {
    const saved = ck.state?.config;
    const dataset = config.dataset ?? saved?.dataset ?? 'mnist';
    const modelName = saved?.model ?? model.name;
    const kind: ModelKind =
      saved !== undefined
        ? getModelEntry(saved.model).kind
        : bayesianLayers(model).length > 0
          ? 'bayesian'
          : 'plain';
    const inShape = model.inputs[0]?.shape ?? [];
    const inputSize = inShape[1] ?? undefined;
    const cfg: TrainConfig = {
      ...TRAIN_DEFAULTS,
      ...(saved ?? {
        model: kind === 'bayesian' ? 'bayes-lenet5' : 'lenet5',
        out: config.checkpoint,
      }),
      dataset,
      ...(config.dataDir !== undefined ? { dataDir: config.dataDir } : {}),
      ...(inputSize !== null && inputSize !== undefined ? { inputSize } : {}),
    } as TrainConfig;
    if (config.dataset !== undefined && config.dataset !== saved?.dataset) {
      // a different dataset is normalised like the training data, so OOD inputs look the same way
      cfg.normalize = saved?.normalize ?? datasetNormalization(saved?.dataset ?? 'mnist');
    }
    const testSet = load(cfg, 'test', config.limit);
    const batches = new Batcher(testSet, {
      batchSize: config.batchSize ?? 500,
      shuffle: false,
      transform: transformOf(cfg, testSet),
    });
    const r = await evaluate(model, batches, {
      kind: evalKind(kind),
      mcSamples: config.mcSamples ?? saved?.mcSamples ?? 10,
      ...(cfg.evidence !== undefined ? { evidence: cfg.evidence } : {}),
      setMode: (m, mode) => {
        setMode(m, mode);
      },
      perExample: config.perExample ?? false,
    });
    if (options.quiet !== true) (options.log ?? console.error)(`deepprob: evaluated ${ck.dir}`);
    return {
      ...r,
      model: modelName,
      dataset: testSet.name,
      checkpoint: ck.dir,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    model.dispose();
  }
}
