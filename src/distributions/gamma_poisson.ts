/**
 * The gamma-Poisson distribution (NumPyro's `GammaPoisson`): a Poisson whose rate is drawn from
 * `Gamma(alpha, beta)` (shape-rate), i.e. a negative binomial with `r = alpha` and success
 * probability `1 / (1 + beta)`.
 *
 * $$P(X = k) = \frac{\Gamma(k + \alpha)}{k!\,\Gamma(\alpha)}
 *   \Big(\frac{\beta}{1 + \beta}\Big)^{\alpha}\Big(\frac{1}{1 + \beta}\Big)^{k},\qquad
 *   F(k) = I_{\beta/(1+\beta)}(\alpha, \lfloor k\rfloor + 1)$$
 *
 * Mean `alpha / beta`, variance `alpha (1 + beta) / beta^2`. Sampling: `Poisson(G)`,
 * `G ~ Gamma(alpha, beta)`, on the host; no `rsample`.
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { ConcentrationRateDistribution } from './shape_rate.js';
import { negativeBinomialLogPmf } from './negative_binomial.js';
import { poissonDraw, standardGammaDraw } from './host_sampling.js';
import { betainc, ge, lt, safe, whereB } from './special.js';
import { nonnegativeInteger, type Constraint } from '../constraints/constraints.js';
import { broadcastTo } from '../utils/tensor.js';
import { makeRng } from '../utils/seed.js';

/**
 * Gamma-Poisson distribution with `concentration` alpha > 0 and `rate` beta > 0 of the Gamma
 * mixing the Poisson rate. Samples are float32 counts.
 *
 * @example
 * ```ts
 * const d = new GammaPoisson(2, 0.5);
 * d.mean();     // 4
 * d.variance(); // 2 * 1.5 / 0.25 = 12
 * ```
 */
export class GammaPoisson extends ConcentrationRateDistribution {
  /** Support: `{0, 1, 2, ...}`. */
  override get support(): Constraint {
    return nonnegativeInteger;
  }
  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const full = [...shape, ...this._batchShape];
    if (full.some((d) => d === 0)) return tf.zeros(full);
    const a = broadcastTo(this.concentration, full).dataSync();
    const b = broadcastTo(this.rate, full).dataSync();
    const rng = makeRng(seed);
    const out = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) {
      out[i] = poissonDraw(standardGammaDraw(a[i] as number, rng) / (b[i] as number), rng);
    }
    return tf.tensor(out, full, 'float32');
  }
  /** The negative binomial's with `r = alpha`, `p = 1 / (1 + beta)`. */
  protected _logProb(k: tf.Tensor): tf.Tensor {
    const log1pB = log1p(this.rate);
    return negativeBinomialLogPmf(
      k,
      this.concentration,
      tf.neg(log1pB),
      tf.sub(tf.log(this.rate), log1pB),
    );
  }
  protected override _cdf(k: tf.Tensor): tf.Tensor {
    const kf = tf.floor(k);
    const b = safe(ge(kf, 0), tf.add(kf, 1), 1);
    const x = tf.div(this.rate, tf.add(1, this.rate));
    const val = betainc(this.concentration, tf.add(tf.zerosLike(b), b), x);
    return whereB(lt(kf, 0), tf.scalar(0), val);
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(tf.div(this.concentration, this.rate));
  }
  protected override _variance(): tf.Tensor {
    return this.expandToBatch(
      tf.div(tf.mul(this.concentration, tf.add(1, this.rate)), tf.square(this.rate)),
    );
  }
}
