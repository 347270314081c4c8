/**
 * `scale`: multiply the log-probability of every sample site by a positive factor (Pyro's
 * `ScaleMessenger`), e.g. `N / batchSize` for a minibatch estimate of a full-data likelihood, or
 * by a tensor of positive weights (per-datum weights) broadcast against each site's batch shape:
 *
 * $$\log p(x) \to w \odot \log p(x),\qquad w > 0.$$
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import type { Message } from '../runtime.js';

/** Throw unless `factor` is a finite number > 0 or a live tensor of finite values > 0. */
function checkFactor(factor: number | tf.Tensor): void {
  if (factor instanceof tf.Tensor) {
    if (factor.isDisposed)
      throw new ArgumentError('scale', 'expected a live tensor, got a disposed one');
    if (factor.dtype !== 'float32' && factor.dtype !== 'int32') {
      throw new ArgumentError('scale', `expected a numeric tensor, got dtype ${factor.dtype}`);
    }
    const v = factor.dataSync();
    for (let i = 0; i < v.length; i++) {
      const x = v[i] as number;
      if (!(x > 0) || !Number.isFinite(x)) {
        throw new ArgumentError(
          'scale',
          `expected finite values > 0, got ${x} at element ${i} of a tensor of shape ` +
            `[${factor.shape.join(',')}]`,
        );
      }
    }
    return;
  }
  if (typeof factor !== 'number' || !(factor > 0) || !Number.isFinite(factor)) {
    throw new ArgumentError(
      'scale',
      `expected a finite number > 0 or a tensor, got ${typeof factor === 'number' ? factor : typeof factor}`,
    );
  }
}

/** Multiplies `msg.scale` (a number) or `msg.scaleTensor` (a tensor). @internal */
export class ScaleMessenger extends Messenger {
  /** @param factor the scale. @param checked whether `factor` was checked already. */
  constructor(
    private readonly factor: number | tf.Tensor,
    checked = false,
  ) {
    super();
    if (!checked) checkFactor(factor);
  }
  override processMessage(msg: Message): void {
    const f = this.factor;
    if (typeof f === 'number') {
      msg.scale *= f;
    } else if (msg.type === 'sample') {
      msg.scaleTensor = msg.scaleTensor === null ? f : tf.mul(msg.scaleTensor, f);
    }
  }
}

/**
 * Scale the log-densities of `fn`'s sample sites by `factor`: a finite number > 0, or a tensor
 * of finite values > 0 that broadcasts to each site's batch shape (an error naming the site
 * otherwise, when its log-density is computed). Nested scales multiply.
 *
 * @example
 * ```ts
 * const scaled = scale(model, 60000 / 128);
 * const weighted = scale(model, tf.tensor1d([1, 0.5, 2])); // per-datum weights in a plate of 3
 * ```
 */
export function scale<A extends unknown[], R>(fn: Fn<A, R>, factor: number | tf.Tensor): Fn<A, R> {
  checkFactor(factor); // validate now (once), not at each call
  return wrapWith(fn, () => new ScaleMessenger(factor, true));
}
