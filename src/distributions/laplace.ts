/**
 * The Laplace (double exponential) distribution.
 *
 * $$p(x;\mu,b) = \frac{1}{2b}\exp\!\Big(-\frac{|x-\mu|}{b}\Big)$$
 *
 * CDF `1/2 exp(z)` for `z < 0`, `1 - 1/2 exp(-z)` otherwise (`z = (x - mu)/b`), mean and mode
 * `mu`, variance `2 b^2`, entropy `1 + log(2b)`. Reparameterized:
 * `x = mu - b sign(u) log(1 - |u|)`, `u ~ U(-1, 1)`.
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { LocationScaleDistribution } from './location_scale.js';
import { registerKL } from './kl.js';
import { le, lt, whereB } from './special.js';

/** `log F(z)` of the standard Laplace: `z - log 2` for `z < 0`, `log1p(-e^{-z}/2)` otherwise. */
function laplaceLogTail(z: tf.Tensor): tf.Tensor {
  const neg = lt(z, 0);
  const below = tf.sub(tf.minimum(z, 0), Math.LN2);
  const above = log1p(tf.mul(-0.5, tf.exp(tf.neg(tf.relu(z)))));
  return tf.where(neg, below, above);
}

/**
 * Laplace distribution with location `loc` (mean, median and mode) and scale `scale > 0` (mean
 * absolute deviation). Constructor `new Laplace(loc, scale, options?)`.
 *
 * @example
 * ```ts
 * const d = new Laplace(0, 1);
 * d.variance(); // 2
 * ```
 */
export class Laplace extends LocationScaleDistribution {
  protected _standardSample(shape: number[], seed: number): tf.Tensor {
    // u in (-1, 1): the lower end is nudged so that log(1 - |u|) stays finite.
    const u = tf.randomUniform(shape, -1 + 1e-7, 1, 'float32', seed);
    return tf.neg(tf.mul(tf.sign(u), log1p(tf.neg(tf.abs(u)))));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    return tf.neg(tf.add(tf.abs(this.standardize(x)), tf.log(tf.mul(2, this.scale))));
  }
  /**
   * `loc + scale log(2p)` for `p <= 1/2`, `loc - scale log(2(1 - p))` above (`1 - p` is exact in
   * float32 there). The form `-sign(p - 1/2) log1p(-2|p - 1/2|)` rounded `p - 1/2` to `-1/2` below
   * `p ~ 3e-8`: `Laplace(1, 2).icdf(1e-10)` was `-Infinity` for -43.67.
   *
   * $$F^{-1}(p) = \mu + b\begin{cases}\log 2p & p \le \tfrac12\\ -\log 2(1 - p) & p > \tfrac12\end{cases}$$
   */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    const low = le(p, 0.5);
    // each branch on a safe input where the other is taken (finite gradients)
    const below = tf.log(tf.mul(2, whereB(low, p, tf.scalar(0.25))));
    const above = tf.neg(tf.log(tf.mul(2, tf.sub(1, whereB(low, tf.scalar(0.75), p)))));
    return tf.add(this.loc, tf.mul(this.scale, whereB(low, below, above)));
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    const z = this.standardize(x);
    const half = tf.mul(0.5, tf.exp(tf.neg(tf.abs(z))));
    return tf.where(lt(z, 0), half, tf.sub(1, half));
  }
  protected override _survival(x: tf.Tensor): tf.Tensor {
    const z = this.standardize(x);
    const half = tf.mul(0.5, tf.exp(tf.neg(tf.abs(z))));
    return tf.where(lt(z, 0), tf.sub(1, half), half);
  }
  /** `z - log 2` below the location, `log1p(-e^{-z}/2)` above: finite where the CDF underflows. */
  protected override _logCdf(x: tf.Tensor): tf.Tensor {
    return laplaceLogTail(this.standardize(x));
  }
  /** The log-CDF at `-z`. */
  protected override _logSurvival(x: tf.Tensor): tf.Tensor {
    return laplaceLogTail(tf.neg(this.standardize(x)));
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(this.loc);
  }
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(this.loc);
  }
  protected override _variance(): tf.Tensor {
    return this.expandToBatch(tf.mul(2, tf.square(this.scale)));
  }
  protected override _stddev(): tf.Tensor {
    return this.expandToBatch(tf.mul(Math.SQRT2, this.scale));
  }
  protected override _entropy(): tf.Tensor {
    return this.expandToBatch(tf.add(1, tf.log(tf.mul(2, this.scale))));
  }
}

/**
 * `KL(L(m1, b1) || L(m2, b2)) = log(b2/b1) + |m1 - m2|/b2 + (b1/b2) exp(-|m1 - m2|/b1) - 1`.
 *
 * @param p the first distribution.
 * @param q the second distribution.
 * @example
 * ```ts
 * klLaplaceLaplace(new Laplace(0, 1), new Laplace(1, 2)); // same as klDivergence(p, q)
 * ```
 */
export function klLaplaceLaplace(p: Laplace, q: Laplace): tf.Tensor {
  return tf.tidy(() => {
    const d = tf.abs(tf.sub(p.loc, q.loc));
    const r = tf.div(p.scale, q.scale);
    return tf.add(
      tf.sub(tf.div(d, q.scale), tf.log(r)),
      tf.sub(tf.mul(r, tf.exp(tf.neg(tf.div(d, p.scale)))), 1),
    );
  });
}

registerKL(Laplace, Laplace, klLaplaceLaplace);
