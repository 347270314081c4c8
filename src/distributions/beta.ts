/**
 * The Beta distribution.
 *
 * $$p(x;a,b) = \frac{x^{a-1}(1-x)^{b-1}}{B(a,b)},\quad 0 \le x \le 1$$
 *
 * CDF `I_x(a, b)` (regularized incomplete beta), quantile `I^{-1}_p(a, b)`, mean `a/(a+b)`, variance
 * `ab / ((a+b)^2 (a+b+1))`, mode `(a-1)/(a+b-2)` for `a, b > 1`, else the end where the density
 * is unbounded or largest (1 when `a >= b`, 0 otherwise: torch's Dirichlet rule; NaN only for the
 * flat `a = b = 1`), entropy `log B(a,b) - (a-1) psi(a) - (b-1) psi(b) + (a+b-2) psi(a+b)`.
 *
 * Sampling: `x = G1/(G1 + G2)`, `G1 ~ Gamma(a)`, `G2 ~ Gamma(b)`; `rsample` is differentiable in
 * both concentrations through the implicitly reparameterized Gamma draws.
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { broadcastTo } from '../utils/tensor.js';
import { deriveSeeds } from '../utils/seed.js';
import { UnitConcentrationsDistribution } from './unit_concentrations.js';
import { betaRsample } from './host_sampling.js';
import { registerKL } from './kl.js';
import { betaQuantile } from './quantile_ops.js';
import {
  andB,
  betainc,
  betaLogDensityAndLbeta,
  digamma,
  digammaMinusLog,
  eq,
  ge,
  gt,
  lbeta,
  le,
  lt,
  maskLogProb,
  mulNoNan,
  safe,
  stirlingError,
  whereB,
} from './special.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Beta distribution with `concentration1` (a, the "successes" exponent) and `concentration0`
 * (b), both > 0 (the naming of TFP and MindSpore).
 *
 * @example
 * ```ts
 * const d = new Beta(2, 5);
 * d.mean(); // 2/7
 * ```
 */
export class Beta extends UnitConcentrationsDistribution {
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const [s1, s0] = deriveSeeds(seed, 2) as [number, number];
    const a = broadcastTo(this.concentration1, this._batchShape);
    const b = broadcastTo(this.concentration0, this._batchShape);
    return betaRsample(a, b, shape, s1, s0);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const a = this.concentration1;
    const b = this.concentration0;
    const inside = andB(ge(x, 0), le(x, 1));
    const open = andB(gt(x, 0), lt(x, 1));
    const xs = safe(inside, x, 0.5);
    // inside: the saddle-point form, float32-accurate at large concentrations; log B(a, b) from
    // the same pieces for the ends
    const xo = safe(open, x, 0.5);
    const [inner, lb] = betaLogDensityAndLbeta(a, b, xo, tf.sub(1, xo));
    // the ends 0 and 1 (0 log 0 = 0): the textbook form
    const ends = tf.sub(
      tf.add(mulNoNan(tf.sub(a, 1), tf.log(xs)), mulNoNan(tf.sub(b, 1), log1p(tf.neg(xs)))),
      lb,
    );
    return maskLogProb(inside, whereB(open, inner, ends));
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return betainc(this.concentration1, this.concentration0, x);
  }
  protected override _survival(x: tf.Tensor): tf.Tensor {
    return betainc(this.concentration0, this.concentration1, tf.sub(1, x), x);
  }
  /**
   * `I^{-1}_p(a, b)` (float64 host inverse of the regularized incomplete beta,
   * `quantile_ops.ts`): differentiable in `p` (`dx/dp = 1/f(x)`) and in both concentrations
   * (`dx/dtheta = -(dI_x/dtheta)/f(x)`, implicit function theorem).
   */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    return betaQuantile(this.concentration1, this.concentration0, p);
  }
  private total(): tf.Tensor {
    return tf.add(this.concentration1, this.concentration0);
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(tf.div(this.concentration1, this.total()));
  }
  protected override _mode(): tf.Tensor {
    const a = broadcastTo(this.concentration1, this._batchShape);
    const b = broadcastTo(this.concentration0, this._batchShape);
    const interior = andB(gt(a, 1), gt(b, 1));
    const m = tf.div(tf.sub(a, 1), safe(interior, tf.sub(tf.add(a, b), 2), 1));
    // otherwise an end: the one where the density grows fastest (1 when a >= b, the vertex of
    // the larger concentration, as Dirichlet's mode); NaN when flat (a = b = 1)
    const end = tf.cast(ge(a, b), 'float32');
    const flat = andB(eq(a, 1), eq(b, 1));
    return tf.where(interior, m, tf.where(flat, tf.fill(a.shape, NaN), end));
  }
  protected override _variance(): tf.Tensor {
    const t = this.total();
    return this.expandToBatch(
      tf.div(tf.mul(this.concentration1, this.concentration0), tf.mul(tf.square(t), tf.add(t, 1))),
    );
  }
  protected override _entropy(): tf.Tensor {
    // lbeta(a, b) - (a-1) psi(a) - (b-1) psi(b) + (a+b-2) psi(a+b) with lgamma = delta +
    // (x - 1/2) log x - x + log(2 pi)/2 and psi = log + r: delta(a) + delta(b) - delta(a+b)
    // + log(2 pi)/2 + (log a + log b)/2 - (3/2) log(a+b) - (a-1) r(a) - (b-1) r(b) + (a+b-2) r(a+b)
    const a = this.concentration1;
    const b = this.concentration0;
    const t = this.total();
    const deltas = tf.sub(tf.add(stirlingError(a), stirlingError(b)), stirlingError(t));
    const logs = tf.sub(tf.mul(0.5, tf.add(tf.log(a), tf.log(b))), tf.mul(1.5, tf.log(t)));
    const rs = tf.sub(
      tf.mul(tf.sub(t, 2), digammaMinusLog(t)),
      tf.add(tf.mul(tf.sub(a, 1), digammaMinusLog(a)), tf.mul(tf.sub(b, 1), digammaMinusLog(b))),
    );
    return this.expandToBatch(tf.add(tf.add(deltas, HALF_LOG_2PI), tf.add(logs, rs)));
  }
}

/**
 * `KL(Beta(a1, b1) || Beta(a2, b2)) = log B(a2, b2) - log B(a1, b1) + (a1 - a2) psi(a1)
 *   + (b1 - b2) psi(b1) + (a2 - a1 + b2 - b1) psi(a1 + b1)`.
 *
 * @param p the first distribution.
 * @param q the second distribution.
 * @example
 * ```ts
 * klBetaBeta(new Beta(2, 3), new Beta(1, 1)); // same as klDivergence(p, q)
 * ```
 */
export function klBetaBeta(p: Beta, q: Beta): tf.Tensor {
  return tf.tidy(() => {
    const a1 = p.concentration1;
    const b1 = p.concentration0;
    const a2 = q.concentration1;
    const b2 = q.concentration0;
    return tf.add(
      tf.add(
        tf.sub(lbeta(a2, b2), lbeta(a1, b1)),
        tf.add(tf.mul(tf.sub(a1, a2), digamma(a1)), tf.mul(tf.sub(b1, b2), digamma(b1))),
      ),
      tf.mul(tf.sub(tf.add(a2, b2), tf.add(a1, b1)), digamma(tf.add(a1, b1))),
    );
  });
}

registerKL(Beta, Beta, klBetaBeta);
