/**
 * The LSTM kind of Bayesian layer (bayesian-torch's `LSTMReparameterization` / `LSTMFlipout`),
 * with the gate layout and arguments of TF.js's `tf.layers.lstm`. On inputs `[batch, T, in]`,
 * with `h_0 = c_0 = 0` (or the given `initialState`), at every step
 *
 * $$z_t = [x_t,\ h_{t-1}]\,K + b,\qquad [z^i, z^f, z^c, z^o] = \operatorname{split}_4(z_t),$$
 * $$c_t = \sigma_r(z^f) \odot c_{t-1} + \sigma_r(z^i) \odot a(z^c),\qquad
 *   h_t = \sigma_r(z^o) \odot a(c_t),$$
 *
 * `a` the `activation` (default tanh), `σ_r` the `recurrentActivation` (default TF.js's
 * `'hardSigmoid'`, `clip(0.2 z + 0.5, 0, 1)`). The one variational kernel is the vertical
 * concatenation `K = [W; U]` of shape `[in + units, 4 units]` (TF.js's `kernel` `[in, 4 units]`
 * over its `recurrentKernel` `[units, 4 units]`, gate order i, f, c, o), the bias `b` has
 * `4 units` entries; so the layer's `outChannels` (the base's output width, the bias length) is
 * `4 units`, and `units` (the hidden size) is the width of `h_t`. Mean field
 * `q(K_jk) = N(mu_jk, softplus(rho_jk)^2)`, the same for `b`; the KL is the base's.
 *
 * Per call (one forward pass over the sequence), per estimator:
 * - `'reparam'`: one sample `K = mu + σ ⊙ ε` and `b` shared by all time steps and the batch
 *   (bayesian-torch);
 * - `'flipout'`: one perturbation `ΔK = σ ⊙ ε` and Rademacher signs `s_in` `[batch, in + units]`,
 *   `s_out` `[batch, 4 units]` per example, fixed over time:
 *   `z_t = [x_t,h] mu + (([x_t,h] ⊙ s_in) ΔK) ⊙ s_out + b`;
 * - `'local'`: local reparameterization of the gate pre-activations at every step,
 *   `z_t = [x_t,h] mu + sqrt([x_t,h]^2 σ^2) ⊙ ε_t + b` with fresh `ε_t` per step — the weight
 *   sample is then not shared across time (each step sees an independent kernel draw);
 * - `mode: 'mean'`: `K = mu`, `b = mu_b` (deterministic, TF.js's LSTM with those weights).
 *
 * The bias is sampled once per call. The output is `h_T` `[batch, units]`, or every `h_t`
 * `[batch, T, units]` with `returnSequences` (with `goBackwards` the sequence is read from the last
 * step, and the outputs are in that processing order, as TF.js).
 */
import * as tf from '@tensorflow/tfjs';
import { booleanOption } from '../utils/options.js';
import { applyActivation } from './activations.js';
import {
  recurrentActivationOf,
  recurrentBaseArgs,
  type RecurrentVariationalArgs,
} from './recurrent_args.js';
import { RecurrentVariational } from './recurrent_variational.js';

/** Arguments of the Bayesian LSTM layers: TF.js's `tf.layers.lstm` names plus the variational ones. */
export interface LSTMVariationalArgs extends RecurrentVariationalArgs {
  /** Cell and output activation `a`. Default `'tanh'`. */
  activation?: string | null;
  /** Gate activation `σ_r`. Default `'hardSigmoid'` (TF.js's default). */
  recurrentActivation?: string | null;
  /** Start the forget-gate bias means at 1 (Jozefowicz et al. 2015). Default true (TF.js's default). */
  unitForgetBias?: boolean;
  /** Accepted and ignored (TF.js always uses implementation 2). */
  implementation?: number;
}

/** The LSTM's own argument names (beyond the shared recurrent ones). */
const LSTM_KEYS: readonly string[] = ['recurrentActivation', 'unitForgetBias', 'implementation'];

/** Bayesian LSTM layer; the concrete classes (one per estimator) are made in `bayesian_classes.ts`. */
export class LSTMVariational extends RecurrentVariational {
  /** Canonical gate activation name. */
  readonly recurrentActivation: string;
  /** Whether the forget-gate bias means start at 1. */
  readonly unitForgetBias: boolean;
  protected readonly gates = 4;
  protected override readonly stateCount = 2;

  /** @param args see {@link LSTMVariationalArgs}; a bias by default. */
  constructor(args: LSTMVariationalArgs) {
    super(args, recurrentBaseArgs(args, 'LSTM', 4, LSTM_KEYS));
    this.recurrentActivation = recurrentActivationOf(args.recurrentActivation);
    this.unitForgetBias = booleanOption(args.unitForgetBias, 'unitForgetBias', true);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    super.build(inputShape);
    if (this.unitForgetBias && this.biasMu !== null) {
      const u = this.units;
      const b = this.biasMu;
      const next = tf.tidy(() => {
        const v = b.read();
        return tf.concat([tf.slice(v, [0], [u]), tf.ones([u]), tf.slice(v, [2 * u], [2 * u])]);
      });
      b.write(next);
      next.dispose();
    }
  }

  /** `z = [x_t, h] K + b` split in i, f, c, o; `c_t`, `h_t` as in the module documentation. */
  protected cell(
    z: (v: tf.Tensor, from: number, size: number) => tf.Tensor,
    states: readonly tf.Tensor[],
  ): tf.Tensor[] {
    const [h, c] = states as [tf.Tensor, tf.Tensor];
    const rec = (t: tf.Tensor): tf.Tensor => applyActivation(this.recurrentActivation, t);
    const [zi, zf, zc, zo] = tf.split(z(h, 0, 4 * this.units), 4, 1) as [
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
    ];
    const cNew = tf.add(tf.mul(rec(zf), c), tf.mul(rec(zi), this.act(zc)));
    return [tf.mul(rec(zo), this.act(cNew)), cNew];
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { recurrentActivation, unitForgetBias } = this;
    return { ...super.getConfig(), recurrentActivation, unitForgetBias };
  }
}
