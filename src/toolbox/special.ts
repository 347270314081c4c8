/**
 * The special functions of the toolbox's public surface, on tensors or arrays: the log-gamma,
 * digamma and trigamma functions. The math lives once, in `distributions/special.ts`
 * (Stirling's series at `x + 6` and the recurrence folded into one product, with custom
 * gradients: lgamma' = digamma, digamma' = trigamma); these wrappers
 * accept any `TensorInput` and name the argument in errors.
 */
import * as tf from '@tensorflow/tfjs';
import {
  digamma as digammaT,
  lgamma as lgammaT,
  trigamma as trigammaT,
} from '../distributions/special.js';
import { toFloat, type TensorInput } from '../utils/tensor.js';

/**
 * The natural logarithm of the gamma function, elementwise, for `x > 0` (about 30 kernels; its
 * gradient is {@link digamma}).
 *
 * $$\log\Gamma(x) = \log\Gamma(x+6) - \log\prod_{i=0}^{5}(x+i),\qquad
 * \log\Gamma(z) \approx (z-\tfrac12)\log z - z + \tfrac12\log 2\pi + \frac{1}{12z}
 * - \frac{1}{360z^3} + \frac{1}{1260z^5} - \frac{1}{1680z^7}$$
 *
 * @param x positive values (tensor or array).
 * @returns a tensor of the shape of `x`.
 * @example
 * ```ts
 * lgamma([1, 5]); // [0, log 24]
 * ```
 */
export function lgamma(x: TensorInput): tf.Tensor {
  return tf.tidy(() => lgammaT(toFloat(x, 'x')));
}

/**
 * The digamma function `psi(x) = d/dx log Gamma(x)`, elementwise, for `x > 0` (about 30
 * kernels; its gradient is {@link trigamma}).
 *
 * $$\psi(x) = \psi(x+6) - \sum_{i=0}^{5}\frac{1}{x+i},\qquad
 * \psi(z) \approx \log z - \frac{1}{2z} - \frac{1}{12z^2} + \frac{1}{120z^4} - \frac{1}{252z^6}
 * + \frac{1}{240z^8}$$
 *
 * @param x positive values (tensor or array).
 * @returns a tensor of the shape of `x`.
 * @example
 * ```ts
 * digamma([1]); // [-0.5772157] (minus the Euler–Mascheroni constant)
 * ```
 */
export function digamma(x: TensorInput): tf.Tensor {
  return tf.tidy(() => digammaT(toFloat(x, 'x')));
}

/**
 * The trigamma function `psi_1(x) = d^2/dx^2 log Gamma(x)`, elementwise, for `x > 0`
 * (differentiable by autodiff).
 *
 * $$\psi_1(x) = \psi_1(x+6) + \sum_{i=0}^{5}\frac{1}{(x+i)^2},\qquad
 * \psi_1(z) \approx \frac1z + \frac{1}{2z^2} + \frac{1}{6z^3} - \frac{1}{30z^5} + \frac{1}{42z^7}$$
 *
 * @param x positive values (tensor or array).
 * @returns a tensor of the shape of `x`.
 * @example
 * ```ts
 * trigamma([1]); // [1.6449341] (pi^2 / 6)
 * ```
 */
export function trigamma(x: TensorInput): tf.Tensor {
  return tf.tidy(() => trigammaT(toFloat(x, 'x')));
}
