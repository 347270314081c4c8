/**
 * The SimpleRNN kind of Bayesian layer, with the layout and arguments of TF.js's
 * `tf.layers.simpleRNN`. On inputs `[batch, T, in]`, with `h_0 = 0` (or the given `initialState`), at every step
 *
 * $$h_t = a(x_t W + h_{t-1} U + b),$$
 *
 * `a` the `activation` (default tanh). The one variational kernel is `K = [W; U]` of shape
 * `[in + units, units]` (TF.js's `kernel` `[in, units]` over its `recurrentKernel`
 * `[units, units]`), the bias has `units` entries. The estimators (reparam: one kernel sample per
 * call; flipout: one perturbation, per-example signs fixed over time; local: per-step local
 * reparameterization of the pre-activation) are those of `recurrent_variational.ts`.
 */
import * as tf from '@tensorflow/tfjs';
import { recurrentBaseArgs, type RecurrentVariationalArgs } from './recurrent_args.js';
import { RecurrentVariational } from './recurrent_variational.js';

/** Arguments of the Bayesian SimpleRNN layers: TF.js's `tf.layers.simpleRNN` names plus the variational ones. */
export type SimpleRNNVariationalArgs = RecurrentVariationalArgs;

/** Bayesian SimpleRNN layer; the concrete classes (one per estimator) are made in `bayesian_classes.ts`. */
export class SimpleRNNVariational extends RecurrentVariational {
  protected readonly gates = 1;

  /** @param args see {@link SimpleRNNVariationalArgs}; a bias by default. */
  constructor(args: SimpleRNNVariationalArgs) {
    super(args, recurrentBaseArgs(args, 'SimpleRNN', 1, []));
  }

  /** `h_t = a(x_t W + h_{t-1} U + b)`. */
  protected cell(
    z: (v: tf.Tensor, from: number, size: number) => tf.Tensor,
    states: readonly tf.Tensor[],
  ): tf.Tensor[] {
    return [this.act(z(states[0] as tf.Tensor, 0, this.units))];
  }
}
