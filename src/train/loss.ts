/**
 * Training objectives as functions of (model, batch, progress): each returns the scalar to
 * minimise plus its parts (NLL, KL) and the logits, so the trainer can report them separately.
 *
 * - plain models: softmax cross-entropy, `L = -1/B sum_i log softmax(f(x_i))_{y_i}`;
 * - Bayesian models: the negative ELBO per image of the `layers` namespace,
 *   `L = NLL + w_t KL(q || p) / N` (N = dataset size, `w_t` a KL-weight schedule);
 * - evidential models: the evidential losses of the `toolbox` namespace.
 */
import * as tf from '@tensorflow/tfjs';
import { ELBOLoss, parseKLWeight, type KLScheduleSpec, type StepContext } from '../layers/index.js';
import { evidential } from '../toolbox/index.js';
import { classLogits, outputKindOf } from '../toolbox/class_outputs.js';
import { ArgumentError } from '../utils/errors.js';
import { integerOption, optionsObject } from '../utils/options.js';
import type { EvidentialLossOptions } from '../toolbox/evidential/index.js';

/** Where training is, passed to every loss evaluation (the layers' {@link StepContext}). */
export type TrainProgress = StepContext;

/** The parts of one loss evaluation. */
export interface LossTerms {
  /** Scalar minimised by the optimizer. */
  loss: tf.Scalar;
  /** Negative log-likelihood (data term), per image. */
  nll: tf.Scalar;
  /** Regulariser as added to `loss` (weighted KL per image; 0 for plain models). */
  kl: tf.Scalar;
  /** Network outputs `[B, K]` (for the training accuracy). */
  logits: tf.Tensor;
}

/** A training objective. Called inside `optimizer.minimize` (so inside a tidy). */
export type TrainLoss = (
  model: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor1D,
  progress: TrainProgress,
) => LossTerms;

/**
 * Softmax cross-entropy of a plain classifier (mean over the batch), with `training: true`
 * (dropout active).
 *
 * $$L = -\frac1B\sum_i \log \operatorname{softmax}(z(x_i))_{y_i}$$
 *
 * with `z` the model's class logits: its outputs when it ends in logits, `log p` when it ends in a
 * softmax (so `L = -1/B sum_i log p_{y_i}`, the head is not softmaxed twice), as `evaluate` and the
 * loss cells read a head (`toolbox/class_outputs.ts` `outputKindOf`).
 *
 * @example
 * ```ts
 * const loss = crossEntropyLoss();
 * optimizer.minimize(() => loss(model, x, y, progress).loss);
 * ```
 */
export function crossEntropyLoss(): TrainLoss {
  const kinds = new WeakMap<tf.LayersModel, 'logits' | 'probs'>();
  return (model, x, y) => {
    let kind = kinds.get(model);
    if (kind === undefined) {
      kind = outputKindOf(model) ?? 'logits';
      kinds.set(model, kind);
    }
    const out = model.apply(x, { training: true }) as tf.Tensor;
    const logits = kind === 'probs' ? classLogits(out, 'probs') : out;
    const k = logits.shape[logits.shape.length - 1] as number;
    const nll = tf.losses.softmaxCrossEntropy(tf.oneHot(y, k), logits) as tf.Scalar;
    return { loss: nll, nll, kl: tf.scalar(0), logits };
  };
}

/** Options of {@link elboLoss}. */
export interface ElboLossOptions {
  /** Training-set size `N` (the KL is divided by it). */
  datasetSize: number;
  /** KL weight `beta`: a number or a schedule name of `layers` (`'blundell'`, `'soenderby'`, ...). Default 1. */
  klWeight?: KLScheduleSpec;
  /**
   * Weight samples `S` per step: the data term is averaged over `S` forward passes (fresh noise
   * each), the KL (analytic, or one sample of it) added once. An integer >= 1; default 1.
   */
  samples?: number;
}

/**
 * The negative ELBO per training image of a Bayesian model (the `layers` namespace's
 * {@link ELBOLoss}), `L = NLL + beta_t KL(q || p) / N`; `kl` in the returned terms is the weighted
 * part `beta_t KL / N` that was added to the loss. With `samples = S > 1` the data term is the
 * average over `S` weight samples,
 *
 * $$L = \frac1S\sum_{s=1}^S \mathrm{NLL}(f(x; w_s), y) + \beta_t\,\mathrm{KL}(q\,\|\,p)/N,
 *   \quad w_s \sim q,$$
 *
 * an unbiased estimate of the same objective with a lower-variance gradient (`logits` are the
 * first sample's).
 *
 * @throws ArgumentError at the call, before any step, naming `datasetSize` (not an integer >= 1),
 *   `klWeight` (not a weight {@link parseKLWeight} reads), `samples` (not an integer >= 1) or an
 *   unknown option.
 *
 * @example
 * ```ts
 * const loss = elboLoss({ datasetSize: 60000, klWeight: 'soenderby' });
 * ```
 */
export function elboLoss(options: ElboLossOptions): TrainLoss {
  if (options === undefined) throw new ArgumentError('options', 'expected { datasetSize, ... }');
  optionsObject(options, ['datasetSize', 'klWeight', 'samples'], 'elboLoss');
  const cache = new WeakMap<tf.LayersModel, ELBOLoss>();
  const n = options.datasetSize;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new ArgumentError('datasetSize', `expected an integer >= 1, got ${String(n)}`);
  }
  const weight = parseKLWeight(options.klWeight);
  const samples = integerOption(options.samples, 'samples', 1);
  return (model, x, y, p) => {
    let cell = cache.get(model);
    if (cell === undefined) {
      cell = new ELBOLoss(model, { datasetSize: options.datasetSize, klWeight: weight });
      cache.set(model, cell);
    }
    // the KL factor beta_t / N is computed once from the step context and passed down
    const f = cell.klFactor(x.shape[0] as number, p);
    const r = cell.terms(x, y, f);
    const kl = tf.mul(r.kl, f) as tf.Scalar;
    if (samples === 1) return { loss: r.loss, nll: r.nll, kl, logits: r.output };
    const nlls: tf.Tensor[] = [r.nll];
    for (let s = 1; s < samples; s++) nlls.push(cell.lossFn(cell.forward(x), y));
    const nll = tf.div(tf.addN(nlls), samples) as tf.Scalar;
    return { loss: tf.add(nll, kl) as tf.Scalar, nll, kl, logits: r.output };
  };
}

/** Options of {@link evidentialLoss} (see the toolbox's `EvidentialLoss`). */
export type EvidentialTrainOptions = EvidentialLossOptions;

/**
 * The evidential objective of the toolbox (Sensoy et al. 2018; default squared-error Bayes risk,
 * softplus evidence, labml's KL annealing), as a {@link TrainLoss}.
 */
export function evidentialLoss(options: EvidentialTrainOptions = {}): TrainLoss {
  const f = evidential.evidentialTrainLoss(options);
  return (model, x, y, p) => f(model, x, y, p);
}
