/**
 * Sparse GP regression with inducing inputs `X_u [M, F]` (Pyro's `SparseGPRegression`). With
 * `Q_{ff} = K_{fu} K_{uu}^{-1} K_{uf} = W Wᵀ` (`W = K_{fu} L_{uu}^{-T}`, `K_{uu} + jitter I =
 * L_{uu} L_{uu}ᵀ`), the model is a low-rank-plus-diagonal normal site
 *
 * $$\log N\big(y \mid m(X),\ W W^\top + D\big)\quad\text{with}\quad
 *   D = σ^2 I \ (\text{DTC, VFE}),\qquad D = σ^2 I + \mathrm{diag}(K_{ff} - Q_{ff})\ (\text{FITC}),$$
 *
 * and for VFE (Titsias 2009) the factor `<name>.trace_term`
 * `-tr(K_{ff} - Q_{ff}) / (2σ²)`, so that the model's log-density is a lower bound of the exact
 * log marginal likelihood. With `X_u = X` (and no jitter) all three equal the exact GP. `X_u`
 * is a learned parameter (`<name>.Xu`), as in Pyro.
 */
import * as tf from '@tensorflow/tfjs';
import {
  GPModel,
  modelName,
  type GPModelOptions,
  type PredictOptions,
  type GPPrediction,
} from './model.js';
import type { Kernel } from '../kernels/kernel.js';
import { inputMatrix } from '../kernels/kernel.js';
import type { ParamValue } from '../param_value.js';
import { checkScalar } from '../kernels/isotropic.js';
import { positive, real } from '../../../constraints.js';
import { factor } from '../../../factor.js';
import { GPLowRankMultivariateNormal } from '../gp_mvn.js';
import { matrixTranspose } from '../../../../utils/linalg.js';
import { cholesky, triangularSolve } from '../host_linalg.js';
import { ArgumentError } from '../../../../utils/errors.js';
import { outputSite } from './gpr.js';

/** The sparse approximations of {@link SparseGPRegression}. */
export type SparseApprox = 'DTC' | 'FITC' | 'VFE';

/** Options of {@link SparseGPRegression}. */
export interface SparseGPRegressionOptions extends GPModelOptions {
  /** The noise variance `σ² > 0` (scalar). Default 1. */
  noise?: ParamValue;
  /** `'DTC'`, `'FITC'` or `'VFE'` (default, as Pyro). */
  approx?: SparseApprox;
}

/**
 * Check inducing inputs against the data's features; a float32 copy `[M, F]`.
 * @internal
 */
export function inducingInputs(Xu: unknown, features: number): tf.Tensor2D {
  const xu = inputMatrix(Xu, 'Xu');
  if (xu.shape[1] !== features || (xu.shape[0] as number) < 1) {
    xu.dispose();
    throw new ArgumentError(
      'Xu',
      `expected [M, ${features}] with M >= 1 (the features of X), got [${(Xu as tf.Tensor).shape.join(',')}]`,
    );
  }
  return xu;
}

/**
 * Sparse GP regression (DTC, FITC or VFE).
 *
 * @example
 * ```ts
 * const sgpr = new gp.models.SparseGPRegression(X, y, kernel, Xu, { noise: 0.1, approx: 'VFE' });
 * gp.train(sgpr, { numSteps: 300 });
 * const [mean, variance] = sgpr.forward(Xtest);
 * ```
 */
export class SparseGPRegression extends GPModel {
  /** The approximation. */
  readonly approx: SparseApprox;

  /**
   * @param X inputs `[N, F]` or `[N]`.
   * @param y outputs `[..., N]`, or undefined.
   * @param kernel the covariance function.
   * @param Xu initial inducing inputs `[M, F]` (learned).
   * @param options `noise`, `approx`, `meanFunction`, `jitter`, `name`.
   * @throws ArgumentError naming the argument or option (`Xu` with a feature count other than
   *   `X`'s).
   */
  constructor(
    X: tf.Tensor,
    y: tf.Tensor | undefined,
    kernel: Kernel,
    Xu: tf.Tensor,
    options: SparseGPRegressionOptions = {},
  ) {
    super(modelName(options, 'SparseGPRegression', ['noise', 'approx']), kernel, options);
    const approx = options.approx ?? 'VFE';
    if (approx !== 'DTC' && approx !== 'FITC' && approx !== 'VFE') {
      throw new ArgumentError('approx', `expected 'DTC', 'FITC' or 'VFE', got ${String(approx)}`);
    }
    this.approx = approx;
    const noise = options.noise ?? 1;
    checkScalar(noise, 'noise');
    this.setData(X, y);
    try {
      const xu = inducingInputs(Xu, this.X.shape[1] as number);
      try {
        this.registerParam('Xu', xu, real, 'Xu');
      } finally {
        xu.dispose();
      }
      this.registerParam('noise', noise, positive);
    } catch (e) {
      this.dispose(); // the data just set
      throw e;
    }
  }

  /** `L_uu`, `W = L_uu⁻¹ K_uf` `[M, N]` and the diagonal `D` `[N]` (plus `tr(K_ff - Q_ff)`). */
  private parts(): { Luu: tf.Tensor; W: tf.Tensor; D: tf.Tensor; trace: tf.Tensor | undefined } {
    const Xu = this.hp('Xu');
    const X = this.X;
    const n = X.shape[0] as number;
    const Kuu = this.kernel.forward(Xu);
    const m = Kuu.shape[0] as number;
    const Luu = cholesky(tf.add(Kuu, tf.mul(tf.eye(m), this.jitter)));
    const W = triangularSolve(Luu, this.kernel.forward(Xu, X));
    const noise = this.hp('noise');
    let D = tf.mul(tf.ones([n]), noise);
    let trace: tf.Tensor | undefined;
    if (this.approx !== 'DTC') {
      const gap = tf.relu(tf.sub(this.kernel.forward(X, undefined, true), tf.sum(tf.square(W), 0)));
      if (this.approx === 'FITC') D = tf.add(D, gap);
      else trace = tf.div(tf.sum(gap), noise);
    }
    return { Luu, W, D, trace };
  }

  /**
   * The ppl model: `<name>.y ~ N(m(X), W Wᵀ + D)` (and the VFE trace factor); without `y`,
   * returns `m(X)` and the variances `diag(W Wᵀ + D)`.
   */
  model(): tf.Tensor | [tf.Tensor, tf.Tensor] {
    return this.run('model', () => {
      const { W, D, trace } = this.parts();
      const loc = this.mean(this.X);
      if (this.y === undefined) {
        return [loc, tf.add(D, tf.sum(tf.square(W), 0))] as [tf.Tensor, tf.Tensor];
      }
      if (trace !== undefined) {
        const outputs = this.y.size / (this.X.shape[0] as number);
        factor(`${this.name}.trace_term`, tf.mul(-0.5 * outputs, trace));
      }
      const d = new GPLowRankMultivariateNormal(loc, matrixTranspose(W), D);
      return outputSite(`${this.name}.y`, d, this.y);
    });
  }

  /**
   * The predictive at `Xnew` (Pyro's formulas: with `A = I + W D⁻¹ Wᵀ = L Lᵀ`,
   * `W_* = L_uu⁻¹ K_{u*}`, `μ_* = m(X_*) + (L⁻¹ W D⁻¹ r)ᵀ L⁻¹ W_*`,
   * `Σ_* = K_{**} - W_*ᵀW_* + (L⁻¹W_*)ᵀ(L⁻¹W_*)` (+ `σ² I` unless noiseless)).
   * @throws ArgumentError naming `Xnew` or an option.
   */
  forward(Xnew: tf.Tensor, options: PredictOptions = {}): GPPrediction {
    return this.predictAt(Xnew, options, 'outputs', (xs, fullCov, noiseless) => {
      const y = this.outputs();
      const { Luu, W, D } = this.parts();
      const m = Luu.shape[0] as number;
      const n = this.X.shape[0] as number;
      const WDinv = tf.div(W, D); // [M, N]
      const L = cholesky(tf.add(tf.eye(m), tf.matMul(WDinv, W, false, true)));
      const r = tf.reshape(tf.sub(y, this.mean(this.X)), [-1, n]); // [B, N]
      const WDinvY = tf.matMul(WDinv, r, false, true); // [M, B]
      const Ws = triangularSolve(Luu, this.kernel.forward(this.hp('Xu'), xs)); // [M, C]
      const LinvWDinvY = triangularSolve(L, WDinvY);
      const LinvWs = triangularSolve(L, Ws);
      const c = xs.shape[0] as number;
      const loc = tf.reshape(tf.matMul(LinvWDinvY, LinvWs, true, false), [
        ...y.shape.slice(0, -1),
        c,
      ]);
      const noise = this.hp('noise');
      let cov: tf.Tensor;
      if (fullCov) {
        cov = tf.add(
          tf.sub(this.kernel.forward(xs), tf.matMul(Ws, Ws, true, false)),
          tf.matMul(LinvWs, LinvWs, true, false),
        );
        if (!noiseless) cov = tf.add(cov, tf.mul(tf.eye(c), noise));
      } else {
        cov = tf.add(
          tf.relu(tf.sub(this.kernel.forward(xs, undefined, true), tf.sum(tf.square(Ws), 0))),
          tf.sum(tf.square(LinvWs), 0),
        );
        if (!noiseless) cov = tf.add(cov, noise);
      }
      const batch = y.shape.slice(0, -1);
      if (batch.length > 0) cov = tf.broadcastTo(cov, [...batch, ...cov.shape]);
      return [tf.add(loc, this.mean(xs)), cov];
    });
  }
}
