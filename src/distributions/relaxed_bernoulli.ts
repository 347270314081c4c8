/**
 * The relaxed Bernoulli (binary Concrete) distribution of Maddison et al. (2017) and Jang et al.
 * (2017), Pyro's `RelaxedBernoulli`: a continuous relaxation on `(0, 1)` of a Bernoulli with
 * log-odds `l`, sharper as the temperature `t > 0` falls.
 *
 * $$X = \sigma\!\Big(\frac{l + \log U - \log(1 - U)}{t}\Big),\quad U \sim \mathcal U(0, 1),$$
 *
 * $$p(x; l, t) = \frac{t\, e^{l}\, x^{-t-1} (1-x)^{-t-1}}{\big(e^{l} x^{-t} + (1-x)^{-t}\big)^2},
 *   \qquad \log p(x) = \log t + d - 2\,\mathrm{softplus}(d) - \log x - \log(1-x),$$
 *
 * with `d = l - t logit(x)`; CDF `F(x) = sigma(t logit(x) - l)`. `rsample` is differentiable in
 * the logits (or probs) and the temperature; draws are clamped to `[eps, 1 - eps]`
 * (`eps = 2^-23`, as Pyro's `clamp_probs`) so that `logProb` of a draw stays finite. Mean and
 * variance have no closed form.
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { FLOAT32_EPS } from '../utils/float32.js';
import { BinaryProbsDistribution } from './binary_probs.js';
import type { DistributionOptions, TensorInput } from './distribution.js';
import type { ProbsOrLogits } from './probs.js';
import { andB, gt, lt, maskLogProb, openUniform, safe, whereB } from './special.js';
import { unitInterval, type Constraint } from '../constraints/constraints.js';

/** float32 machine epsilon: draws are clamped to `[EPS, 1 - EPS]`. */
const EPS = FLOAT32_EPS;

/**
 * Relaxed Bernoulli distribution with `temperature` t > 0 and `{probs}` / `{logits}` of the
 * Bernoulli it relaxes (a bare tensor or array is read as `probs`).
 *
 * @example
 * ```ts
 * const d = new RelaxedBernoulli(0.5, { logits: [0, 2] });
 * d.rsample([100]); // [100, 2] in (0, 1), differentiable in the logits and temperature
 * d.logProb([0.3, 0.9]);
 * ```
 */
export class RelaxedBernoulli extends BinaryProbsDistribution {
  /** Temperature t > 0. */
  readonly temperature: tf.Tensor;

  /**
   * @param temperature t, finite and > 0.
   * @param params `{probs}` in [0, 1] or `{logits}` (or probs directly).
   * @param options validation flag and name.
   */
  constructor(
    temperature: TensorInput,
    params: TensorInput | ProbsOrLogits,
    options: DistributionOptions = {},
  ) {
    super(params, options);
    this.temperature = this.param(temperature, 'temperature');
    this.checkPositive(this.temperature, 'temperature');
    this.setBatchShape({ temperature: this.temperature, ...this.givenParam() });
  }

  /** Support: the unit interval. */
  override get support(): Constraint {
    return unitInterval;
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const u = openUniform([...shape, ...this._batchShape], seed);
    const noise = tf.sub(tf.log(u), log1p(tf.neg(u)));
    const y = tf.div(tf.add(this.logits, noise), this.temperature);
    return tf.clipByValue(tf.sigmoid(y), EPS, 1 - EPS);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const inside = andB(gt(x, 0), lt(x, 1));
    const xs = safe(inside, x, 0.5);
    const logX = tf.log(xs);
    const log1mX = log1p(tf.neg(xs));
    const t = this.temperature;
    const d = tf.sub(this.logits, tf.mul(t, tf.sub(logX, log1mX)));
    const lp = tf.sub(
      tf.sub(tf.add(tf.log(t), d), tf.mul(2, tf.softplus(d))),
      tf.add(logX, log1mX),
    );
    return maskLogProb(inside, lp);
  }
  /** `sigma(t logit(x) - l)` inside `(0, 1)`; 0 at `x <= 0`, 1 at `x >= 1`. */
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    const inside = andB(gt(x, 0), lt(x, 1));
    const xs = safe(inside, x, 0.5);
    const z = tf.sub(tf.mul(this.temperature, tf.sub(tf.log(xs), log1p(tf.neg(xs)))), this.logits);
    return whereB(inside, tf.sigmoid(z), tf.cast(gt(x, 0.5), 'float32'));
  }
}
