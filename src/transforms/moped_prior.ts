/**
 * Bayesian layers whose Normal prior is centred on the weights of a trained DNN (MOPED,
 * Krishnan, Subedar & Tickoo 2020, "Specifying Weight Priors in Bayesian Deep Neural Networks
 * with Empirical Bayes"; bayesian-torch's `MOPED_layer` sets the prior means to the DNN weights):
 *
 * $$p(w_i) = \mathcal N(w_i;\ w^{\text{DNN}}_i,\ \sigma_p^2),\qquad
 * \mathrm{KL}(q\,\|\,p) = \sum_i \log\frac{\sigma_p}{\sigma_i}
 *   + \frac{\sigma_i^2 + (\mu_i - w^{\text{DNN}}_i)^2}{2\sigma_p^2} - \frac12 .$$
 *
 * The layers of `src/layers` have a scalar prior (`NormalPrior {mu, sigma}`), so each class here
 * extends one of them with the elementwise prior means as non-trainable weights
 * (`<layer>/kernel_prior_mu`, `<layer>/bias_prior_mu`), saved and loaded with the model, and
 * overrides only `kl()`. The prior std `sigma_p` is the layer's scalar `prior.sigma`
 * (`priorSigma`, default 0.1); `prior.mu` is ignored. Only Normal priors can be centred.
 */
import * as tf from '@tensorflow/tfjs';
import { klNormalNormal, Normal } from '../distributions/normal.js';
import type { BayesianLayer } from '../layers/bayesian_layer.js';
import { ConvFlipout, ConvLocalReparam, ConvReparam } from '../layers/conv.js';
import type { ConvVariationalArgs } from '../layers/conv_variational.js';
import { DenseFlipout, DenseLocalReparam, DenseReparam } from '../layers/dense.js';
import type { DenseVariationalArgs } from '../layers/dense_variational.js';
import { ArgumentError } from '../utils/errors.js';

/** Prior means of a centred layer (new tensors owned by the caller). */
export interface PriorMeans {
  kernel: tf.Tensor;
  bias: tf.Tensor | null;
}

/** A Bayesian layer with a prior centred on given weights. */
export interface CentredPriorLayer extends BayesianLayer {
  /** Set the prior means (Dense `[in, out]`, Conv2D `[kh, kw, in, out]` kernel layout). */
  setPriorMean(kernel: tf.Tensor, bias?: tf.Tensor | null): void;
  /** The prior means. */
  getPriorMean(): PriorMeans;
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

/** True when `layer` has a prior centred on DNN weights. */
export function isCentredPriorLayer(layer: unknown): layer is CentredPriorLayer {
  return (
    layer !== null &&
    typeof layer === 'object' &&
    typeof (layer as Partial<CentredPriorLayer>).setPriorMean === 'function' &&
    typeof (layer as Partial<CentredPriorLayer>).getPriorMean === 'function'
  );
}

/** The variables the shared helpers work on. */
interface CentredVars {
  mu: tf.LayerVariable | null;
  rho: tf.LayerVariable | null;
  biasMu: tf.LayerVariable | null;
  biasRho: tf.LayerVariable | null;
  priorMu: tf.LayerVariable | null;
  priorBiasMu: tf.LayerVariable | null;
}

function checkNormalPrior(layer: BayesianLayer): void {
  if (layer.prior.type !== 'normal') {
    throw new ArgumentError(
      'prior',
      `layer '${layer.name}': a prior centred on the DNN weights (MOPED) needs a Normal prior, ` +
        `got '${layer.prior.type}'`,
    );
  }
}

function notBuilt(layer: BayesianLayer): never {
  throw new ArgumentError(
    'layer',
    `'${layer.name}' is not built yet: call it on an input or put it in a model first`,
  );
}

/** `sum KL(N(mu, softplus(rho)^2) || N(m, sigma_p^2))` over kernel and bias. */
function centredKL(layer: BayesianLayer, v: CentredVars): tf.Scalar {
  if (v.mu === null || v.rho === null || v.priorMu === null) notBuilt(layer);
  const { mu, rho, priorMu } = v;
  const sp = layer.prior.type === 'normal' ? layer.prior.sigma : NaN;
  return tf.tidy(() => {
    const one = (m: tf.Tensor, r: tf.Tensor, c: tf.Tensor): tf.Tensor => {
      const q = new Normal(m, tf.softplus(r), { validateArgs: false });
      const p = new Normal(c, sp, { validateArgs: false });
      return tf.sum(klNormalNormal(q, p));
    };
    let total = one(mu.read(), rho.read(), priorMu.read());
    if (v.biasMu !== null && v.biasRho !== null && v.priorBiasMu !== null) {
      total = tf.add(total, one(v.biasMu.read(), v.biasRho.read(), v.priorBiasMu.read()));
    }
    return total as tf.Scalar;
  });
}

function writeMean(
  layer: BayesianLayer,
  target: tf.LayerVariable | null,
  value: tf.Tensor | null | undefined,
  name: string,
): void {
  if (value === undefined || value === null) return;
  if (target === null) {
    if (name === 'bias') {
      throw new ArgumentError(name, `layer '${layer.name}' has no bias (hasBias is false)`);
    }
    notBuilt(layer);
  }
  const shape = target.shape;
  if (value.shape.length !== shape.length || value.shape.some((d, i) => d !== shape[i])) {
    throw new ArgumentError(
      name,
      `layer '${layer.name}': expected prior means of shape [${shape.join(', ')}], got ` +
        `[${value.shape.join(', ')}]`,
    );
  }
  tf.tidy(() => {
    target.write(tf.cast(value, 'float32'));
  });
}

function readMeans(layer: BayesianLayer, v: CentredVars): PriorMeans {
  if (v.priorMu === null) notBuilt(layer);
  return {
    kernel: v.priorMu.read().clone(),
    bias: v.priorBiasMu === null ? null : v.priorBiasMu.read().clone(),
  };
}

type AddWeight = (name: string, shape: number[]) => tf.LayerVariable;

function addMeans(
  layer: BayesianLayer,
  add: AddWeight,
  kernel: tf.LayerVariable | null,
): [tf.LayerVariable, tf.LayerVariable | null] {
  if (kernel === null) notBuilt(layer);
  const k = add('kernel_prior_mu', kernel.shape as number[]);
  const b = layer.hasBias ? add('bias_prior_mu', [layer.outChannels]) : null;
  return [k, b];
}

const ZEROS = (): ReturnType<typeof tf.initializers.zeros> => tf.initializers.zeros();

/**
 * `DenseReparam` with a prior centred on DNN weights.
 * @example
 * ```ts
 * const l = new MopedDenseReparam({ outChannels: 10, priorSigma: 0.1 });
 * // after build: l.setPriorMean(dense.getWeights()[0], dense.getWeights()[1]);
 * ```
 */
export class MopedDenseReparam extends DenseReparam implements CentredPriorLayer {
  static override className = 'MopedDenseReparam';
  private priorMu: tf.LayerVariable | null = null;
  private priorBiasMu: tf.LayerVariable | null = null;
  constructor(args: DenseVariationalArgs) {
    super(args);
    checkNormalPrior(this);
  }
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    super.build(inputShape);
    [this.priorMu, this.priorBiasMu] = addMeans(
      this,
      (n, s) => this.addWeight(n, s, 'float32', ZEROS(), undefined, false),
      this.kernelMu,
    );
  }
  private vars(): CentredVars {
    return {
      mu: this.kernelMu,
      rho: this.kernelRho,
      biasMu: this.biasMu,
      biasRho: this.biasRho,
      priorMu: this.priorMu,
      priorBiasMu: this.priorBiasMu,
    };
  }
  override kl(): tf.Scalar {
    return centredKL(this, this.vars());
  }
  setPriorMean(kernel: tf.Tensor, bias?: tf.Tensor | null): void {
    writeMean(this, this.priorMu, kernel, 'kernel');
    writeMean(this, this.priorBiasMu, bias, 'bias');
  }
  getPriorMean(): PriorMeans {
    return readMeans(this, this.vars());
  }
}

/** `DenseLocalReparam` with a prior centred on DNN weights. */
export class MopedDenseLocalReparam extends DenseLocalReparam implements CentredPriorLayer {
  static override className = 'MopedDenseLocalReparam';
  private priorMu: tf.LayerVariable | null = null;
  private priorBiasMu: tf.LayerVariable | null = null;
  constructor(args: DenseVariationalArgs) {
    super(args);
    checkNormalPrior(this);
  }
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    super.build(inputShape);
    [this.priorMu, this.priorBiasMu] = addMeans(
      this,
      (n, s) => this.addWeight(n, s, 'float32', ZEROS(), undefined, false),
      this.kernelMu,
    );
  }
  private vars(): CentredVars {
    return {
      mu: this.kernelMu,
      rho: this.kernelRho,
      biasMu: this.biasMu,
      biasRho: this.biasRho,
      priorMu: this.priorMu,
      priorBiasMu: this.priorBiasMu,
    };
  }
  override kl(): tf.Scalar {
    return centredKL(this, this.vars());
  }
  setPriorMean(kernel: tf.Tensor, bias?: tf.Tensor | null): void {
    writeMean(this, this.priorMu, kernel, 'kernel');
    writeMean(this, this.priorBiasMu, bias, 'bias');
  }
  getPriorMean(): PriorMeans {
    return readMeans(this, this.vars());
  }
}

/** `DenseFlipout` with a prior centred on DNN weights. */
export class MopedDenseFlipout extends DenseFlipout implements CentredPriorLayer {
  static override className = 'MopedDenseFlipout';
  private priorMu: tf.LayerVariable | null = null;
  private priorBiasMu: tf.LayerVariable | null = null;
  constructor(args: DenseVariationalArgs) {
    super(args);
    checkNormalPrior(this);
  }
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    super.build(inputShape);
    [this.priorMu, this.priorBiasMu] = addMeans(
      this,
      (n, s) => this.addWeight(n, s, 'float32', ZEROS(), undefined, false),
      this.kernelMu,
    );
  }
  private vars(): CentredVars {
    return {
      mu: this.kernelMu,
      rho: this.kernelRho,
      biasMu: this.biasMu,
      biasRho: this.biasRho,
      priorMu: this.priorMu,
      priorBiasMu: this.priorBiasMu,
    };
  }
  override kl(): tf.Scalar {
    return centredKL(this, this.vars());
  }
  setPriorMean(kernel: tf.Tensor, bias?: tf.Tensor | null): void {
    writeMean(this, this.priorMu, kernel, 'kernel');
    writeMean(this, this.priorBiasMu, bias, 'bias');
  }
  getPriorMean(): PriorMeans {
    return readMeans(this, this.vars());
  }
}

/** `ConvReparam` with a prior centred on DNN weights. */
export class MopedConvReparam extends ConvReparam implements CentredPriorLayer {
  static override className = 'MopedConvReparam';
  private priorMu: tf.LayerVariable | null = null;
  private priorBiasMu: tf.LayerVariable | null = null;
  constructor(args: ConvVariationalArgs) {
    super(args);
    checkNormalPrior(this);
  }
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    super.build(inputShape);
    [this.priorMu, this.priorBiasMu] = addMeans(
      this,
      (n, s) => this.addWeight(n, s, 'float32', ZEROS(), undefined, false),
      this.kernelMu,
    );
  }
  private vars(): CentredVars {
    return {
      mu: this.kernelMu,
      rho: this.kernelRho,
      biasMu: this.biasMu,
      biasRho: this.biasRho,
      priorMu: this.priorMu,
      priorBiasMu: this.priorBiasMu,
    };
  }
  override kl(): tf.Scalar {
    return centredKL(this, this.vars());
  }
  setPriorMean(kernel: tf.Tensor, bias?: tf.Tensor | null): void {
    writeMean(this, this.priorMu, kernel, 'kernel');
    writeMean(this, this.priorBiasMu, bias, 'bias');
  }
  getPriorMean(): PriorMeans {
    return readMeans(this, this.vars());
  }
}

/** `ConvLocalReparam` with a prior centred on DNN weights. */
export class MopedConvLocalReparam extends ConvLocalReparam implements CentredPriorLayer {
  static override className = 'MopedConvLocalReparam';
  private priorMu: tf.LayerVariable | null = null;
  private priorBiasMu: tf.LayerVariable | null = null;
  constructor(args: ConvVariationalArgs) {
    super(args);
    checkNormalPrior(this);
  }
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    super.build(inputShape);
    [this.priorMu, this.priorBiasMu] = addMeans(
      this,
      (n, s) => this.addWeight(n, s, 'float32', ZEROS(), undefined, false),
      this.kernelMu,
    );
  }
  private vars(): CentredVars {
    return {
      mu: this.kernelMu,
      rho: this.kernelRho,
      biasMu: this.biasMu,
      biasRho: this.biasRho,
      priorMu: this.priorMu,
      priorBiasMu: this.priorBiasMu,
    };
  }
  override kl(): tf.Scalar {
    return centredKL(this, this.vars());
  }
  setPriorMean(kernel: tf.Tensor, bias?: tf.Tensor | null): void {
    writeMean(this, this.priorMu, kernel, 'kernel');
    writeMean(this, this.priorBiasMu, bias, 'bias');
  }
  getPriorMean(): PriorMeans {
    return readMeans(this, this.vars());
  }
}

/** `ConvFlipout` with a prior centred on DNN weights. */
export class MopedConvFlipout extends ConvFlipout implements CentredPriorLayer {
  static override className = 'MopedConvFlipout';
  private priorMu: tf.LayerVariable | null = null;
  private priorBiasMu: tf.LayerVariable | null = null;
  constructor(args: ConvVariationalArgs) {
    super(args);
    checkNormalPrior(this);
  }
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    super.build(inputShape);
    [this.priorMu, this.priorBiasMu] = addMeans(
      this,
      (n, s) => this.addWeight(n, s, 'float32', ZEROS(), undefined, false),
      this.kernelMu,
    );
  }
  private vars(): CentredVars {
    return {
      mu: this.kernelMu,
      rho: this.kernelRho,
      biasMu: this.biasMu,
      biasRho: this.biasRho,
      priorMu: this.priorMu,
      priorBiasMu: this.priorBiasMu,
    };
  }
  override kl(): tf.Scalar {
    return centredKL(this, this.vars());
  }
  setPriorMean(kernel: tf.Tensor, bias?: tf.Tensor | null): void {
    writeMean(this, this.priorMu, kernel, 'kernel');
    writeMean(this, this.priorBiasMu, bias, 'bias');
  }
  getPriorMean(): PriorMeans {
    return readMeans(this, this.vars());
  }
}

tf.serialization.registerClass(MopedDenseReparam);
tf.serialization.registerClass(MopedDenseLocalReparam);
tf.serialization.registerClass(MopedDenseFlipout);
tf.serialization.registerClass(MopedConvReparam);
tf.serialization.registerClass(MopedConvLocalReparam);
tf.serialization.registerClass(MopedConvFlipout);
