/**
 * The one configuration schema of the application runners (`deepprob train`, `eval`,
 * `uncertainty`): {@link TrainConfig} (saved in a checkpoint's `state.json`), its defaults, its
 * checks, and what derives from it (the input transform of a dataset, a dataset split).
 */
import { DATASETS } from '../data/files.js';
import { EVIDENCE_FUNCTIONS, EVIDENTIAL_LOSSES } from '../toolbox/evidential/index.js';
import { ArgumentError } from '../utils/errors.js';
import { checkEstimator, DEFAULT_ESTIMATOR, type Estimator } from '../layers/estimator_registry.js';
import { parseKLWeight } from '../layers/kl_schedules.js';
import { checkActivation, getModelEntry } from '../models/registry.js';
import type { Activation } from '../models/spec.js';
import { checkRange, type RangedOption } from './option_ranges.js';
import type { ProgressReporter } from '../train/progress.js';

/** Configuration of a training run (saved in the checkpoint's `state.json`). */
export interface TrainConfig {
  /** Model name of the zoo (`bayes-lenet5`, `lenet5`, ...). */
  model: string;
  /** Estimator of Bayesian models (default `'reparam'`). */
  estimator?: Estimator;
  /**
   * Hidden activation of models that take one (`lenet5`, `alexnet`, `3conv3fc` and their Bayesian
   * twins: `relu` or `softplus`; default the model's).
   */
  activation?: Activation;
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
  /**
   * Use the first N test images only. Default: with `limit`, the same fraction of the test set
   * (`proportionalTestLimit`, `run_data.ts`); all of it otherwise.
   */
  testLimit?: number;
  /** KL weight of the ELBO: a number or a `layers` schedule name. Default 1. */
  klWeight?: number | string;
  /** Prior N(priorMu, priorSigma^2) of Bayesian layers. */
  priorMu?: number;
  priorSigma?: number;
  /**
   * Weight samples per training step of Bayesian models: the ELBO's data term is averaged over
   * `S` forward passes, `(1/S) sum_s NLL(f(x; w_s), y)`, `w_s ~ q` (default 1).
   */
  trainSamples?: number;
  /** Mean of the initial posterior rho (`sigma = softplus(rho)`); std 0.1. */
  rhoInit?: number;
  /**
   * Bayesian models: the learning rate of the posterior scales `rho` is `lr * rhoLrScale`, the
   * means' is `lr` (Adam moves a parameter by about its learning rate per step, so the scales
   * can reach their ELBO optimum within a short run). Default 1 (one learning rate).
   */
  rhoLrScale?: number;
  /** Input side (default: the model's, 32 for LeNet5/AlexNet/3Conv3FC, 28 for the conv 20/50 LeNet). */
  inputSize?: number;
  /**
   * Input width where it differs from the height `inputSize`: a checkpoint whose model takes
   * non-square images `[H, W]` (set from the model by `openRun`; default `inputSize`).
   */
  inputWidth?: number;
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
  estimator: DEFAULT_ESTIMATOR as Estimator,
  dataset: 'mnist',
  epochs: 5,
  batchSize: 64,
  lr: 1e-3,
  mcSamples: 10,
  seed: 1,
  klWeight: 1,
};

/**
 * The per-epoch decay that takes the learning rate to `finalFraction` of its start at the last of
 * `epochs` epochs: `d = f^(1/(E-1))` (1 for a single epoch), so epoch `e` uses `lr * d^e` and
 * `lr * d^(E-1) = lr * f`.
 *
 * @param finalFraction `f` in (0, 1].
 * @param epochs `E >= 1`.
 * @example
 * ```ts
 * recipeDecay(0.6 ** 4, 5); // 0.6
 * ```
 */
export function recipeDecay(finalFraction: number, epochs: number): number {
  if (!(finalFraction > 0 && finalFraction <= 1)) {
    throw new ArgumentError('finalFraction', `expected a number in (0, 1], got ${finalFraction}`);
  }
  if (!Number.isInteger(epochs) || epochs < 1) {
    throw new ArgumentError('epochs', `expected a positive integer, got ${epochs}`);
  }
  return epochs > 1 ? Math.pow(finalFraction, 1 / (epochs - 1)) : 1;
}

/**
 * A training configuration with its model's recipe ({@link TrainingRecipe} of the zoo) in the
 * settings it leaves out: the estimator, the initial `rho`, the learning rate (else
 * `TRAIN_DEFAULTS.lr`) and the learning-rate decay (from the recipe's final fraction and the run's
 * epochs). A setting given explicitly always wins; a model without a recipe gets the global
 * defaults. The CLI applies it, so `deepprob train --model bayes-lenet5` trains the measured recipe.
 *
 * @param c a configuration whose `lr` may be missing.
 * @returns a new configuration with `lr` set.
 * @example
 * ```ts
 * withModelRecipe({ model: 'bayes-lenet5', epochs: 5 }); // flipout, rhoInit -5, lr 2e-3, lrDecay 0.6
 * ```
 */
export function withModelRecipe<C extends { model: string; epochs?: number; lr?: number }>(
  c: C,
): C & { lr: number } {
  const r = getModelEntry(c.model).recipe;
  const out: Record<string, unknown> = { ...c };
  const fill = (key: string, v: unknown): void => {
    if (out[key] === undefined && v !== undefined) out[key] = v;
  };
  if (r !== undefined) {
    fill('estimator', r.estimator);
    fill('rhoInit', r.rhoInit);
    fill('lr', r.lr);
    if (r.lrFinalFraction !== undefined) {
      fill('lrDecay', recipeDecay(r.lrFinalFraction, c.epochs ?? TRAIN_DEFAULTS.epochs));
    }
  }
  fill('lr', TRAIN_DEFAULTS.lr);
  return out as C & { lr: number };
}

/** Options of the runners that are not part of the saved configuration. */
export interface RunOptions {
  /** Continue from the checkpoint in `out` (an error when there is none, unless `resumeOrStart`). */
  resume?: boolean;
  /** Continue from the checkpoint in `out` when there is one, else start. */
  resumeOrStart?: boolean;
  /**
   * When another process holds `out`'s lock, wait while it does not renew its lease and then take
   * the run over (queue jobs: a worker that died, on any host) instead of failing at once; a
   * holder that renews it is alive, and the refusal comes at once. Default false.
   */
  waitForLock?: boolean;
  /** Start over in an `out` that already holds a run (its checkpoint is replaced). */
  force?: boolean;
  /** No progress bar or lines. */
  quiet?: boolean;
  /** Where summary lines go (default stderr unless quiet). */
  log?: (line: string) => void;
  /** A custom progress reporter. */
  progress?: ProgressReporter;
  /**
   * Stop gracefully on SIGINT/SIGTERM/SIGHUP (the CLI sets it): `runTraining` finishes the current
   * step, writes a checkpoint with the batcher's position and throws `TrainingInterrupted`;
   * `runEvaluation` finishes the current batch and throws `RunInterrupted` without a result. A
   * second signal exits at once. Default false (a library call leaves the process's signals alone).
   */
  handleSignals?: boolean;
  /**
   * The configuration fields the user gave explicitly (the CLI passes those from its command
   * line). On resume, `epochs` then defaults to the saved number, and any other given field that
   * differs from the saved configuration is an error naming it (the saved configuration wins; it
   * was silently ignored). Without it, `epochs` comes from the configuration passed and the other
   * fields are ignored on resume.
   */
  explicit?: readonly string[];
}

const TRAIN_CONFIG_FIELDS: Record<keyof TrainConfig, true> = {
  model: true,
  estimator: true,
  activation: true,
  dataset: true,
  dataDir: true,
  epochs: true,
  batchSize: true,
  lr: true,
  lrDecay: true,
  mcSamples: true,
  out: true,
  seed: true,
  limit: true,
  testLimit: true,
  klWeight: true,
  priorMu: true,
  priorSigma: true,
  trainSamples: true,
  rhoInit: true,
  rhoLrScale: true,
  inputSize: true,
  inputWidth: true,
  resize: true,
  normalize: true,
  evidentialLoss: true,
  evidence: true,
  evalBatchSize: true,
};

/** The fields of a {@link TrainConfig} (a typo such as `epocs` is refused naming it). */
export const TRAIN_CONFIG_KEYS: readonly string[] = Object.keys(TRAIN_CONFIG_FIELDS);

const RUN_OPTION_FIELDS: Record<keyof RunOptions, true> = {
  resume: true,
  resumeOrStart: true,
  waitForLock: true,
  force: true,
  quiet: true,
  log: true,
  progress: true,
  handleSignals: true,
  explicit: true,
};

/** The fields of {@link RunOptions}. */
export const RUN_OPTION_KEYS: readonly string[] = Object.keys(RUN_OPTION_FIELDS);

/**
 * Check a configuration before any data is loaded.
 * @throws ArgumentError naming the first bad field.
 */
export function checkConfig(c: TrainConfig): void {
  const ranges: [RangedOption, number | undefined, string][] = [
    ['epochs', c.epochs, 'epochs'],
    ['batch-size', c.batchSize, 'batchSize'],
    ['lr', c.lr, 'lr'],
    ['lr-decay', c.lrDecay, 'lrDecay'],
    ['mc-samples', c.mcSamples, 'mcSamples'],
    ['seed', c.seed, 'seed'],
    ['limit', c.limit, 'limit'],
    ['test-limit', c.testLimit, 'testLimit'],
    ['prior-mu', c.priorMu, 'priorMu'],
    ['prior-sigma', c.priorSigma, 'priorSigma'],
    ['rho-init', c.rhoInit, 'rhoInit'],
    ['rho-lr-scale', c.rhoLrScale, 'rhoLrScale'],
    ['train-samples', c.trainSamples, 'trainSamples'],
    ['input-size', c.inputSize, 'inputSize'],
    ['input-size', c.inputWidth, 'inputWidth'],
    ['batch-size', c.evalBatchSize, 'evalBatchSize'],
  ];
  const required = new Set(['epochs', 'batchSize', 'lr', 'mcSamples', 'seed']);
  for (const [name, v, argument] of ranges) {
    if (v !== undefined || required.has(argument)) checkRange(name, v as number, argument);
  }
  const kl = parseKLWeight(c.klWeight);
  if (typeof kl === 'number') checkRange('kl-weight', kl, 'klWeight');
  checkEstimator(c.estimator);
  const entry = getModelEntry(c.model);
  checkActivation(entry, c.activation);
  // each side is checked: the side after each layer depends on that side alone (minInputSide)
  const sides = [c.inputSize, c.inputWidth ?? c.inputSize];
  if (sides.some((v) => v !== undefined && v < entry.minInputSide)) {
    // tfjs would fail only when the model is built, after the data is loaded, with a layer's text
    const m = entry.minInputSide;
    const got =
      c.inputWidth !== undefined && c.inputWidth !== c.inputSize
        ? `${String(c.inputSize)}x${c.inputWidth}`
        : String(c.inputSize);
    throw new ArgumentError(
      'input-size',
      `${c.model} takes inputs of at least ${m}x${m} (below, one of its convolution or pooling ` +
        `windows no longer fits), got ${got}; give --input-size ${m} or more (its ` +
        `default is ${entry.defaultInputShape[0]})`,
    );
  }
  const names: [string | undefined, readonly string[], string][] = [
    [c.dataset, [...DATASETS, 'fashion'], 'dataset'],
    [c.evidence, EVIDENCE_FUNCTIONS, 'evidence'],
    [c.evidentialLoss, EVIDENTIAL_LOSSES, 'loss'],
    [c.resize, ['pad', 'bilinear'], 'resize'],
  ];
  for (const [v, allowed, argument] of names) {
    if (v !== undefined && !allowed.includes(v)) {
      throw new ArgumentError(argument, `expected one of ${allowed.join(', ')}, got '${v}'`);
    }
  }
}
