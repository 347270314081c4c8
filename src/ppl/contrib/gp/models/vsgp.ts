/**
 * Variational sparse GP (Pyro's `VariationalSparseGP`, Hensman et al. 2015): inducing inputs
 * `X_u [M, F]` (learned, `<name>.Xu`) with a Gaussian posterior `q(u) = N(m, S Sᵀ)` of
 * `u = f(X_u)` (`<name>.uLoc`, `<name>.uScaleTril`; with `whiten`, of `L_uu⁻¹ u`). The ELBO
 *
 * $$\mathcal L = \frac{N_{data}}{N} \sum_i E_{q(f_i)}[\log p(y_i \mid f_i)]
 *   - \mathrm{KL}\big(q(u)\,\|\,p(u)\big),$$
 *
 * with `q(f_i)` the {@link conditional} of `q(u)` at `x_i` (`O(N M²)` per step; `numData`
 * scales a mini-batch to the data set). With a Gaussian likelihood its maximum over `q(u)` is
 * the VFE (Titsias) bound.
 */
import * as tf from '@tensorflow/tfjs';
import { modelName } from './model.js';
import type { Kernel } from '../kernels/kernel.js';
import type { Likelihood } from '../likelihoods/likelihood.js';
import { real } from '../../../constraints.js';
import { sample } from '../../../runtime.js';
import { scale } from '../../../handlers/scale.js';
import { ArgumentError } from '../../../../utils/errors.js';
import { conditional, kernelCholesky } from '../conditional.js';
import { inducingInputs } from './sgpr.js';
import { LatentGPModel, latentDist, latentShapeOf, type VariationalGPOptions } from './vgp.js';

/** Options of {@link VariationalSparseGP}. */
export interface VariationalSparseGPOptions extends VariationalGPOptions {
  /** The size of the whole data set when `X` is a mini-batch (scales the likelihood). */
  numData?: number;
}

/**
 * Variational sparse GP.
 *
 * @example
 * ```ts
 * const vsgp = new gp.models.VariationalSparseGP(X, y, kernel, Xu, new gp.likelihoods.Gaussian(),
 *   { whiten: true });
 * gp.train(vsgp, { optimizer: tf.train.adam(0.05), numSteps: 500 });
 * ```
 */
export class VariationalSparseGP extends LatentGPModel {
  /** The shape of the independent latent functions. */
  readonly latentShape: number[];
  protected readonly prefix = 'u';
  private numDataValue: number | undefined;

  /**
   * @param X inputs `[N, F]` or `[N]`.
   * @param y outputs `[..., N]` or undefined.
   * @param kernel the covariance function.
   * @param Xu initial inducing inputs `[M, F]`.
   * @param likelihood the observation model.
   * @param options `latentShape`, `numData`, `whiten`, `meanFunction`, `jitter`, `name`.
   */
  constructor(
    X: tf.Tensor,
    y: tf.Tensor | undefined,
    kernel: Kernel,
    Xu: tf.Tensor,
    likelihood: Likelihood,
    options: VariationalSparseGPOptions = {},
  ) {
    super(
      modelName(options, 'VariationalSparseGP', ['latentShape', 'whiten', 'numData']),
      kernel,
      likelihood,
      options,
    );
    const nd = options.numData;
    if (nd !== undefined && (!Number.isInteger(nd) || nd < 1)) {
      throw new ArgumentError('numData', `expected an integer >= 1, got ${String(nd)}`);
    }
    this.numDataValue = nd;
    this.setData(X, y);
    try {
      this.latentShape = latentShapeOf(options.latentShape, this.likelihood, this.y);
      const xu = inducingInputs(Xu, this.X.shape[1] as number);
      try {
        this.registerParam('Xu', xu, real, 'Xu');
      } finally {
        xu.dispose();
      }
      this.registerPosterior(xu.shape[0] as number);
    } catch (e) {
      this.dispose(); // the data just set
      throw e;
    }
  }

  /** The data set size the likelihood is scaled to (default `N`, the rows of `X`). */
  get numData(): number {
    return this.numDataValue ?? (this.X.shape[0] as number);
  }

  /** The marginals `q(f(X_*))` from `q(u)`. */
  protected marginals(xs: tf.Tensor2D, fullCov: boolean, Luu?: tf.Tensor): [tf.Tensor, tf.Tensor] {
    const [loc, cov] = conditional(
      xs,
      this.hp('Xu'),
      this.kernel,
      this.hp('uLoc'),
      this.hp('uScaleTril'),
      {
        Lff: Luu,
        fullCov,
        whiten: this.whiten,
        jitter: this.jitter,
      },
    );
    return [tf.add(loc, this.mean(xs)), cov];
  }

  /**
   * The ppl model: the prior site `<name>.u` and the likelihood of `y` (scaled by
   * `numData / N`) given the marginals of `q(f(X))`; without `y`, returns those marginals.
   */
  model(): tf.Tensor | [tf.Tensor, tf.Tensor] {
    return this.run('model', () => {
      const Xu = this.hp('Xu');
      const m = Xu.shape[0] as number;
      const Luu = kernelCholesky(this.kernel, Xu, this.jitter);
      const zero = tf.zeros([...this.latentShape, m]);
      sample(`${this.name}.u`, latentDist(zero, this.whiten ? tf.eye(m) : Luu, this.latentShape));
      const [loc, fVar] = this.marginals(this.X, false, Luu);
      const y = this.y;
      if (y === undefined) return [loc, fVar] as [tf.Tensor, tf.Tensor];
      const n = this.X.shape[0] as number;
      const lik = (): tf.Tensor => this.likelihood.forward(loc, fVar, y);
      return this.numData === n ? lik() : scale(lik, this.numData / n)();
    });
  }
}
