/**
 * MindSpore's `infer.SVI`: stochastic variational inference of a network with an ELBO loss,
 * one optimizer step per minibatch.
 */
import * as tf from '@tensorflow/tfjs';
import { withTapeCleanup } from '../utils/tape.js';
import { ArgumentError } from '../utils/errors.js';
import { checkOptionKeys } from '../utils/options.js';
import type { NetWithLoss } from './with_loss.js';

/** A minibatch: inputs and optional labels. */
export interface Batch {
  x: tf.Tensor;
  y?: tf.Tensor;
}

/**
 * A data set: a function returning a fresh iterable of batches per epoch (whose tensors SVI
 * disposes after use), or a reusable iterable (e.g. an array) of batches that stay the caller's.
 */
export type Dataset = (() => Iterable<Batch>) | Iterable<Batch>;

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
   * Train for `epochs` passes over `dataset`; returns the trained network.
   *
   * @param dataset batches (see {@link Dataset}).
   * @param epochs number of passes, >= 1.
   * @param onEpoch called after each epoch with its mean loss per example.
   */
  run(dataset: Dataset, epochs = 1, onEpoch?: (r: EpochReport) => void): N {
    if (!Number.isInteger(epochs) || epochs < 1) {
      throw new ArgumentError('epochs', `expected an integer >= 1, got ${epochs}`);
    }
    const fresh = typeof dataset === 'function';
    // a 'mean' loss is per example: weight it by the batch size so the epoch mean is per example
    const perExample = this.netWithLoss.reduction === 'mean';
    for (let e = 1; e <= epochs; e++) {
      const t0 = performance.now();
      let total = 0;
      let count = 0;
      const it = typeof dataset === 'function' ? dataset() : dataset;
      for (const b of it) {
        const size = b.x.shape[0] as number;
        try {
          const v = this.step(b.x, b.y);
          total += perExample ? v * size : v;
          count += size;
        } finally {
          if (fresh) {
            b.x.dispose();
            b.y?.dispose();
          }
        }
      }
      if (count === 0) throw new ArgumentError('dataset', 'the data set yielded no batches');
      this.trainLoss = total / count;
      const r = {
        epoch: e,
        loss: this.trainLoss,
        examples: count,
        seconds: (performance.now() - t0) / 1000,
      };
      this.history.push(r);
      onEpoch?.(r);
    }
    return this.netWithLoss.network;
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
