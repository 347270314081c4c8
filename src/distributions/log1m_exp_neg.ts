/**
 * `log(1 - e^{-t})` given `t` and `log t`: finite where `t` underflows (the Weibull CDF and Gumbel
 * survival far in their tails).
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { lt, notB, safe, whereB } from './support_ops.js';

/** Below this `t`, {@link log1mExpNeg} uses its series in `t` around `log t`. */
const LOG1MEXP_SERIES_BELOW = 0.5;

/**
 * `log(1 - e^{-t})` for `t >= 0`, given `log t` as well (so that `t` may underflow): the series
 * `log t - t/2 + t^2/24 - t^4/2880 + t^6/181440` (error < 1e-9 for `t < 1/2`), else
 * `log1p(-e^{-t})`. Finite wherever `log t` is, unlike `log(-expm1(-t))` (-Infinity once `t`
 * underflows, as the Weibull CDF at `x = 1e-30` or the Gumbel survival at `z = 1000`).
 */
export function log1mExpNeg(t: tf.Tensor, logT: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const small = lt(t, LOG1MEXP_SERIES_BELOW);
    const ts = safe(small, t, 0);
    const t2 = tf.square(ts);
    const poly = tf.mul(t2, tf.add(1 / 24, tf.mul(t2, tf.add(-1 / 2880, tf.div(t2, 181440)))));
    const series = tf.add(tf.sub(logT, tf.mul(0.5, ts)), poly);
    const tl = safe(notB(small), t, 1);
    return whereB(small, series, log1p(tf.neg(tf.exp(tf.neg(tl)))));
  });
}
