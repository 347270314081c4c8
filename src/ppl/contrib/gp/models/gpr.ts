/**
 * Exact GP regression (Pyro's `GPRegression`): `f ~ GP(m, k)`, `y = f(X) + ε`,
 * `ε ~ N(0, σ² I)`. Its model is the marginal likelihood as one multivariate normal site
 *
 * $$\log p(y) = \log N\big(y \mid m(X),\ K + (σ^2 + \text{jitter}) I\big)
 *   = -\tfrac12 r^\top (LL^\top)^{-1} r - \sum_i \log L_{ii} - \tfrac N2 \log 2π,$$
 *
 * `r = y - m(X)`, `L` the Cholesky factor, so SVI with an empty guide maximizes the evidence
 * over the hyperparameters (type-II maximum likelihood), and MCMC samples hyperparameters with
 * priors. The predictive (`forward`) is the closed form
 *
 * $$μ_* = m(X_*) + K_{*f} (K + σ^2 I)^{-1} r,\qquad
 *   Σ_* = K_{**} - K_{*f} (K + σ^2 I)^{-1} K_{f*}\ (+ σ^2 I \text{ unless noiseless}).$$
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
import type { ParamValue } from '../param_value.js';
import { checkScalar } from '../kernels/isotropic.js';
import { positive } from '../../../constraints.js';
import { sample } from '../../../runtime.js';
import { GPMultivariateNormal } from '../gp_mvn.js';
import type { Distribution } from '../../../../distributions/distribution.js';
import { cholesky } from '../host_linalg.js';
import { conditional } from '../conditional.js';

/** Options of {@link GPRegression}. */
export interface GPRegressionOptions extends GPModelOptions {
  /** The noise variance `σ² > 0` (scalar). Default 1. */
  noise?: ParamValue;
}

/** The observed site of `y [..., N]` under `N(loc, L Lᵀ)`: batch dims of `y` as event dims. @internal */
export function outputSite(name: string, d: Distribution, y: tf.Tensor): tf.Tensor {
  const batch = y.shape.slice(0, -1);
  const dist = batch.length > 0 ? d.expand(batch).toEvent(batch.length) : d;
  return sample(name, dist, { obs: y });
}

/**
 * Exact GP regression.
 *
 * @example
 * ```ts
 * const kernel = new gp.kernels.RBF({ inputDim: 1 });
 * const gpr = new gp.models.GPRegression(X, y, kernel, { noise: 0.1 });
 * const losses = gp.train(gpr, { numSteps: 200 });        // -log p(y) per step
 * const [mean, variance] = gpr.forward(Xtest);             // predictive of f
 * ```
 */
export class GPRegression extends GPModel {
  /**
   * @param X inputs `[N, F]` or `[N]`.
   * @param y outputs `[..., N]` (or undefined: the model then returns the prior of `f`).
   * @param kernel the covariance function.
   * @param options `noise`, `meanFunction`, `jitter`, `name`.
   * @throws ArgumentError naming the argument or option.
   */
  constructor(
    X: tf.Tensor,
    y: tf.Tensor | undefined,
    kernel: Kernel,
    options: GPRegressionOptions = {},
  ) {
    super(modelName(options, 'GPRegression', ['noise']), kernel, options);
    const noise = options.noise ?? 1;
    checkScalar(noise, 'noise');
    this.registerParam('noise', noise, positive);
    this.setData(X, y);
  }

  /** `L = chol(K(X) + (σ² + jitter) I)`. */
  private noisyCholesky(): tf.Tensor {
    const K = this.kernel.forward(this.X);
    const n = K.shape[0] as number;
    const d = tf.add(this.hp('noise'), this.jitter);
    return cholesky(tf.add(K, tf.mul(tf.eye(n), d)));
  }

  /**
   * The ppl model: the observed site `<name>.y ~ N(m(X), K + σ² I)`; without `y`, returns the
   * prior mean `m(X)` and the variances `diag(K + σ² I)`.
   */
  model(): tf.Tensor | [tf.Tensor, tf.Tensor] {
    return this.run('model', () => {
      const L = this.noisyCholesky();
      const loc = this.mean(this.X);
      if (this.y === undefined) return [loc, tf.sum(tf.square(L), -1)] as [tf.Tensor, tf.Tensor];
      const d = new GPMultivariateNormal(loc, L);
      return outputSite(`${this.name}.y`, d, this.y);
    });
  }

  /**
   * The predictive at `Xnew` (`[M, F]`): mean `[..., M]` and variances `[..., M]` (covariance
   * `[..., M, M]` with `fullCov`), of `f` (`noiseless`, default) or of `y`.
   * @throws ArgumentError naming `Xnew` or an option.
   */
  forward(Xnew: tf.Tensor, options: PredictOptions = {}): GPPrediction {
    return this.predictAt(Xnew, options, 'outputs', (xs, fullCov, noiseless) => {
      const L = this.noisyCholesky();
      const r = tf.sub(this.outputs(), this.mean(this.X));
      const [loc, cov] = conditional(xs, this.X, this.kernel, r, undefined, { Lff: L, fullCov });
      let c = cov;
      if (!noiseless) {
        const noise = this.hp('noise');
        const m = xs.shape[0] as number;
        c = fullCov ? tf.add(cov, tf.mul(tf.eye(m), noise)) : tf.add(cov, noise);
      }
      return [tf.add(loc, this.mean(xs)), c];
    });
  }
}
