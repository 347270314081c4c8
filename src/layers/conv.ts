/**
 * Bayesian Conv2D layers in three estimators (MindSpore `ConvReparam`; BayesianCNN `BBBConv2d`
 * with and without LRT; TFP `Convolution2DFlipout`). At every output position every estimator
 * gives `E[y] = conv2d(x, mu) + mu_b` and `Var[y] = conv2d(x^2, sigma^2) + sigma_b^2`.
 */
import * as tf from '@tensorflow/tfjs';
import { ConvVariational, type ConvVariationalArgs } from './conv_variational.js';
import { flipoutKernel, localReparamKernel, reparamKernel } from './estimators.js';

/**
 * Conv2D layer with reparameterized weights (Bayes by Backprop): `W = mu + softplus(rho) * eps`,
 * one `eps ~ N(0, I)` per call, `y = conv2d(x, W) + b`.
 * @example
 * ```ts
 * // MindSpore's BNN LeNet conv1: ConvReparam(1, 6, 5, padMode 'valid', hasBias false)
 * const conv1 = layers.convReparam({ inChannels: 1, outChannels: 6, kernelSize: 5,
 *                                    padMode: 'valid', inputShape: [32, 32, 1] });
 * ```
 */
export class ConvReparam extends ConvVariational {
  static className = 'ConvReparam';
  protected applyVariationalKernel(x: tf.Tensor, mu: tf.Tensor, rho: tf.Tensor): tf.Tensor {
    return reparamKernel(x, mu, rho, (a, w) => this.linear(a, w));
  }
}

/**
 * Conv2D layer with the local reparameterization trick (BayesianCNN `BBB_LRT`):
 * `y = conv2d(x, mu) + sqrt(conv2d(x^2, sigma^2)) * eps + b`, `eps` per example and position.
 */
export class ConvLocalReparam extends ConvVariational {
  static className = 'ConvLocalReparam';
  protected applyVariationalKernel(x: tf.Tensor, mu: tf.Tensor, rho: tf.Tensor): tf.Tensor {
    return localReparamKernel(x, mu, rho, (a, w) => this.linear(a, w));
  }
}

/**
 * Conv2D layer with Flipout (Wen et al. 2018):
 * `y = conv2d(x, mu) + conv2d(x * s_in, sigma * eps) * s_out + b`, random signs per example and
 * channel (`s_in` `[batch, 1, 1, in]`, `s_out` `[batch, 1, 1, out]`).
 */
export class ConvFlipout extends ConvVariational {
  static className = 'ConvFlipout';
  protected applyVariationalKernel(x: tf.Tensor, mu: tf.Tensor, rho: tf.Tensor): tf.Tensor {
    return flipoutKernel(x, mu, rho, (a, w) => this.linear(a, w));
  }
}

tf.serialization.registerClass(ConvReparam);
tf.serialization.registerClass(ConvLocalReparam);
tf.serialization.registerClass(ConvFlipout);

/** Factory of {@link ConvReparam}. */
export function convReparam(args: ConvVariationalArgs): ConvReparam {
  return new ConvReparam(args);
}
/** Factory of {@link ConvLocalReparam}. */
export function convLocalReparam(args: ConvVariationalArgs): ConvLocalReparam {
  return new ConvLocalReparam(args);
}
/** Factory of {@link ConvFlipout}. */
export function convFlipout(args: ConvVariationalArgs): ConvFlipout {
  return new ConvFlipout(args);
}
