/**
 * `deterministic(name, value)`: record a computed value as an observed point-mass site (Pyro's
 * `pyro.deterministic`), so that `trace` and `Predictive` can return it. Its log-probability is 0.
 */
import * as tf from '@tensorflow/tfjs';
import { Delta } from './delta.js';
import { sample } from './runtime.js';

/**
 * Record `value` under `name`.
 *
 * @example
 * ```ts
 * const logits = deterministic('logits', net.apply(x) as tf.Tensor);
 * ```
 */
export function deterministic(name: string, value: tf.Tensor, eventDim = 0): tf.Tensor {
  return sample(name, new Delta(value, eventDim), { obs: value, infer: { deterministic: true } });
}
