/**
 * Bayesian loss cells: a model, a data loss and the KL divergence of its Bayesian layers.
 *
 * - {@link WithBNNLoss} (MindSpore `WithBNNLossCell(backbone, lossFn, dnnFactor, bnnFactor)`):
 *   `loss = dnnFactor * lossFn(model(x), y) + bnnFactor * sum_l KL_l`.
 * - {@link ELBOLoss} (BayesianCNN's `ELBO` with an explicit data-set size `N` and a KL-weight
 *   schedule `beta`): `loss = NLL_mean + beta * sum_l KL_l / N`, i.e. BayesianCNN's
 *   `N * NLL_mean + beta * KL` divided by `N`; with `beta = 1` it is the minibatch estimate of
 *   the negative ELBO per training example, `-(E_q[log p(D|w)] - KL(q||p)) / N`.
 *
 * This file holds their common base {@link BayesianLossCell} and types; the two cells live in
 * `with_bnn_loss.ts` and `elbo_loss.ts`.
 *
 * Memory and gradients. `compute(x, y, ctx)` returns `{loss, nll, kl, output}` as tensors of the
 * current scope: call it inside `optimizer.minimize(() => ...)`, `tf.tidy` or `tf.variableGrads`,
 * and `tf.keep` what must outlive the scope. {@link BayesianLossCell.trainStep} does one
 * optimizer step and returns kept scalars the caller disposes:
 *
 * ```ts
 * const cell = new ELBOLoss(model, { datasetSize: 60000, klWeight: 'blundell' });
 * const r = cell.trainStep(optimizer, xs, ys, { step, epoch, numBatches });
 * const [loss, nll, kl] = await Promise.all([r.loss.data(), r.nll.data(), r.kl.data()]);
 * tf.dispose([r.loss, r.nll, r.kl]);
 * ```
 *
 * Inputs. `x` is one tensor, or for a model with several inputs an array with one tensor per
 * `model.inputs[i]` (tfjs's convention, `model.apply([a, b])`), each checked against its input's
 * shape (errors name `x[i]`) before the forward pass.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import type { BayesianLayer } from './bayesian_layer.js';
import {
  checkClassTargets,
  meanSquaredError,
  resolveLoss,
  softmaxCrossEntropy,
  type LossFn,
  type LossName,
} from './losses.js';
import type { StepContext } from './step_context.js';
import { minimizeStep, trainableVariables } from './train_step.js';
import { bayesianLayers, finalActivation } from './model_utils.js';
import { batchSizeOf, checkModelInputs, type ModelInput } from './model_input.js';

/** A network: a tfjs model or a single layer. */
export type Backbone = tf.LayersModel | tf.layers.Layer;

/**
 * Where training is (the trainer's {@link StepContext}, used by KL schedules); every field
 * optional: `step`, `epoch` default 0, `numBatches` to the cell's option or `ceil(N / batchSize)`.
 */
export type LossContext = Partial<StepContext>;

/** The terms of a loss evaluation (tensors of the caller's scope). */
export interface LossTerms {
  /** The minimised loss. */
  loss: tf.Scalar;
  /** The data term: `lossFn(output, y)` (mean over the batch). */
  nll: tf.Scalar;
  /** The summed KL divergence of all Bayesian layers (unweighted). */
  kl: tf.Scalar;
  /** The network output `model(x)`. */
  output: tf.Tensor;
}

/** Result of {@link BayesianLossCell.trainStep}: kept tensors the caller must dispose. */
export interface StepResult {
  loss: tf.Scalar;
  nll: tf.Scalar;
  kl: tf.Scalar;
  /** The output, only with `keepOutput: true`. */
  output?: tf.Tensor;
}

/** Options of {@link BayesianLossCell.trainStep}. */
export interface TrainStepOptions {
  /** Also keep and return the network output (e.g. for training accuracy). Default false. */
  keepOutput?: boolean;
}

/** The common part of the loss cells: forward pass, KL, and one optimizer step. */
export abstract class BayesianLossCell {
  /** The network. */
  readonly backbone: Backbone;
  /** The data loss. */
  readonly lossFn: LossFn;
  /** The Bayesian layers of the backbone (found once). */
  readonly layers: BayesianLayer[];
  /**
   * Whether the backbone ends in a softmax over `K >= 2` classes while the loss is the softmax
   * cross-entropy of logits: the data term is then taken of `log p` (so the probabilities are not
   * softmaxed a second time, which shrank the loss and its gradients).
   */
  readonly probabilityOutput: boolean;
  /**
   * How a one-output backbone is read under the softmax cross-entropy: a binary classifier whose
   * output is `p(y = 1)` (a final sigmoid, `'probability'`) or its logit (`'logit'`); the data term
   * is then the softmax cross-entropy of the two-class logits `[log(1 - p), log p]` resp. `[0, z]`,
   * i.e. the Bernoulli NLL (a softmax over one logit is constant). `undefined` otherwise.
   */
  readonly binaryOutput: 'probability' | 'logit' | undefined;

  constructor(backbone: Backbone, lossFn: LossFn | LossName | undefined) {
    if (!(backbone instanceof tf.LayersModel) && !(backbone instanceof tf.layers.Layer)) {
      throw new ArgumentError('backbone', 'expected a tf.LayersModel or a tf.layers.Layer');
    }
    this.backbone = backbone;
    this.lossFn = resolveLoss(lossFn);
    this.layers = bayesianLayers(backbone);
    const out =
      backbone instanceof tf.LayersModel && backbone.outputs.length === 1
        ? backbone.outputs[0]?.shape
        : undefined;
    const last = backbone instanceof tf.LayersModel ? backbone.layers.at(-1) : backbone;
    this.probabilityOutput =
      this.lossFn === softmaxCrossEntropy &&
      last !== undefined &&
      finalActivation(last) === 'softmax' &&
      (out === undefined || (out[out.length - 1] ?? 2) >= 2);
    this.binaryOutput =
      this.lossFn === softmaxCrossEntropy && out !== undefined && out[out.length - 1] === 1
        ? last !== undefined && finalActivation(last) === 'sigmoid'
          ? 'probability'
          : 'logit'
        : undefined;
  }

  /**
   * The backbone's output as the softmax cross-entropy reads it: `log p` of a softmax head, the
   * two-class logits `[log(1 - p), log p]` / `[0, z]` of a one-output binary classifier, else the
   * output itself.
   */
  private dataOutput(output: tf.Tensor): tf.Tensor {
    const floor = (t: tf.Tensor): tf.Tensor => tf.log(tf.clipByValue(t, 1e-30, 1));
    if (this.binaryOutput === 'probability') {
      return tf.tidy(() => tf.concat([floor(tf.sub(1, output)), floor(output)], -1));
    }
    if (this.binaryOutput === 'logit') {
      return tf.tidy(() => tf.concat([tf.zerosLike(output), output], -1));
    }
    return this.probabilityOutput ? floor(output) : output;
  }

  /**
   * The targets' shape against the backbone's output, before a forward pass (so that a wrong
   * target throws before the tape records anything): class indices `[B]` or rows `[B, K]` for the
   * softmax cross-entropy (`K = 2` for a one-output binary classifier), the output's shape for the
   * squared error, `B` targets otherwise.
   * @throws ArgumentError naming `y`.
   */
  protected checkTargetShape(x: ModelInput, y: tf.Tensor): void {
    const batch = batchSizeOf(x);
    const out = this.outputShape(Array.isArray(x) ? [batch] : x.shape);
    const last = out?.[out.length - 1];
    const classes = typeof last === 'number' ? (last === 1 ? 2 : last) : undefined;
    let ok = y.rank >= 1 && y.shape[0] === batch;
    let want = `${batch} targets (the batch size of x)`;
    if (this.lossFn === softmaxCrossEntropy && out !== undefined) {
      const lead = [batch, ...out.slice(1, -1)];
      const same = (s: readonly (number | null)[]): boolean =>
        y.rank === s.length && s.every((d, i) => d === null || d === y.shape[i]);
      ok = same(lead) || same([...lead, classes ?? null]);
      want = `class indices [${lead.join(', ')}] or one-hot rows [${[...lead, classes ?? 'K'].join(', ')}]`;
    } else if (this.lossFn === meanSquaredError && out !== undefined) {
      const shape = [batch, ...out.slice(1)];
      ok = y.rank === shape.length && shape.every((d, i) => d === null || d === y.shape[i]);
      want = `targets of the output's shape [${shape.join(', ')}]`;
    }
    if (!ok) throw new ArgumentError('y', `expected ${want}, got [${y.shape.join(', ')}]`);
  }

  /**
   * The factor of the summed KL in the loss for a minibatch of `batchSize` examples at `ctx`,
   * computed once per step from the one step context and passed down to {@link terms}.
   */
  abstract klFactor(batchSize: number, ctx?: LossContext): number;
  /** The factor of the data term. */
  protected nllFactor(): number {
    return 1;
  }

  /**
   * A loss cell scores one output: a model with several outputs (a classifier and a regressor
   * head) is refused naming `backbone` before any forward pass.
   * @throws ArgumentError naming `backbone`.
   */
  protected checkSingleOutput(): void {
    const b = this.backbone;
    if (b instanceof tf.LayersModel && b.outputs.length !== 1) {
      throw new ArgumentError(
        'backbone',
        `expected a network with exactly one output tensor, got '${b.name}' with ` +
          `${b.outputs.length} outputs: train it with layers.compileBayesian and model.fit (one ` +
          'loss per output), or build a model of the one output to train (tf.model({inputs, outputs}))',
      );
    }
  }

  /** Run the network on `x` (one tensor, or one per input of a multi-input model) in training mode. */
  forward(x: ModelInput): tf.Tensor {
    const out = this.backbone.apply(x, { training: true });
    if (!(out instanceof tf.Tensor)) {
      if (Array.isArray(out)) tf.dispose(out.filter((t): t is tf.Tensor => t instanceof tf.Tensor));
      throw new ArgumentError('backbone', 'expected a network with exactly one output tensor');
    }
    return out;
  }

  /** Summed KL of the Bayesian layers (a scalar 0 when there are none). */
  kl(): tf.Scalar {
    return tf.tidy(() =>
      this.layers.length === 0
        ? tf.scalar(0)
        : (tf.addN(this.layers.map((l) => l.kl())) as tf.Scalar),
    );
  }

  /**
   * Evaluate the loss and its terms on a minibatch; differentiable, for use inside
   * `optimizer.minimize` (the returned tensors belong to the caller's scope).
   * @param x inputs: a tensor, or one per input of a multi-input model (checked per input).
   * @param y targets (class indices or one-hot for cross-entropy).
   * @param ctx the position in training, for KL schedules.
   */
  compute(x: ModelInput, y: tf.Tensor, ctx: LossContext = {}): LossTerms {
    this.checkSingleOutput();
    const batch = checkModelInputs(this.backbone, x);
    if (!(y instanceof tf.Tensor) || y.isDisposed) {
      throw new ArgumentError('y', 'expected a live tf.Tensor of targets');
    }
    return this.terms(x, y, this.klFactor(batch, ctx));
  }

  /**
   * The loss and its terms with a given KL factor `f`:
   * `loss = nllFactor * lossFn(model(x), y) + f * sum_l KL_l` (tensors of the caller's scope).
   * @param x inputs (a tensor, or one per input of a multi-input model).
   * @param y targets.
   * @param klFactor the factor `f` of the summed KL (from {@link klFactor}).
   */
  terms(x: ModelInput, y: tf.Tensor, klFactor: number): LossTerms {
    const batch = batchSizeOf(x);
    if (batch !== y.shape[0]) {
      const xs = Array.isArray(x)
        ? x.map((t) => `[${t.shape.join(', ')}]`).join(', ')
        : `[${x.shape.join(', ')}]`;
      throw new ArgumentError(
        'y',
        `expected ${batch} targets (the batch size of x ${xs}), got shape [${y.shape.join(', ')}]`,
      );
    }
    this.checkTargetShape(x, y);
    const nllFactor = this.nllFactor();
    const output = this.forward(x);
    let nll: tf.Scalar;
    try {
      nll = this.lossFn(this.dataOutput(output), y);
    } catch (e) {
      output.dispose();
      throw e;
    }
    const kl = this.kl();
    const loss = tf.tidy(() => tf.add(tf.mul(nll, nllFactor), tf.mul(kl, klFactor)) as tf.Scalar);
    return { loss, nll, kl, output };
  }

  /**
   * The output shape of the backbone for inputs of shape `inputShape`, when it can be known
   * without running it (a model's symbolic output, or a built layer's `computeOutputShape`).
   */
  outputShape(inputShape: readonly number[]): (number | null)[] | undefined {
    const b = this.backbone;
    try {
      if (b instanceof tf.LayersModel) {
        const out = b.outputs[0];
        return out === undefined ? undefined : [...out.shape];
      }
      const s = b.computeOutputShape([...inputShape]);
      return Array.isArray(s[0]) ? undefined : [...(s as (number | null)[])];
    } catch {
      return undefined;
    }
  }

  /**
   * Check the arguments of a training step before any work: the optimizer, `x` a tensor with a
   * batch dimension (for a multi-input model, an array of them, each shaped like its input:
   * {@link checkModelInputs}), and `y` fitting the data loss: for the softmax cross-entropy, class indices
   * `[B]` in `[0, K)` or one-hot rows `[B, K]` ({@link checkClassTargets}, one host read of the
   * labels); for the squared error, the output's shape; for any loss, `B` targets.
   * @throws ArgumentError naming `optimizer`, `x`, `x[i]` or `y`.
   */
  checkStepInputs(optimizer: unknown, x: unknown, y: unknown): void {
    this.checkSingleOutput();
    // tf.Optimizer's instanceof reads `minimize` of its operand: test null/undefined first
    if (
      optimizer === null ||
      typeof optimizer !== 'object' ||
      !(optimizer instanceof tf.Optimizer)
    ) {
      throw new ArgumentError('optimizer', `expected a tf.Optimizer, got ${typeof optimizer}`);
    }
    const batch = checkModelInputs(this.backbone, x);
    if (!(y instanceof tf.Tensor) || y.isDisposed) {
      throw new ArgumentError('y', 'expected a live tf.Tensor of targets');
    }
    const out = this.outputShape(x instanceof tf.Tensor ? x.shape : [batch]);
    const last = out?.[out.length - 1];
    if (this.lossFn === softmaxCrossEntropy) {
      const classes = typeof last === 'number' ? (last === 1 ? 2 : last) : undefined;
      checkClassTargets(y, batch, classes, 'y');
    } else if (this.lossFn === meanSquaredError && out !== undefined) {
      const want = [batch, ...out.slice(1)];
      if (y.rank !== want.length || want.some((d, i) => d !== null && d !== y.shape[i])) {
        throw new ArgumentError(
          'y',
          `expected targets of the output's shape [${want.join(', ')}], got [${y.shape.join(', ')}]`,
        );
      }
    } else if (y.rank < 1 || y.shape[0] !== batch) {
      throw new ArgumentError(
        'y',
        `expected ${batch} targets (the batch size of x), got shape [${y.shape.join(', ')}]`,
      );
    }
  }

  /**
   * One optimizer step on a minibatch: minimises `compute(x, y, ctx).loss` over the backbone's
   * trainable weights. The arguments are checked first ({@link checkStepInputs}); a failing call
   * leaves no tensor behind.
   * @returns kept scalars `loss`, `nll`, `kl` (and `output` with `keepOutput`) that the caller
   *   disposes; reading them (`await t.data()`) is the only sync.
   */
  trainStep(
    optimizer: tf.Optimizer,
    x: ModelInput,
    y: tf.Tensor,
    ctx: LossContext = {},
    options: TrainStepOptions = {},
  ): StepResult {
    this.checkStepInputs(optimizer, x, y);
    const f = this.klFactor(batchSizeOf(x), ctx);
    const r = minimizeStep(
      optimizer,
      trainableVariables(this.backbone),
      () => this.terms(x, y, f),
      options.keepOutput === true,
    );
    return {
      loss: r.loss,
      nll: r.nll as tf.Scalar,
      kl: r.kl as tf.Scalar,
      ...(r.output !== undefined ? { output: r.output } : {}),
    };
  }
}
