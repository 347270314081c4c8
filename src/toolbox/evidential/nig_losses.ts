/**
 * The losses of deep evidential regression (Amini et al., NeurIPS 2020), as the reference
 * `evidential-deep-learning` package's `NIG_NLL`, `NIG_Reg` and `EvidentialRegression`: the
 * negative log marginal likelihood of a target under the Normal-Inverse-Gamma evidence (a
 * Student-t), the evidence regularizer, and their weighted sum.
 *
 * Reductions are over every element (target and output unit), as the reference's `reduce_mean`:
 * `'mean'` (default), `'sum'`, or `'none'` (the elementwise loss in the targets' shape).
 */
import * as tf from '@tensorflow/tfjs';
import { lgammaShift } from '../../distributions/special.js';
import { ArgumentError } from '../../utils/errors.js';
import { log1p } from '../../utils/log1p.js';
import { broadcastTo, type TensorInput } from '../../utils/tensor.js';
import { checkOptionKeys } from '../../utils/options.js';
import type { Reduction } from './common.js';
import type { NormalGammaInput } from './normal_gamma.js';
import {
  checkNormalGamma,
  checkReducible,
  checkTargets,
  reduceElementwise,
  type CheckedNormalGamma,
} from './nig_checks.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * The elementwise NIG negative log-likelihood on checked tensors (see {@link nigNll}):
 * `½ log(2π β (1 + 1/ν)) + (α + ½) log1p(ν (y − γ)² / Ω) − log Γ(α + ½) + log Γ(α)`, the
 * `α log Ω` terms of the reference cancelled analytically (float32 lost them at large `α`).
 */
function nllElementwise(y: tf.Tensor, p: CheckedNormalGamma): tf.Tensor {
  const { gamma, nu, alpha, beta } = p;
  const err2 = tf.square(tf.sub(y, gamma));
  const logScale = tf.mul(0.5, tf.add(tf.log(beta), log1p(tf.reciprocal(nu))));
  // nu (y - gamma)^2 / Omega with Omega = 2 beta (1 + nu)
  const q = tf.div(tf.mul(err2, tf.div(nu, tf.add(nu, 1))), tf.mul(2, beta));
  const tail = tf.mul(tf.add(alpha, 0.5), log1p(q));
  return tf.sub(tf.add(tf.add(logScale, HALF_LOG_2PI), tail), lgammaShift(alpha, 0.5));
}

/** The elementwise evidence regularizer `|y − γ| (2ν + α)` broadcast to `shape`. */
function regElementwise(y: tf.Tensor, p: CheckedNormalGamma, shape: readonly number[]): tf.Tensor {
  const reg = tf.mul(tf.abs(tf.sub(y, p.gamma)), tf.add(tf.mul(2, p.nu), p.alpha));
  return broadcastTo(reg, shape);
}

/** The full (unreduced) shape of the elementwise terms: `y` expanded against the parameters. */
function fullShape(y: tf.Tensor, p: CheckedNormalGamma): number[] {
  const rank = Math.max(y.rank, p.shape.length);
  const pad = (s: readonly number[]): number[] => [
    ...new Array<number>(rank - s.length).fill(1),
    ...s,
  ];
  const a = pad(y.shape);
  const b = pad(p.shape);
  return a.map((d, i) => (d === 1 ? (b[i] as number) : d));
}

/**
 * The negative log marginal likelihood of the targets under the Normal-Inverse-Gamma evidence
 * (Amini et al. eq. 8; the reference's `NIG_NLL`): integrating `mu` and `sigma^2` out of
 * `y ~ N(mu, sigma^2)`, `mu ~ N(gamma, sigma^2/nu)`, `sigma^2 ~ Gamma^{-1}(alpha, beta)` leaves
 * the Student-t `St(y; gamma, beta(1+nu)/(nu alpha), 2 alpha)` (location, squared scale, degrees
 * of freedom), so with `Omega = 2 beta (1 + nu)`
 *
 * $$\mathcal{L}^{\rm NLL} = \tfrac12\log\frac{\pi}{\nu} - \alpha\log\Omega
 *   + (\alpha + \tfrac12)\log\big((y-\gamma)^2\nu + \Omega\big)
 *   + \log\frac{\Gamma(\alpha)}{\Gamma(\alpha + \frac12)}
 *   = -\log \mathrm{St}\Big(y;\ \gamma,\ \frac{\beta(1+\nu)}{\nu\alpha},\ 2\alpha\Big).$$
 *
 * Differentiable in every parameter.
 *
 * @param y finite targets, the parameters' shape `P` (or `[N]` when `P = [N, 1]`; see the guide).
 * @param gamma the location, finite.
 * @param nu `nu > 0`.
 * @param alpha `alpha > 1`.
 * @param beta `beta > 0`.
 * @param reduction `'mean'` (default, over every element), `'sum'` or `'none'`.
 * @throws ArgumentError naming the argument whose shape or value is off.
 * @example
 * ```ts
 * nigNll([0], [0], [1], [2], [1]); // -log St(0; 0, 1, 4) = 0.98083
 * ```
 */
export function nigNll(
  y: TensorInput,
  gamma: TensorInput,
  nu: TensorInput,
  alpha: TensorInput,
  beta: TensorInput,
  reduction: Reduction = 'mean',
): tf.Tensor {
  return tf.tidy(() => {
    const p = checkNormalGamma({ gamma, nu, alpha, beta }, 'gamma/nu/alpha/beta');
    const t = checkTargets(y, p.shape, 'the parameters');
    const r = checkReducible(reduction, t.shape);
    return reduceElementwise(nllElementwise(t.y, p), r, t.shape);
  });
}

/**
 * The evidence regularizer of deep evidential regression (Amini et al. eq. 9; the reference's
 * `NIG_Reg`): the error scaled by the total evidence, which penalises evidence on wrong
 * predictions,
 *
 * $$\mathcal{L}^{\rm R} = |y - \gamma|\,(2\nu + \alpha).$$
 *
 * `beta` (as in the reference's signature) is optional and only checked; the result is
 * differentiable in `gamma`, `nu` and `alpha`.
 *
 * @param y finite targets (shaped as for {@link nigNll}).
 * @param gamma the location, finite.
 * @param nu `nu > 0`.
 * @param alpha `alpha > 1`.
 * @param beta `beta > 0`, or omitted (`nigRegularizer(y, gamma, nu, alpha, 'sum')` is accepted).
 * @param reduction `'mean'` (default), `'sum'` or `'none'`.
 * @throws ArgumentError naming the argument whose shape or value is off.
 * @example
 * ```ts
 * nigRegularizer([1], [0], [1], [2]); // |1 - 0| (2 + 2) = 4
 * ```
 */
export function nigRegularizer(
  y: TensorInput,
  gamma: TensorInput,
  nu: TensorInput,
  alpha: TensorInput,
  beta?: TensorInput | Reduction,
  reduction: Reduction = 'mean',
): tf.Tensor {
  const red = typeof beta === 'string' ? beta : reduction;
  const b = typeof beta === 'string' || beta === undefined ? 1 : beta;
  return tf.tidy(() => {
    const p = checkNormalGamma({ gamma, nu, alpha, beta: b }, 'gamma/nu/alpha/beta');
    const t = checkTargets(y, p.shape, 'the parameters');
    const r = checkReducible(red, t.shape);
    return reduceElementwise(regElementwise(t.y, p, fullShape(t.y, p)), r, t.shape);
  });
}

/** Options of {@link evidentialRegressionLoss}. */
export interface EvidentialRegressionOptions {
  /** Weight `lambda >= 0` of the evidence regularizer. Default 1 (the reference's `coeff`). */
  coeff?: number;
  /** `'mean'` (default, over every element), `'sum'` or `'none'`. */
  reduction?: Reduction;
}

/** `options` of {@link evidentialRegressionLoss} checked: `{coeff, reduction}` or a bare `coeff`. */
function regressionOptions(options: number | EvidentialRegressionOptions): {
  coeff: number;
  reduction: unknown;
} {
  if (typeof options === 'number') return { coeff: checkCoeff(options), reduction: 'mean' };
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError(
      'options',
      `expected {coeff, reduction} or a number (coeff), got ${String(options)}`,
    );
  }
  checkOptionKeys(options, ['coeff', 'reduction'], 'evidentialRegressionLoss');
  return { coeff: checkCoeff(options.coeff ?? 1), reduction: options.reduction ?? 'mean' };
}

function checkCoeff(coeff: unknown): number {
  if (typeof coeff !== 'number' || !(coeff >= 0) || !Number.isFinite(coeff)) {
    throw new ArgumentError('coeff', `expected a finite number >= 0, got ${String(coeff)}`);
  }
  return coeff;
}

/**
 * The deep evidential regression loss (the reference's `EvidentialRegression(y, output, coeff)`):
 * the NIG negative log-likelihood plus `lambda` times the evidence regularizer, elementwise then
 * reduced,
 *
 * $$\mathcal{L} = \mathcal{L}^{\rm NLL}(y;\gamma,\nu,\alpha,\beta)
 *   + \lambda\,|y-\gamma|\,(2\nu+\alpha).$$
 *
 * @param y finite targets `[N, D]` (or `[N]` for one output unit).
 * @param outputs the head's output `[N, 4D]` (`concat[gamma, nu, alpha, beta]`, as
 *   {@link DenseNormalGamma} returns it; `nu, beta > 0`, `alpha > 1`) or `{gamma, nu, alpha, beta}`.
 * @param options `{coeff = 1, reduction = 'mean'}`, or the coefficient alone.
 * @throws ArgumentError naming `y`, `outputs` (or the parameter), `coeff` or `reduction`.
 * @example
 * ```ts
 * const head = new DenseNormalGamma({ units: 1 });
 * const loss = evidentialRegressionLoss(y, head.apply(h) as tf.Tensor, { coeff: 0.01 });
 * ```
 */
export function evidentialRegressionLoss(
  y: TensorInput,
  outputs: NormalGammaInput,
  options: number | EvidentialRegressionOptions = {},
): tf.Tensor {
  const { coeff, reduction } = regressionOptions(options);
  return tf.tidy(() => {
    const p = checkNormalGamma(outputs, 'outputs');
    const t = checkTargets(y, p.shape, 'outputs', outputs instanceof tf.Tensor);
    const r = checkReducible(reduction, t.shape);
    const nll = nllElementwise(t.y, p);
    const loss = coeff === 0 ? nll : tf.add(nll, tf.mul(coeff, regElementwise(t.y, p, nll.shape)));
    return reduceElementwise(loss, r, t.shape);
  });
}
