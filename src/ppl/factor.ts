/**
 * `factor(name, logWeight)`: add an arbitrary log-weight to the model's log-joint (Pyro's
 * `pyro.factor`), e.g. a soft constraint or a likelihood written by hand:
 *
 * $$\log p(x, z) \mathrel{+}= \ell(z)$$
 *
 * It is an observed sample site of a {@link Unit} distribution, so handlers see it (`scale`,
 * `mask`, `plate` broadcasting) and every ELBO counts it; guides must not contain it.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { HANDLER_STACK, sample } from './runtime.js';
import { Unit } from './unit.js';

/**
 * Add `logWeight` (a tensor, differentiable) to the log-density of the enclosing model.
 *
 * @param name site name.
 * @param logWeight the log-weight; a tensor of any batch shape (inside plates it broadcasts).
 * @example
 * ```ts
 * const model = () => {
 *   const x = sample('x', new Normal(0, 1));
 *   factor('soft_positive', tf.mul(-10, tf.relu(tf.neg(x)))); // penalize x < 0
 * };
 * ```
 */
export function factor(name: string, logWeight: tf.Tensor | number): void {
  if (!(logWeight instanceof tf.Tensor) && typeof logWeight !== 'number') {
    throw new ArgumentError('logWeight', `factor('${name}'): expected a tensor or a number`);
  }
  if (HANDLER_STACK.length === 0) return; // no handler records it: nothing to add to
  const d = new Unit(logWeight);
  sample(name, d, { obs: tf.zeros(d.batchShape) });
}
