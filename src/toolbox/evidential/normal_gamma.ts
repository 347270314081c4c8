/**
 * The Normal-Inverse-Gamma head of deep evidential regression (Amini et al., NeurIPS 2020): a raw
 * network output `[..., 4D]` split into four blocks of `D` (the order of the reference
 * `evidential-deep-learning` package's `DenseNormalGamma`) and constrained to the NIG parameters
 * of the prior `mu ~ N(gamma, sigma^2 / nu)`, `sigma^2 ~ Gamma^{-1}(alpha, beta)` over each target.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkFinite, toFloat, type TensorInput } from '../../utils/tensor.js';
import { FLOAT32_EPS, FLOAT32_TINY } from '../../utils/float32.js';

/** The four NIG parameters per output unit, each `[..., D]`; the caller disposes them. */
export interface NormalGammaOutputs {
  /** Location `gamma = E[mu]`, the prediction. */
  gamma: tf.Tensor;
  /** `nu > 0`: the virtual observations behind `gamma` (evidence for the mean). */
  nu: tf.Tensor;
  /** `alpha > 1`: the Inverse-Gamma shape. */
  alpha: tf.Tensor;
  /** `beta > 0`: the Inverse-Gamma scale. */
  beta: tf.Tensor;
}

/** The four NIG parameters given directly (tensors, numbers or arrays; they broadcast). */
export interface NormalGammaParams {
  /** Location `gamma`, finite. */
  gamma: TensorInput;
  /** `nu > 0`. */
  nu: TensorInput;
  /** `alpha > 1`. */
  alpha: TensorInput;
  /** `beta > 0`. */
  beta: TensorInput;
}

/**
 * What the NIG functions take: the head's output `[..., 4D]` (`concat[gamma, nu, alpha, beta]`
 * along the last axis, as {@link DenseNormalGamma} returns it) or the four parameters.
 */
export type NormalGammaInput = tf.Tensor | NormalGammaParams;

/**
 * The smallest `nu` and `beta` of the head: the smallest normal float32. `softplus(o)` underflows
 * to 0 for `o < -104`, where `log nu` and the epistemic variance would be infinite.
 */
export const NIG_MIN_POSITIVE = FLOAT32_TINY;

/**
 * The smallest `alpha` of the head: the float32 after 1 (`1 + softplus(o)` rounds to 1 for
 * `o < -16.6`, where `E[sigma^2] = beta / (alpha - 1)` is infinite).
 */
export const NIG_MIN_ALPHA = 1 + FLOAT32_EPS;

/**
 * The constraints of the head on a raw output `[..., 4D]` (no checks; the layer's `call` and
 * {@link normalGammaOutputs} use it): the blocks `[o_gamma, o_nu, o_alpha, o_beta]` of `D` map to
 *
 * $$\gamma = o_\gamma,\quad \nu = \operatorname{softplus}(o_\nu),\quad
 * \alpha = \operatorname{softplus}(o_\alpha) + 1,\quad \beta = \operatorname{softplus}(o_\beta),$$
 *
 * with `nu, beta >= ` {@link NIG_MIN_POSITIVE} and `alpha >= ` {@link NIG_MIN_ALPHA} (float32
 * floors, below the precision of the values they replace).
 *
 * @param raw float32 `[..., 4D]`.
 * @returns the four `[..., D]` parameters.
 * @internal
 */
export function constrainNormalGamma(raw: tf.Tensor): NormalGammaOutputs {
  const [g, v, a, b] = tf.split(raw, 4, -1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  return {
    gamma: g,
    nu: tf.maximum(tf.softplus(v), NIG_MIN_POSITIVE),
    alpha: tf.maximum(tf.add(tf.softplus(a), 1), NIG_MIN_ALPHA),
    beta: tf.maximum(tf.softplus(b), NIG_MIN_POSITIVE),
  };
}

/**
 * The width `D` of a `[..., 4D]` head output, checked: rank >= 1, last axis a positive multiple
 * of 4.
 * @throws ArgumentError naming `name` otherwise.
 * @internal
 */
export function headUnitsOf(shape: readonly number[], name: string): number {
  const last = shape[shape.length - 1];
  if (last === undefined || last === 0 || last % 4 !== 0) {
    throw new ArgumentError(
      name,
      `expected [..., 4D]: the last axis holding the four NIG blocks [gamma, nu, alpha, beta] of D units each (a positive multiple of 4), got [${shape.join(',')}]`,
    );
  }
  return last / 4;
}

/**
 * Split and constrain a raw network output into the Normal-Inverse-Gamma parameters (the
 * reference's `DenseNormalGamma` without its Dense): with the last axis in four blocks of `D`,
 *
 * $$[o_\gamma, o_\nu, o_\alpha, o_\beta] = o,\quad \gamma = o_\gamma,\quad
 * \nu = \operatorname{softplus}(o_\nu),\quad \alpha = \operatorname{softplus}(o_\alpha) + 1,\quad
 * \beta = \operatorname{softplus}(o_\beta)$$
 *
 * (`nu`, `beta` floored at the smallest normal float32, `alpha` at the float32 after 1, so that
 * every value is in the NIG's domain). Differentiable in `raw`.
 *
 * @param raw finite raw outputs `[N, 4D]` (any rank >= 1; the last axis is split).
 * @returns `{gamma, nu, alpha, beta}`, each `[N, D]`; the caller disposes them.
 * @throws ArgumentError naming `raw` when its last axis is not a positive multiple of 4 or a value
 *   is not finite.
 * @example
 * ```ts
 * const { gamma, nu, alpha, beta } = normalGammaOutputs(tf.tensor2d([[0.5, 0, 0, 0]]));
 * // gamma 0.5, nu log 2, alpha 1 + log 2, beta log 2
 * ```
 */
export function normalGammaOutputs(raw: TensorInput): NormalGammaOutputs {
  return tf.tidy(() => {
    const o = toFloat(raw, 'raw');
    headUnitsOf(o.shape, 'raw');
    checkFinite(o, 'raw', 'raw outputs');
    const { gamma, nu, alpha, beta } = constrainNormalGamma(o);
    return { gamma, nu, alpha, beta };
  });
}
