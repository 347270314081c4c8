/**
 * An accurate `log(1 + x)` on every backend: tfjs's `Log1p` kernel on wasm (and the GPU backends)
 * computes `log(1 + x)` in float32, which loses everything below `x ~ 1e-7` (`tf.log1p(1e-10)`
 * is 0, `tf.log1p(-2.87e-7)` is `-2.98e-7`), and the distributions' cancellation-free forms
 * depend on it.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * `log(1 + x)` by Goldberg's correction: with `u = fl(1 + x)`, `log1p(x) = log(u) x / (u - 1)`
 * (`x` itself where `u = 1`), accurate to a few ulps wherever `log` is; gradient `1 / (1 + x)`,
 * taken as 0 where the upstream gradient is 0 (see {@link logNoNanGrad}).
 * `-Infinity` at `x = -1`, NaN below, `Infinity` at `Infinity`.
 *
 * $$\operatorname{log1p}(x) = \log(1 + x) = \frac{\log u}{u - 1}\,x,\qquad u = 1 \oplus x$$
 *
 * @param x any tensor (float32).
 * @example
 * ```ts
 * log1p(tf.scalar(1e-10)); // 1e-10 (tf.log1p gives 0 on wasm)
 * ```
 */
export function log1p(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([input]);
    const value = tf.tidy(() => {
      const u = tf.add(1, input);
      const d = tf.sub(u, 1);
      const exact = tf.equal(d, 0);
      const ratio = tf.div(input, tf.where(exact, tf.onesLike(d), d));
      const corrected = tf.where(tf.isInf(u), u, tf.mul(tf.log(u), ratio));
      return tf.where(exact, input, corrected);
    });
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        divNoNanUpstream(dy, tf.add(1, saved[0] as tf.Tensor)),
    };
  });
  return f(x);
}

/** `dy / d`, but 0 where `dy == 0` (also where `d` is 0: the `0 * inf = 0` convention). */
function divNoNanUpstream(dy: tf.Tensor, d: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.where(tf.equal(dy, 0), tf.zerosLike(dy), tf.div(dy, d)));
}

/**
 * `log(x)` whose gradient `dy / x` is taken as 0 where the upstream gradient `dy` is 0, as
 * `mulNoNan`'s `0 * inf = 0`:
 *
 * $$\frac{\partial}{\partial x}\log x \cdot dy = \begin{cases}0 & dy = 0\\ dy / x & \text{else}\end{cases}$$
 *
 * The log of a probability that is exactly 0 or 1 (a Bernoulli of `probs = phi * z` at `z = 0`)
 * is `-Infinity` at an impossible value; when that value is masked out (`where(mask, lp, 0)`) or
 * weighted by `exp(-Infinity) = 0` in a log-sum-exp over enumerated values, the upstream gradient
 * is exactly 0 and tfjs's `dy / x = 0 / 0` would put NaN into every parameter upstream. torch
 * avoids it by clamping probabilities to `[eps, 1 - eps]`; here the value stays exact.
 *
 * @param x a non-negative tensor (float32).
 * @example
 * ```ts
 * tf.grad((p) => tf.mul(0, logNoNanGrad(p)))(tf.scalar(0)); // 0, not NaN
 * ```
 */
export function logNoNanGrad(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([input]);
    return {
      value: tf.log(input),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => divNoNanUpstream(dy, saved[0] as tf.Tensor),
    };
  });
  return f(x);
}
