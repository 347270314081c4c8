/**
 * The folded distribution (Pyro's `FoldedDistribution`): the law of `|X|` for a univariate `X`.
 *
 * $$p_{|X|}(x) = p_X(x) + p_X(-x),\qquad x \ge 0,$$
 *
 * computed as `logaddexp(log p(x), log p(-x))`; CDF `F(x) - F(-x)` (where the base has a CDF).
 * Draws are `|x|` for base draws `x` (reparameterized when the base is).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { positive, type Constraint } from '../constraints/constraints.js';
import { Distribution, type DistributionOptions } from './distribution.js';
import { ge, lt, maskLogProb, noGrad, safe, whereB } from './special.js';
import './expanded.js';
import './independent.js';

/**
 * `|X|` for `X ~ base`. The base stays the caller's (`dispose` does not free it).
 *
 * @example
 * ```ts
 * const d = new FoldedDistribution(new Normal(1, 2));
 * d.logProb(0.5); // log(N(0.5; 1, 2) + N(-0.5; 1, 2))
 * ```
 */
export class FoldedDistribution extends Distribution {
  /** The distribution of `X` (scalar event). */
  readonly base: Distribution;

  /**
   * @param base a univariate distribution (event shape `[]`).
   * @param options validation flag and name.
   * @throws ArgumentError naming `base` when it is not a distribution or has an event shape.
   */
  constructor(base: Distribution, options: DistributionOptions = {}) {
    super(options);
    if (!(base instanceof Distribution)) throw new ArgumentError('base', 'expected a Distribution');
    if (base.eventShape.length !== 0) {
      throw new ArgumentError(
        'base',
        `only univariate distributions can be folded (event shape []), got ` +
          `[${base.eventShape.join(',')}]`,
      );
    }
    this.base = base;
  }

  get batchShape(): number[] {
    return this.base.batchShape;
  }
  get eventShape(): number[] {
    return [];
  }
  /** Support: `positive` (Pyro's). */
  override get support(): Constraint {
    return positive;
  }
  override get hasRsample(): boolean {
    return this.base.hasRsample;
  }

  protected override _sample(shape: number[], seed: number): tf.Tensor {
    return tf.abs(this.base.sample(shape, seed));
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    return tf.abs(this.base.rsample(shape, seed));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const ok = ge(x, 0);
    const xs = safe(ok, x, 0);
    const a = this.base.logProb(xs);
    const b = this.base.logProb(tf.neg(xs));
    return maskLogProb(ok, logAddExp(a, b));
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    const xs = tf.relu(x);
    const c = tf.sub(this.base.cdf(xs), this.base.cdf(tf.neg(xs)));
    return whereB(lt(x, 0), tf.zerosLike(c), tf.clipByValue(c, 0, 1));
  }
}

/** `log(e^a + e^b)`, `-Infinity` where both are (no NaN from `-inf - -inf`). */
function logAddExp(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const m = tf.maximum(a, b);
  const finite = noGrad((t) => tf.isFinite(t as tf.Tensor), m);
  const ms = safe(finite, m, 0);
  const s = tf.add(ms, tf.log(tf.add(tf.exp(tf.sub(a, ms)), tf.exp(tf.sub(b, ms)))));
  return whereB(finite, s, m);
}
