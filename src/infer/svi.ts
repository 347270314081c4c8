/**
 * MindSpore's `infer.SVI`: stochastic variational inference of a network with an ELBO loss,
 * one optimizer step per minibatch.
 */
import * as tf from '@tensorflow/tfjs';
import { withTapeCleanup } from '../utils/tape.js';
import { ArgumentError } from '../utils/errors.js';
import { isTfDataset } from '../utils/tf_data.js';
import { checkOptionKeys } from '../utils/options.js';
import type { NetWithLoss } from './with_loss.js';

/** A minibatch: inputs and optional labels. */
export interface Batch {
  x: tf.Tensor;
  y?: tf.Tensor;
}

/**
 * One element of a data set: a {@link Batch}, tf.data's `{xs, ys}` (as `model.fitDataset`
 * takes), or a bare tensor of inputs (unlabelled data).
 */
export type BatchLike = Batch | { xs: tf.Tensor; ys?: tf.Tensor } | tf.Tensor;

/**
 * A data set: a function returning a fresh iterable of batches per epoch (whose tensors SVI
 * disposes after use), or a reusable iterable (e.g. an array) of batches that stay the caller's.
 * A one-shot iterator (e.g. a generator object) serves one epoch; its batches stay the caller's.
 * A single batch (a tensor, `{x, y?}` or `{xs, ys?}`) is the whole data set, one step per epoch,
 * its tensors the caller's (Keras's `fit(x, y)`).
 */
export type Dataset = (() => Iterable<BatchLike>) | Iterable<BatchLike> | BatchLike;

/**
 * What {@link SVI.runAsync} also takes: a `tf.data.Dataset` (iterated afresh each epoch, its
 * elements disposed after use, as `model.fitDataset` does), an async iterable of batches, or a
 * function returning a fresh (async) iterable per epoch (whose tensors SVI disposes).
 */
export type AsyncDataset =
  | Dataset
  | tf.data.Dataset<tf.TensorContainer>
  | AsyncIterable<BatchLike>
  | (() => AsyncIterable<BatchLike> | Iterable<BatchLike>);

/** The tensors of an element, to dispose one SVI owns. */
function tensorsOf(el: unknown): tf.Tensor[] {
  if (el instanceof tf.Tensor) return [el];
  if (el === null || typeof el !== 'object') return [];
  return Object.values(el).filter((v): v is tf.Tensor => v instanceof tf.Tensor);
}

/** Read one element of a data set as a {@link Batch}, or say what was expected. */
function asBatch(el: unknown, index: number): Batch {
  if (el instanceof tf.Tensor) return asBatch({ x: el }, index);
  if (el !== null && typeof el === 'object') {
    const o = el as Record<string, unknown>;
    const x = o.x ?? o.xs;
    const y = o.x !== undefined ? o.y : o.ys;
    if (x instanceof tf.Tensor && (y === undefined || y instanceof tf.Tensor)) {
      if (x.isDisposed || y?.isDisposed === true) {
        throw new ArgumentError(
          'dataset',
          `batch ${index} holds a disposed tensor: a function data set must make fresh tensors each epoch (SVI frees them after use); pass the array of batches itself to keep them yours`,
        );
      }
      return y === undefined ? { x } : { x, y };
    }
  }
  const got =
    el === null || typeof el !== 'object'
      ? String(el)
      : `an object with keys [${Object.keys(el).join(', ')}]`;
  throw new ArgumentError(
    'dataset',
    `expected batches {x, y?} of tensors (or tf.data's {xs, ys}, or a tensor), got ${got} at batch ${index}`,
  );
}

/**
 * A data set given as one batch (a tensor of inputs, or `{x, y?}` / `{xs, ys?}` that is not
 * iterable), as Keras's `fit(x, y)` takes the whole data: that batch every epoch, the caller's.
 */
function asSingleBatch(d: unknown): Iterable<BatchLike> | undefined {
  if (d instanceof tf.Tensor) return [d];
  if (d === null || typeof d !== 'object') return undefined;
  if (Symbol.iterator in d || Symbol.asyncIterator in d || isTfDataset(d)) return undefined;
  const o = d as Record<string, unknown>;
  return o.x instanceof tf.Tensor || o.xs instanceof tf.Tensor ? [d as BatchLike] : undefined;
}

/** A short description of a value that is not a data set, for error messages. */
function describe(d: unknown): string {
  return d !== null && typeof d === 'object'
    ? `an object with keys [${Object.keys(d).join(', ')}]`
    : String(d);
}

/** Whether `it` is a one-shot iterator (its iterator is itself), not a re-iterable collection. */
function isOneShot(it: object, key: typeof Symbol.iterator | typeof Symbol.asyncIterator): boolean {
  const f = (it as Record<symbol, unknown>)[key];
  return typeof f === 'function' && (f as () => unknown).call(it) === it;
}

/** Options of {@link SVI}. */
export interface SVIOptions<N> {
  /** The network and its loss (`WithLossCell`). */
  netWithLoss: NetWithLoss<N>;
  /** A tfjs optimizer, e.g. `tf.train.adam(1e-3)`. */
  optimizer: tf.Optimizer;
}

/** Progress reported after each epoch by {@link SVI.run}. */
export interface EpochReport {
  epoch: number;
  /** Mean loss per example over the epoch. */
  loss: number;
  /** Examples seen in the epoch. */
  examples: number;
  /** Seconds spent in the epoch. */
  seconds: number;
}

/**
 * Stochastic variational inference.
 *
 * @example
 * ```ts
 * const vi = new SVI({ netWithLoss: new WithLossCell(vae, new ELBO()), optimizer: tf.train.adam(1e-3) });
 * const trained = vi.run(() => batches(trainSet, 128), 10);
 * vi.getTrainLoss(); // mean loss per image over the last epoch
 * ```
 */
export class SVI<N> {
  readonly netWithLoss: NetWithLoss<N>;
  readonly optimizer: tf.Optimizer;
  private trainLoss = NaN;
  private readonly history: EpochReport[] = [];

  constructor(options: SVIOptions<N>) {
    if (options === undefined || options.netWithLoss === undefined) {
      throw new ArgumentError('netWithLoss', 'expected a network with a loss (WithLossCell)');
    }
    // tf.Optimizer's instanceof reads `minimize` of its operand: test null/undefined first
    const opt: unknown = options.optimizer;
    if (opt === null || typeof opt !== 'object' || !(opt instanceof tf.Optimizer)) {
      throw new ArgumentError('optimizer', 'expected a tf.Optimizer, e.g. tf.train.adam(1e-3)');
    }
    checkOptionKeys(options, ['netWithLoss', 'optimizer'], 'SVI');
    this.netWithLoss = options.netWithLoss;
    this.optimizer = options.optimizer;
  }

  /** One optimizer step on a batch; returns the batch loss. */
  step(x: tf.Tensor, y?: tf.Tensor): number {
    // layers built lazily on their first input must exist before the gradients are taken
    this.netWithLoss.build?.(x, y);
    const vars = this.netWithLoss.trainableVariables();
    const cost = withTapeCleanup(() =>
      this.optimizer.minimize(() => this.netWithLoss.call(x, y), true, vars),
    );
    if (cost === null) throw new Error('SVI.step: the optimizer returned no loss');
    const v = cost.dataSync()[0] as number;
    cost.dispose();
    return v;
  }

  /**
   * Train for `epochs` passes over `dataset`; returns the trained network. Calling `run` again
   * continues from the current weights and optimizer state.
   *
   * @param dataset batches (see {@link Dataset}); a `tf.data.Dataset` or an async iterable needs
   *   {@link runAsync}.
   * @param epochs number of passes, >= 1.
   * @param onEpoch called after each epoch with its mean loss per example.
   */
  run(dataset: Dataset, epochs = 1, onEpoch?: (r: EpochReport) => void): N {
    this.checkEpochs(epochs);
    const data = asSingleBatch(dataset) ?? (dataset as Exclude<Dataset, BatchLike>);
    const fresh = typeof data === 'function';
    if (!fresh) {
      const d: unknown = data;
      if (isTfDataset(d) || (d !== null && typeof d === 'object' && Symbol.asyncIterator in d)) {
        throw new ArgumentError(
          'dataset',
          'a tf.data.Dataset or an async iterable is read asynchronously: use await svi.runAsync(dataset, epochs)',
        );
      }
      if (d === null || typeof d !== 'object' || !(Symbol.iterator in d)) {
        throw new ArgumentError(
          'dataset',
          `expected an iterable of batches, one batch ({x, y?}, {xs, ys?} or a tensor) or a function returning batches per epoch, got ${describe(d)}`,
        );
      }
      this.checkOneShot(d, Symbol.iterator, epochs);
    }
    for (let e = 1; e <= epochs; e++) {
      const t0 = performance.now();
      const acc = { total: 0, count: 0, batches: 0 };
      const it = typeof data === 'function' ? data() : data;
      if (it === null || typeof it !== 'object' || !(Symbol.iterator in it)) {
        throw new ArgumentError(
          'dataset',
          `expected the function to return an iterable of batches, got ${String(it)}${it !== null && typeof it === 'object' && Symbol.asyncIterator in it ? ' (an async iterable: use runAsync)' : ''}`,
        );
      }
      for (const el of it) this.consume(el, fresh, acc);
      this.endEpoch(e, acc, t0, onEpoch);
    }
    return this.netWithLoss.network;
  }

  /**
   * {@link run} over a data set read asynchronously: a `tf.data.Dataset` (elements `{xs, ys}`,
   * `{x, y}` or a tensor; iterated afresh each epoch and disposed after use, as
   * `model.fitDataset`), an async iterable, a function returning a fresh (async) iterable per
   * epoch, or anything {@link run} takes.
   *
   * @example
   * ```ts
   * const ds = tf.data.generator(makeBatches); // yields {xs}
   * await vi.runAsync(ds, 5);
   * ```
   */
  async runAsync(
    dataset: AsyncDataset,
    epochs = 1,
    onEpoch?: (r: EpochReport) => void,
  ): Promise<N> {
    this.checkEpochs(epochs);
    const d: unknown = asSingleBatch(dataset) ?? dataset;
    const isTfData = isTfDataset(d);
    const fresh = isTfData || typeof d === 'function';
    if (!fresh) {
      if (d === null || typeof d !== 'object') {
        throw new ArgumentError(
          'dataset',
          `expected a tf.data.Dataset, an (async) iterable of batches or a function returning one per epoch, got ${String(d)}`,
        );
      }
      if (Symbol.asyncIterator in d) this.checkOneShot(d, Symbol.asyncIterator, epochs);
      else if (Symbol.iterator in d) this.checkOneShot(d, Symbol.iterator, epochs);
      else {
        throw new ArgumentError(
          'dataset',
          `expected a tf.data.Dataset, an (async) iterable of batches, one batch ({x, y?}, {xs, ys?} or a tensor) or a function returning batches per epoch, got ${describe(d)}`,
        );
      }
    }
    for (let e = 1; e <= epochs; e++) {
      const t0 = performance.now();
      const acc = { total: 0, count: 0, batches: 0 };
      if (isTfData) {
        const it = await (d as tf.data.Dataset<tf.TensorContainer>).iterator();
        for (let r = await it.next(); !r.done; r = await it.next()) {
          this.consume(r.value, true, acc);
        }
      } else {
        const src = typeof d === 'function' ? (d as () => unknown)() : d;
        if (src === null || typeof src !== 'object') {
          throw new ArgumentError(
            'dataset',
            `expected the function to return an (async) iterable of batches, got ${String(src)}`,
          );
        }
        if (Symbol.asyncIterator in src) {
          for await (const el of src as AsyncIterable<unknown>) this.consume(el, fresh, acc);
        } else if (Symbol.iterator in src) {
          for (const el of src as Iterable<unknown>) this.consume(el, fresh, acc);
        } else {
          throw new ArgumentError(
            'dataset',
            'expected the function to return an (async) iterable of batches',
          );
        }
      }
      this.endEpoch(e, acc, t0, onEpoch);
    }
    return this.netWithLoss.network;
  }

  private checkEpochs(epochs: number): void {
    if (!Number.isInteger(epochs) || epochs < 1) {
      throw new ArgumentError('epochs', `expected an integer >= 1, got ${epochs}`);
    }
  }

  /** A one-shot iterator serves one epoch: refuse more before any work. */
  private checkOneShot(
    d: object,
    key: typeof Symbol.iterator | typeof Symbol.asyncIterator,
    epochs: number,
  ): void {
    if (epochs > 1 && isOneShot(d, key)) {
      throw new ArgumentError(
        'dataset',
        `a one-shot iterator (e.g. a generator object) is exhausted after one epoch, got epochs ${epochs}: pass a function returning a fresh iterable per epoch, e.g. () => batches()`,
      );
    }
  }

  /** One optimizer step on a data set element; frees it when SVI owns it, also on error. */
  private consume(
    el: unknown,
    owned: boolean,
    acc: { total: number; count: number; batches: number },
  ): void {
    try {
      const b = asBatch(el, acc.batches++);
      const size = b.x.shape[0] as number;
      const v = this.step(b.x, b.y);
      // a 'mean' loss is per example: weight it by the batch size so the epoch mean is per example
      acc.total += this.netWithLoss.reduction === 'mean' ? v * size : v;
      acc.count += size;
    } finally {
      if (owned) tf.dispose(tensorsOf(el));
    }
  }

  private endEpoch(
    epoch: number,
    acc: { total: number; count: number; batches: number },
    t0: number,
    onEpoch?: (r: EpochReport) => void,
  ): void {
    if (acc.count === 0) throw new ArgumentError('dataset', 'the data set yielded no batches');
    this.trainLoss = acc.total / acc.count;
    const r = {
      epoch,
      loss: this.trainLoss,
      examples: acc.count,
      seconds: (performance.now() - t0) / 1000,
    };
    this.history.push(r);
    onEpoch?.(r);
  }

  /** Mean training loss per example over the last epoch (MindSpore's `get_train_loss`). */
  getTrainLoss(): number {
    return this.trainLoss;
  }

  /** Reports of all epochs run so far. */
  getHistory(): EpochReport[] {
    return [...this.history];
  }
}
