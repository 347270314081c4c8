/**
 * The Weibull distribution with `scale` lambda > 0 and `concentration` k > 0.
 *
 * $$p(x;\lambda,k) = \frac k\lambda\Big(\frac x\lambda\Big)^{k-1}e^{-(x/\lambda)^k},\quad x \ge 0,
 *   \qquad F(x) = 1 - e^{-(x/\lambda)^k}.$$
 *
 * Mean `lambda Gamma(1 + 1/k)`, variance `lambda^2 (Gamma(1 + 2/k) - Gamma(1 + 1/k)^2)` (for
 * `k >= 4` as `lambda^2 Gamma(1 + 1/k)^2 expm1(D(1/k))`, {@link lgammaSecondDifference}), mode
 * `lambda ((k-1)/k)^{1/k}` for k > 1 (0 otherwise), entropy `gamma (1 - 1/k) + log(lambda/k) + 1`.
 * Reparameterized: `x = lambda (-log u)^{1/k}`.
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { FLOAT32_TINY } from '../utils/float32.js';
import { ScalarDistribution } from './scalar.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { registerKL } from './kl.js';
import {
  ge,
  gt,
  le,
  lgamma,
  log1mExpNeg,
  maskLogProb,
  openUniform,
  safe,
  whereB,
} from './special.js';
import { nonnegative, type Constraint } from '../constraints/constraints.js';
import { EULER_GAMMA } from './gumbel.js';

/** Above this `h = 1/k` the variance is the plain difference of gammas (no cancellation). */
const VARIANCE_SERIES_MAX_H = 0.25;
const VARIANCE_SERIES_TERMS = 40;

/** `zeta(n)` for `n >= 2` in float64: a direct sum to 1000 and the Euler–Maclaurin tail. */
function zeta(n: number): number {
  const N = 1000;
  let s = 0;
  for (let k = N; k >= 1; k--) s += Math.pow(k, -n);
  return s + Math.pow(N, 1 - n) / (n - 1) - Math.pow(N, -n) / 2 + (n * Math.pow(N, -n - 1)) / 12;
}

/** Coefficients `c_n = (-1)^n zeta(n) (2^n - 2) / n`, `n = 2 .. 41`, of {@link lgammaSecondDifference}. */
let SECOND_DIFFERENCE_COEFFS: number[] | undefined;

/**
 * `D(h) = log Gamma(1 + 2h) - 2 log Gamma(1 + h)` for `0 <= h <= 1/4` from the Taylor series of
 * `log Gamma(1 + x) = -gamma x + sum_{n>=2} (-1)^n zeta(n) x^n / n`, whose linear terms cancel
 * exactly: it stays accurate where the Weibull variance `Gamma(1 + 2/k) - Gamma(1 + 1/k)^2`
 * cancels (`Weibull(2, 200).variance()` was 1.6% off, `Weibull(2, 1e4)` 0).
 *
 * $$D(h) = \sum_{n\ge 2} (-1)^n \zeta(n)\,\frac{2^n - 2}{n}\,h^n$$
 */
export function lgammaSecondDifference(h: tf.Tensor): tf.Tensor {
  if (SECOND_DIFFERENCE_COEFFS === undefined) {
    SECOND_DIFFERENCE_COEFFS = Array.from({ length: VARIANCE_SERIES_TERMS }, (_, i) => {
      const n = i + 2;
      return ((n % 2 === 0 ? 1 : -1) * zeta(n) * (Math.pow(2, n) - 2)) / n;
    });
  }
  const c = SECOND_DIFFERENCE_COEFFS;
  return tf.tidy(() => {
    // Horner: h^2 (c_2 + h (c_3 + ... + h c_41))
    let acc: tf.Tensor = tf.scalar(c[c.length - 1] as number);
    for (let i = c.length - 2; i >= 0; i--) acc = tf.add(tf.mul(acc, h), c[i] as number);
    return tf.mul(acc, tf.square(h));
  });
}

/**
 * Weibull distribution.
 *
 * @example
 * ```ts
 * const d = new Weibull(2, 1.5);   // scale 2, concentration 1.5
 * d.cdf(1);
 * ```
 */
export class Weibull extends ScalarDistribution {
  /** Scale lambda. */
  readonly scale: tf.Tensor;
  /** Shape k. */
  readonly concentration: tf.Tensor;

  /**
   * @param scale scale lambda, > 0.
   * @param concentration shape k, > 0.
   * @param options validation flag and name.
   */
  constructor(scale: TensorInput, concentration: TensorInput, options: DistributionOptions = {}) {
    super(options);
    ({ scale: this.scale, concentration: this.concentration } = this.positiveParams({
      scale,
      concentration,
    }));
  }
  /** Support: `[0, inf)`. */
  override get support(): Constraint {
    return nonnegative;
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const u = openUniform([...shape, ...this._batchShape], seed);
    const e = tf.neg(tf.log(u));
    // kept above the smallest normal float32 (torch's finfo.tiny): for k < 1 a draw that
    // underflows to 0 (e^{1/k} with e ~ 1e-7 and k = 0.05) has an infinite density
    return tf.maximum(
      tf.mul(this.scale, tf.pow(e, tf.reciprocal(this.concentration))),
      FLOAT32_TINY,
    );
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const k = this.concentration;
    const pos = gt(x, 0);
    const z = tf.div(safe(pos, x, 1), this.scale);
    const logz = tf.log(z);
    const lp = tf.sub(
      tf.add(tf.sub(tf.log(k), tf.log(this.scale)), tf.mul(tf.sub(k, 1), logz)),
      tf.exp(tf.mul(k, logz)),
    );
    // x = 0 has density k/lambda (k = 1), 0 (k > 1) or inf (k < 1): handled by the limit of lp
    const atZero = tf.where(
      gt(k, 1),
      tf.fill(k.shape, -Infinity),
      tf.where(ge(k, 1), tf.sub(tf.log(k), tf.log(this.scale)), tf.fill(k.shape, Infinity)),
    );
    const nonneg = ge(x, 0);
    return maskLogProb(nonneg, whereB(pos, lp, atZero));
  }
  /** `scale (-log(1 - p))^(1/concentration)`. */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    const e = tf.neg(log1p(tf.neg(p)));
    // kept above the smallest normal float32 (torch's finfo.tiny): for k < 1 a draw that
    // underflows to 0 (e^{1/k} with e ~ 1e-7 and k = 0.05) has an infinite density
    return tf.maximum(
      tf.mul(this.scale, tf.pow(e, tf.reciprocal(this.concentration))),
      FLOAT32_TINY,
    );
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return tf.neg(tf.expm1(tf.neg(tf.pow(tf.div(tf.relu(x), this.scale), this.concentration))));
  }
  protected override _survival(x: tf.Tensor): tf.Tensor {
    return tf.exp(tf.neg(tf.pow(tf.div(tf.relu(x), this.scale), this.concentration)));
  }
  /**
   * `log(1 - e^{-t})`, `t = (x/lambda)^k`, from `log t = k log(x/lambda)` ({@link log1mExpNeg}):
   * finite where `t` underflows (`-138` at `x = 1e-30`, `k = 2`, was `-Infinity`).
   */
  protected override _logCdf(x: tf.Tensor): tf.Tensor {
    const pos = gt(x, 0);
    const logT = tf.mul(this.concentration, tf.log(tf.div(safe(pos, x, 1), this.scale)));
    return maskLogProb(pos, log1mExpNeg(tf.exp(logT), logT));
  }
  /** `-(x/lambda)^k` (the log of an underflowed survival was `-Infinity`). */
  protected override _logSurvival(x: tf.Tensor): tf.Tensor {
    return tf.neg(tf.pow(tf.div(tf.relu(x), this.scale), this.concentration));
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(
      tf.mul(this.scale, tf.exp(lgamma(tf.add(1, tf.reciprocal(this.concentration))))),
    );
  }
  protected override _mode(): tf.Tensor {
    const k = this.expandToBatch(this.concentration);
    const m = tf.mul(this.scale, tf.pow(tf.div(tf.sub(k, 1), k), tf.reciprocal(k)));
    return tf.where(gt(k, 1), m, tf.zerosLike(k));
  }
  protected override _variance(): tf.Tensor {
    const k = this.concentration;
    const h = tf.reciprocal(k);
    const lg1 = lgamma(tf.add(1, h));
    // large k: Gamma(1 + 1/k)^2 expm1(D(1/k)) without the cancellation of the two gammas
    const small = le(h, VARIANCE_SERIES_MAX_H);
    const hs = safe(small, h, VARIANCE_SERIES_MAX_H);
    const series = tf.mul(tf.exp(tf.mul(2, lg1)), tf.expm1(lgammaSecondDifference(hs)));
    // elsewhere Gamma(1 + 2h) - Gamma(1 + h)^2 = Gamma(1 + 2h) (1 - exp(2 lg1 - lg2)), with the
    // scale in log space: Infinity (not Infinity - Infinity = NaN) where it overflows float32
    const hPlain = whereB(small, tf.scalar(1), h);
    const lg1p = lgamma(tf.add(1, hPlain));
    const lg2p = lgamma(tf.add(1, tf.mul(2, hPlain)));
    const logPlain = tf.add(
      tf.add(tf.mul(2, tf.log(this.scale)), lg2p),
      tf.log(tf.neg(tf.expm1(tf.minimum(tf.sub(tf.mul(2, lg1p), lg2p), 0)))),
    );
    return this.expandToBatch(
      whereB(small, tf.mul(tf.square(this.scale), series), tf.exp(logPlain)),
    );
  }
  protected override _entropy(): tf.Tensor {
    const k = this.concentration;
    return this.expandToBatch(
      tf.add(
        tf.add(tf.mul(EULER_GAMMA, tf.sub(1, tf.reciprocal(k))), tf.log(tf.div(this.scale, k))),
        1,
      ),
    );
  }
}

/**
 * `KL(W(l1, k1) || W(l2, k2))` in closed form (Bauckhage, 2013):
 *
 * $$\log\frac{k_1}{\lambda_1^{k_1}} - \log\frac{k_2}{\lambda_2^{k_2}}
 *   + (k_1 - k_2)\Big(\log\lambda_1 - \frac{\gamma}{k_1}\Big)
 *   + \Big(\frac{\lambda_1}{\lambda_2}\Big)^{k_2}\Gamma\Big(\frac{k_2}{k_1} + 1\Big) - 1.$$
 *
 * @param p the first distribution. @param q the second distribution.
 */
export function klWeibullWeibull(p: Weibull, q: Weibull): tf.Tensor {
  return tf.tidy(() => {
    const l1 = p.scale;
    const k1 = p.concentration;
    const l2 = q.scale;
    const k2 = q.concentration;
    const t1 = tf.sub(tf.log(k1), tf.mul(k1, tf.log(l1)));
    const t2 = tf.sub(tf.log(k2), tf.mul(k2, tf.log(l2)));
    const t3 = tf.mul(tf.sub(k1, k2), tf.sub(tf.log(l1), tf.div(EULER_GAMMA, k1)));
    const t4 = tf.mul(tf.pow(tf.div(l1, l2), k2), tf.exp(lgamma(tf.add(tf.div(k2, k1), 1))));
    return tf.sub(tf.add(tf.add(tf.sub(t1, t2), t3), t4), 1);
  });
}

registerKL(Weibull, Weibull, klWeibullWeibull);
