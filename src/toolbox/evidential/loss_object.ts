/**
 * The evidential training objective as an object the training loop can call like the Bayesian
 * loss: `compute(x, y, progress) -> {loss, nll, kl, output}`.
 */
import { runProgress, type StepContext } from '../../layers/step_context.js';
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import type { TensorInput } from '../../utils/tensor.js';
import { evidenceFunction, type EvidenceName } from './evidence.js';
import { klUniformLoss } from './kl.js';
import { evidentialLossFunction, type EvidentialLossName } from './losses.js';
import { scheduleByName, type Schedule, type TrainingProgress } from './schedule.js';

/** A network: a tfjs layers model or a function from inputs to outputs (logits). */
export type Network =
  tf.LayersModel | ((x: tf.Tensor, options: { training: boolean }) => tf.Tensor);

/** Options of {@link EvidentialLoss}. */
export interface EvidentialLossOptions {
  /** Loss on the Dirichlet (default `'squared-error-bayes-risk'`, labml's choice). */
  loss?: EvidentialLossName | string;
  /** Evidence function (default `'softplus'`). */
  evidence?: EvidenceName | string;
  /** KL annealing: a schedule or `'relative-piecewise'` (default, labml) / `'epoch'` (Sensoy). */
  klSchedule?: Schedule | 'relative-piecewise' | 'epoch';
  /** Run the model in training mode (dropout active) in `compute`. Default true. */
  training?: boolean;
}

/** The parts of one evaluation of the objective (all scalars except `output`). */
export interface EvidentialLossResult {
  /** `nll + lambda * kl`, what the optimiser minimises. */
  loss: tf.Scalar;
  /** The data term (the chosen Bayes risk / type-II likelihood), batch mean. */
  nll: tf.Scalar;
  /** The KL-to-uniform regulariser on misleading evidence, batch mean (before annealing). */
  kl: tf.Scalar;
  /** The network outputs (logits) `[N, K]`. */
  output: tf.Tensor;
  /** The annealing coefficient `lambda = min(1, schedule(progress))` that was used. */
  klWeight: number;
}

/** Run a {@link Network} on `x`. */
export function runNetwork(net: Network, x: tf.Tensor, training: boolean): tf.Tensor {
  if (net instanceof tf.LayersModel) return net.apply(x, { training }) as tf.Tensor;
  return net(x, { training });
}

/**
 * Evidential deep learning objective (Sensoy et al. 2018; labml):
 *
 * $$\mathcal{L} = \frac1N\sum_n \Big[\mathcal{L}_{\text{risk}}(e_n, y_n)
 * + \lambda_t\,\mathrm{KL}\big[\mathrm{Dir}(\tilde\alpha_n)\,\|\,\mathrm{Dir}(\mathbf 1)\big]\Big],
 * \quad e_n = f(\text{net}(x_n)),\ \lambda_t = \min(1, \text{schedule}(t))$$
 *
 * @example
 * ```ts
 * const objective = new EvidentialLoss(model, { loss: 'squared-error-bayes-risk', evidence: 'softplus' });
 * optimizer.minimize(() => objective.compute(x, y, { step, totalSteps, epoch }).loss);
 * ```
 */
export class EvidentialLoss {
  /** The network producing logits. */
  readonly network: Network;
  /** The data term. */
  readonly lossName: string;
  /** The evidence function name. */
  readonly evidenceName: string;
  private readonly toEvidence: (o: TensorInput) => tf.Tensor;
  private readonly risk: ReturnType<typeof evidentialLossFunction>;
  private readonly schedule: Schedule;
  private readonly training: boolean;

  /**
   * @param network the classifier (outputs unconstrained logits `[N, K]`).
   * @param options loss, evidence function and KL schedule.
   */
  constructor(network: Network, options: EvidentialLossOptions = {}) {
    if (!(network instanceof tf.LayersModel) && typeof network !== 'function') {
      throw new ArgumentError('network', 'expected a tf.LayersModel or a function x -> logits');
    }
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an object, got ${String(options)}`);
    }
    checkOptionKeys(options, ['loss', 'evidence', 'klSchedule', 'training'], 'EvidentialLoss');
    if (options.training !== undefined && typeof options.training !== 'boolean') {
      throw new ArgumentError(
        'training',
        `expected true or false, got ${String(options.training)}`,
      );
    }
    const sched = options.klSchedule;
    if (sched !== undefined && typeof sched !== 'function' && typeof sched !== 'string') {
      throw new ArgumentError(
        'klSchedule',
        "expected a schedule (progress) => number, 'relative-piecewise' or 'epoch'",
      );
    }
    this.network = network;
    this.lossName = options.loss ?? 'squared-error-bayes-risk';
    this.evidenceName = options.evidence ?? 'softplus';
    this.risk = evidentialLossFunction(this.lossName);
    this.toEvidence = evidenceFunction(this.evidenceName);
    const s = options.klSchedule ?? 'relative-piecewise';
    this.schedule = typeof s === 'function' ? s : scheduleByName(s);
    this.training = options.training ?? true;
  }

  /**
   * The annealing weight `lambda = min(1, max(0, schedule(progress)))`.
   * @throws ArgumentError naming `progress` when it is not an object, holds a step, total or
   *   epoch that is not a finite number >= 0, or the schedule gives no finite number for it (a
   *   missing `epoch` under the `'epoch'` schedule gave a NaN loss).
   */
  klWeight(progress: TrainingProgress): number {
    if (progress === null || typeof progress !== 'object') {
      throw new ArgumentError(
        'progress',
        `expected { step, totalSteps, epoch }, got ${String(progress)}`,
      );
    }
    for (const key of ['step', 'totalSteps', 'epoch'] as const) {
      const v: unknown = progress[key];
      if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
        throw new ArgumentError(
          'progress',
          `expected ${key} a finite number >= 0, got ${String(v)}`,
        );
      }
    }
    const w = this.schedule(progress);
    if (typeof w !== 'number' || Number.isNaN(w)) {
      throw new ArgumentError(
        'progress',
        `the KL schedule gave ${String(w)} for ${JSON.stringify(progress)} (does it lack the ` +
          "step, totalSteps or epoch the schedule reads? 'epoch' reads epoch, " +
          "'relative-piecewise' step / totalSteps)",
      );
    }
    return Math.min(1, Math.max(0, w));
  }

  /**
   * Evaluate the objective on a batch.
   * @param x inputs.
   * @param y one-hot targets `[N, K]` or integer labels `[N]`.
   * @param progress the training position (for the KL annealing).
   * @returns new tensors the caller owns (inside `optimizer.minimize`, return `.loss`).
   */
  compute(x: tf.Tensor, y: TensorInput, progress: TrainingProgress): EvidentialLossResult {
    const klWeight = this.klWeight(progress);
    const parts = tf.tidy(() => {
      const output = runNetwork(this.network, x, this.training);
      if (output.rank !== 2) {
        throw new ArgumentError(
          'network',
          `expected outputs [N, K], got [${output.shape.join(',')}]`,
        );
      }
      const evidence = this.toEvidence(output);
      const nll = this.risk(evidence, y, 'mean') as tf.Scalar;
      const kl = klUniformLoss(evidence, y, 'mean') as tf.Scalar;
      const loss = tf.add(nll, tf.mul(kl, klWeight)) as tf.Scalar;
      return { loss, nll, kl, output };
    });
    return { ...parts, klWeight };
  }

  /** Evidence of the network in inference mode (dropout off), `[N, K]`. */
  evidence(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => this.toEvidence(runNetwork(this.network, x, false))) as tf.Tensor2D;
  }
}

/** Training position as the trainer of `train` reports it (the layers' {@link StepContext}). */
export type TrainerProgress = StepContext;

/** The loss terms the trainer of `train` expects (`kl` is the weighted regulariser). */
export interface TrainerLossTerms {
  loss: tf.Scalar;
  nll: tf.Scalar;
  kl: tf.Scalar;
  logits: tf.Tensor;
}

/**
 * The evidential objective in the shape of the trainer's `TrainLoss`
 * (`(model, x, y, progress) -> {loss, nll, kl, logits}`, called inside `optimizer.minimize`);
 * `kl` is the annealed term `lambda_t * KL` that was added to the loss, and the relative
 * progress of the schedule is `globalStep / (numBatches * numEpochs)` ({@link runProgress}).
 *
 * @param options loss (default squared-error Bayes risk), evidence (default softplus), schedule.
 * @example
 * ```ts
 * const loss = evidentialTrainLoss({ loss: 'squared-error-bayes-risk', evidence: 'softplus' });
 * trainStep(model, optimizer, loss, x, y, progress);
 * ```
 */
export function evidentialTrainLoss(
  options: EvidentialLossOptions = {},
): (
  model: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  progress: TrainerProgress,
) => TrainerLossTerms {
  // validate the options now, not at the first step
  checkOptionKeys(options, ['loss', 'evidence', 'klSchedule', 'training'], 'evidentialTrainLoss');
  evidentialLossFunction(options.loss ?? 'squared-error-bayes-risk');
  evidenceFunction(options.evidence ?? 'softplus');
  const cache = new WeakMap<tf.LayersModel, EvidentialLoss>();
  return (model, x, y, progress) => {
    let objective = cache.get(model);
    if (objective === undefined) {
      objective = new EvidentialLoss(model, options);
      cache.set(model, objective);
    }
    const r = objective.compute(x, y, { ...runProgress(progress), epoch: progress.epoch });
    const kl = tf.mul(r.kl, r.klWeight) as tf.Scalar;
    r.kl.dispose();
    return { loss: r.loss, nll: r.nll, kl, logits: r.output };
  };
}
