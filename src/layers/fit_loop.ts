/**
 * The one epoch loop of deepprob's trainers (`train/fit.ts`, the toolbox's `fit`): epochs of
 * minibatches from a batch source, one step per batch with its {@link StepContext}, running
 * totals, a cooperative stop after any step, and a start in the middle of an epoch (resume).
 * Pure TF.js and host numbers: what a step does, validation and files belong to the callers.
 */
import type * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { checkFunction, integerOption, optionsObject } from '../utils/options.js';
import type { ModelInput } from './model_input.js';
import type { StepContext } from './step_context.js';

/**
 * A minibatch; `dispose` frees it (when its source made it). `x` is one tensor, or one tensor per
 * input of a multi-input model (tfjs's `model.apply([a, b])` convention), as the loss cells take it.
 */
export interface LoopBatch<X extends ModelInput = ModelInput> {
  x: X;
  y: tf.Tensor;
  dispose?: () => void;
}

/**
 * Where minibatches come from: `batches(epoch, start)` yields batch `start..` of `epoch`, in
 * memory (an iterable) or read asynchronously (an async iterable, e.g. the elements of a
 * `tf.data.Dataset`).
 */
export interface BatchSource<B extends LoopBatch = LoopBatch> {
  batches(epoch: number, start?: number): Iterable<B> | AsyncIterable<B>;
}

/** Host statistics of one step. */
export interface StepStats {
  /** Loss minimised. */
  loss: number;
  /** NLL part (the loss when there is none). */
  nll: number;
  /** KL (regulariser) part (0 when there is none). */
  kl: number;
  /** Correct argmax predictions in the batch (0 when not counted). */
  correct: number;
  /** Batch size. */
  size: number;
}

/** Running sums of an epoch: `sum_b stat_b * size_b` and `n = sum_b size_b`. */
export interface EpochTotals {
  loss: number;
  nll: number;
  kl: number;
  correct: number;
  n: number;
  /** Steps taken in the epoch. */
  steps: number;
}

/** A position in training: the next batch to train. */
export interface LoopPosition {
  /** Epoch, 0-based. */
  epoch: number;
  /** Batches of `epoch` already trained. */
  batch: number;
  /** Optimizer steps since the start of training. */
  step: number;
  /** Totals of the batches of `epoch` already trained. */
  totals: EpochTotals;
}

/** Options of {@link epochLoop} over batches of type `B`. */
export interface EpochLoopOptions<B extends LoopBatch = LoopBatch> {
  /** The batches. */
  source: BatchSource<B>;
  /** Exclusive end of the 0-based epochs. */
  epochs: number;
  /**
   * Batches per epoch `M` (the loop stops an epoch after `M` batches). Default: all the source
   * yields (then `ctx.numBatches` is `Number.MAX_SAFE_INTEGER`, unknown).
   */
  numBatches?: number;
  /** One step on a batch; throw to abort the loop (the batch is freed). */
  step: (batch: B, ctx: StepContext) => StepStats;
  /** Where to start (resume): epoch, batch within it, global step and its totals. Default the beginning. */
  start?: Partial<LoopPosition>;
  /** Before each epoch's first step, with the batch it starts at (0 unless resumed). */
  onEpochStart?: (epoch: number, firstBatch: number) => void;
  /** After each step (progress displays). */
  onStep?: (position: LoopPosition, stats: StepStats) => void;
  /** After each complete epoch. */
  onEpochEnd?: (epoch: number, totals: EpochTotals, step: number) => Promise<void> | void;
  /** Checked after every step: true stops the loop (the position is returned). */
  shouldStop?: () => boolean;
  /** Let timers and signals run every this many steps (default 1). */
  yieldEvery?: number;
}

/** Empty totals. */
export function emptyTotals(): EpochTotals {
  return { loss: 0, nll: 0, kl: 0, correct: 0, n: 0, steps: 0 };
}

/**
 * Run epochs `start.epoch .. epochs - 1` of one step per batch, the step context
 * `{step: b, numBatches: M, epoch, numEpochs, globalStep}` passed down to every step.
 *
 * @returns `stopped`: the position after the last step when `shouldStop` ended the loop inside
 *   an epoch or between epochs (undefined when every epoch ran).
 * @throws ArgumentError before the first step naming `options`, an unknown key, `source` (no
 *   `batches` function), `step` or a callback (not a function), `epochs`, `numBatches`,
 *   `yieldEvery` (not a positive integer) or `start.epoch` / `start.batch` / `start.step`.
 * @example
 * ```ts
 * await epochLoop({ source: batcher, epochs: 5, numBatches: batcher.numBatches,
 *   step: (b, ctx) => trainStep(model, opt, loss, b.x, b.y, ctx) });
 * // a two-input model through a loss cell: batches { x: [xa, xb], y }
 * await epochLoop({ source: { batches: () => pairs }, epochs: 3,
 *   step: (b, ctx) => toStats(cell.trainStep(opt, b.x, b.y, ctx)) }); // toStats: read, dispose
 * ```
 */
export async function epochLoop<B extends LoopBatch>(
  options: EpochLoopOptions<B>,
): Promise<{ stopped?: LoopPosition }> {
  checkLoopOptions(options);
  const { source, epochs } = options;
  const numBatches = options.numBatches ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isInteger(epochs) || epochs < 0) {
    throw new ArgumentError('epochs', `expected a non-negative integer, got ${epochs}`);
  }
  if (!Number.isInteger(numBatches) || numBatches < 1) {
    throw new ArgumentError('numBatches', `expected a positive integer, got ${numBatches}`);
  }
  const first = options.start?.epoch ?? 0;
  let startBatch = options.start?.batch ?? 0;
  if (!Number.isInteger(startBatch) || startBatch < 0 || startBatch > numBatches) {
    throw new ArgumentError(
      'start.batch',
      `expected an integer in [0, ${numBatches}], got ${startBatch}`,
    );
  }
  let step = options.start?.step ?? 0;
  const every = Math.max(1, options.yieldEvery ?? 1);
  for (let epoch = first; epoch < epochs; epoch++) {
    const totals =
      epoch === first && options.start?.totals !== undefined
        ? { ...options.start.totals }
        : emptyTotals();
    let b = startBatch;
    startBatch = 0;
    if (b < numBatches) {
      options.onEpochStart?.(epoch, b);
      for await (const batch of source.batches(epoch, b)) {
        if (b >= numBatches) {
          batch.dispose?.();
          break;
        }
        let s: StepStats;
        try {
          s = options.step(batch, {
            step: b,
            numBatches,
            epoch,
            numEpochs: epochs,
            globalStep: step,
          });
        } finally {
          batch.dispose?.();
        }
        totals.loss += s.loss * s.size;
        totals.nll += s.nll * s.size;
        totals.kl += s.kl * s.size;
        totals.correct += s.correct;
        totals.n += s.size;
        totals.steps += 1;
        step++;
        b++;
        const position = { epoch, batch: b, step, totals };
        options.onStep?.(position, s);
        if (b % every === 0) await new Promise((r) => setTimeout(r, 0));
        if (b < numBatches && options.shouldStop?.() === true) return { stopped: position };
      }
    }
    await options.onEpochEnd?.(epoch, totals, step);
    if (epoch + 1 < epochs && options.shouldStop?.() === true) {
      return { stopped: { epoch: epoch + 1, batch: 0, step, totals: emptyTotals() } };
    }
  }
  return {};
}

/** The option names of {@link epochLoop}. */
const LOOP_OPTIONS = [
  'source',
  'epochs',
  'numBatches',
  'step',
  'start',
  'onEpochStart',
  'onStep',
  'onEpochEnd',
  'shouldStop',
  'yieldEvery',
];

/**
 * The options of {@link epochLoop} that are not counts checked by the loop itself.
 * @throws ArgumentError naming the first bad one.
 */
function checkLoopOptions(options: unknown): void {
  if (options === undefined || options === null) {
    throw new ArgumentError('options', 'expected {source, epochs, step, ...}');
  }
  const o = optionsObject(options as EpochLoopOptions, LOOP_OPTIONS, 'epochLoop');
  const source = o.source as unknown;
  if (
    source === null ||
    typeof source !== 'object' ||
    typeof (source as { batches?: unknown }).batches !== 'function'
  ) {
    throw new ArgumentError(
      'source',
      `expected a batch source {batches(epoch, start)} (e.g. a data.Batcher), got ${String(source)}`,
    );
  }
  checkFunction(o.step, 'step', 'a function (batch, ctx) => StepStats');
  for (const k of ['onEpochStart', 'onStep', 'onEpochEnd', 'shouldStop'] as const) {
    if (o[k] !== undefined) checkFunction(o[k], k);
  }
  integerOption(o.yieldEvery, 'yieldEvery', 1);
  const start = o.start as unknown;
  if (start === undefined) return;
  if (start === null || typeof start !== 'object') {
    throw new ArgumentError(
      'start',
      `expected {epoch?, batch?, step?, totals?}, got ${String(start)}`,
    );
  }
  const st = start as Partial<LoopPosition>;
  integerOption(st.epoch, 'start.epoch', 0, 0);
  integerOption(st.step, 'start.step', 0, 0);
}
