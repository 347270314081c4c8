/**
 * The standard normal quantile `Phi^{-1}(p)` as a differentiable tensor op (tfjs has no
 * `erfinv`), for inverse-CDF sampling (`TruncatedNormal`).
 *
 * Value: Acklam's rational approximations (relative error 1.15e-9 in exact arithmetic) on the
 * central region `|p - 1/2| <= 0.47575` and on both tails through `q = sqrt(-2 log p)`, then one
 * Newton step on `Phi(x) = p` where `|x| < 5` (float32 cancellation in the polynomials costs
 * ~1e-4 near the region boundaries otherwise).
 * Gradient: the exact derivative of the quantile,
 *
 * $$\frac{d}{dp}\Phi^{-1}(p) = \frac{1}{\varphi(\Phi^{-1}(p))} = \sqrt{2\pi}\,e^{x^2/2},$$
 *
 * not the derivative of the approximation.
 */
import * as tf from '@tensorflow/tfjs';
import { ndtr } from './special.js';

const A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2,
  -3.066479806614716e1, 2.506628277459239,
];
const B = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1,
  -1.328068155288572e1,
];
const C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734,
  4.374664141464968, 2.938163982698783,
];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;
const SQRT_2PI = Math.sqrt(2 * Math.PI);

/** `c_0 x^{n-1} + ... + c_{n-1}` (times `x`, plus 1, when `plusOne`). */
function horner(c: readonly number[], x: tf.Tensor, plusOne: boolean): tf.Tensor {
  let acc: tf.Tensor = tf.scalar(c[0] as number);
  for (let i = 1; i < c.length; i++) acc = tf.add(tf.mul(acc, x), c[i] as number);
  return plusOne ? tf.add(tf.mul(acc, x), 1) : acc;
}

/** The tail formula at `p` (lower tail; `-tail(1 - p)` gives the upper tail). */
function tail(p: tf.Tensor): tf.Tensor {
  const q = tf.sqrt(tf.mul(-2, tf.log(p)));
  return tf.div(horner(C, q, false), horner(D, q, true));
}

/** The value of `Phi^{-1}(p)` (no gradient): `-Infinity` at 0, `+Infinity` at 1. */
function ndtriValue(p: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const lowMask = tf.less(p, P_LOW);
    const highMask = tf.greater(p, 1 - P_LOW);
    const clampTail = (t: tf.Tensor): tf.Tensor => tf.clipByValue(t, 0, P_LOW);
    const lower = tail(clampTail(p));
    const upper = tf.neg(tail(clampTail(tf.sub(1, p))));
    const q = tf.sub(tf.clipByValue(p, P_LOW, 1 - P_LOW), 0.5);
    const r = tf.square(q);
    const central = tf.div(tf.mul(horner(A, r, false), q), horner(B, r, true));
    const x0 = tf.where(lowMask, lower, tf.where(highMask, upper, central));
    // one Newton step on Phi(x) = p: the rational forms lose ~1e-4 to float32 cancellation
    // near the region boundaries; kept to |x| < 5, where exp(x^2 / 2) stays moderate
    const step = tf.mul(tf.sub(ndtr(x0), p), tf.mul(SQRT_2PI, tf.exp(tf.mul(0.5, tf.square(x0)))));
    const near = tf.less(tf.abs(x0), 5);
    return tf.where(near, tf.sub(x0, tf.where(near, step, tf.zerosLike(step))), x0);
  });
}

/**
 * `Phi^{-1}(p)` elementwise for `p` in `[0, 1]`, with the exact quantile derivative as gradient.
 * @param p probabilities.
 * @example
 * ```ts
 * ndtri(tf.tensor([0.025, 0.5, 0.975])); // [-1.95996, 0, 1.95996]
 * ```
 */
export function ndtri(p: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = ndtriValue(args[0] as tf.Tensor);
    const save = args[1] as tf.GradSaveFunc;
    save([x]);
    return {
      value: x,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const xs = saved[0] as tf.Tensor;
        return tf.mul(dy, tf.mul(SQRT_2PI, tf.exp(tf.mul(0.5, tf.square(xs)))));
      },
    };
  });
  return f(p);
}
