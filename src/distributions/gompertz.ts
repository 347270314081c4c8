/**
 * The Gompertz distribution in NumPyro's (and Wikipedia's) parameterization: `concentration`
 * `eta > 0` (Wikipedia's shape `eta`) and `rate` `b > 0` (Wikipedia's scale `b`, a rate here as
 * in NumPyro: `X b` is Gompertz with rate 1). torch has no Gompertz.
 *
 * $$p(x;\eta,b) = \eta\, b\, e^{b x}\exp\!\big(-\eta\,(e^{b x} - 1)\big),\qquad
 *   F(x) = 1 - \exp\!\big(-\eta\,(e^{b x} - 1)\big),\quad x \ge 0.$$
 *
 * `log S(x) = -eta expm1(b x)` (exact in the far tail), quantile
 * `F^{-1}(q) = log1p(-log1p(-q) / eta) / b`, draws `x = log1p(E / eta) / b` with `E ~ Exp(1)`
 * (reparameterized in both parameters), mode `log(1/eta)/b` for `eta < 1` (else 0), mean
 * `e^eta E_1(eta) / b` with the exponential integral `E_1` (a series for `eta <= 1`, a
 * continued fraction for `eta > 1`, evaluated as `e^eta E_1(eta)` so that it does not overflow).
 * The variance (a hypergeometric function of `eta`) and the entropy are not implemented.
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { expm1, log1mexp } from '../utils/expm1.js';
import { ConcentrationRateDistribution } from './shape_rate.js';
import { ge, le, maskLogProb, notB, openUniform, safe, whereB } from './special.js';
import { positive, type Constraint } from '../constraints/constraints.js';
import { EULER_GAMMA } from './gumbel.js';

/** Terms of the `E_1` power series (`x <= 1`). */
const E1_SERIES_TERMS = 20;
/** Depth of the `E_1` continued fraction (`x > 1`; relative error < 1e-8 at `x = 1`). */
const E1_CF_DEPTH = 30;

/**
 * `e^x E_1(x)` for `x > 0`, where `E_1(x) = int_x^inf e^{-t}/t dt`:
 *
 * $$E_1(x) = -\gamma - \log x - \sum_{k\ge1}\frac{(-x)^k}{k\,k!}\ (x \le 1),\qquad
 *   e^x E_1(x) = \cfrac{1}{x + 1 - \cfrac{1^2}{x + 3 - \cfrac{2^2}{x + 5 - \cdots}}}\ (x > 1).$$
 *
 * @param x positive reals.
 */
export function scaledExpIntegralE1(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const small = le(x, 1);
    const xs = safe(small, x, 1);
    let term: tf.Tensor = tf.onesLike(xs);
    let sum: tf.Tensor = tf.zerosLike(xs);
    for (let k = 1; k <= E1_SERIES_TERMS; k++) {
      term = tf.mul(term, tf.div(tf.neg(xs), k));
      sum = tf.add(sum, tf.div(term, k));
    }
    const series = tf.mul(tf.exp(xs), tf.sub(tf.sub(-EULER_GAMMA, tf.log(xs)), sum));
    const xl = safe(notB(small), x, 2);
    let t: tf.Tensor = tf.zerosLike(xl);
    for (let n = E1_CF_DEPTH; n >= 1; n--) t = tf.div(n * n, tf.sub(tf.add(xl, 2 * n + 1), t));
    const cf = tf.reciprocal(tf.sub(tf.add(xl, 1), t));
    return whereB(small, series, cf);
  });
}

/**
 * Gompertz distribution with `concentration` eta > 0 and `rate` b > 0 (default 1), NumPyro's
 * parameterization.
 *
 * @example
 * ```ts
 * const d = new Gompertz(0.5, 2);
 * d.cdf(1);   // 1 - exp(-0.5 (e^2 - 1))
 * d.mean();   // e^0.5 E_1(0.5) / 2
 * ```
 */
export class Gompertz extends ConcentrationRateDistribution {
  /** Support: `(0, inf)` (NumPyro's; the density at 0 is `eta b`). */
  override get support(): Constraint {
    return positive;
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const e = tf.neg(tf.log(openUniform([...shape, ...this._batchShape], seed)));
    return tf.div(log1p(tf.div(e, this.concentration)), this.rate);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const ok = ge(x, 0);
    const bx = tf.mul(this.rate, safe(ok, x, 0));
    const lp = tf.sub(
      tf.add(tf.add(tf.log(this.concentration), tf.log(this.rate)), bx),
      tf.mul(this.concentration, expm1(bx)),
    );
    return maskLogProb(ok, lp);
  }
  /** `-eta expm1(b x)` (0 below the support). */
  protected override _logSurvival(x: tf.Tensor): tf.Tensor {
    return tf.neg(tf.mul(this.concentration, expm1(tf.mul(this.rate, tf.relu(x)))));
  }
  protected override _survival(x: tf.Tensor): tf.Tensor {
    return tf.exp(this._logSurvival(x));
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return tf.neg(expm1(this._logSurvival(x)));
  }
  /** `log(1 - e^{log S(x)})`. */
  protected override _logCdf(x: tf.Tensor): tf.Tensor {
    return log1mexp(this._logSurvival(x));
  }
  /** `log1p(-log1p(-q) / eta) / b`. */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    return tf.div(log1p(tf.div(tf.neg(log1p(tf.neg(p))), this.concentration)), this.rate);
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(tf.div(scaledExpIntegralE1(this.concentration), this.rate));
  }
  /** `log(1/eta)/b` for `eta < 1`, else 0. */
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(tf.div(tf.relu(tf.neg(tf.log(this.concentration))), this.rate));
  }
}
