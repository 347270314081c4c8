/**
 * An accurate `log(1 + x)` on every backend: tfjs's `Log1p` kernel on wasm (and the GPU backends)
 * computes `log(1 + x)` in float32, which loses everything below `x ~ 1e-7` (`tf.log1p(1e-10)`
 * is 0, `tf.log1p(-2.87e-7)` is `-2.98e-7`), and the distributions' cancellation-free forms
 * depend on it.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * `log(1 + x)` by Goldberg's correction: with `u = fl(1 + x)`, `log1p(x) = log(u) x / (u - 1)`
 * (`x` itself where `u = 1`), accurate to a few ulps wherever `log` is; gradient `1 / (1 + x)`.
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
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.div(dy, tf.add(1, saved[0] as tf.Tensor)),
    };
  });
  return f(x);
}
