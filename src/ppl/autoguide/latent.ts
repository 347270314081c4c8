/**
 * Joint Gaussian distributions of the autoguides' latent vector `u ∈ R^D` (event shape `[D]`):
 *
 * - {@link ScaleTrilNormal}: `u = loc + L ε`, `ε ~ N(0, I_D)`, `L` lower-triangular with a
 *   positive diagonal, `log q(u) = Σ log N(ε_i) - Σ log L_ii` with `ε = L^{-1}(u - loc)`;
 * - {@link LowRankNormal}: `Σ = W W^T + diag(d^2)`, `u = loc + W ε_1 + d ⊙ ε_2`, density by the
 *   Woodbury identity and the matrix determinant lemma with `C = I_r + W^T D^{-2} W`:
 *
 * $$u^T Σ^{-1} u = \lVert D^{-1}u\rVert^2 - \lVert L_C^{-1} W^T D^{-2} u\rVert^2,\qquad
 *   \log\det Σ = \log\det C + 2\textstyle\sum\log d_i.$$
 *
 * The last single draw keeps its `ε`, so scoring it (what the ELBOs do) needs no solve.
 */
import * as tf from '@tensorflow/tfjs';
import { Distribution, type DistributionOptions } from '../../distributions/distribution.js';
import { cholesky, triangularSolve } from '../../utils/linalg.js';
import { nextSeed } from '../../utils/seed.js';
import { trilMask } from '../constraints.js';
import type { TensorInput } from '../../utils/tensor.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** `Σ_i log N(x_i; 0, 1)` over the last axis. */
function stdNormalLogProb(x: tf.Tensor): tf.Tensor {
  return tf.mul(-0.5, tf.add(tf.sum(tf.square(x), -1), (x.shape[x.rank - 1] as number) * LOG_2PI));
}

/** The diagonal of a `[D, D]` matrix. */
function diagOf(m: tf.Tensor): tf.Tensor {
  const d = m.shape[0] as number;
  return tf.sum(tf.mul(m, tf.eye(d)), -1);
}

/**
 * The base of the flat-latent Gaussians of the autoguides: one unbatched real vector `[D]`
 * around `loc` (batch shape `[]`, event shape `[D]`, support the real vectors).
 */
abstract class FlatLatentDistribution extends Distribution {
  /** The mean `[D]`. */
  readonly loc: tf.Tensor;
  /** @param loc mean `[D]`. @param options validation flag and name. */
  protected constructor(loc: TensorInput, options: DistributionOptions) {
    super(options);
    this.loc = this.param(loc, 'loc');
  }
  get batchShape(): number[] {
    return [];
  }
  get eventShape(): number[] {
    return [...this.loc.shape];
  }
}

/** A multivariate Normal `N(loc, L L^T)` given its Cholesky factor `L` (event shape `[D]`). */
export class ScaleTrilNormal extends FlatLatentDistribution {
  readonly scaleTril: tf.Tensor;
  private cachedU: tf.Tensor | null = null;
  private cachedEps: tf.Tensor | null = null;

  /**
   * @param loc mean `[D]`.
   * @param scaleTril lower-triangular `[D, D]` with a positive diagonal (upper triangle ignored).
   */
  constructor(loc: TensorInput, scaleTril: TensorInput, options: DistributionOptions = {}) {
    super(loc, options);
    this.scaleTril = this.param(scaleTril, 'scaleTril');
    const d = this.loc.shape[0];
    if (
      this.loc.rank !== 1 ||
      this.scaleTril.rank !== 2 ||
      this.scaleTril.shape[0] !== d ||
      this.scaleTril.shape[1] !== d
    ) {
      throw this.constructionError(
        'scaleTril',
        `expected loc [D] and scaleTril [D, D], got [${this.loc.shape}] and [${this.scaleTril.shape}]`,
      );
    }
  }
  private tril(): tf.Tensor {
    return tf.mul(this.scaleTril, trilMask(this.loc.shape[0] as number));
  }
  /** `loc + L ε`; a single draw keeps `ε` for {@link ScaleTrilNormal.logProb}. */
  override rsample(shape: number[] = [], seed?: number): tf.Tensor {
    if (shape.length > 0) return super.rsample(shape, seed);
    const d = this.loc.shape[0] as number;
    const eps = tf.randomNormal([d], 0, 1, 'float32', nextSeed(seed));
    const u = tf.add(this.loc, tf.squeeze(tf.matMul(this.tril(), tf.reshape(eps, [d, 1])), [1]));
    this.cachedU = u;
    this.cachedEps = eps;
    return u;
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const d = this.loc.shape[0] as number;
    const eps = tf.randomNormal([...shape, d], 0, 1, 'float32', seed);
    return tf.add(
      this.loc,
      tf.matMul(tf.reshape(eps, [-1, d]), this.tril(), false, true).reshape(eps.shape),
    );
  }
  protected _logProb(u: tf.Tensor): tf.Tensor {
    const d = this.loc.shape[0] as number;
    let eps: tf.Tensor;
    if (u === this.cachedU && this.cachedEps !== null) {
      eps = this.cachedEps;
    } else {
      const r = tf.reshape(tf.sub(u, this.loc), [-1, d]);
      eps = tf.reshape(tf.transpose(triangularSolve(this.tril(), tf.transpose(r))), u.shape);
    }
    return tf.sub(stdNormalLogProb(eps), tf.sum(tf.log(diagOf(this.tril()))));
  }
  protected override _mean(): tf.Tensor {
    return this.loc.clone();
  }
  /** Marginal variances: the row sums of `L ∘ L`. */
  protected override _variance(): tf.Tensor {
    return tf.sum(tf.square(this.tril()), -1);
  }
  /** The covariance `L L^T`. */
  covariance(): tf.Tensor {
    return tf.tidy(() => tf.matMul(this.tril(), this.tril(), false, true));
  }
}

/** A multivariate Normal with covariance `W W^T + diag(d^2)` (event shape `[D]`). */
export class LowRankNormal extends FlatLatentDistribution {
  readonly covFactor: tf.Tensor;
  readonly scale: tf.Tensor;

  /**
   * @param loc mean `[D]`.
   * @param covFactor `W`, `[D, r]`.
   * @param scale the diagonal part's standard deviations `d > 0`, `[D]`.
   */
  constructor(
    loc: TensorInput,
    covFactor: TensorInput,
    scale: TensorInput,
    options: DistributionOptions = {},
  ) {
    super(loc, options);
    this.covFactor = this.param(covFactor, 'covFactor');
    this.scale = this.param(scale, 'scale');
    const d = this.loc.shape[0];
    if (
      this.loc.rank !== 1 ||
      this.covFactor.rank !== 2 ||
      this.covFactor.shape[0] !== d ||
      this.scale.rank !== 1 ||
      this.scale.shape[0] !== d
    ) {
      throw this.constructionError(
        'covFactor',
        `expected loc [D], covFactor [D, r], scale [D]; got [${this.loc.shape}], [${this.covFactor.shape}], [${this.scale.shape}]`,
      );
    }
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const [d, r] = this.covFactor.shape as [number, number];
    const n = shape.reduce((a, b) => a * b, 1);
    const e1 = tf.randomNormal([n, r], 0, 1, 'float32', seed);
    const e2 = tf.randomNormal([n, d], 0, 1, 'float32', seed + 1);
    const u = tf.add(
      tf.add(this.loc, tf.matMul(e1, this.covFactor, false, true)),
      tf.mul(e2, this.scale),
    );
    return tf.reshape(u, [...shape, d]);
  }
  protected _logProb(u: tf.Tensor): tf.Tensor {
    const [d, r] = this.covFactor.shape as [number, number];
    const lead = u.shape.slice(0, -1);
    const x = tf.reshape(tf.sub(u, this.loc), [-1, d]); // [n, D]
    const dinv2 = tf.reciprocal(tf.square(this.scale)); // [D]
    const wtd = tf.mul(tf.transpose(this.covFactor), dinv2); // [r, D] = W^T D^-2
    const cap = tf.add(tf.eye(r), tf.matMul(wtd, this.covFactor)); // [r, r]
    const lc = cholesky(cap);
    const b = tf.matMul(wtd, x, false, true); // [r, n]
    const y = triangularSolve(lc, b); // [r, n]
    const quad = tf.sub(tf.sum(tf.mul(tf.square(x), dinv2), -1), tf.sum(tf.square(y), 0));
    const logdet = tf.add(
      tf.mul(2, tf.sum(tf.log(diagOf(lc)))),
      tf.mul(2, tf.sum(tf.log(this.scale))),
    );
    const lp = tf.mul(-0.5, tf.add(tf.add(quad, logdet), d * LOG_2PI));
    return tf.reshape(lp, lead);
  }
  protected override _mean(): tf.Tensor {
    return this.loc.clone();
  }
  /** Marginal variances `Σ_k W_ik^2 + d_i^2`. */
  protected override _variance(): tf.Tensor {
    return tf.add(tf.sum(tf.square(this.covFactor), -1), tf.square(this.scale));
  }
}
