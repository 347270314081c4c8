/**
 * The GRU kind of Bayesian layer, with the gate layout and arguments of TF.js 4.22's
 * `tf.layers.gru` (reset gate applied before the recurrent matmul; TF.js 4.22 refuses
 * `resetAfter: true`, and so does this layer). On inputs `[batch, T, in]`, with `h_0 = 0` (or the given `initialState`), at every step
 *
 * $$z_t = \sigma_r(x_t W_z + h_{t-1} U_z + b_z),\qquad r_t = \sigma_r(x_t W_r + h_{t-1} U_r + b_r),$$
 * $$\tilde h_t = a\big(x_t W_h + (r_t \odot h_{t-1})\,U_h + b_h\big),\qquad
 *   h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t,$$
 *
 * `a` the `activation` (default tanh), `σ_r` the `recurrentActivation` (default TF.js's
 * `'hardSigmoid'`, `clip(0.2 z + 0.5, 0, 1)`). The one variational kernel is `K = [W; U]` of shape
 * `[in + units, 3 units]` (TF.js's `kernel` `[in, 3 units]` over its `recurrentKernel`
 * `[units, 3 units]`, gate order z, r, h), the bias has `3 units` entries. The estimators
 * (reparam: one kernel sample per call; flipout: one perturbation, per-example signs fixed over
 * time; local: per-step local reparameterization of each block's pre-activation, the candidate's
 * from `r_t ⊙ h_{t-1}`) are those of `recurrent_variational.ts`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { booleanOption } from '../utils/options.js';
import { applyActivation } from './activations.js';
import {
  recurrentActivationOf,
  recurrentBaseArgs,
  type RecurrentVariationalArgs,
} from './recurrent_args.js';
import { RecurrentVariational } from './recurrent_variational.js';

/** Arguments of the Bayesian GRU layers: TF.js's `tf.layers.gru` names plus the variational ones. */
export interface GRUVariationalArgs extends RecurrentVariationalArgs {
  /** Candidate activation `a`. Default `'tanh'`. */
  activation?: string | null;
  /** Gate activation `σ_r`. Default `'hardSigmoid'` (TF.js's default). */
  recurrentActivation?: string | null;
  /** Must be false (TF.js 4.22 implements the reset gate before the matmul only). */
  resetAfter?: boolean;
  /** Accepted and ignored (TF.js always uses implementation 2). */
  implementation?: number;
}

/** The GRU's own argument names (beyond the shared recurrent ones). */
const GRU_KEYS: readonly string[] = ['recurrentActivation', 'resetAfter', 'implementation'];

function gruBaseArgs(args: GRUVariationalArgs): ReturnType<typeof recurrentBaseArgs> {
  const base = recurrentBaseArgs(args, 'GRU', 3, GRU_KEYS);
  if (booleanOption(args.resetAfter, 'resetAfter', false)) {
    throw new ArgumentError(
      'resetAfter',
      'must be false: TF.js 4.22 GRU (and the Bayesian GRU) applies the reset gate before the ' +
        'recurrent matmul',
    );
  }
  return base;
}

/** Bayesian GRU layer; the concrete classes (one per estimator) are made in `bayesian_classes.ts`. */
export class GRUVariational extends RecurrentVariational {
  /** Canonical gate activation name. */
  readonly recurrentActivation: string;
  protected readonly gates = 3;

  /** @param args see {@link GRUVariationalArgs}; a bias by default. */
  constructor(args: GRUVariationalArgs) {
    super(args, gruBaseArgs(args));
    this.recurrentActivation = recurrentActivationOf(args.recurrentActivation);
  }

  /** `z_t`, `r_t`, the candidate from `r_t ⊙ h_{t-1}`, then `h_t` (module documentation). */
  protected cell(
    z: (v: tf.Tensor, from: number, size: number) => tf.Tensor,
    states: readonly tf.Tensor[],
  ): tf.Tensor[] {
    const h = states[0] as tf.Tensor;
    const u = this.units;
    const rec = (t: tf.Tensor): tf.Tensor => applyActivation(this.recurrentActivation, t);
    const [zz, zr] = tf.split(z(h, 0, 2 * u), 2, 1) as [tf.Tensor, tf.Tensor];
    const update = rec(zz);
    const hh = this.act(z(tf.mul(rec(zr), h), 2 * u, u));
    return [tf.add(tf.mul(update, h), tf.mul(tf.sub(1, update), hh))];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      recurrentActivation: this.recurrentActivation,
      resetAfter: false,
    };
  }
}
