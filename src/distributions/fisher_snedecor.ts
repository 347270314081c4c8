/**
 * The Fisher-Snedecor F distribution (torch's `FisherSnedecor`): the ratio of two independent
 * scaled chi-squares, `X = (U_1 / d_1) / (U_2 / d_2)`, `U_i ~ chi^2(d_i)`.
 *
 * $$p(x) = \frac{(d_1/d_2)^{d_1/2}\,x^{d_1/2 - 1}}{B(d_1/2, d_2/2)}
 *   \left(1 + \frac{d_1 x}{d_2}\right)^{-(d_1 + d_2)/2},\qquad x > 0$$
 *
 * CDF `I_t(d1/2, d2/2)`, `t = d1 x / (d1 x + d2)` (regularized incomplete beta), mean
 * `d2 / (d2 - 2)` for `d2 > 2`, variance `2 d2^2 (d1 + d2 - 2) / (d1 (d2 - 2)^2 (d2 - 4))` for
 * `d2 > 4`, mode `(d1 - 2)/d1 * d2/(d2 + 2)` for `d1 > 2` (else 0). Where a moment diverges it is
 * `Infinity` (mean for `d2 <= 2`, variance for `2 < d2 <= 4`) and where it has no value `NaN`
 * (variance for `d2 <= 2`), the library's convention (torch returns NaN for both).
 *
 * Draws: `(G_1 d_2) / (G_2 d_1)`, `G_i ~ Gamma(d_i / 2, 1)`, reparameterized in both degrees of
 * freedom through the implicitly reparameterized Gamma draws (torch's `has_rsample`).
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { deriveSeeds } from '../utils/seed.js';
import { broadcastTo } from '../utils/tensor.js';
import { positive, type Constraint } from '../constraints/constraints.js';
import { ScalarDistribution } from './scalar.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import { standardGammaRsample } from './host_sampling.js';
import { betaQuantile } from './quantile_ops.js';
import { betainc, gt, lbeta, maskLogProb, mulNoNan, safe, whereB } from './special.js';

/**
 * F distribution with `df1` (numerator) and `df2` (denominator) degrees of freedom, both > 0.
 *
 * @example
 * ```ts
 * const d = new FisherSnedecor(5, 10);
 * d.mean(); // 10 / 8
 * ```
 */
export class FisherSnedecor extends ScalarDistribution {
  /** Numerator degrees of freedom d1. */
  readonly df1: tf.Tensor;
  /** Denominator degrees of freedom d2. */
  readonly df2: tf.Tensor;

  /**
   * @param df1 d1, finite and > 0.
   * @param df2 d2, finite and > 0.
   * @param options validation flag and name.
   */
  constructor(df1: TensorInput, df2: TensorInput, options: DistributionOptions = {}) {
    super(options);
    ({ df1: this.df1, df2: this.df2 } = this.positiveParams({ df1, df2 }));
  }

  /** Support: `(0, inf)`. */
  override get support(): Constraint {
    return positive;
  }

  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const full = [...shape, ...this._batchShape];
    // no draws: no kernels (wasm binary kernels broadcasting into an empty output corrupt memory)
    if (full.some((n) => n === 0)) return tf.zeros(full);
    const [s1, s2] = deriveSeeds(seed, 2) as [number, number];
    const d1 = broadcastTo(this.df1, this._batchShape);
    const d2 = broadcastTo(this.df2, this._batchShape);
    const g1 = standardGammaRsample(tf.mul(0.5, d1), shape, s1);
    const g2 = standardGammaRsample(tf.mul(0.5, d2), shape, s2);
    return tf.div(tf.mul(g1, d2), tf.mul(g2, d1));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const d1 = this.df1;
    const d2 = this.df2;
    const pos = gt(x, 0);
    const xs = safe(pos, x, 1);
    const h1 = tf.mul(0.5, d1);
    const lp = tf.sub(
      tf.add(tf.mul(h1, tf.log(tf.div(d1, d2))), mulNoNan(tf.sub(h1, 1), tf.log(xs))),
      tf.add(
        tf.mul(tf.mul(0.5, tf.add(d1, d2)), log1p(tf.div(tf.mul(d1, xs), d2))),
        lbeta(h1, tf.mul(0.5, d2)),
      ),
    );
    return maskLogProb(pos, lp);
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    const xs = tf.relu(x);
    const den = tf.add(tf.mul(this.df1, xs), this.df2);
    const t = tf.div(tf.mul(this.df1, xs), den);
    const c = betainc(tf.mul(0.5, this.df1), tf.mul(0.5, this.df2), t, tf.div(this.df2, den));
    return c;
  }
  protected override _survival(x: tf.Tensor): tf.Tensor {
    const xs = tf.relu(x);
    const den = tf.add(tf.mul(this.df1, xs), this.df2);
    const t = tf.div(tf.mul(this.df1, xs), den);
    const s = betainc(tf.mul(0.5, this.df2), tf.mul(0.5, this.df1), tf.div(this.df2, den), t);
    return s;
  }
  /**
   * `(d2/d1) x/(1 - x)` with `x = I^{-1}_p(d1/2, d2/2)` (the odds taken from the inverse's
   * logit, no `1 - x` cancellation), differentiable in `p` and both degrees of freedom.
   */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    const odds = betaQuantile(tf.mul(0.5, this.df1), tf.mul(0.5, this.df2), p, 'odds');
    return tf.mul(tf.div(this.df2, this.df1), odds);
  }
  protected override _mean(): tf.Tensor {
    const d2 = broadcastTo(this.df2, this._batchShape);
    return whereB(gt(d2, 2), tf.div(d2, tf.sub(d2, 2)), tf.fill(d2.shape, Infinity));
  }
  protected override _variance(): tf.Tensor {
    const d1 = broadcastTo(this.df1, this._batchShape);
    const d2 = broadcastTo(this.df2, this._batchShape);
    const d2m2 = tf.sub(d2, 2);
    const v = tf.div(
      tf.mul(tf.mul(2, tf.square(d2)), tf.sub(tf.add(d1, d2), 2)),
      tf.mul(tf.mul(d1, tf.square(d2m2)), tf.sub(d2, 4)),
    );
    const inf = tf.fill(d2.shape, Infinity);
    return whereB(gt(d2, 4), v, whereB(gt(d2, 2), inf, tf.fill(d2.shape, NaN)));
  }
  protected override _mode(): tf.Tensor {
    const d1 = broadcastTo(this.df1, this._batchShape);
    const d2 = broadcastTo(this.df2, this._batchShape);
    const m = tf.mul(tf.div(tf.sub(d1, 2), d1), tf.div(d2, tf.add(d2, 2)));
    return whereB(gt(d1, 2), m, tf.zerosLike(m));
  }
}
