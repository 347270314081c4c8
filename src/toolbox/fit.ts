/**
 * The toolbox's Adam training of its auxiliary models (the MC-dropout and heteroscedastic copies
 * of `UncertaintyEvaluation`), over in-memory tensors or any batch source: the layers' one epoch
 * loop and one step, with the batches of in-memory data shuffled here.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { checkFunction, optionsObject } from '../utils/options.js';
import { makeRng } from '../utils/seed.js';
import { epochLoop } from '../layers/fit_loop.js';
import { minimizeStep, trainableVariables } from '../layers/train_step.js';
import {
  batchSizeOf,
  checkModel,
  gatherInputs,
  inputList,
  type ModelInput,
} from '../layers/model_input.js';

/**
 * A batch of inputs and targets; `dispose` frees them (when the source made them). `x` is one
 * tensor, or for a model with several inputs an array of one tensor per input (`model.inputs`
 * order).
 */
export interface DataBatch<X extends ModelInput = ModelInput> {
  x: X;
  y: tf.Tensor;
  dispose?: () => void;
}

/**
 * Training data: in-memory tensors `{x, y}` (shuffled into batches of `batchSize`; `x` one tensor
 * or one per model input), or a batch source such as `data.Batcher` (`batches(epoch)` yields
 * batches the loop disposes, from an iterable or, for data read asynchronously such as a
 * `tf.data.Dataset`, an async iterable).
 */
export type TrainData<X extends ModelInput = ModelInput> =
  | { x: X; y: tf.Tensor }
  | { batches(epoch: number): Iterable<DataBatch<X>> | AsyncIterable<DataBatch<X>> };

/** Options of {@link fit}. */
export interface FitOptions {
  epochs: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  /** Called after each epoch with its mean loss per example. */
  onEpoch?: (epoch: number, loss: number) => void;
}

/** Iterate the shuffled batches of one epoch of in-memory data. */
export function* epochBatches(
  data: { x: ModelInput; y: tf.Tensor },
  epoch: number,
  batchSize: number,
  seed: number,
): Generator<DataBatch> {
  const n = batchSizeOf(data.x);
  if (data.y.shape[0] !== n) {
    throw new ArgumentError('trainDataset', `x has ${n} rows but y has ${data.y.shape[0]}`);
  }
  const rng = makeRng((seed + epoch * 7919) >>> 0);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
  }
  for (let i = 0; i < n; i += batchSize) {
    const ids = tf.tensor1d(idx.slice(i, i + batchSize), 'int32');
    const x = gatherInputs(data.x, ids);
    const y = tf.gather(data.y, ids);
    ids.dispose();
    yield { x, y, dispose: () => tf.dispose([...inputList(x), y]) };
  }
}

/**
 * Minimise `loss(x, y)` over the trainable weights of `model` with Adam, with the layers' one
 * loop ({@link epochLoop}) and one step ({@link minimizeStep}): per batch `b`,
 *
 * $$\theta \leftarrow \theta - \eta\, \operatorname{Adam}\big(\nabla_\theta\, \ell(x_b, y_b)\big).$$
 *
 * @param model the model to train (its weights change).
 * @param loss scalar objective of a batch (runs inside `optimizer.minimize`); `X` is the form of
 *   the data's inputs (one tensor, or one per input of a multi-input model).
 * @param data training data.
 * @param options epochs, batch size (a positive integer, default 32), learning rate (finite,
 *   > 0, default 1e-3), seed of the shuffling (an integer, default 0), `onEpoch`; other values
 *   are an `ArgumentError` naming the option, before any work.
 * @returns the mean loss per example of each epoch, `sum_b |b| l_b / sum_b |b|` over its batches
 *   `b` (each batch loss `l_b` a mean over its rows, as tfjs's losses are; Keras's `history.loss`).
 * @throws ArgumentError before any work naming `model` (not a `tf.LayersModel`), `loss` (not a
 *   function), `data` (neither `{x, y}` nor a batch source; in-memory `x` and `y` of different row
 *   counts, inputs of different row counts, no rows), `options` or the option (an unknown key,
 *   e.g. `learningrate`, a value out of range, `onEpoch` not a function).
 */
export async function fit<X extends ModelInput = ModelInput>(
  model: tf.LayersModel,
  loss: (x: X, y: tf.Tensor) => tf.Scalar,
  data: TrainData<X>,
  options: FitOptions,
): Promise<number[]> {
  const { batchSize, learningRate, seed } = checkFitArguments(model, loss, data, options);
  const { epochs } = options;
  const optimizer = tf.train.adam(learningRate);
  const vars = trainableVariables(model);
  const history: number[] = [];
  try {
    await epochLoop({
      source: {
        batches: (e): Iterable<DataBatch> | AsyncIterable<DataBatch> =>
          'batches' in data ? data.batches(e) : epochBatches(data, e, batchSize, seed),
      },
      epochs,
      yieldEvery: 20,
      step: (b) => {
        const r = minimizeStep(optimizer, vars, () => ({ loss: loss(b.x as X, b.y) }));
        const l = r.loss.dataSync()[0] as number;
        r.loss.dispose();
        // the loss is a batch mean: weighted by the batch's rows, the epoch's mean is per example
        const size = Math.max(1, batchSizeOf(b.x));
        return { loss: l, nll: l, kl: 0, correct: 0, size };
      },
      onEpochEnd: (e, totals) => {
        const mean = totals.loss / Math.max(1, totals.n);
        history.push(mean);
        options.onEpoch?.(e, mean);
      },
    });
  } finally {
    optimizer.dispose();
  }
  return history;
}

/** The option names of {@link fit}. */
const FIT_OPTIONS = ['epochs', 'batchSize', 'learningRate', 'seed', 'onEpoch'];

/**
 * Check {@link fit}'s arguments before any work.
 * @returns the batch size, learning rate and seed with their defaults.
 * @throws ArgumentError naming the first bad argument or option.
 */
function checkFitArguments(
  model: unknown,
  loss: unknown,
  data: unknown,
  options: FitOptions | undefined,
): { batchSize: number; learningRate: number; seed: number } {
  checkModel(model);
  checkFunction(loss, 'loss', 'a loss function (x, y) => tf.Scalar');
  if (options === undefined || options === null) {
    throw new ArgumentError(
      'options',
      'expected {epochs, batchSize?, learningRate?, seed?, onEpoch?}',
    );
  }
  optionsObject(options, FIT_OPTIONS, 'toolbox.fit');
  const { epochs } = options;
  if (!Number.isInteger(epochs) || epochs < 1) {
    throw new ArgumentError('epochs', `expected a positive integer, got ${String(epochs)}`);
  }
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ArgumentError('batchSize', `expected a positive integer, got ${String(batchSize)}`);
  }
  const learningRate = options.learningRate ?? 1e-3;
  if (typeof learningRate !== 'number' || !Number.isFinite(learningRate) || learningRate <= 0) {
    throw new ArgumentError(
      'learningRate',
      `expected a finite number > 0, got ${String(learningRate)}`,
    );
  }
  const seed = options.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) {
    throw new ArgumentError('seed', `expected an integer, got ${String(seed)}`);
  }
  if (options.onEpoch !== undefined) checkFunction(options.onEpoch, 'onEpoch');
  checkTrainData(data);
  return { batchSize, learningRate, seed };
}

/**
 * In-memory data `{x, y}`: `x` a live tensor or a non-empty array of them, all with the row count
 * `N >= 1` of `y`; a batch source: an object with a `batches` function.
 * @throws ArgumentError naming `data` otherwise.
 */
function checkTrainData(data: unknown): void {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ArgumentError(
      'data',
      `expected {x, y} tensors or a batch source ({batches(epoch)}), got ${Array.isArray(data) ? 'an array' : String(data)}`,
    );
  }
  if ('batches' in data) {
    checkFunction(
      (data as { batches: unknown }).batches,
      'data',
      'a batch source whose batches is a function',
    );
    return;
  }
  const { x, y } = data as { x?: unknown; y?: unknown };
  const live = (t: unknown): t is tf.Tensor =>
    t instanceof tf.Tensor && !t.isDisposed && t.rank >= 1;
  const xs = Array.isArray(x) ? x : [x];
  if (xs.length === 0 || !xs.every(live)) {
    throw new ArgumentError(
      'data',
      'expected data.x a live tensor [N, ...] or an array of them (one per model input)',
    );
  }
  if (!live(y))
    throw new ArgumentError('data', 'expected data.y a live tensor of targets [N, ...]');
  const rows = xs.map((t) => t.shape[0] as number);
  const n = y.shape[0] as number;
  if (rows.some((r) => r !== n)) {
    throw new ArgumentError(
      'data',
      `expected x and y with the same number of rows, got x ${rows.map((r) => `[${r}, ...]`).join(', ')} and y [${n}, ...]`,
    );
  }
  if (n === 0) throw new ArgumentError('data', 'expected at least one example, got 0 rows');
}
