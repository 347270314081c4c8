/**
 * The special functions of the toolbox's public surface, on tensors or arrays: the log-gamma
 * function and the digamma function. The math lives once, in `distributions/special.ts`
 * (Stirling's series at `x + 6` and the recurrence, differentiable by autodiff); these wrappers
 * accept any `TensorInput` and name the argument in errors.
 */
import * as tf from '@tensorflow/tfjs';
import { digamma as digammaT, lgamma as lgammaT } from '../distributions/special.js';
import { toFloat, type TensorInput } from '../utils/tensor.js';

/**
 * The natural logarithm of the gamma function, elementwise, for `x > 0`.
 *
 * $$\log\Gamma(x) = \log\Gamma(x+6) - \sum_{i=0}^{5}\log(x+i),\qquad
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
 * The digamma function `psi(x) = d/dx log Gamma(x)`, elementwise, for `x > 0`.
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
