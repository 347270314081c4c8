/**
 * The Dirichlet distribution on the probability simplex.
 *
 * $$p(x;\alpha) = \frac{\Gamma(\alpha_0)}{\prod_j\Gamma(\alpha_j)}\prod_{j=1}^K x_j^{\alpha_j-1},
 *   \qquad \alpha_0 = \sum_j \alpha_j,\quad x_j \ge 0,\ \sum_j x_j = 1$$
 *
 * Mean `alpha / alpha0`, variance `alpha (alpha0 - alpha) / (alpha0^2 (alpha0 + 1))`, mode
 * `(alpha - 1)/(alpha0 - K)` when every `alpha_j > 1` (torch's rule otherwise: see `mode`), entropy
 * `log B(alpha) + (alpha0 - K) psi(alpha0) - sum_j (alpha_j - 1) psi(alpha_j)`.
 *
 * Sampling normalizes independent Gamma(alpha_j) draws; `rsample` is differentiable in `alpha`
 * through their implicit reparameterization.
 */
import * as tf from '@tensorflow/tfjs';
import { broadcastTo } from '../utils/tensor.js';
import { Distribution, type DistributionOptions, type TensorInput } from './distribution.js';
import { dirichletRsample } from './host_sampling.js';
import { registerKL } from './kl.js';
import {
  digamma,
  digammaMinusLog,
  dirichletLogDensityAndLogNorm,
  eq,
  gt,
  lgamma,
  maskLogProb,
  mulNoNan,
  noGrad,
  safe,
  stirlingError,
  whereB,
} from './special.js';

import { simplex, type Constraint } from '../constraints/constraints.js';

/**
 * Dirichlet distribution with `concentration` of shape `[...batchShape, K]`, every entry > 0.
 * Event shape `[K]`. Off the simplex (a negative coordinate, or `|sum_k x_k - 1| > 1e-5 K`, the
 * tolerance of `constraints.simplex`), `logProb` is an `ArgumentError` naming `value` with
 * `validateArgs` (the rule of every family whose support has event dims, as Pyro's
 * `validate_args`), and `-Infinity` without it, as the scalar families outside their support
 * (gradient 0 there; it evaluated the density formula at the point, a finite value or NaN):
 *
 * $$\log p(x) = \begin{cases}\sum_k (\alpha_k - 1)\log x_k - \log B(\alpha) & x \in \Delta^{K-1}\\
 *   -\infty & \text{otherwise}\end{cases}$$
 *
 * @example
 * ```ts
 * const d = new Dirichlet([1, 2, 3]);
 * d.mean();                    // [1/6, 2/6, 3/6]
 * d.logProb([0.2, 0.3, 0.5]);  // scalar
 * ```
 */
export class Dirichlet extends Distribution {
  /** Concentration alpha, shape `[...batchShape, K]`. */
  readonly concentration: tf.Tensor;

  /** @param concentration alpha, rank >= 1, every entry > 0. */
  constructor(concentration: TensorInput, options: DistributionOptions = {}) {
    super(options);
    this.concentration = this.param(concentration, 'concentration');
    this.checkVectorParam(this.concentration, 'concentration');
    this.checkPositive(this.concentration, 'concentration');
  }

  /** Support: the probability simplex. */
  override get support(): Constraint {
    return simplex;
  }
  get batchShape(): number[] {
    return this.concentration.shape.slice(0, -1);
  }
  get eventShape(): number[] {
    return this.concentration.shape.slice(-1);
  }

  private total(keepDims = false): tf.Tensor {
    return tf.sum(this.concentration, -1, keepDims);
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    return dirichletRsample(this.concentration, shape, seed);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const a = this.concentration;
    // inside the simplex: the saddle-point form, float32-accurate at large concentrations; the
    // log-normalizer of the textbook form (on the boundary) from the same pieces
    // off the simplex: -Infinity, the formula evaluated at a point of it (the barycentre)
    const on = noGrad((v) => simplex.check(v as tf.Tensor), x);
    const k = x.shape.at(-1) as number;
    const xs = tf.where(broadcastTo(tf.expandDims(on, -1), x.shape), x, tf.fill(x.shape, 1 / k));
    const inside = noGrad((v) => tf.all(tf.greater(v as tf.Tensor, 0), -1), xs);
    const xi = tf.where(broadcastTo(tf.expandDims(inside, -1), x.shape), xs, tf.onesLike(x));
    const [inner, logNorm] = dirichletLogDensityAndLogNorm(a, xi);
    const textbook = tf.sub(tf.sum(mulNoNan(tf.sub(a, 1), tf.log(xs)), -1), logNorm);
    return maskLogProb(on, whereB(inside, inner, textbook));
  }
  protected override _mean(): tf.Tensor {
    return tf.div(this.concentration, this.total(true));
  }
  /**
   * torch's rule: `(alpha - 1)^+` normalized when some `alpha_j > 1` (the interior mode when all
   * are, else the mode on the face of the coordinates with `alpha_j > 1`); when every
   * `alpha_j <= 1`, the vertex of the largest concentration (first on ties), where the density
   * grows fastest; NaN for the flat `alpha = 1`.
   */
  protected override _mode(): tf.Tensor {
    const a = this.concentration;
    const k = a.shape.at(-1) as number;
    const excess = tf.relu(tf.sub(a, 1));
    const total = tf.sum(excess, -1, true);
    const some = broadcastTo(gt(total, 0), a.shape);
    const face = tf.div(excess, safe(some, total, 1));
    const vertex = tf.cast(tf.oneHot(tf.argMax(a, -1), k), 'float32');
    const flat = broadcastTo(tf.all(eq(a, 1), -1, true), a.shape);
    return tf.where(some, face, tf.where(flat, tf.fill(a.shape, NaN), vertex));
  }
  protected override _variance(): tf.Tensor {
    const a = this.concentration;
    const a0 = this.total(true);
    return tf.div(tf.mul(a, tf.sub(a0, a)), tf.mul(tf.square(a0), tf.add(a0, 1)));
  }
  protected override _entropy(): tf.Tensor {
    const a = this.concentration;
    const k = a.shape.at(-1) as number;
    const a0 = this.total();
    // log B(a) + (a0 - K) psi(a0) - sum (a_j - 1) psi(a_j) with lgamma = delta + (x - 1/2) log x
    // - x + log(2 pi)/2 and psi = log + r (no terms of order a log a left to cancel):
    // sum delta(a_j) - delta(a0) + (K-1)/2 log(2 pi) + sum log(a_j)/2 + (1/2 - K) log a0
    // + (a0 - K) r(a0) - sum (a_j - 1) r(a_j)
    const deltas = tf.sub(tf.sum(stirlingError(a), -1), stirlingError(a0));
    const logs = tf.add(tf.mul(0.5, tf.sum(tf.log(a), -1)), tf.mul(0.5 - k, tf.log(a0)));
    const rs = tf.sub(
      tf.mul(tf.sub(a0, k), digammaMinusLog(a0)),
      tf.sum(tf.mul(tf.sub(a, 1), digammaMinusLog(a)), -1),
    );
    return tf.add(tf.add(deltas, 0.5 * (k - 1) * Math.log(2 * Math.PI)), tf.add(logs, rs));
  }
}

/**
 * `KL(Dir(a) || Dir(b)) = log Gamma(a0) - sum log Gamma(a_j) - log Gamma(b0) + sum log Gamma(b_j)
 *   + sum_j (a_j - b_j)(psi(a_j) - psi(a0))`.
 *
 * @param p the first distribution.
 * @param q the second distribution.
 * @example
 * ```ts
 * klDirichletDirichlet(new Dirichlet([1, 2, 3]), new Dirichlet([1, 1, 1])); // same as klDivergence(p, q)
 * ```
 */
export function klDirichletDirichlet(p: Dirichlet, q: Dirichlet): tf.Tensor {
  return tf.tidy(() => {
    const a = p.concentration;
    const b = q.concentration;
    const a0 = tf.sum(a, -1, true);
    const b0 = tf.sum(b, -1);
    const t1 = tf.sub(lgamma(tf.squeeze(a0, [-1])), tf.sum(lgamma(a), -1));
    const t2 = tf.sub(tf.sum(lgamma(b), -1), lgamma(b0));
    const t3 = tf.sum(tf.mul(tf.sub(a, b), tf.sub(digamma(a), digamma(a0))), -1);
    return tf.add(tf.add(t1, t2), t3);
  });
}

registerKL(Dirichlet, Dirichlet, klDirichletDirichlet);
