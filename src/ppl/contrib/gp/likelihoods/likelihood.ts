/**
 * GP likelihoods (Pyro's `pyro.contrib.gp.likelihoods`): the observation model `p(y | f)` of a
 * variational GP. `forward(fLoc, fVar, y)` receives the Gaussian marginals `q(fᵢ) = N(μᵢ, vᵢ)`
 * of the latent function and adds the expected log-likelihood `E_q[log p(y | f)]` to the
 * model: exactly for {@link Gaussian}, by a reparameterized draw `f = μ + √v ε` otherwise (as
 * Pyro; the ELBO estimators average over draws).
 */
import * as tf from '@tensorflow/tfjs';
import { moduleName } from '../module_name.js';
import type { ParamValue } from '../param_value.js';
import { Parameterized } from '../parameterized.js';
import { sample } from '../../../runtime.js';
import { factor } from '../../../factor.js';
import { Normal } from '../../../../distributions/normal.js';
import { Bernoulli as BernoulliDist } from '../../../../distributions/bernoulli.js';
import { Poisson as PoissonDist } from '../../../../distributions/poisson.js';
import { Categorical } from '../../../../distributions/categorical.js';
import type { Distribution } from '../../../../distributions/distribution.js';
import { ArgumentError } from '../../../../utils/errors.js';
import { checkOptionKeys } from '../../../../utils/options.js';

/** A map from latent values to the likelihood's parameter (probabilities, a rate). */
export type ResponseFunction = (f: tf.Tensor) => tf.Tensor;

/** Options of the likelihoods. */
export interface LikelihoodOptions {
  /** The module name (its site is `<name>.y`); default the class name, unique. */
  name?: string;
}

/** The base of the likelihoods. */
export abstract class Likelihood extends Parameterized {
  protected constructor(options: LikelihoodOptions, className: string, extra: string[] = []) {
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an object, got ${String(options)}`);
    }
    checkOptionKeys(options, ['name', ...extra], className);
    super(moduleName(options.name, className));
  }

  /** The number of latent functions this likelihood reads (1, or the classes of MultiClass). */
  get latentDim(): number {
    return 1;
  }

  /**
   * Add `E_q[log p(y | f)]` to the running model (the observed site `<name>.y`), or with no
   * `y` draw `y` from the predictive.
   * @param fLoc the latent means `μ`, `[N]` (`[C, N]` for MultiClass).
   * @param fVar the latent variances `v`, same shape.
   * @param y the observations `[N]`, or undefined.
   * @returns the site's value.
   */
  abstract forward(fLoc: tf.Tensor, fVar: tf.Tensor, y?: tf.Tensor): tf.Tensor;

  /** A reparameterized draw `f = μ + √v ε` of the latent function. */
  protected drawF(fLoc: tf.Tensor, fVar: tf.Tensor): tf.Tensor {
    return new Normal(fLoc, tf.sqrt(tf.maximum(fVar, 1e-12))).rsample();
  }

  /** The site `<name>.y` of `d` (batch `[N]`, one event). */
  protected site(d: Distribution, y: tf.Tensor | undefined): tf.Tensor {
    const dist = d.batchShape.length > 0 ? d.toEvent(d.batchShape.length) : d;
    return sample(`${this.name}.y`, dist, y === undefined ? {} : { obs: y });
  }
}

/** Options of {@link Gaussian}. */
export interface GaussianOptions extends LikelihoodOptions {
  /** The noise variance `σ² > 0` (scalar). Default 1. */
  variance?: ParamValue;
}

/**
 * The Gaussian likelihood `y = f + ε`, `ε ~ N(0, σ²)`, with the exact expected log-likelihood
 *
 * $$E_q[\log N(y \mid f, σ^2)] = \log N(y \mid μ, σ^2) - \frac{v}{2σ^2}$$
 *
 * (the observed site `N(y | μ, σ²)` plus the factor `<name>.var_term`; Pyro uses the predictive
 * `N(y | μ, v + σ²)` instead, which is not the ELBO's term). With no `y`, draws from
 * `N(μ, v + σ²)`.
 */
export class Gaussian extends Likelihood {
  /** @param options `variance`, `name`. */
  constructor(options: GaussianOptions = {}) {
    super(options, 'Gaussian', ['variance']);
    this.registerPositiveScalar('variance', options.variance);
  }
  forward(fLoc: tf.Tensor, fVar: tf.Tensor, y?: tf.Tensor): tf.Tensor {
    const variance = this.hp('variance');
    if (y === undefined) return this.site(new Normal(fLoc, tf.sqrt(tf.add(fVar, variance))), y);
    factor(`${this.name}.var_term`, tf.neg(tf.div(tf.sum(fVar), tf.mul(2, variance))));
    return this.site(new Normal(fLoc, tf.sqrt(variance)), y);
  }
}

/** Options of the likelihoods with a response function. */
export interface ResponseOptions extends LikelihoodOptions {
  /** `f -> parameter` (probabilities, rate); default the canonical link (logits, `exp`). */
  responseFunction?: ResponseFunction;
}

function response(options: ResponseOptions): ResponseFunction | undefined {
  const r = options.responseFunction;
  if (r !== undefined && typeof r !== 'function') {
    throw new ArgumentError('responseFunction', `expected a function, got ${typeof r}`);
  }
  return r;
}

/**
 * The base of the likelihoods of one latent `f` with an optional response function `r`
 * (`Bernoulli`, `Poisson`): the family's parameter is `r(f)`, or the canonical link's inverse
 * of `f` without one.
 * @internal
 */
export abstract class ResponseLikelihood extends Likelihood {
  /** The response function, or undefined for the canonical link. */
  protected readonly response: ResponseFunction | undefined;
  protected constructor(options: ResponseOptions, className: string) {
    super(options, className, ['responseFunction']);
    this.response = response(options);
  }
}

/**
 * The Bernoulli likelihood for binary classification: `y ~ Bernoulli(sigmoid(f))` (`f` the
 * logits), or `Bernoulli(r(f))` with a response function `r` into `(0, 1)`.
 */
export class Bernoulli extends ResponseLikelihood {
  /** @param options `responseFunction`, `name`. */
  constructor(options: ResponseOptions = {}) {
    super(options, 'Bernoulli');
  }
  forward(fLoc: tf.Tensor, fVar: tf.Tensor, y?: tf.Tensor): tf.Tensor {
    const f = this.drawF(fLoc, fVar);
    const d =
      this.response === undefined
        ? new BernoulliDist({ logits: f })
        : new BernoulliDist({ probs: this.response(f) });
    return this.site(d, y);
  }
}

/**
 * The Poisson likelihood for counts: `y ~ Poisson(exp(f))`, or `Poisson(r(f))` with a positive
 * response function `r`.
 */
export class Poisson extends ResponseLikelihood {
  /** @param options `responseFunction`, `name`. */
  constructor(options: ResponseOptions = {}) {
    super(options, 'Poisson');
  }
  forward(fLoc: tf.Tensor, fVar: tf.Tensor, y?: tf.Tensor): tf.Tensor {
    const f = this.drawF(fLoc, fVar);
    return this.site(
      new PoissonDist(this.response === undefined ? tf.exp(f) : this.response(f)),
      y,
    );
  }
}

/** Options of {@link MultiClass}. */
export interface MultiClassOptions extends ResponseOptions {
  /** The number of classes `C` (>= 2). Required. */
  numClasses: number;
}

/**
 * The multi-class likelihood over `C` latent GPs `f_1..f_C`:
 * `y ~ Categorical(softmax(f_1(x), ..., f_C(x)))` (the `f` as logits), or `Categorical(r(f))`
 * with a response function onto the simplex. Its GP has `latentShape: [C]`.
 */
export class MultiClass extends Likelihood {
  /** The number of classes. */
  readonly numClasses: number;
  private readonly response: ResponseFunction | undefined;
  /** @param options `numClasses`, `responseFunction`, `name`. */
  constructor(options: MultiClassOptions) {
    super(options ?? {}, 'MultiClass', ['numClasses', 'responseFunction']);
    const c = options.numClasses;
    if (!Number.isInteger(c) || c < 2) {
      throw new ArgumentError('numClasses', `expected an integer >= 2, got ${String(c)}`);
    }
    this.numClasses = c;
    this.response = response(options);
  }
  override get latentDim(): number {
    return this.numClasses;
  }
  forward(fLoc: tf.Tensor, fVar: tf.Tensor, y?: tf.Tensor): tf.Tensor {
    if (fLoc.rank < 2 || fLoc.shape[fLoc.rank - 2] !== this.numClasses) {
      throw new ArgumentError(
        'fLoc',
        `expected [..., ${this.numClasses}, N] (one latent GP per class), got [${fLoc.shape.join(',')}]`,
      );
    }
    const f = this.drawF(fLoc, fVar);
    const perm = f.shape.map((_, i) => i);
    perm[f.rank - 1] = f.rank - 2;
    perm[f.rank - 2] = f.rank - 1;
    const logits = tf.transpose(f, perm); // [..., N, C]
    const d =
      this.response === undefined
        ? new Categorical({ logits })
        : new Categorical({ probs: this.response(logits) });
    return this.site(d, y);
  }
}
