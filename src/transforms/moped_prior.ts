/**
 * Bayesian layers whose Normal prior is centred on the weights of a trained DNN (MOPED,
 * Krishnan, Subedar & Tickoo 2020, "Specifying Weight Priors in Bayesian Deep Neural Networks
 * with Empirical Bayes"; bayesian-torch's `MOPED_layer` sets the prior means to the DNN weights):
 *
 * $$p(w_i) = \mathcal N(w_i;\ w^{\text{DNN}}_i,\ \sigma_p^2),\qquad
 * \mathrm{KL}(q\,\|\,p) = \sum_i \log\frac{\sigma_p}{\sigma_i}
 *   + \frac{\sigma_i^2 + (\mu_i - w^{\text{DNN}}_i)^2}{2\sigma_p^2} - \frac12 .$$
 *
 * The capability lives in `BayesianLayer` (`centredPrior: true`: non-trainable prior means
 * `<layer>/kernel_prior_mu`, `<layer>/bias_prior_mu` saved with the model, `setPriorMean` /
 * `getPriorMean`, the centred `kl()`). The classes here are the estimators with that flag always
 * on, under their own registered class names (`MopedDenseReparam`, ...), so saved models keep
 * loading. The prior std `sigma_p` is the layer's scalar `prior.sigma` (`priorSigma`, default
 * 0.1); `prior.mu` is ignored. Only Normal priors can be centred.
 */
import * as tf from '@tensorflow/tfjs';
import { BayesianLayer, type BayesianLayerArgs } from '../layers/bayesian_layer.js';
import { ConvFlipout, ConvLocalReparam, ConvReparam } from '../layers/conv.js';
import type { ConvVariationalArgs } from '../layers/conv_variational.js';
import { DenseFlipout, DenseLocalReparam, DenseReparam } from '../layers/dense.js';
import type { DenseVariationalArgs } from '../layers/dense_variational.js';

export type { PriorMeans } from '../layers/bayesian_layer.js';

/** A Bayesian layer with a prior centred on given weights (`centredPrior` on). */
export interface CentredPriorLayer extends BayesianLayer {
  readonly centredPrior: true;
}

/** MOPED class name of each Bayesian class name. */
export const MOPED_CLASS: Readonly<Record<string, string>> = {
  DenseReparam: 'MopedDenseReparam',
  DenseLocalReparam: 'MopedDenseLocalReparam',
  DenseFlipout: 'MopedDenseFlipout',
  ConvReparam: 'MopedConvReparam',
  ConvLocalReparam: 'MopedConvLocalReparam',
  ConvFlipout: 'MopedConvFlipout',
};

/** True when `layer` is a Bayesian layer with a prior centred on given (DNN) weights. */
export function isCentredPriorLayer(layer: unknown): layer is CentredPriorLayer {
  return layer instanceof BayesianLayer && layer.centredPrior;
}

/** `args` with `centredPrior: true` (a non-object is passed on for the base to reject). */
function centred<T extends BayesianLayerArgs>(args: T): T {
  return args !== null && typeof args === 'object' ? { ...args, centredPrior: true } : args;
}

/**
 * `DenseReparam` with a prior centred on DNN weights (`centredPrior: true`).
 * @example
 * ```ts
 * const l = new MopedDenseReparam({ outChannels: 10, priorSigma: 0.1 });
 * // after build: l.setPriorMean(dense.getWeights()[0], dense.getWeights()[1]);
 * ```
 */
export class MopedDenseReparam extends DenseReparam {
  static override className = 'MopedDenseReparam';
  constructor(args: DenseVariationalArgs) {
    super(centred(args));
  }
}

/** `DenseLocalReparam` with a prior centred on DNN weights (`centredPrior: true`). */
export class MopedDenseLocalReparam extends DenseLocalReparam {
  static override className = 'MopedDenseLocalReparam';
  constructor(args: DenseVariationalArgs) {
    super(centred(args));
  }
}

/** `DenseFlipout` with a prior centred on DNN weights (`centredPrior: true`). */
export class MopedDenseFlipout extends DenseFlipout {
  static override className = 'MopedDenseFlipout';
  constructor(args: DenseVariationalArgs) {
    super(centred(args));
  }
}

/** `ConvReparam` with a prior centred on DNN weights (`centredPrior: true`). */
export class MopedConvReparam extends ConvReparam {
  static override className = 'MopedConvReparam';
  constructor(args: ConvVariationalArgs) {
    super(centred(args));
  }
}

/** `ConvLocalReparam` with a prior centred on DNN weights (`centredPrior: true`). */
export class MopedConvLocalReparam extends ConvLocalReparam {
  static override className = 'MopedConvLocalReparam';
  constructor(args: ConvVariationalArgs) {
    super(centred(args));
  }
}

/** `ConvFlipout` with a prior centred on DNN weights (`centredPrior: true`). */
export class MopedConvFlipout extends ConvFlipout {
  static override className = 'MopedConvFlipout';
  constructor(args: ConvVariationalArgs) {
    super(centred(args));
  }
}

tf.serialization.registerClass(MopedDenseReparam);
tf.serialization.registerClass(MopedDenseLocalReparam);
tf.serialization.registerClass(MopedDenseFlipout);
tf.serialization.registerClass(MopedConvReparam);
tf.serialization.registerClass(MopedConvLocalReparam);
tf.serialization.registerClass(MopedConvFlipout);
