/**
 * Where training is at a minibatch: the one step context that travels from the trainer
 * (`train/fit.ts`) through the objectives (`train/loss.ts`, the loss cells, the evidential loss)
 * down to the KL-weight schedules. The KL schedules read `step` (`i = step + 1` of
 * `M = numBatches`), `epoch` and `numEpochs`; annealing schedules read the relative progress
 * {@link runProgress}.
 */

/** Where training is at a minibatch. */
export interface StepContext {
  /** Minibatch index within the epoch, 0-based. */
  step: number;
  /** Minibatches per epoch `M`. */
  numBatches: number;
  /** Epoch, 0-based. */
  epoch: number;
  /** Epochs of the run, when known. */
  numEpochs?: number;
  /** Optimizer steps since the start of training, 0-based (default `epoch * numBatches + step`). */
  globalStep?: number;
}

/**
 * The global step and the planned number of steps of a context:
 * `t = globalStep` (default `epoch * M + step`), `T = M * numEpochs` (at least 1; `M` when the
 * number of epochs is unknown).
 * @param ctx the step context.
 */
export function runProgress(ctx: StepContext): { step: number; totalSteps: number } {
  const step = ctx.globalStep ?? ctx.epoch * ctx.numBatches + ctx.step;
  return { step, totalSteps: Math.max(1, ctx.numBatches * (ctx.numEpochs ?? 1)) };
}
