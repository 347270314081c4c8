/**
 * Cancellation-free differences of the gamma functions: `digamma(x + h) - digamma(x)`,
 * `digamma(x) - log x` and `lgamma(x + h) - lgamma(x)`, for the families' entropies.
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { stirlingErrors } from './stirling.js';
import { ge, notB, safe, whereB } from './support_ops.js';

/** Shift of {@link digammaShift}'s asymptotic series (its terms reach 1e-12 from 10 on). */
const DIGAMMA_SHIFT_FROM = 10;

/**
 * `psi(x + h) - psi(x)` for `x > 0`, `h >= 0` without cancellation: the digamma difference of
 * the Student-t entropy at `x = nu/2`, `h = 1/2`, which is `~h/x` while each `psi` is `~log x`
 * (`StudentT(1e6).entropy()` was 1.3846 for 1.41894). The recurrence moves `x` to
 * `y = x + 10`, where the asymptotic series of `psi` is differenced term by term:
 *
 * $$\psi(x+h)-\psi(x) = \operatorname{log1p}\frac hy + \frac{h}{2y(y+h)}
 *   - \sum_{k=1}^{4}\frac{B_{2k}}{2k}\big[(y+h)^{-2k} - y^{-2k}\big]
 *   + \sum_{i=0}^{9}\frac{h}{(x+i)(x+i+h)}.$$
 */
export function digammaShift(x: tf.Tensor, h: number): tf.Tensor {
  return tf.tidy(() => {
    const y = tf.add(x, DIGAMMA_SHIFT_FROM);
    const yh = tf.add(y, h);
    const a2 = tf.reciprocal(tf.square(yh));
    const b2 = tf.reciprocal(tf.square(y));
    // B_2/2 = 1/12, B_4/4 = -1/120, B_6/6 = 1/252, B_8/8 = -1/240, as polynomials in 1/z^2
    const series = (z2: tf.Tensor): tf.Tensor =>
      tf.mul(
        z2,
        tf.sub(1 / 12, tf.mul(z2, tf.sub(1 / 120, tf.mul(z2, tf.sub(1 / 252, tf.div(z2, 240)))))),
      );
    let out = tf.add(log1p(tf.div(h, y)), tf.div(h, tf.mul(tf.mul(2, y), yh)));
    out = tf.sub(out, tf.sub(series(a2), series(b2)));
    for (let i = 0; i < DIGAMMA_SHIFT_FROM; i++) {
      const xi = tf.add(x, i);
      out = tf.add(out, tf.div(h, tf.mul(xi, tf.add(xi, h))));
    }
    return out;
  });
}

/**
 * `r(x) = psi(x) - log x` for `x > 0`, small (`~ -1/(2x)`) where each term is `~log x`: the
 * asymptotic series for `x >= 10`, else the recurrence from `y = x + 10`,
 *
 * $$r(x) \approx -\frac1{2x} - \frac1{12x^2} + \frac1{120x^4} - \frac1{252x^6} + \frac1{240x^8},
 *   \qquad r(x) = r(x + 10) + \operatorname{log1p}\frac{10}{x} - \sum_{i=0}^{9}\frac1{x+i}.$$
 *
 * The entropies of the Gamma, InverseGamma, Beta and Dirichlet families are written with it and
 * with Stirling's error {@link stirlingError} (`Gamma(300).entropy()` lost 2e-4 to the
 * cancellation of `lgamma(a)` against `(a - 1) psi(a)`).
 */
export function digammaMinusLog(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const big = ge(x, DIGAMMA_SHIFT_FROM);
    const xs = safe(notB(big), x, 1);
    const y = whereB(big, safe(big, x, DIGAMMA_SHIFT_FROM), tf.add(xs, DIGAMMA_SHIFT_FROM));
    const zi = tf.reciprocal(y);
    const zi2 = tf.square(zi);
    const series = tf.mul(
      zi2,
      tf.sub(1 / 12, tf.mul(zi2, tf.sub(1 / 120, tf.mul(zi2, tf.sub(1 / 252, tf.div(zi2, 240)))))),
    );
    const atY = tf.neg(tf.add(tf.mul(0.5, zi), series));
    let back = log1p(tf.div(DIGAMMA_SHIFT_FROM, xs));
    for (let i = 0; i < DIGAMMA_SHIFT_FROM; i++) back = tf.sub(back, tf.reciprocal(tf.add(xs, i)));
    return whereB(big, atY, tf.add(atY, back));
  });
}

/**
 * `log Gamma(x + h) - log Gamma(x)` for `x > 0`, `h >= 0` without cancellation (the Student-t
 * normalizers at `x = nu/2`, `h = 1/2` or `d/2`; `lgamma` of each is of order `x log x`, 1e9 at
 * `nu = 1e8`):
 *
 * $$\log\frac{\Gamma(x + h)}{\Gamma(x)} = (x - \tfrac12)\operatorname{log1p}\frac{h}{x}
 *   + h\log(x + h) - h + \delta(x + h) - \delta(x)$$
 */
export function lgammaShift(x: tf.Tensor, h: number): tf.Tensor {
  return tf.tidy(() => {
    const xh = tf.add(x, h);
    const main = tf.mul(tf.sub(x, 0.5), log1p(tf.div(h, x)));
    const rest = tf.sub(tf.mul(h, tf.log(xh)), h);
    const [dxh, dx] = stirlingErrors(xh, x) as [tf.Tensor, tf.Tensor];
    return tf.add(tf.add(main, rest), tf.sub(dxh, dx));
  });
}
