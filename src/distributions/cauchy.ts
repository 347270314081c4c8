/**
 * The Cauchy distribution.
 *
 * $$p(x;x_0,\gamma) = \frac{1}{\pi\gamma\,\big(1 + ((x-x_0)/\gamma)^2\big)}$$
 *
 * CDF `1/2 + atan((x - x0)/gamma)/pi`, entropy `log(4 pi gamma)`, mode and median `x0`; the mean
 * does not exist (`NaN`) and the variance is infinite (`Infinity`), as in torch.distributions.
 * Reparameterized:
 * `x = x0 + gamma tan(pi (u - 1/2))`, `u ~ U(0, 1)`.
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { LocationScaleDistribution } from './location_scale.js';
import { registerKL } from './kl.js';
import { gt, lt, safe, whereB } from './special.js';

/**
 * The standard Cauchy survival function `S(z) = 1/2 - atan(z)/pi` without the cancellation of its
 * upper tail: `atan(1/z)/pi` for `z > 1` (the two agree there; `1/2 - atan(z)/pi` rounds to 0 in
 * float32 from `z ~ 1e7`). The CDF is `S(-z)`.
 *
 * $$S(z) = \begin{cases}\arctan(1/z)/\pi & z > 1\\ 1/2 - \arctan(z)/\pi & z \le 1\end{cases}$$
 */
export function cauchyTail(z: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const far = gt(z, 1);
    const zf = safe(far, z, 2);
    const tail = tf.div(tf.atan(tf.reciprocal(zf)), Math.PI);
    const centre = tf.sub(0.5, tf.div(tf.atan(z), Math.PI));
    return whereB(far, tail, centre);
  });
}

/**
 * Cauchy distribution with location `loc` (median and mode) and scale `scale > 0` (half width at
 * half maximum). Constructor `new Cauchy(loc, scale, options?)`.
 *
 * @example
 * ```ts
 * const d = new Cauchy(0, 1);
 * d.cdf(1); // 0.75
 * ```
 */
export class Cauchy extends LocationScaleDistribution {
  protected _standardSample(shape: number[], seed: number): tf.Tensor {
    const u = tf.randomUniform(shape, 0, 1, 'float32', seed);
    return tf.tan(tf.mul(Math.PI, tf.sub(u, 0.5)));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    return tf.neg(
      tf.add(tf.log(tf.mul(Math.PI, this.scale)), log1p(tf.square(this.standardize(x)))),
    );
  }
  /**
   * `loc + scale tan(pi (p - 1/2))`, as `-1/tan(pi p)` below 1/2 and `1/tan(pi (1 - p))` above
   * (float32 keeps the tails, where `pi (p - 1/2)` rounds near `-pi/2`).
   */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    const low = lt(p, 0.5);
    const t = tf.tan(tf.mul(Math.PI, tf.where(low, p, tf.sub(1, p))));
    const z = tf.where(low, tf.neg(tf.reciprocal(t)), tf.reciprocal(t));
    return tf.add(this.loc, tf.mul(this.scale, z));
  }
  /** `1/2 + atan(z)/pi`, as `atan(-1/z)/pi` below `z = -1` (no cancellation in the lower tail). */
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return cauchyTail(tf.neg(this.standardize(x)));
  }
  /** `1/2 - atan(z)/pi`, as `atan(1/z)/pi` above `z = 1` (was 0, log -Infinity, at z = 1e8). */
  protected override _survival(x: tf.Tensor): tf.Tensor {
    return cauchyTail(this.standardize(x));
  }
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(this.loc);
  }
  /** `NaN`: the integral of `x p(x)` has no value (torch's convention). */
  protected override _mean(): tf.Tensor {
    return tf.fill(this._batchShape, NaN);
  }
  /** `Infinity`: the second central moment diverges (torch's convention). */
  protected override _variance(): tf.Tensor {
    return tf.fill(this._batchShape, Infinity);
  }
  protected override _entropy(): tf.Tensor {
    return this.expandToBatch(tf.log(tf.mul(4 * Math.PI, this.scale)));
  }
}

/**
 * `KL(C(l1, s1) || C(l2, s2)) = log( ((s1 + s2)^2 + (l1 - l2)^2) / (4 s1 s2) )`
 * (Chyzak & Nielsen, 2019).
 *
 * @param p the first distribution.
 * @param q the second distribution.
 * @example
 * ```ts
 * klCauchyCauchy(new Cauchy(0, 1), new Cauchy(1, 2)); // same as klDivergence(p, q)
 * ```
 */
export function klCauchyCauchy(p: Cauchy, q: Cauchy): tf.Tensor {
  return tf.tidy(() =>
    tf.log(
      tf.div(
        tf.add(tf.square(tf.add(p.scale, q.scale)), tf.square(tf.sub(p.loc, q.loc))),
        tf.mul(4, tf.mul(p.scale, q.scale)),
      ),
    ),
  );
}

registerKL(Cauchy, Cauchy, klCauchyCauchy);
