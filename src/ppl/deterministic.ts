/**
 * `deterministic(name, value)`: record a computed value as an observed point-mass site (Pyro's
 * `pyro.deterministic`), so that `trace` and `Predictive` can return it. Its log-probability is 0.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { Delta } from '../distributions/delta.js';
import { applyStack, HANDLER_STACK, makeMessage } from './runtime.js';

/**
 * Record `value` under `name`. As Pyro's (`sample(name, Delta(value).mask(False), obs=value)`),
 * the site is masked: its log-probability is 0 also when a handler gives it another value, so
 * `condition(model, {name: v})` replaces the value that the rest of the model sees (the return
 * value) without scoring it.
 *
 * $$\log p(\text{name} = v) = 0 \quad \text{for every } v$$
 *
 * @example
 * ```ts
 * const logits = deterministic('logits', net.apply(x) as tf.Tensor);
 * ```
 */
export function deterministic(name: string, value: tf.Tensor, eventDim = 0): tf.Tensor {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ArgumentError('name', `expected a non-empty string, got ${String(name)}`);
  }
  if (!(value instanceof tf.Tensor) || value.isDisposed) {
    throw new ArgumentError('value', `deterministic('${name}'): expected a live tensor`);
  }
  if (!Number.isInteger(eventDim) || eventDim < 0 || eventDim > value.rank) {
    throw new ArgumentError(
      'eventDim',
      `deterministic('${name}'): expected an integer in [0, ${value.rank}], got ${eventDim}`,
    );
  }
  if (HANDLER_STACK.length === 0) return value;
  const msg = makeMessage({
    type: 'sample',
    name,
    fn: new Delta(value, eventDim),
    value,
    isObserved: true,
    mask: false,
    infer: { deterministic: true },
  });
  return applyStack(msg).value as tf.Tensor;
}
