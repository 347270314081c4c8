/**
 * The standard normal CDF and its relatives as tensor ops: `erfc` (Numerical Recipes' Chebyshev
 * fit, in log space), `ndtr` `Phi(z)`, `logNdtr` `log Phi(z)` and Wichura's AS241 quantile `ndtri`
 * (and `ndtriLog`, the same quantile of a log-probability).
 */
import * as tf from '@tensorflow/tfjs';
import { log1mexp } from '../utils/expm1.js';
import { log1p } from '../utils/log1p.js';
import { andB, eq, ge, gt, le, lt, notB, orB, safe, select } from './support_ops.js';

/** Wichura's AS241 (PPND16) coefficients, numerator then denominator, lowest order first. */
const NDTRI_CENTRAL = [
  [
    3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946,
    45921.95393154987, 67265.7709270087, 33430.57558358813, 2509.0809287301227,
  ],
  [
    1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597,
    39307.89580009271, 28729.085735721943, 5226.495278852546,
  ],
] as const;
const NDTRI_NEAR = [
  [
    1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045,
    1.2704582524523684, 0.2417807251774506, 0.022723844989269184, 0.0007745450142783414,
  ],
  [
    1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008,
    0.015198666563616457, 0.0005475938084995345, 1.0507500716444169e-9,
  ],
] as const;
const NDTRI_FAR = [
  [
    6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487,
    0.026532189526576124, 0.0012426609473880784, 2.7115555687434876e-5, 2.0103343992922881e-7,
  ],
  [
    1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133,
    1.8463183175100548e-5, 1.421511758316446e-7, 2.0442631033899397e-15,
  ],
] as const;

/** `num(r) / den(r)` for coefficient lists (Horner). */
function ratio(
  r: tf.Tensor,
  [num, den]: readonly [readonly number[], readonly number[]],
): tf.Tensor {
  const horner = (c: readonly number[]): tf.Tensor => {
    let acc: tf.Tensor = tf.fill(r.shape, c[c.length - 1] as number);
    for (let i = c.length - 2; i >= 0; i--) acc = tf.add(tf.mul(acc, r), c[i] as number);
    return acc;
  };
  return tf.div(horner(num), horner(den));
}

/**
 * The standard normal quantile `Phi^{-1}(p)` (Wichura's AS241, relative error ~1e-16 in exact
 * arithmetic): a rational function of `q = p - 1/2` in the centre, of `sqrt(-log min(p, 1-p))`
 * in the tails; `-Infinity` at 0, `+Infinity` at 1, NaN outside `[0, 1]`.
 */
export function ndtri(p: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const q = tf.sub(p, 0.5);
    const central = lt(tf.abs(q), 0.425);
    const qc = safe(central, q, 0);
    const centralX = tf.mul(qc, ratio(tf.sub(0.180625, tf.square(qc)), NDTRI_CENTRAL));
    const tailP = tf.clipByValue(tf.minimum(p, tf.sub(1, p)), 1e-300, 0.5);
    const r = tf.sqrt(tf.neg(tf.log(safe(notB(central), tailP, 0.5))));
    const near = le(r, 5);
    const tailX = select(
      near,
      ratio(tf.sub(safe(near, r, 1.6), 1.6), NDTRI_NEAR),
      ratio(tf.sub(safe(notB(near), r, 5), 5), NDTRI_FAR),
    );
    const signed = select(lt(q, 0), tf.neg(tailX), tailX);
    const x = select(central, centralX, signed);
    const ends = select(eq(p, 0), tf.fill(p.shape, -Infinity), tf.fill(p.shape, Infinity));
    const valid = andB(ge(p, 0), le(p, 1));
    const atEnd = orB(eq(p, 0), eq(p, 1));
    return select(valid, select(atEnd, ends, x), tf.fill(p.shape, NaN));
  });
}

/**
 * `log erfc(y)` for `y >= 0`, from Numerical Recipes' `erfcc` (fractional error < 1.2e-7),
 * computed in log space so that it never underflows.
 */
function logErfcPos(y: tf.Tensor): tf.Tensor {
  const t = tf.reciprocal(tf.add(1, tf.mul(0.5, y)));
  const coef = [
    -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398,
    1.48851587, -0.82215223, 0.17087277,
  ];
  let poly: tf.Tensor = tf.scalar(coef[coef.length - 1] as number);
  for (let i = coef.length - 2; i >= 0; i--) poly = tf.add(coef[i] as number, tf.mul(t, poly));
  return tf.add(tf.log(t), tf.sub(poly, tf.square(y)));
}

/** Complementary error function `erfc(x) = 1 - erf(x)`, with relative error ~1e-6 near 0
 * and ~1e-5 at |x| = 5 in float32 (where `1 - erf` would have none left). */
export function erfc(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const pos = ge(x, 0);
    const e = tf.exp(logErfcPos(select(pos, x, tf.neg(x))));
    return select(pos, e, tf.sub(2, e));
  });
}

/**
 * Standard normal CDF `Phi(z) = 1/2 erfc(-z / sqrt 2)`, accurate in relative terms in the lower
 * tail (unlike `1/2 (1 + erf)`).
 */
export function ndtr(z: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(0.5, erfc(tf.mul(z, -Math.SQRT1_2))));
}

/** `log Phi(z)`, finite down to very negative `z` (computed in log space). */
export function logNdtr(z: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const neg = lt(z, 0);
    // Feed each branch a safe input so that the unused branch has finite gradients.
    const zNeg = select(neg, z, tf.zerosLike(z));
    const zPos = select(neg, tf.zerosLike(z), z);
    const lower = tf.add(Math.log(0.5), logErfcPos(tf.mul(zNeg, -Math.SQRT1_2)));
    const upper = log1p(tf.mul(-0.5, tf.exp(logErfcPos(tf.mul(zPos, Math.SQRT1_2)))));
    return select(neg, lower, upper);
  });
}

/** `log 0.075` and `log 0.925`: AS241's central region `|p - 1/2| <= 0.425` in log space. */
const LOG_CENTRAL_LOW = Math.log(0.075);
const LOG_CENTRAL_HIGH = Math.log(0.925);

/**
 * The standard normal quantile of a log-probability, `Phi^{-1}(e^{lp})` for `lp <= 0`: Wichura's
 * AS241 as in {@link ndtri}, whose tail branches only need `r = sqrt(-log min(p, 1 - p))`, so
 * that the lower tail reads `r = sqrt(-lp)` and the upper tail `r = sqrt(-log1mexp(lp))` without
 * forming `p` (finite and accurate for probabilities far below float32's smallest, e.g.
 * `lp = log Phi(-30) = -454.3`, and for `1 - p` down to float32's smallest `|lp|`):
 *
 * $$\Phi^{-1}(e^{\ell}) = \begin{cases}
 *   -R\big(\sqrt{-\ell}\big) & \ell < \log 0.075\\
 *   q\,C\big(0.180625 - q^2\big),\ q = e^{\ell} - \tfrac12 & \text{otherwise}\\
 *   R\big(\sqrt{-\log(1 - e^{\ell})}\big) & \ell > \log 0.925
 * \end{cases}$$
 *
 * (`C`, `R` AS241's rational functions). `-Infinity` at `lp = -Infinity`, `+Infinity` at 0,
 * NaN above 0. Differentiable in `lp` by autodiff (each branch sees a safe input where it is not
 * taken): `d/dl = e^l / phi(x)`.
 * @param lp log-probabilities (`<= 0`).
 * @example
 * ```ts
 * ndtriLog(tf.scalar(-454.3212)); // -30 (Phi(-30) = 4.9e-198 underflows float32)
 * ```
 */
export function ndtriLog(lp: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const lower = lt(lp, LOG_CENTRAL_LOW);
    const upper = gt(lp, LOG_CENTRAL_HIGH);
    const central = notB(orB(lower, upper));
    const q = tf.sub(tf.exp(safe(central, lp, Math.log(0.5))), 0.5);
    const centralX = tf.mul(q, ratio(tf.sub(0.180625, tf.square(q)), NDTRI_CENTRAL));
    // -log min(p, 1 - p) of the tails; 1 (a harmless r) at the central entries
    const logMin = select(
      lower,
      safe(lower, lp, -1),
      select(upper, log1mexp(safe(upper, lp, -1)), tf.fill(lp.shape, -1)),
    );
    const r = tf.sqrt(tf.neg(logMin));
    const near = le(r, 5);
    const tailX = select(
      near,
      ratio(tf.sub(safe(near, r, 1.6), 1.6), NDTRI_NEAR),
      ratio(tf.sub(safe(notB(near), r, 5), 5), NDTRI_FAR),
    );
    const x = select(central, centralX, select(lower, tf.neg(tailX), tailX));
    const finite = andB(gt(lp, -Infinity), lt(lp, 0));
    const ends = select(eq(lp, 0), tf.fill(lp.shape, Infinity), tf.fill(lp.shape, -Infinity));
    const atEnd = orB(eq(lp, 0), eq(lp, -Infinity));
    return select(finite, x, select(atEnd, ends, tf.fill(lp.shape, NaN)));
  });
}
