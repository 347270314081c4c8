/**
 * Special functions on tensors that tfjs-core lacks: the log-gamma function and the digamma
 * function, built from elementary ops so that they differentiate automatically (the gradient of
 * `lgamma` is `digamma`, that of `digamma` the trigamma function, both through autodiff).
 *
 * Both use the recurrence to shift the argument to `z = x + 6 >= 6`, where the asymptotic
 * (Stirling / de Moivre) series is accurate to far below float32 resolution.
 */
import * as tf from '@tensorflow/tfjs';
import { toFloat, type TensorInput } from '../utils/tensor.js';

const SHIFT = 6;
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * The natural logarithm of the gamma function, elementwise, for `x > 0`.
 *
 * $$\log\Gamma(x) = \log\Gamma(x+6) - \sum_{i=0}^{5}\log(x+i),\qquad
 * \log\Gamma(z) \approx (z-\tfrac12)\log z - z + \tfrac12\log 2\pi + \frac{1}{12z}
 * - \frac{1}{360z^3} + \frac{1}{1260z^5}$$
 *
 * @param x positive values (tensor or array).
 * @returns a tensor of the shape of `x`.
 * @example
 * ```ts
 * lgamma([1, 5]); // [0, log 24]
 * ```
 */
export function lgamma(x: TensorInput): tf.Tensor {
  return tf.tidy(() => {
    const $x = toFloat(x, 'x');
    let logProd = tf.log($x);
    for (let i = 1; i < SHIFT; i++) logProd = tf.add(logProd, tf.log(tf.add($x, i)));
    const z = tf.add($x, SHIFT);
    const zi = tf.reciprocal(z);
    const zi2 = tf.square(zi);
    // 1/(12z) - 1/(360z^3) + 1/(1260z^5), in Horner form
    const series = tf.mul(zi, tf.add(1 / 12, tf.mul(zi2, tf.add(-1 / 360, tf.mul(zi2, 1 / 1260)))));
    const stirling = tf.add(
      tf.sub(tf.mul(tf.sub(z, 0.5), tf.log(z)), z),
      tf.add(series, HALF_LOG_2PI),
    );
    return tf.sub(stirling, logProd);
  });
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
  return tf.tidy(() => {
    const $x = toFloat(x, 'x');
    let recip = tf.reciprocal($x);
    for (let i = 1; i < SHIFT; i++) recip = tf.add(recip, tf.reciprocal(tf.add($x, i)));
    const z = tf.add($x, SHIFT);
    const zi = tf.reciprocal(z);
    const zi2 = tf.square(zi);
    // -1/(12z^2) + 1/(120z^4) - 1/(252z^6) + 1/(240z^8), in Horner form
    const series = tf.mul(
      zi2,
      tf.add(
        -1 / 12,
        tf.mul(zi2, tf.add(1 / 120, tf.mul(zi2, tf.add(-1 / 252, tf.mul(zi2, 1 / 240))))),
      ),
    );
    const asym = tf.add(tf.sub(tf.log(z), tf.mul(zi, 0.5)), series);
    return tf.sub(asym, recip);
  });
}
