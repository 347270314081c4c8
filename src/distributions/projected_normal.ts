/**
 * The projected normal distribution on the unit sphere (Pyro's `ProjectedNormal`; Hernandez-Stumpfhauser
 * et al. 2017): the direction of a normal vector with identity covariance,
 *
 * $$x = \frac{y}{\lVert y\rVert},\quad y \sim \mathcal N(c, I_d),\qquad x \in S^{d-1}.$$
 *
 * Its density on the sphere integrates the normal density along the ray through `x`: with
 * `t = c·x` and `M_k(t) = ∫_0^∞ r^k φ(r - t) dr` (`φ` the standard normal density, `k = d - 1`),
 *
 * $$\log p(x) = -\tfrac{k}{2}\log 2\pi - \tfrac12\left(\lVert c\rVert^2 - t^2\right)
 *   + \log M_k(t),$$
 *
 * $$M_0 = \Phi(t),\quad M_1 = t\,\Phi(t) + \varphi(t),\quad M_k = t\,M_{k-1} + (k-1)\,M_{k-2},$$
 *
 * the closed forms Pyro registers for `d = 2, 3, 4`, here for every `d ≥ 2`. For `t < 0` it is
 * evaluated as `φ(t) (P_k(t) R(t) + Q_k(t))` with the Mills ratio `R = Φ/φ` (no underflow of
 * `Φ(t)`), and for `t < -(6 + k)` by the asymptotic series
 * `M_k = φ(t) Σ_j (-1/2)^j (k+2j)! / (j! |t|^{k+2j+1})` (12 terms), so that the log-density stays
 * finite and accurate to about 1e-3 far in the tail where Pyro's form underflows.
 *
 * Sampling normalizes a normal draw (reparameterized). `mean` and `mode` are Pyro's:
 * `c / ‖c‖`, the mean direction (not the Euclidean mean, which lies inside the ball).
 * No variance, entropy or KL (as in Pyro). The support {@link sphere} has no bijection from the
 * reals: as a latent site it needs `ppl.ProjectedNormalReparam` (MCMC, autoguides).
 */
import * as tf from '@tensorflow/tfjs';
import { sphere, type Constraint } from '../constraints/constraints.js';
import { Distribution, type DistributionOptions, type TensorInput } from './distribution.js';
import { ge, logNdtr, lt, ndtr, orB } from './special.js';
import { broadcastTo } from '../utils/tensor.js';

const LOG_2PI = Math.log(2 * Math.PI);
/** Terms of the asymptotic series of the lower tail. */
const ASYMPTOTIC_TERMS = 12;

/** `x / ‖x‖` over the last dim (Pyro's `safe_normalize`: a zero vector becomes `e_1`). */
export function safeNormalize(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.sum(tf.square(x), -1, true));
    const zero = lt(norm, 1e-30);
    const d = x.shape[x.rank - 1] as number;
    const e1 = broadcastTo(tf.concat([tf.ones([1]), tf.zeros([d - 1])]), x.shape);
    const safeNorm = tf.where(zero, tf.onesLike(norm), norm);
    return tf.where(broadcastTo(zero, x.shape), e1, tf.div(x, safeNorm));
  });
}

/** The polynomials of `M_k = P_k Φ + Q_k φ` at `t` (the recursion of the module docs). */
function millsPolynomials(t: tf.Tensor, k: number): { p: tf.Tensor; q: tf.Tensor } {
  let p0: tf.Tensor = tf.onesLike(t);
  let q0: tf.Tensor = tf.zerosLike(t);
  if (k === 0) return { p: p0, q: q0 };
  let p1: tf.Tensor = t;
  let q1: tf.Tensor = tf.onesLike(t);
  for (let j = 2; j <= k; j++) {
    const p2 = tf.add(tf.mul(t, p1), tf.mul(j - 1, p0));
    const q2 = tf.add(tf.mul(t, q1), tf.mul(j - 1, q0));
    [p0, q0, p1, q1] = [p1, q1, p2, q2];
  }
  return { p: p1, q: q1 };
}

/** `log φ(t)`. */
function logPhi(t: tf.Tensor): tf.Tensor {
  return tf.sub(tf.mul(-0.5, tf.square(t)), 0.5 * LOG_2PI);
}

/**
 * `log M_k(t)`, `M_k(t) = ∫_0^∞ r^k φ(r - t) dr`, differentiable in `t`, finite for every real
 * `t` (three branches, each fed a safe input so that the unused ones have finite gradients).
 */
export function logRayMoment(t: tf.Tensor, k: number): tf.Tensor {
  return tf.tidy(() => {
    const thr = -(6 + k);
    const pos = ge(t, 0);
    const far = lt(t, thr);
    // t >= 0: every term positive
    const tp = tf.where(pos, t, tf.zerosLike(t));
    const a = millsPolynomials(tp, k);
    const direct = tf.log(tf.add(tf.mul(a.p, ndtr(tp)), tf.mul(a.q, tf.exp(logPhi(tp)))));
    // thr <= t < 0: φ(t) (P R + Q), R = Φ/φ
    const tn = tf.where(orB(pos, far), tf.fill(t.shape, -1), t);
    const b = millsPolynomials(tn, k);
    const r = tf.exp(tf.sub(logNdtr(tn), logPhi(tn)));
    const mid = tf.add(logPhi(tn), tf.log(tf.maximum(tf.add(tf.mul(b.p, r), b.q), 1e-37)));
    // t < thr: the asymptotic series in 1 / t^2
    const tf_ = tf.where(far, t, tf.fill(t.shape, thr - 1));
    const inv2 = tf.reciprocal(tf.square(tf_));
    let term = 1;
    let series: tf.Tensor = tf.onesLike(t);
    let pow: tf.Tensor = tf.onesLike(t);
    for (let j = 1; j < ASYMPTOTIC_TERMS; j++) {
      term *= (-0.5 * (k + 2 * j - 1) * (k + 2 * j)) / j;
      pow = tf.mul(pow, inv2);
      series = tf.add(series, tf.mul(term, pow));
    }
    let logFact = 0;
    for (let j = 2; j <= k; j++) logFact += Math.log(j);
    const tail = tf.add(
      tf.sub(tf.add(logPhi(tf_), logFact), tf.mul(k + 1, tf.log(tf.neg(tf_)))),
      tf.log(series),
    );
    return tf.where(pos, direct, tf.where(far, tail, mid));
  });
}

/**
 * Projected normal distribution with `concentration` of shape `[...batchShape, d]`, `d ≥ 2`.
 * Event shape `[d]`, support the unit sphere.
 *
 * @example
 * ```ts
 * const d = new ProjectedNormal([0, 0, 4]);  // concentrated around the north pole
 * d.logProb([0, 0, 1]);                       // scalar
 * d.sample([100]);                            // [100, 3], unit vectors
 * ```
 */
export class ProjectedNormal extends Distribution {
  /** The concentration `c` (the mean of the normal vector), `[...batchShape, d]`. */
  readonly concentration: tf.Tensor;

  /** @param concentration `c`, rank >= 1, last dim `d >= 2`, finite entries. */
  constructor(concentration: TensorInput, options: DistributionOptions = {}) {
    super(options);
    this.concentration = this.param(concentration, 'concentration');
    const c = this.concentration;
    if (c.rank < 1 || (c.shape.at(-1) ?? 0) < 2) {
      const got = `[${c.shape.join(',')}]`;
      throw this.constructionError(
        'concentration',
        `expected shape [...batch, d] with d >= 2 (a point on the sphere S^(d-1)), got ${got}`,
      );
    }
    this.checkFinite(c, 'concentration');
  }

  /** Support: the unit sphere along the last dim. */
  override get support(): Constraint {
    return sphere;
  }
  get batchShape(): number[] {
    return this.concentration.shape.slice(0, -1);
  }
  get eventShape(): number[] {
    return this.concentration.shape.slice(-1);
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const out = [...shape, ...this.batchShape, ...this.eventShape];
    const y = tf.add(this.concentration, tf.randomNormal(out, 0, 1, 'float32', seed));
    return safeNormalize(y);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const c = this.concentration;
    const k = (c.shape.at(-1) as number) - 1;
    const t = tf.sum(tf.mul(c, x), -1);
    const r2 = tf.sub(tf.sum(tf.square(c), -1), tf.square(t));
    return tf.add(tf.sub(tf.mul(-0.5, r2), 0.5 * k * LOG_2PI), logRayMoment(t, k));
  }
  /** Pyro's: the mean direction `c / ‖c‖`. */
  protected override _mean(): tf.Tensor {
    return safeNormalize(this.concentration);
  }
  /** The mode `c / ‖c‖`. */
  protected override _mode(): tf.Tensor {
    return safeNormalize(this.concentration);
  }
}
