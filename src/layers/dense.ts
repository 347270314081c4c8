/**
 * Bayesian Dense layers in three estimators (MindSpore `DenseReparam`, `DenseLocalReparam`;
 * TFP `DenseFlipout`). For an input row `x`, every estimator gives outputs with
 * `E[y_j] = sum_i x_i mu_ij + mu_b_j` and `Var[y_j] = sum_i x_i^2 sigma_ij^2 + sigma_b_j^2`;
 * they differ in how the noise is shared across the batch (see `estimators.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { DenseVariational, type DenseVariationalArgs } from './dense_variational.js';
import { flipoutKernel, localReparamKernel, reparamKernel } from './estimators.js';

/**
 * Dense layer with reparameterized weights (Bayes by Backprop): `W = mu + softplus(rho) * eps`,
 * one `eps ~ N(0, I)` per call, `y = x W + b`.
 * @example
 * ```ts
 * const model = tf.sequential({ layers: [
 *   layers.denseReparam({ inChannels: 4, outChannels: 8, activation: 'relu' }),
 *   layers.denseReparam({ outChannels: 3 }) ]});
 * ```
 */
export class DenseReparam extends DenseVariational {
  static className = 'DenseReparam';
  protected applyVariationalKernel(x: tf.Tensor, mu: tf.Tensor, rho: tf.Tensor): tf.Tensor {
    return reparamKernel(x, mu, rho, (a, w) => this.linear(a, w));
  }
}

/**
 * Dense layer with the local reparameterization trick (BayesianCNN `BBB_LRT`):
 * `y = x mu + sqrt(x^2 sigma^2) * eps + b`, `eps ~ N(0, I)` per example and unit.
 */
export class DenseLocalReparam extends DenseVariational {
  static className = 'DenseLocalReparam';
  protected applyVariationalKernel(x: tf.Tensor, mu: tf.Tensor, rho: tf.Tensor): tf.Tensor {
    return localReparamKernel(x, mu, rho, (a, w) => this.linear(a, w));
  }
}

/**
 * Dense layer with Flipout (Wen et al. 2018):
 * `y = x mu + ((x * s_in) (sigma * eps)) * s_out + b`, random signs `s_in`, `s_out` per example.
 */
export class DenseFlipout extends DenseVariational {
  static className = 'DenseFlipout';
  protected applyVariationalKernel(x: tf.Tensor, mu: tf.Tensor, rho: tf.Tensor): tf.Tensor {
    return flipoutKernel(x, mu, rho, (a, w) => this.linear(a, w));
  }
}

tf.serialization.registerClass(DenseReparam);
tf.serialization.registerClass(DenseLocalReparam);
tf.serialization.registerClass(DenseFlipout);

/** Factory of {@link DenseReparam}. */
export function denseReparam(args: DenseVariationalArgs): DenseReparam {
  return new DenseReparam(args);
}
/** Factory of {@link DenseLocalReparam}. */
export function denseLocalReparam(args: DenseVariationalArgs): DenseLocalReparam {
  return new DenseLocalReparam(args);
}
/** Factory of {@link DenseFlipout}. */
export function denseFlipout(args: DenseVariationalArgs): DenseFlipout {
  return new DenseFlipout(args);
}
