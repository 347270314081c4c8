/**
 * The continuous Bernoulli distribution (torch's `ContinuousBernoulli`, Loaiza-Ganem &
 * Cunningham 2019): the Bernoulli likelihood `lambda^x (1 - lambda)^(1-x)` normalized on `[0, 1]`.
 * With the logits `l = log(lambda / (1 - lambda))` it is the exponential family `p(x) ∝ e^{l x}`:
 *
 * $$p(x) = \frac{l\,e^{l x}}{e^{l} - 1},\qquad \log p(x) = l x - g(l),\quad
 *   g(l) = \log\frac{e^{l} - 1}{l},\qquad 0 \le x \le 1$$
 *
 * (the uniform at `l = 0`, `lambda = 1/2`). Mean `g'(l) = 1/(1 - e^{-l}) - 1/l`, variance
 * `g''(l) = 1/l^2 - 1/(4 sinh^2(l/2))`, CDF `(e^{l x} - 1)/(e^{l} - 1)`, quantile
 * `log(1 + p (e^{l} - 1)) / l`, entropy `g(l) - l mean`, and
 * `KL(p || q) = mean_p (l_p - l_q) - g(l_p) + g(l_q)` (torch's registered pair).
 *
 * Numerics: the closed forms cancel near `lambda = 1/2` (torch switches to Taylor series inside
 * `[0.499, 0.501]`, too narrow for float32); here `g`, the mean and the variance use their
 * series in `l` (Bernoulli numbers) for `|l| < 1` and the closed forms, written without overflow,
 * beyond; the CDF and quantile use an accurate `expm1`. Draws invert the CDF (reparameterized).
 */
import * as tf from '@tensorflow/tfjs';
import { expm1 } from '../utils/expm1.js';
import { log1p } from '../utils/log1p.js';
import { checkValues, type TensorInput } from '../utils/tensor.js';
import { unitInterval, type Constraint } from '../constraints/constraints.js';
import type { DistributionOptions } from './distribution.js';
import { BinaryProbsDistribution } from './binary_probs.js';
import type { ProbsOrLogits } from './probs.js';
import { registerKL } from './kl.js';
import { andB, eq, ge, gt, le, lt, maskLogProb, safe, whereB } from './special.js';

/** Below this `|l|` the series are used. */
const SERIES = 1;

/** `sum_k c_k t^k` by Horner's rule. */
function poly(t: tf.Tensor, coefs: number[]): tf.Tensor {
  let acc: tf.Tensor = tf.fill(t.shape, coefs[coefs.length - 1] as number);
  for (let i = coefs.length - 2; i >= 0; i--) acc = tf.add(tf.mul(acc, t), coefs[i] as number);
  return acc;
}

/** `[small, l with small entries replaced by 1]`: inputs for the closed-form branches. */
function split(l: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const small = lt(tf.abs(l), SERIES);
  return [small, whereB(small, tf.onesLike(l), l)];
}

/**
 * The log-normalizer `g(l) = log((e^l - 1) / l)`: `l/2 + log(sinh h / h)`, `h = l/2`, by its
 * series for `|l| < 1`; `max(l, 0) + log1p(-e^{-|l|}) - log|l|` beyond.
 */
export function contBernLogNorm(l: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [small, ls] = split(l);
    const h2 = tf.square(tf.mul(0.5, l));
    const series = tf.add(
      tf.mul(0.5, l),
      tf.mul(h2, poly(h2, [1 / 6, -1 / 180, 1 / 2835, -1 / 37800])),
    );
    const a = tf.abs(ls);
    const closed = tf.sub(tf.add(tf.relu(ls), log1p(tf.neg(tf.exp(tf.neg(a))))), tf.log(a));
    return whereB(small, series, closed);
  });
}

/** The mean `1/(1 - e^{-l}) - 1/l` (series `1/2 + l/12 - l^3/720 + ...` for `|l| < 1`). */
function contBernMean(l: tf.Tensor): tf.Tensor {
  const [small, ls] = split(l);
  const l2 = tf.square(l);
  const series = tf.add(0.5, tf.mul(l, poly(l2, [1 / 12, -1 / 720, 1 / 30240, -1 / 1209600])));
  const closed = tf.sub(tf.reciprocal(tf.sub(1, tf.exp(tf.neg(ls)))), tf.reciprocal(ls));
  return whereB(small, series, closed);
}

/** The variance `1/l^2 - 1/(4 sinh^2(l/2))` (series `1/12 - l^2/240 + ...` for `|l| < 1`). */
function contBernVariance(l: tf.Tensor): tf.Tensor {
  const [small, ls] = split(l);
  const series = poly(tf.square(l), [1 / 12, -1 / 240, 1 / 6048, -1 / 172800, 1 / 5322240]);
  const sh = tf.sinh(tf.mul(0.5, ls));
  const closed = tf.sub(tf.reciprocal(tf.square(ls)), tf.reciprocal(tf.mul(4, tf.square(sh))));
  return whereB(small, series, closed);
}

/**
 * Continuous Bernoulli with `{probs}` lambda in `(0, 1)` or `{logits}` (finite); a bare
 * tensor/array is read as `probs`.
 *
 * @example
 * ```ts
 * const d = new ContinuousBernoulli({ probs: 0.3 });
 * d.mean();       // 1/(1 - 7/3) - 1/log(3/7)
 * d.rsample([5]); // draws in [0, 1], differentiable in probs
 * ```
 */
export class ContinuousBernoulli extends BinaryProbsDistribution {
  /**
   * @param params `{probs}` in the open interval `(0, 1)` or `{logits}` (finite).
   * @param options validation flag and name.
   */
  constructor(params: TensorInput | ProbsOrLogits, options: DistributionOptions = {}) {
    super(params, options);
    const [name, t, lo, hi] = this.fromLogits
      ? (['logits', this.logits, -Infinity, Infinity] as const)
      : (['probs', this.probs, 0, 1] as const);
    if (this.validateArgs) {
      try {
        checkValues(
          t,
          name,
          (v) => v > lo && v < hi,
          this.fromLogits ? 'a finite value' : 'a value in the open interval (0, 1)',
        );
      } catch (e) {
        this.dispose();
        throw e;
      }
    }
    this.setBatchShape(this.givenParam());
  }

  /** Support: `[0, 1]`. */
  override get support(): Constraint {
    return unitInterval;
  }

  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const full = [...shape, ...this._batchShape];
    // no draws: no kernels (binary wasm kernels broadcasting into an empty output corrupt memory)
    if (full.some((n) => n === 0)) return tf.zeros(full);
    const u = tf.randomUniform(full, 0, 1, 'float32', seed);
    return this._icdf(u);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const inside = andB(ge(x, 0), le(x, 1));
    const xs = safe(inside, x, 0.5);
    return maskLogProb(inside, tf.sub(tf.mul(xs, this.logits), contBernLogNorm(this.logits)));
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    const l = this.logits;
    const xc = tf.clipByValue(x, 0, 1);
    const zero = eq(l, 0);
    const ls = whereB(zero, tf.onesLike(l), l);
    const pos = gt(ls, 0);
    // l > 0: e^{l (x - 1)} expm1(-l x) / expm1(-l) (no overflow); l < 0: expm1(l x) / expm1(l)
    const lp = whereB(pos, ls, tf.onesLike(ls));
    const ln = whereB(pos, tf.neg(tf.onesLike(ls)), ls);
    const fPos = tf.mul(
      tf.exp(tf.mul(lp, tf.sub(xc, 1))),
      tf.div(expm1(tf.neg(tf.mul(lp, xc))), expm1(tf.neg(lp))),
    );
    const fNeg = tf.div(expm1(tf.mul(ln, xc)), expm1(ln));
    const f = whereB(zero, xc, whereB(pos, fPos, fNeg));
    return tf.clipByValue(f, 0, 1);
  }
  /** `log1p(p expm1(l)) / l` for `l < 0`, `1 + log1p((1 - p) expm1(-l)) / l` for `l > 0`. */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    const l = this.logits;
    const zero = eq(l, 0);
    const ls = whereB(zero, tf.onesLike(l), l);
    const pos = gt(ls, 0);
    const lp = whereB(pos, ls, tf.onesLike(ls));
    const ln = whereB(pos, tf.neg(tf.onesLike(ls)), ls);
    const xPos = tf.add(1, tf.div(log1p(tf.mul(tf.sub(1, p), expm1(tf.neg(lp)))), lp));
    const xNeg = tf.div(log1p(tf.mul(p, expm1(ln))), ln);
    const x = whereB(zero, p, whereB(pos, xPos, xNeg));
    return tf.clipByValue(x, 0, 1);
  }
  protected override _mean(): tf.Tensor {
    return this.expandToBatch(contBernMean(this.logits));
  }
  protected override _variance(): tf.Tensor {
    return this.expandToBatch(contBernVariance(this.logits));
  }
  protected override _entropy(): tf.Tensor {
    const l = this.logits;
    return this.expandToBatch(tf.sub(contBernLogNorm(l), tf.mul(l, contBernMean(l))));
  }
}

/**
 * `KL(CB(l_p) || CB(l_q)) = E_p[x] (l_p - l_q) - g(l_p) + g(l_q)`.
 *
 * @param p the first distribution.
 * @param q the second distribution.
 * @example
 * ```ts
 * klContinuousBernoulliContinuousBernoulli(new ContinuousBernoulli(0.2), new ContinuousBernoulli(0.7));
 * ```
 */
export function klContinuousBernoulliContinuousBernoulli(
  p: ContinuousBernoulli,
  q: ContinuousBernoulli,
): tf.Tensor {
  return tf.tidy(() =>
    tf.add(
      tf.mul(contBernMean(p.logits), tf.sub(p.logits, q.logits)),
      tf.sub(contBernLogNorm(q.logits), contBernLogNorm(p.logits)),
    ),
  );
}

registerKL(ContinuousBernoulli, ContinuousBernoulli, klContinuousBernoulliContinuousBernoulli);
