/**
 * The multivariate Student's t distribution (Pyro's `MultivariateStudentT(df, loc,
 * scale_tril)`), with `nu` degrees of freedom, location `mu` and scale `Sigma = L L^T`.
 *
 * $$\log p(x) = \log\Gamma\Big(\frac{\nu + D}{2}\Big) - \log\Gamma\Big(\frac\nu2\Big)
 *   - \frac D2\log(\nu\pi) - \sum_i \log L_{ii}
 *   - \frac{\nu + D}{2}\log\Big(1 + \frac{\lVert L^{-1}(x - \mu)\rVert^2}{\nu}\Big)$$
 *
 * Mean `mu` for `nu > 1` (NaN otherwise), variance `nu / (nu - 2) diag(Sigma)` for `nu > 2`
 * (`Infinity` for `1 < nu <= 2`, NaN otherwise), entropy in closed form. Reparameterized:
 * `x = mu + L z sqrt(nu / W)`, `z ~ N(0, I)`, `W ~ chi^2_nu = 2 Gamma(nu/2)` (implicit gradient
 * in `nu`).
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { Distribution, type DistributionOptions, type TensorInput } from './distribution.js';
import { standardGammaRsample } from './host_sampling.js';
import { digammaShift, gt, lgammaShift, whereB } from './special.js';
import { lowerCholesky } from '../constraints/constraints.js';
import { matrixDiag, squareSize, triangularSolve } from '../utils/linalg.js';
import { broadcastTo } from '../utils/tensor.js';
import { deriveSeeds } from '../utils/seed.js';
import './expanded.js';
import './independent.js';

/**
 * Multivariate Student's t with `df` nu > 0, `loc` `[..., D]` and `scaleTril` `[..., D, D]`
 * (lower triangular with a positive diagonal). Event shape `[D]`.
 *
 * @example
 * ```ts
 * const d = new MultivariateStudentT(4, [0, 0], [[1, 0], [0.5, 2]]);
 * d.logProb([1, -1]);
 * d.rsample([100]); // [100, 2]
 * ```
 */
export class MultivariateStudentT extends Distribution {
  /** Degrees of freedom nu (batch-shaped). */
  readonly df: tf.Tensor;
  /** Location mu, shape `[..., D]`. */
  readonly loc: tf.Tensor;
  /** Lower Cholesky factor L of the scale matrix, shape `[..., D, D]`. */
  readonly scaleTril: tf.Tensor;
  private readonly batch: number[];
  private readonly dim: number;

  /**
   * @param df nu, finite and > 0.
   * @param loc mu, finite, rank >= 1.
   * @param scaleTril L, lower triangular with a positive diagonal, `[..., D, D]`.
   * @param options validation flag and name.
   */
  constructor(
    df: TensorInput,
    loc: TensorInput,
    scaleTril: TensorInput,
    options: DistributionOptions = {},
  ) {
    super(options);
    this.df = this.param(df, 'df');
    this.loc = this.param(loc, 'loc');
    this.scaleTril = this.param(scaleTril, 'scaleTril');
    this.checkPositive(this.df, 'df');
    if (this.loc.rank < 1) throw this.constructionError('loc', 'expected a vector [..., D]');
    this.checkFinite(this.loc, 'loc');
    let n: number;
    try {
      n = squareSize(this.scaleTril, 'scaleTril');
    } catch (e) {
      this.dispose();
      throw e;
    }
    const d = this.loc.shape[this.loc.rank - 1] as number;
    if (n !== d) {
      throw this.constructionError(
        'scaleTril',
        `expected [..., ${d}, ${d}] to match loc, got [${this.scaleTril.shape.join(',')}]`,
      );
    }
    if (this.validateArgs && !lowerCholesky.checkAll(this.scaleTril)) {
      throw this.constructionError(
        'scaleTril',
        'expected lower-triangular matrices with a positive diagonal',
      );
    }
    this.dim = d;
    this.batch = this.broadcastParams({
      df: this.df.shape,
      loc: this.loc.shape.slice(0, -1),
      scaleTril: this.scaleTril.shape.slice(0, -2),
    });
  }

  get batchShape(): number[] {
    return [...this.batch];
  }
  get eventShape(): number[] {
    return [this.dim];
  }

  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const full = [...shape, ...this.batch];
    const [sNormal, sGamma] = deriveSeeds(seed, 2) as [number, number];
    const z = tf.randomNormal([...full, this.dim], 0, 1, 'float32', sNormal);
    const halfNu = broadcastTo(tf.mul(this.df, 0.5), this.batch);
    const g = standardGammaRsample(halfNu, shape, sGamma); // W / 2
    const w = tf.mul(g, 2);
    const factor = tf.sqrt(tf.div(this.df, w)); // [...full]
    const lz = tf.sum(tf.mul(this.scaleTril, tf.expandDims(z, -2)), -1);
    return tf.add(this.loc, tf.mul(lz, tf.expandDims(factor, -1)));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const nu = this.df;
    const d = this.dim;
    const diff = tf.sub(x, this.loc);
    const sol = triangularSolve(this.scaleTril, tf.expandDims(diff, -1));
    const maha = tf.sum(tf.square(sol), [-2, -1]);
    const halfLogDet = tf.sum(tf.log(matrixDiag(this.scaleTril)), -1);
    const half = tf.mul(tf.add(nu, d), 0.5);
    // lgamma((nu + d)/2) - lgamma(nu/2) without cancellation (all digits lost at nu = 1e8)
    const norm = tf.sub(
      lgammaShift(tf.mul(nu, 0.5), 0.5 * d),
      tf.add(tf.mul(0.5 * d, tf.log(tf.mul(nu, Math.PI))), halfLogDet),
    );
    return tf.sub(norm, tf.mul(half, log1p(tf.div(maha, nu))));
  }
  protected override _mean(): tf.Tensor {
    const nu = tf.expandDims(this.df, -1);
    const m = broadcastTo(this.loc, [...this.batch, this.dim]);
    return whereB(gt(nu, 1), m, tf.scalar(NaN));
  }
  protected override _mode(): tf.Tensor {
    return this.expandToBatch(this.loc); // a new tensor, never the parameter itself
  }
  protected override _variance(): tf.Tensor {
    const nu = tf.expandDims(this.df, -1);
    const diagSigma = tf.sum(tf.square(this.scaleTril), -1);
    const v = tf.mul(tf.div(nu, tf.sub(nu, 2)), diagSigma);
    const out = whereB(gt(nu, 2), v, whereB(gt(nu, 1), tf.scalar(Infinity), tf.scalar(NaN)));
    return broadcastTo(out, [...this.batch, this.dim]);
  }
  /**
   * Entropy (TFP's closed form), with both differences taken without cancellation
   * ({@link lgammaShift}, {@link digammaShift}: all digits at large `nu`):
   *
   * $$H = -\log\frac{\Gamma((\nu + D)/2)}{\Gamma(\nu/2)} + \frac D2\log(\nu\pi) + \sum_i\log L_{ii}
   *   + \frac{\nu + D}{2}\Big[\psi\Big(\frac{\nu + D}2\Big) - \psi\Big(\frac\nu2\Big)\Big]$$
   */
  protected override _entropy(): tf.Tensor {
    const nu = this.df;
    const d = this.dim;
    const half = tf.mul(nu, 0.5);
    const halfLogDet = tf.sum(tf.log(matrixDiag(this.scaleTril)), -1);
    const h = tf.add(
      tf.sub(tf.mul(0.5 * d, tf.log(tf.mul(nu, Math.PI))), lgammaShift(half, 0.5 * d)),
      tf.add(halfLogDet, tf.mul(tf.add(half, 0.5 * d), digammaShift(half, 0.5 * d))),
    );
    return broadcastTo(h, this.batch);
  }
}
