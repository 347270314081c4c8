/**
 * What a deep evidential regressor predicts (Amini et al., NeurIPS 2020, eq. 5): from the
 * Normal-Inverse-Gamma evidence, the prediction, the aleatoric and epistemic uncertainties in
 * closed form, and the Student-t predictive distribution of each target.
 */
import * as tf from '@tensorflow/tfjs';
import { StudentT } from '../../distributions/student_t.js';
import { broadcastTo } from '../../utils/tensor.js';
import type { NormalGammaInput } from './normal_gamma.js';
import { checkNormalGamma } from './nig_checks.js';

/** The uncertainties of {@link nigUncertainty}, each `[N, D]`; the caller disposes them. */
export interface NigUncertainty {
  /** The prediction `E[mu] = gamma`. */
  prediction: tf.Tensor;
  /** Aleatoric uncertainty `E[sigma^2] = beta / (alpha - 1)`. */
  aleatoric: tf.Tensor;
  /** Epistemic uncertainty `Var[mu] = beta / (nu (alpha - 1))`. */
  epistemic: tf.Tensor;
  /**
   * The predictive variance `aleatoric + epistemic = beta (1 + nu) / (nu (alpha - 1))`, the
   * variance of the Student-t of {@link nigPredictive} (finite for `alpha > 1`).
   */
  predictiveVariance: tf.Tensor;
}

/**
 * The prediction and its uncertainties under the Normal-Inverse-Gamma evidence
 * `mu ~ N(gamma, sigma^2/nu)`, `sigma^2 ~ Gamma^{-1}(alpha, beta)`:
 *
 * $$\mathbb{E}[\mu] = \gamma,\qquad
 * \underbrace{\mathbb{E}[\sigma^2] = \frac{\beta}{\alpha - 1}}_{\text{aleatoric}},\qquad
 * \underbrace{\operatorname{Var}[\mu] = \frac{\beta}{\nu(\alpha - 1)}}_{\text{epistemic}},\qquad
 * \operatorname{Var}[y] = \frac{\beta(1+\nu)}{\nu(\alpha-1)}.$$
 *
 * Differentiable in the parameters.
 *
 * @param outputs the head's output `[N, 4D]` (as {@link DenseNormalGamma} returns it) or
 *   `{gamma, nu, alpha, beta}` (`nu, beta > 0`, `alpha > 1`).
 * @throws ArgumentError naming `outputs` (or the parameter) when a shape or a value is off.
 * @example
 * ```ts
 * const { prediction, epistemic } = nigUncertainty(model.predict(x) as tf.Tensor);
 * ```
 */
export function nigUncertainty(outputs: NormalGammaInput): NigUncertainty {
  return tf.tidy(() => {
    const { gamma, nu, alpha, beta, shape } = checkNormalGamma(outputs, 'outputs');
    const aleatoric = tf.div(beta, tf.sub(alpha, 1));
    const epistemic = tf.div(aleatoric, nu);
    return {
      prediction: broadcastTo(tf.clone(gamma), shape),
      aleatoric: broadcastTo(aleatoric, shape),
      epistemic: broadcastTo(epistemic, shape),
      predictiveVariance: broadcastTo(tf.add(aleatoric, epistemic), shape),
    };
  }) as unknown as NigUncertainty;
}

/** A Student-t that owns its parameter tensors (freed by `dispose`). */
class OwnedStudentT extends StudentT {
  constructor(df: tf.Tensor, loc: tf.Tensor, scale: tf.Tensor) {
    try {
      super(df, loc, scale);
    } catch (e) {
      tf.dispose([df, loc, scale]);
      throw e;
    }
    this.own(df);
    this.own(loc);
    this.own(scale);
  }
}

/**
 * The predictive distribution of each target under the Normal-Inverse-Gamma evidence (the
 * marginal of `y ~ N(mu, sigma^2)` over the NIG, Amini et al. eq. 8):
 *
 * $$p(y) = \mathrm{St}\big(y;\ \mathrm{loc} = \gamma,\ \mathrm{scale} = \sqrt{\beta(1+\nu)/(\nu\alpha)},\
 * \mathrm{df} = 2\alpha\big),$$
 *
 * as a `distributions.StudentT` of batch shape `[N, D]` (its `mean()` is `gamma`, its
 * `variance()` the predictive variance of {@link nigUncertainty}, its `logProb(y)` minus the
 * elementwise {@link nigNll}). It owns its parameters: `dispose()` frees them.
 *
 * @param outputs the head's output `[N, 4D]` or `{gamma, nu, alpha, beta}`.
 * @throws ArgumentError naming `outputs` (or the parameter) when a shape or a value is off.
 * @example
 * ```ts
 * const d = nigPredictive(model.predict(x) as tf.Tensor);
 * const [lo, hi] = [d.icdf(0.025), d.icdf(0.975)]; // 95% predictive intervals
 * d.dispose();
 * ```
 */
export function nigPredictive(outputs: NormalGammaInput): StudentT {
  const [df, loc, scale] = tf.tidy(() => {
    const { gamma, nu, alpha, beta, shape } = checkNormalGamma(outputs, 'outputs');
    // sqrt(beta) sqrt(1 + 1/nu) / sqrt(alpha): no overflow of beta (1 + nu) nor underflow of nu alpha
    const s = tf.div(tf.mul(tf.sqrt(beta), tf.sqrt(tf.add(1, tf.reciprocal(nu)))), tf.sqrt(alpha));
    return [
      broadcastTo(tf.mul(2, alpha), shape),
      broadcastTo(tf.clone(gamma), shape),
      broadcastTo(s, shape),
    ];
  }) as [tf.Tensor, tf.Tensor, tf.Tensor];
  return new OwnedStudentT(df, loc, scale);
}
