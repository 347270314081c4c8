/**
 * `factor(name, logWeight)`: add an arbitrary log-weight to the model's log-joint (Pyro's
 * `pyro.factor`), e.g. a soft constraint or a likelihood written by hand:
 *
 * $$\log p(x, z) \mathrel{+}= \ell(z)$$
 *
 * It is an observed sample site of a {@link Unit} distribution, so handlers see it (`scale`,
 * `mask`, `plate` broadcasting) and every ELBO counts it. In a guide (Pyro allows it, e.g. for
 * the log-Jacobian of a hand-written transform) it adds `l` to `log q`, so it is subtracted from
 * the ELBO; there, as in Pyro, `hasRsample` must say whether `l` comes from reparameterized draws
 * (`true`: differentiated directly) or not (`false`: a score-function term, its value detached).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { checkOptionKeys } from '../utils/options.js';
import { HANDLER_STACK, sample } from './runtime.js';
import { Unit } from './unit.js';

/** Options of {@link factor}. */
export interface FactorOptions {
  /**
   * Whether the log-weight comes from reparameterized draws (Pyro's `has_rsample`): needed only
   * in guides, where it decides how the ELBO differentiates it.
   */
  hasRsample?: boolean;
}

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
export function factor(
  name: string,
  logWeight: tf.Tensor | number,
  options: FactorOptions = {},
): void {
  if (!(logWeight instanceof tf.Tensor) && typeof logWeight !== 'number') {
    throw new ArgumentError('logWeight', `factor('${name}'): expected a tensor or a number`);
  }
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `factor('${name}'): expected an object`);
  }
  checkOptionKeys(options, ['hasRsample'], `factor('${name}')`);
  const hr = options.hasRsample;
  if (hr !== undefined && typeof hr !== 'boolean') {
    throw new ArgumentError('hasRsample', `factor('${name}'): expected true or false`);
  }
  if (HANDLER_STACK.length === 0) return; // no handler records it: nothing to add to
  const d = hr === undefined ? new Unit(logWeight) : new Unit(logWeight, { hasRsample: hr });
  sample(name, d, { obs: tf.zeros(d.batchShape) });
}
