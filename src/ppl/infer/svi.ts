/**
 * Stochastic variational inference (Pyro's `SVI`): each `step` estimates `-ELBO` and its gradient
 * with respect to every parameter of the store the model and guide touch, and takes one
 * optimizer step.
 */
import * as tf from '@tensorflow/tfjs';
import { getParamStore } from '../param_store.js';
import type { Callable, ELBOLoss } from './elbo.js';
import { ArgumentError } from '../../utils/errors.js';

/**
 * SVI over a model and a guide.
 *
 * @example
 * ```ts
 * const svi = new SVI(model, guide, tf.train.adam(0.01), new TraceELBO());
 * for (let i = 0; i < 1000; i++) svi.step(data);
 * ```
 */
export class SVI<A extends unknown[]> {
  /**
   * @param model the model `(...args) => void`.
   * @param guide the guide, same arguments.
   * @param optimizer a tfjs optimizer (`tf.train.adam(lr)`...).
   * @param loss an ELBO estimator ({@link TraceELBO}, {@link TraceMeanFieldELBO}).
   */
  constructor(
    readonly model: Callable<A>,
    readonly guide: Callable<A>,
    readonly optimizer: tf.Optimizer,
    readonly loss: ELBOLoss,
  ) {
    if (!(optimizer instanceof tf.Optimizer)) {
      throw new ArgumentError('optimizer', 'expected a tf.Optimizer, e.g. tf.train.adam(0.01)');
    }
  }

  /**
   * One gradient step; returns the `-ELBO` estimate before the step. Parameters created during
   * the first run are included by running the estimate again once they exist.
   */
  step(...args: A): number {
    const store = getParamStore();
    for (;;) {
      const before = new Set(store.names());
      const vars = store.variables();
      const f = (): tf.Scalar => this.loss.differentiableLoss(this.model, this.guide, args);
      const { value, grads } =
        vars.length > 0
          ? tf.variableGrads(f, vars)
          : { value: tf.tidy(f), grads: {} as tf.NamedTensorMap };
      const created = store.names().some((n) => !before.has(n));
      if (created) {
        value.dispose();
        tf.dispose(grads);
        continue;
      }
      if (Object.keys(grads).length > 0) this.optimizer.applyGradients(grads);
      const out = value.dataSync()[0] as number;
      value.dispose();
      tf.dispose(grads);
      return out;
    }
  }

  /** The `-ELBO` estimate without a step. */
  evaluateLoss(...args: A): number {
    const v = tf.tidy(() => this.loss.differentiableLoss(this.model, this.guide, args));
    const out = v.dataSync()[0] as number;
    v.dispose();
    return out;
  }
}
