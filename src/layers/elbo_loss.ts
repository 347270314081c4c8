/**
 * BayesianCNN's minibatch ELBO loss cell {@link ELBOLoss} with an explicit data-set size `N` and a
 * KL-weight schedule `beta`: `loss = NLL_mean + beta * sum_l KL_l / N`, the negative ELBO per
 * training example when `beta = 1` (the common machinery is {@link BayesianLossCell} in
 * `bnn_loss.ts`).
 */
import { ArgumentError } from '../utils/errors.js';
import { integerOption, optionsObject } from '../utils/options.js';
import { klSchedule, type KLSchedule, type KLScheduleSpec } from './kl_schedules.js';
import type { LossFn, LossName } from './losses.js';
import { BayesianLossCell, type Backbone, type LossContext } from './bnn_loss.js';

/** Options of {@link ELBOLoss}. */
export interface ELBOLossOptions {
  /** Number of training examples `N`. Required. */
  datasetSize: number;
  /** KL weight `beta`: a number, a schedule name or a function. Default 1 (exact ELBO). */
  klWeight?: KLScheduleSpec;
  /** Data loss (the NLL, mean over the batch). Default softmax cross-entropy from logits. */
  lossFn?: LossFn | LossName;
  /** Minibatches per epoch `M`. Default `ceil(datasetSize / batchSize)` of each call. */
  numBatches?: number;
  /** Epochs of the run (for the Sønderby warm-up). */
  numEpochs?: number;
}

/**
 * The minibatch ELBO of BayesianCNN with explicit data-set size:
 *
 * $$\mathcal L = \frac1B\sum_{b} -\log p(y_b \mid x_b, w) + \beta\,\frac{\mathrm{KL}(q\,\|\,p)}{N},
 * \quad w \sim q$$
 *
 * `beta` comes from the schedule (see `kl_schedules.ts`); BayesianCNN's loss is `N` times this.
 * @example
 * ```ts
 * const elbo = new ELBOLoss(model, { datasetSize: 60000, klWeight: 'blundell' });
 * optimizer.minimize(() => elbo.compute(x, y, { step: i, epoch, numBatches: 235 }).loss);
 * ```
 */
export class ELBOLoss extends BayesianLossCell {
  readonly datasetSize: number;
  readonly schedule: KLSchedule;
  readonly numBatches: number | undefined;
  readonly numEpochs: number | undefined;

  constructor(backbone: Backbone, options: ELBOLossOptions) {
    super(backbone, options?.lossFn);
    if (options !== undefined) {
      optionsObject(
        options,
        ['datasetSize', 'klWeight', 'lossFn', 'numBatches', 'numEpochs'],
        'ELBOLoss',
      );
    }
    const n = options?.datasetSize;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
      throw new ArgumentError('datasetSize', `expected an integer >= 1, got ${String(n)}`);
    }
    if (
      options.numBatches !== undefined &&
      (!Number.isInteger(options.numBatches) || options.numBatches < 1)
    ) {
      throw new ArgumentError(
        'numBatches',
        `expected an integer >= 1, got ${String(options.numBatches)}`,
      );
    }
    integerOption(options.numEpochs, 'numEpochs', 1);
    this.datasetSize = n;
    this.schedule = klSchedule(options.klWeight);
    this.numBatches = options.numBatches;
    this.numEpochs = options.numEpochs;
  }

  /**
   * The weight `beta = schedule(ctx)` for a minibatch of `batchSize` examples at `ctx`, the
   * schedule seeing the whole step context (`step`, `epoch`, `numBatches` (default the cell's, else
   * `ceil(N / batchSize)`), `numEpochs`, `globalStep`).
   */
  klWeight(batchSize: number, ctx: LossContext = {}): number {
    const numBatches =
      ctx.numBatches ?? this.numBatches ?? Math.ceil(this.datasetSize / Math.max(1, batchSize));
    const numEpochs = ctx.numEpochs ?? this.numEpochs;
    const beta = this.schedule({
      step: ctx.step ?? 0,
      epoch: ctx.epoch ?? 0,
      numBatches,
      ...(numEpochs === undefined ? {} : { numEpochs }),
      // the trainer's global step (a resumed or batch-limited run): schedules reading
      // runProgress(ctx) see the step actually taken, not epoch * M + step
      ...(ctx.globalStep === undefined ? {} : { globalStep: ctx.globalStep }),
    });
    if (!Number.isFinite(beta) || beta < 0) {
      throw new ArgumentError('klWeight', `the schedule returned ${beta}; expected a number >= 0`);
    }
    return beta;
  }

  /** `beta / N` for a minibatch of `batchSize` examples at `ctx`. */
  klFactor(batchSize: number, ctx: LossContext = {}): number {
    return this.klWeight(batchSize, ctx) / this.datasetSize;
  }
}
