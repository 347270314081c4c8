/**
 * The Lévy distribution (NumPyro's `Levy`), a one-sided stable law (index 1/2):
 *
 * $$p(x;\mu,c) = \sqrt{\frac{c}{2\pi}}\,\frac{e^{-c/(2(x-\mu))}}{(x-\mu)^{3/2}},\qquad x > \mu,
 *   \qquad F(x) = \operatorname{erfc}\sqrt{\frac{c}{2(x-\mu)}} = 2\,\Phi\big(-1/\sqrt z\big),$$
 *
 * `z = (x - mu)/c`. Quantile `mu + c / Phi^{-1}(p/2)^2`; draws `mu + c / Z^2`, `Z ~ N(0, 1)`
 * (reparameterized). Heavy right tail: mean and variance are `Infinity`; mode `mu + c/3`; entropy
 * `(1 + 3 gamma_E + log(16 pi c^2)) / 2`. `log F` is `log 2 + log Phi(-1/sqrt z)` (finite close to
 * `mu`); the survival `erf(1/sqrt(2z))` uses its power series for large `z`, where `1 - F` would
 * cancel.
 */
import * as tf from '@tensorflow/tfjs';
import { LocationScaleDistribution } from './location_scale.js';
import { greaterThan, type Constraint } from '../constraints/constraints.js';
import { EULER_GAMMA } from './gumbel.js';
import { gt, logNdtr, lt, maskLogProb, ndtr, ndtri, safe, whereB } from './special.js';

/** Below this `w = 1/sqrt(z)`, `erf(w / sqrt 2)` is summed as its power series. */
const SERIES_W = 0.5;

/**
 * Lévy distribution with location `loc` (the lower end of the support) and scale `scale > 0`.
 * Constructor `new Levy(loc, scale, options?)`.
 *
 * @example
 * ```ts
 * const d = new Levy(0, 2);
 * d.cdf(1);     // erfc(1) = 0.1573
 * d.icdf(0.5);  // 2 / Phi^{-1}(0.25)^2 = 4.396
 * ```
 */
export class Levy extends LocationScaleDistribution {
  /** Support: `(loc, inf)`. */
  override get support(): Constraint {
    return greaterThan(this.loc);
  }
  /** `1 / Z^2`, `Z ~ N(0, 1)` (never 0: `Z^2` is floored at 1e-30). */
  protected _standardSample(shape: number[], seed: number): tf.Tensor {
    const z = tf.randomNormal(shape, 0, 1, 'float32', seed);
    return tf.reciprocal(tf.maximum(tf.square(z), 1e-30));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const ok = gt(x, this.loc);
    const z = safe(ok, this.standardize(x), 1);
    const lp = tf.sub(
      tf.sub(-0.5 * Math.log(2 * Math.PI), tf.log(this.scale)),
      tf.add(tf.mul(1.5, tf.log(z)), tf.div(0.5, z)),
    );
    return maskLogProb(ok, lp);
  }
  /** `w = 1/sqrt(z)` at points above `loc` (a safe 1 elsewhere) and the mask of those points. */
  private w(x: tf.Tensor): [tf.Tensor, tf.Tensor] {
    const ok = gt(x, this.loc);
    return [tf.rsqrt(safe(ok, this.standardize(x), 1)), ok];
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    const [w, ok] = this.w(x);
    return whereB(ok, tf.mul(2, ndtr(tf.neg(w))), tf.scalar(0));
  }
  protected override _logCdf(x: tf.Tensor): tf.Tensor {
    const [w, ok] = this.w(x);
    return whereB(ok, tf.add(Math.LN2, logNdtr(tf.neg(w))), tf.scalar(-Infinity));
  }
  /** `erf(w / sqrt 2)`: the series `sqrt(2/pi) (w - w^3/6 + w^5/40 - w^7/336)` for small `w`. */
  protected override _survival(x: tf.Tensor): tf.Tensor {
    const [w, ok] = this.w(x);
    const small = lt(w, SERIES_W);
    const w2 = tf.square(w);
    const poly = tf.add(
      1,
      tf.mul(w2, tf.add(-1 / 6, tf.mul(w2, tf.add(1 / 40, tf.mul(w2, -1 / 336))))),
    );
    const series = tf.mul(Math.sqrt(2 / Math.PI), tf.mul(w, poly));
    const direct = tf.sub(1, tf.mul(2, ndtr(tf.neg(w))));
    return whereB(ok, whereB(small, series, direct), tf.scalar(1));
  }
  protected override _logSurvival(x: tf.Tensor): tf.Tensor {
    return tf.log(this._survival(x));
  }
  /** `loc + scale / Phi^{-1}(p/2)^2`. */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    return tf.add(this.loc, tf.div(this.scale, tf.square(ndtri(tf.mul(p, 0.5)))));
  }
  protected override _mean(): tf.Tensor {
    return tf.fill(this.batchShape, Infinity);
  }
  protected override _variance(): tf.Tensor {
    return tf.fill(this.batchShape, Infinity);
  }
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(tf.add(this.loc, tf.div(this.scale, 3)));
  }
  protected override _entropy(): tf.Tensor {
    const c = 0.5 * (1 + 3 * EULER_GAMMA + Math.log(16 * Math.PI));
    return this.expandToBatch(tf.add(c, tf.log(this.scale)));
  }
}
