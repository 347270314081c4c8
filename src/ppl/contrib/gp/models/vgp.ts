/**
 * Variational GP (Pyro's `VariationalGP`) for any {@link Likelihood}: a Gaussian posterior
 * `q(f) = N(m, S Sᵀ)` of `f = f(X)` (the parameters `<name>.fLoc`, `<name>.fScaleTril`), or
 * with `whiten` of `u = L⁻¹ f` (`K + jitter I = L Lᵀ`, prior `u ~ N(0, I)`). The ELBO
 *
 * $$\mathcal L = \sum_i E_{q(f_i)}[\log p(y_i \mid f_i)] - \mathrm{KL}\big(q(f)\,\|\,p(f)\big)$$
 *
 * comes from the site `<name>.f` (prior in `model`, `q` in `guide`: analytic KL with
 * `TraceMeanFieldELBO`) and the likelihood's site with the marginals `q(f_i) = N(μ_i, v_i)`,
 * `μ = m(X) + m` (whitened: `L m`), `v = diag(S Sᵀ)` (whitened: `diag(L S Sᵀ Lᵀ)`, exact;
 * Pyro uses `(L∘L)(S∘S)1`, exact only for diagonal `S`). Multi-output (`latentShape`, e.g.
 * `[C]` for MultiClass): independent latent functions sharing the kernel.
 */
import * as tf from '@tensorflow/tfjs';
import {
  GPModel,
  modelName,
  type GPModelOptions,
  type PredictOptions,
  type GPPrediction,
} from './model.js';
import type { Kernel } from '../kernels/kernel.js';
import { Likelihood } from '../likelihoods/likelihood.js';
import { lowerCholesky, real } from '../../../constraints.js';
import { sample } from '../../../runtime.js';
import { GPMultivariateNormal } from '../gp_mvn.js';
import type { Distribution } from '../../../../distributions/distribution.js';
import { ArgumentError } from '../../../../utils/errors.js';
import { conditional, kernelCholesky } from '../conditional.js';
import type { Parameterized } from '../parameterized.js';

/** Options of the variational GPs. */
export interface VariationalGPOptions extends GPModelOptions {
  /** Shape of independent latent functions (default `[C]` for MultiClass, else `y`'s batch). */
  latentShape?: number[];
  /** Parameterize the posterior of the whitened `u = L⁻¹ f`. Default false (as Pyro). */
  whiten?: boolean;
}

/** Check a likelihood argument. @internal */
export function checkLikelihood(l: unknown): Likelihood {
  if (!(l instanceof Likelihood)) {
    throw new ArgumentError(
      'likelihood',
      'expected a gp likelihood, e.g. new gp.likelihoods.Bernoulli()',
    );
  }
  return l;
}

/** The latent shape: given, or `[C]` for a multi-class likelihood, or `y`'s batch shape. @internal */
export function latentShapeOf(
  given: unknown,
  likelihood: Likelihood,
  y: tf.Tensor | undefined,
): number[] {
  if (given !== undefined) {
    if (!Array.isArray(given) || given.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new ArgumentError(
        'latentShape',
        `expected an array of integers >= 1, got ${String(given)}`,
      );
    }
    const c = likelihood.latentDim;
    if (c > 1 && given.at(-1) !== c) {
      throw new ArgumentError(
        'latentShape',
        `the likelihood reads ${c} latent functions (one per class): expected [..., ${c}], ` +
          `got [${given.join(',')}]`,
      );
    }
    return [...(given as number[])];
  }
  if (likelihood.latentDim > 1) return [likelihood.latentDim];
  return y === undefined ? [] : y.shape.slice(0, -1);
}

/** Check the `whiten` option. @internal */
export function whitenOption(w: unknown): boolean {
  if (w === undefined) return false;
  if (typeof w !== 'boolean')
    throw new ArgumentError('whiten', `expected a boolean, got ${typeof w}`);
  return w;
}

/** The identity scale of `latent` independent `n`-vectors, `[...latent, n, n]`. @internal */
export function identityTril(latent: number[], n: number): tf.Tensor {
  return tf.tidy(() => tf.broadcastTo(tf.eye(n), [...latent, n, n]).clone());
}

/** `MVN(loc, scaleTril)` with the latent dims as event dims. @internal */
export function latentDist(loc: tf.Tensor, scaleTril: tf.Tensor, latent: number[]): Distribution {
  const d = new GPMultivariateNormal(loc, scaleTril);
  return latent.length > 0 ? d.toEvent(latent.length) : d;
}

/**
 * The base of the variational GPs: a {@link Likelihood}, independent latent functions of shape
 * `latentShape`, and a Gaussian posterior `q(v) = N(<prefix>Loc, S Sᵀ)`, `S = <prefix>ScaleTril`,
 * of the values `v` at the site `<name>.<prefix>` (`f(X)` or the inducing `u`; whitened with
 * `whiten`); its guide is that site under `q`, its `forward` the latent predictive.
 * @internal
 */
export abstract class LatentGPModel extends GPModel {
  /** The observation model. */
  readonly likelihood: Likelihood;
  /** Whether the posterior parameters are of the whitened values. */
  readonly whiten: boolean;
  /** The shape of the independent latent functions. */
  abstract readonly latentShape: number[];
  /** The latent site and parameter prefix: `'f'` or `'u'`. */
  protected abstract readonly prefix: string;

  protected constructor(
    name: string,
    kernel: Kernel,
    likelihood: Likelihood,
    options: VariationalGPOptions,
  ) {
    super(name, kernel, options);
    this.likelihood = checkLikelihood(likelihood);
    this.whiten = whitenOption(options.whiten);
  }

  protected override children(): Parameterized[] {
    return [this.kernel, this.likelihood];
  }

  /** Declare `<prefix>Loc = 0` `[...latent, n]` and `<prefix>ScaleTril = I` `[...latent, n, n]`. */
  protected registerPosterior(n: number): void {
    const loc = tf.zeros([...this.latentShape, n]);
    const tril = identityTril(this.latentShape, n);
    try {
      this.registerParam(`${this.prefix}Loc`, loc, real);
      this.registerParam(`${this.prefix}ScaleTril`, tril, lowerCholesky);
    } finally {
      loc.dispose();
      tril.dispose();
    }
  }

  /** The guide: the site `<name>.<prefix> ~ N(<prefix>Loc, S Sᵀ)` (and MAP hyperparameters). */
  override guide(): void {
    this.run('guide', () => {
      const p = this.prefix;
      sample(
        `${this.name}.${p}`,
        latentDist(this.hp(`${p}Loc`), this.hp(`${p}ScaleTril`), this.latentShape),
      );
    });
  }

  /** The marginals `q(f(X_*))` (covariance with `fullCov`). */
  protected abstract marginals(xs: tf.Tensor2D, fullCov: boolean): [tf.Tensor, tf.Tensor];

  /**
   * The predictive of the latent `f(Xnew)`: mean `[...latent, M]` and variances (covariance
   * with `fullCov`) by {@link conditional}. `noiseless` must be left true (the likelihood's
   * noise is not Gaussian in general).
   */
  forward(Xnew: tf.Tensor, options: PredictOptions = {}): GPPrediction {
    return this.predictAt(Xnew, options, 'latent', (xs, fullCov) => this.marginals(xs, fullCov));
  }
}

/**
 * Variational GP.
 *
 * @example
 * ```ts
 * const vgp = new gp.models.VariationalGP(X, y, new gp.kernels.RBF({ inputDim: 2 }),
 *   new gp.likelihoods.Bernoulli(), { whiten: true });
 * gp.train(vgp, { optimizer: tf.train.adam(0.05), numSteps: 300 });
 * const [fMean, fVar] = vgp.forward(Xtest);   // latent logits
 * ```
 */
export class VariationalGP extends LatentGPModel {
  /** The shape of the independent latent functions. */
  readonly latentShape: number[];
  protected readonly prefix = 'f';

  /**
   * @param X inputs `[N, F]` or `[N]`.
   * @param y outputs `[..., N]` or undefined.
   * @param kernel the covariance function.
   * @param likelihood the observation model.
   * @param options `latentShape`, `whiten`, `meanFunction`, `jitter`, `name`.
   */
  constructor(
    X: tf.Tensor,
    y: tf.Tensor | undefined,
    kernel: Kernel,
    likelihood: Likelihood,
    options: VariationalGPOptions = {},
  ) {
    super(
      modelName(options, 'VariationalGP', ['latentShape', 'whiten']),
      kernel,
      likelihood,
      options,
    );
    this.setData(X, y);
    try {
      this.latentShape = latentShapeOf(options.latentShape, this.likelihood, this.y);
      this.registerPosterior(this.X.shape[0] as number);
    } catch (e) {
      this.dispose(); // the data just set
      throw e;
    }
  }

  /**
   * New data must have the `N` rows the posterior `q(f(X))` is over (`fLoc [..., N]`).
   * @throws ArgumentError naming `X` otherwise (make a new model for another `N`).
   */
  protected override checkData(x: tf.Tensor2D, y: tf.Tensor | undefined): void {
    super.checkData(x, y);
    if (!this.paramNames().includes('fLoc')) return; // the first data, before the posterior
    const n = this.paramShape('fLoc').at(-1) as number;
    if (x.shape[0] !== n) {
      throw new ArgumentError(
        'X',
        `${this.name}'s posterior q(f) is over the ${n} rows of its data: expected ${n} rows, ` +
          `got ${x.shape[0]} (a VariationalGP keeps one latent value per datum; make a new ` +
          `model, or use VariationalSparseGP for mini-batches)`,
      );
    }
  }

  /**
   * The ppl model: the prior site `<name>.f` and the likelihood of `y` given the marginals of
   * `q(f)`; without `y`, returns those marginals' means and variances.
   */
  model(): tf.Tensor | [tf.Tensor, tf.Tensor] {
    return this.run('model', () => {
      const n = this.X.shape[0] as number;
      const L = kernelCholesky(this.kernel, this.X, this.jitter);
      const zero = tf.zeros([...this.latentShape, n]);
      const priorTril = this.whiten ? tf.eye(n) : L;
      sample(`${this.name}.f`, latentDist(zero, priorTril, this.latentShape));
      const m = this.hp('fLoc');
      const S = this.hp('fScaleTril');
      let loc = m;
      let fVar: tf.Tensor;
      if (this.whiten) {
        // f = L u: rows of m L^T; L broadcast explicitly (tfjs's BatchMatMul gradient does not
        // reduce broadcast batch dims)
        loc = tf.reshape(tf.matMul(tf.reshape(m, [-1, n]), L, false, true), m.shape);
        const Lb = S.rank > 2 ? tf.broadcastTo(L, S.shape) : L;
        fVar = tf.sum(tf.square(tf.matMul(Lb, S)), -1);
      } else fVar = tf.sum(tf.square(S), -1);
      loc = tf.add(loc, this.mean(this.X));
      if (this.y === undefined) return [loc, fVar] as [tf.Tensor, tf.Tensor];
      return this.likelihood.forward(loc, fVar, this.y);
    });
  }

  /** The marginals `q(f(X_*))` by {@link conditional}. */
  protected marginals(xs: tf.Tensor2D, fullCov: boolean): [tf.Tensor, tf.Tensor] {
    const [loc, cov] = conditional(
      xs,
      this.X,
      this.kernel,
      this.hp('fLoc'),
      this.hp('fScaleTril'),
      {
        fullCov,
        whiten: this.whiten,
        jitter: this.jitter,
      },
    );
    return [tf.add(loc, this.mean(xs)), cov];
  }
}
