/**
 * MindSpore's `nn.WithLossCell`: a network and its loss in one object, so that training needs
 * only `(x, y) -> scalar loss` and the trainable variables.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import type { ProbabilisticNetwork, VAEOutput } from '../dpn/vae.js';

/** A network with a loss, as trained by {@link SVI}. */
export interface NetWithLoss<N> {
  /** The wrapped network (what `SVI.run` returns). */
  readonly network: N;
  /** The scalar loss of a batch. */
  call(x: tf.Tensor, y?: tf.Tensor): tf.Scalar;
  /** The variables to optimize. */
  trainableVariables(): tf.Variable[];
  /** Create weights built lazily on a first input, before their gradients are taken. */
  build?(x: tf.Tensor, y?: tf.Tensor): void;
  /** Whether `call` is the batch's sum (default) or its mean per example. */
  readonly reduction?: 'sum' | 'mean';
}

/** A loss of a network output (e.g. `infer.ELBO`). */
export interface OutputLoss {
  call(out: VAEOutput): tf.Scalar;
  /** Whether the loss is the batch's sum (default) or its mean per example. */
  readonly reduction?: 'sum' | 'mean';
}

/**
 * Wrap a probabilistic network and a loss.
 *
 * @example
 * ```ts
 * const netWithLoss = new WithLossCell(vae, new ELBO({ outputPrior: 'Normal' }));
 * ```
 */
export class WithLossCell<N extends ProbabilisticNetwork> implements NetWithLoss<N> {
  /**
   * @param network the network (`apply(x, y?)` and `trainableVariables()`, e.g. a `dpn.VAE`).
   * @param loss a loss of its output (`call(out)`, e.g. `infer.ELBO`).
   * @throws ArgumentError naming `network` or `loss` when either lacks those methods (checked
   *   here, not at the first training step).
   */
  constructor(
    readonly network: N,
    readonly loss: OutputLoss,
  ) {
    const has = (o: unknown, ...fns: string[]): boolean =>
      o !== null &&
      typeof o === 'object' &&
      fns.every((f) => typeof (o as Record<string, unknown>)[f] === 'function');
    if (!has(network, 'apply', 'trainableVariables')) {
      throw new ArgumentError(
        'network',
        'expected a network with apply(x, y?) and trainableVariables() (e.g. a dpn.VAE)',
      );
    }
    if (!has(loss, 'call')) {
      throw new ArgumentError('loss', 'expected a loss with call(output) (e.g. an infer.ELBO)');
    }
  }
  call(x: tf.Tensor, y?: tf.Tensor): tf.Scalar {
    return tf.tidy(() => this.loss.call(this.network.apply(x, y)));
  }
  trainableVariables(): tf.Variable[] {
    return this.network.trainableVariables();
  }
  /** Build the network's lazily built layers (see `ProbabilisticNetwork.build`). */
  build(x: tf.Tensor, y?: tf.Tensor): void {
    this.network.build?.(x, y);
  }
  /** The loss's reduction (`'sum'` unless it says `'mean'`). */
  get reduction(): 'sum' | 'mean' {
    return this.loss.reduction ?? 'sum';
  }
}
