/**
 * Remainders of Stirling's series for `log Gamma` and `psi`, and the leave-one-out sums of a
 * Dirichlet's concentrations: the pieces with which the evidential losses avoid float32
 * cancellation between terms that grow like `S log S` (or `log S`) for large evidence.
 */
import * as tf from '@tensorflow/tfjs';
import { digamma, lgamma } from '../special.js';

/** `log(2 pi) / 2`. */
export const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
/** Where the asymptotic series of the remainders take over from the direct formulas. */
const SERIES_FROM = 10;

/**
 * `direct` where `x < 10`, else `series`, as `m * direct + (1 - m) * series` with the mask
 * `m = step(10 - x)` (zero gradient; tfjs's `where` needs the gradient of `less`, which it lacks).
 * Both branches are evaluated at clamped arguments, so both are finite.
 */
function blend(x: tf.Tensor, direct: tf.Tensor, series: tf.Tensor): tf.Tensor {
  const m = tf.step(tf.sub(SERIES_FROM, x));
  return tf.add(tf.mul(m, direct), tf.mul(tf.sub(1, m), series));
}

/**
 * Stirling's remainder `R(x) = log Gamma(x) - [(x - 1/2) log x - x + log(2 pi) / 2]`: directly
 * below 10 (no cancellation there), else `1/(12x) - 1/(360x^3) + 1/(1260x^5) - 1/(1680x^7)`.
 */
export function stirlingRemainder(x: tf.Tensor): tf.Tensor {
  const small = tf.minimum(x, SERIES_FROM);
  const direct = tf.sub(
    lgamma(small),
    tf.add(tf.sub(tf.mul(tf.sub(small, 0.5), tf.log(small)), small), HALF_LOG_2PI),
  );
  const inv = tf.reciprocal(tf.maximum(x, SERIES_FROM));
  const inv2 = tf.square(inv);
  const series = tf.mul(
    inv,
    tf.sub(
      1 / 12,
      tf.mul(inv2, tf.sub(1 / 360, tf.mul(inv2, tf.sub(1 / 1260, tf.div(inv2, 1680))))),
    ),
  );
  return blend(x, direct, series);
}

/**
 * The digamma remainder `Q(x) = psi(x) - log x + 1/(2x)`: directly below 10, else
 * `-1/(12x^2) + 1/(120x^4) - 1/(252x^6) + 1/(240x^8)`.
 */
export function digammaRemainder(x: tf.Tensor): tf.Tensor {
  const small = tf.minimum(x, SERIES_FROM);
  const direct = tf.add(tf.sub(digamma(small), tf.log(small)), tf.div(0.5, small));
  const inv2 = tf.square(tf.reciprocal(tf.maximum(x, SERIES_FROM)));
  const series = tf.neg(
    tf.mul(
      inv2,
      tf.sub(
        1 / 12,
        tf.mul(inv2, tf.sub(1 / 120, tf.mul(inv2, tf.sub(1 / 252, tf.div(inv2, 240))))),
      ),
    ),
  );
  return blend(x, direct, series);
}

/**
 * The leave-one-out sums `r_k = sum_{j != k} alpha_j` of each row of `alpha` `[N, K]`, as the
 * product with `1 - I` (exact, where `S - alpha_k` loses the small classes' mass to rounding
 * when `alpha_k` dominates).
 *
 * $$r_{ik} = \sum_j \alpha_{ij}(1 - \delta_{jk})$$
 *
 * @param alpha concentrations `[N, K]`.
 */
export function leaveOneOutSums(alpha: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const k = alpha.shape[1];
    return tf.matMul(alpha, tf.sub(1, tf.eye(k)));
  });
}
