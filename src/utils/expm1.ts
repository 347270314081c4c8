/**
 * An accurate `exp(x) - 1` and `log(1 - exp(a))` on every backend: `tf.expm1` on wasm is
 * `exp(x) - 1` in float32, which loses the relative accuracy below `|x| ~ 1e-3` (and returns 0
 * below `6e-8`); the truncation normalizers and the continuous Bernoulli CDF depend on it.
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from './log1p.js';

/**
 * `exp(x) - 1` by Kahan's correction: with `u = fl(exp(x))`, `expm1(x) = (u - 1) x / log u`
 * (`x` itself where `u = 1`, `-1` where `u - 1 = -1`), accurate to a few ulps; gradient `exp(x)`.
 *
 * $$\operatorname{expm1}(x) = e^x - 1 = \frac{u - 1}{\log u}\,x,\qquad u = \mathrm{fl}(e^x)$$
 *
 * @param x any tensor (float32).
 * @example
 * ```ts
 * expm1(tf.scalar(1e-10)); // 1e-10 (exp(x) - 1 gives 0 in float32)
 * ```
 */
export function expm1(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([input]);
    const value = tf.tidy(() => {
      const u = tf.exp(input);
      const d = tf.sub(u, 1);
      const one = tf.equal(u, 1);
      const logU = tf.log(u);
      const ratio = tf.div(input, tf.where(one, tf.onesLike(logU), logU));
      const corrected = tf.where(tf.logicalOr(tf.isInf(u), tf.equal(d, -1)), d, tf.mul(d, ratio));
      return tf.where(one, input, corrected);
    });
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.exp(saved[0] as tf.Tensor)),
    };
  });
  return f(x);
}

/**
 * `log(1 - exp(a))` for `a <= 0`, accurate at both ends (Maechler's `log1mexp`):
 * `log(-expm1(a))` for `a > -log 2`, `log1p(-exp(a))` below. `-Infinity` at `a = 0`.
 *
 * $$\operatorname{log1mexp}(a) = \log\left(1 - e^{a}\right),\qquad a \le 0$$
 *
 * @param a a tensor of non-positive values.
 * @example
 * ```ts
 * log1mexp(tf.scalar(-1e-9)); // log(1e-9)
 * ```
 */
export function log1mexp(a: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const near = nearZero(a);
    // each branch sees a harmless input where it is not taken (no NaN in the other's gradient)
    const aNear = tf.where(near, a, tf.fill(a.shape, -1));
    const aFar = tf.where(near, tf.fill(a.shape, -1), a);
    return tf.where(near, tf.log(tf.neg(expm1(aNear))), log1p(tf.neg(tf.exp(aFar))));
  });
}

/** `a > -log 2` off the gradient tape (tfjs has no gradient for comparisons). */
function nearZero(a: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    const shape = input.shape;
    return { value: tf.greater(input, -Math.LN2), gradFunc: () => tf.zeros(shape) };
  });
  return f(a);
}
