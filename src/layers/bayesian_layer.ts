/**
 * The base of every Bayesian layer (after TFP's `_DenseVariational`): it owns the variational
 * parameters, `build`, `call`, `getConfig`, the KL divergence and its report to the model's
 * losses. A kind (Dense, Conv2D) adds the linear map and the shapes; an estimator
 * (a registry entry, `estimator_registry.ts`) supplies {@link BayesianLayer.applyVariationalKernel}.
 *
 * Variational family (mean field): every kernel and bias weight has
 * `q(w) = N(mu, sigma^2)`, `sigma = softplus(rho) = log(1 + exp(rho))`.
 *
 * Weights, in this order (`layer.getWeights()` / `layer.setWeights()`):
 * `[kernelMu, kernelRho]` then, when `hasBias`, `[biasMu, biasRho]`, named
 * `<layer>/kernel_mu`, `<layer>/kernel_rho`, `<layer>/bias_mu`, `<layer>/bias_rho`; with
 * `centredPrior` then the non-trainable prior means `<layer>/kernel_prior_mu` and, when `hasBias`,
 * `<layer>/bias_prior_mu` (zeros until {@link BayesianLayer.setPriorMean}).
 *
 * KL divergence `KL(q || p) = sum_w KL(q(w) || p(w))` over kernel and bias (`weight_kl.ts`):
 * analytic for a Normal prior, `log(s_p / s) + (s^2 + (mu - mu_p)^2) / (2 s_p^2) - 1/2`, with
 * `mu_p = w0_i` per weight for a prior centred on given weights (`centredPrior`, MOPED); a
 * one-sample estimate `-H[q] - log p(w)` for a scale-mixture prior.
 *
 * `model.fit`: every layer adds `klScale * kl()` to its losses (`layer.addLoss`), which tfjs-layers
 * adds to the mean data loss of each batch. For the per-example ELBO on a data set of `N`
 * examples use `klScale = 1 / N` ({@link setKLScale}). Custom loops use `WithBNNLoss` or
 * `BayesianELBO`, which read `kl()` directly and ignore `klScale`.
 */
import * as tf from '@tensorflow/tfjs';
import { softplusReparam } from '../backend/fused.js';
import { ArgumentError, DeepProbError } from '../utils/errors.js';
import { nextSeed } from '../utils/seed.js';
import { applyActivation } from './activations.js';
import { checkBuildInput } from './build_checks.js';
import {
  normalizeBayesianArgs,
  type BayesianLayerArgs,
  type BayesianMode,
} from './bayesian_args.js';
import { ESTIMATORS, type Estimator } from './estimator_registry.js';
import type { PosteriorConfig, PriorConfig } from './priors.js';
import { weightKL } from './weight_kl.js';
import {
  initializerConfig,
  muInitializersOf,
  normalInitializer,
  type Initializer,
} from './initializers.js';
import {
  writeWeight,
  type PosteriorTensors,
  type PosteriorValues,
  type PriorMeans,
} from './weight_values.js';

export type { BayesianLayerArgs, BayesianMode, LayerArgs } from './bayesian_args.js';
export type { PriorMeans, PosteriorValues, PosteriorTensors } from './weight_values.js';

/** Abstract base of the Bayesian layers; see the module documentation. */
export abstract class BayesianLayer extends tf.layers.Layer {
  /** Declared input channels (or the inferred ones after `build`). */
  inChannels: number | null;
  /** Output channels. */
  readonly outChannels: number;
  /** Whether a Bayesian bias is added. */
  readonly hasBias: boolean;
  /** Canonical activation name. */
  readonly activation: string;
  /** Prior of every weight. */
  readonly prior: PriorConfig;
  /** Posterior family and initialisation. */
  readonly posterior: PosteriorConfig;
  /** Prediction mode: `'sample'` or `'mean'` (frozen). */
  mode: BayesianMode;
  /** Factor of `kl()` in the losses seen by `model.fit`. */
  klScale: number;
  /** Whether each weight's prior is centred on its own mean (see {@link BayesianLayerArgs}). */
  readonly centredPrior: boolean;

  protected kernelMu: tf.LayerVariable | null = null;
  protected kernelRho: tf.LayerVariable | null = null;
  protected biasMu: tf.LayerVariable | null = null;
  protected biasRho: tf.LayerVariable | null = null;
  protected kernelPriorMu: tf.LayerVariable | null = null;
  protected biasPriorMu: tf.LayerVariable | null = null;
  /** `kernelInitializer` / `biasInitializer` of the posterior means, if given (else the posterior's). */
  protected readonly muInitializers: { kernel: Initializer | null; bias: Initializer | null };

  /** Estimator of a concrete class (set by the classes of `bayesian_classes.ts`). */
  static estimator: Estimator | undefined = undefined;
  /** Whether a concrete class always centres its prior (the MOPED classes). */
  static centred = false;

  constructor(args: BayesianLayerArgs, defaultHasBias: boolean) {
    const statics = new.target as unknown as { centred: boolean };
    const full =
      statics.centred && args !== null && typeof args === 'object'
        ? { ...args, centredPrior: true }
        : args;
    super(full);
    const a = normalizeBayesianArgs(full, defaultHasBias);
    this.outChannels = a.outChannels;
    this.inChannels = a.inChannels;
    this.hasBias = a.hasBias;
    this.activation = a.activation;
    this.prior = a.prior;
    this.posterior = a.posterior;
    this.mode = a.mode;
    this.klScale = a.klScale;
    this.centredPrior = a.centredPrior;
    this.muInitializers = muInitializersOf(full);
    if (this.centredPrior && this.prior.type !== 'normal') {
      throw new ArgumentError(
        'prior',
        `layer '${this.name}': a prior centred on the DNN weights (MOPED) needs a Normal prior, ` +
          `got '${this.prior.type}'`,
      );
    }
  }

  // ---- hooks of a kind (Dense, Conv) ------------------------------------------------------

  /** Number of input channels of an input shape; throws naming the input on a bad rank. */
  protected abstract channelsOf(inputShape: tf.Shape): number;
  /** Shape of the kernel for `inChannels` input channels. */
  protected abstract kernelShape(inChannels: number): number[];
  /** The deterministic linear map `op(x, W)` (matmul, convolution). */
  protected abstract linear(x: tf.Tensor, kernel: tf.Tensor): tf.Tensor;
  /** Bring a checked input to the form `linear` expects (e.g. flatten leading dims). */
  protected prepareInput(x: tf.Tensor): tf.Tensor {
    return x;
  }
  /** Undo {@link prepareInput} on the output. */
  protected restoreOutput(y: tf.Tensor, input: tf.Tensor): tf.Tensor {
    void input;
    return y;
  }

  // ---- hook of an estimator ---------------------------------------------------------------

  /**
   * Apply the variational kernel `W ~ N(mu, softplus(rho)^2)` to a prepared input (TFP's
   * `_apply_variational_kernel`); the bias is added by the base.
   */
  protected applyVariationalKernel(x: tf.Tensor, mu: tf.Tensor, rho: tf.Tensor): tf.Tensor {
    const estimator = (this.constructor as typeof BayesianLayer).estimator;
    if (estimator === undefined) {
      throw new DeepProbError(
        `${this.getClassName()}: no estimator (use a class of the estimator registry, e.g. DenseReparam)`,
      );
    }
    return ESTIMATORS[estimator].sample(x, mu, rho, (a, w) => this.linear(a, w));
  }

  // ---- tfjs Layer -------------------------------------------------------------------------

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const c = this.channelsOf(shape);
    // before any weight is made: declared channels, an input the layer can run on
    checkBuildInput(this, inputShape, shape, c);
    const kShape = this.kernelShape(c);
    const [muMean, muStd] = this.posterior.muInitial;
    const [rhoMean, rhoStd] = this.posterior.rhoInitial;
    const init = (mean: number, stddev: number) => normalInitializer(mean, stddev, nextSeed());
    const add = (
      name: string,
      shape: number[],
      i: ReturnType<typeof tf.initializers.zeros>,
      trainable = true,
    ) => this.addWeight(name, shape, 'float32', i, undefined, trainable);
    const biasShape = [this.outChannels];
    this.kernelMu = add('kernel_mu', kShape, this.muInitializers.kernel ?? init(muMean, muStd));
    this.kernelRho = add('kernel_rho', kShape, init(rhoMean, rhoStd));
    if (this.hasBias) {
      this.biasMu = add('bias_mu', biasShape, this.muInitializers.bias ?? init(muMean, muStd));
      this.biasRho = add('bias_rho', biasShape, init(rhoMean, rhoStd));
    }
    if (this.centredPrior) {
      // After the variational weights, so the order of the other weights does not depend on it.
      this.kernelPriorMu = add('kernel_prior_mu', kShape, tf.initializers.zeros(), false);
      if (this.hasBias) {
        this.biasPriorMu = add('bias_prior_mu', biasShape, tf.initializers.zeros(), false);
      }
    }
    this.addLoss(() => tf.tidy(() => tf.mul(this.kl(), this.klScale) as tf.Scalar));
    this.built = true;
  }

  override call(
    inputs: tf.Tensor | tf.Tensor[],
    kwargs: Record<string, unknown>,
  ): tf.Tensor | tf.Tensor[] {
    void kwargs;
    return tf.tidy(() => {
      if (Array.isArray(inputs) && inputs.length !== 1) {
        throw new ArgumentError('inputs', `layer '${this.name}' expects exactly one input tensor`);
      }
      const raw = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
      this.checkInput(raw);
      const x = this.prepareInput(raw);
      const { kernelMu, kernelRho } = this.variables();
      let y: tf.Tensor;
      if (this.mode === 'mean') {
        y = this.linear(x, kernelMu.read());
        if (this.biasMu !== null) y = tf.add(y, this.biasMu.read());
      } else {
        y = this.applyVariationalKernel(x, kernelMu.read(), kernelRho.read());
        if (this.biasMu !== null && this.biasRho !== null) {
          y = tf.add(y, softplusReparam(this.biasMu.read(), this.biasRho.read()));
        }
      }
      return applyActivation(this.activation, this.restoreOutput(y, raw));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { inChannels, outChannels, hasBias, activation, mode, klScale, centredPrior } = this;
    const { type, muInitial, rhoInitial } = this.posterior;
    const posterior = { type, muInitial: [...muInitial], rhoInitial: [...rhoInitial] };
    const config: tf.serialization.ConfigDict = { inChannels, outChannels, hasBias, activation };
    Object.assign(config, { prior: { ...this.prior }, posterior, mode, klScale, centredPrior });
    return { ...super.getConfig(), ...config, ...initializerConfig(this.muInitializers) };
  }

  // ---- Bayesian API -----------------------------------------------------------------------

  /**
   * `KL(q || p)` summed over all kernel and bias weights (analytic for a Normal prior, centred
   * on the prior means with `centredPrior`; a one-sample reparameterized estimate for a
   * scale-mixture prior); differentiable in `mu`, `rho`.
   * @returns a new scalar owned by the caller.
   * @example
   * ```ts
   * const kl = layer.kl(); // after the layer is built
   * kl.dispose();
   * ```
   */
  kl(): tf.Scalar {
    const { kernelMu, kernelRho } = this.variables();
    const centre = (v: tf.LayerVariable | null): tf.Tensor | null =>
      this.centredPrior && v !== null ? v.read() : null;
    return tf.tidy(() => {
      let total = weightKL(
        this.prior,
        kernelMu.read(),
        kernelRho.read(),
        centre(this.kernelPriorMu),
      );
      if (this.biasMu !== null && this.biasRho !== null) {
        total = tf.add(
          total,
          weightKL(this.prior, this.biasMu.read(), this.biasRho.read(), centre(this.biasPriorMu)),
        );
      }
      return total as tf.Scalar;
    });
  }

  /**
   * Posterior means and standard deviations `sigma = softplus(rho)`.
   * @returns new tensors owned by the caller (`biasMu`/`biasSigma` null without bias).
   */
  getPosterior(): PosteriorTensors {
    const { kernelMu, kernelRho } = this.variables();
    return {
      kernelMu: kernelMu.read().clone(),
      kernelSigma: tf.softplus(kernelRho.read()),
      biasMu: this.biasMu === null ? null : this.biasMu.read().clone(),
      biasSigma: this.biasRho === null ? null : tf.softplus(this.biasRho.read()),
    };
  }

  /**
   * Set posterior parameters, e.g. start the means from a trained DNN's weights (the kernel
   * layout is that of the matching tfjs layer: Dense `[in, out]`, Conv2D `[kh, kw, in/group, out]`).
   * A `sigma` is converted to `rho = softplus^{-1}(sigma) = sigma + log(-expm1(-sigma))`.
   * Omitted entries keep their values. The layer must be built (called once or in a model).
   * @throws ArgumentError naming the entry whose shape does not match, or a non-positive sigma.
   * @example
   * ```ts
   * bnnLayer.setPosterior({ kernelMu: dense.getWeights()[0], biasMu: dense.getWeights()[1],
   *                         kernelSigma: 1e-3 });
   * ```
   */
  setPosterior(values: PosteriorValues): void {
    const { kernelMu, kernelRho } = this.variables();
    const write = (
      v: tf.LayerVariable | null,
      value: tf.Tensor | tf.TensorLike | undefined,
      name: string,
      isSigma: boolean,
    ): void => {
      if (value === undefined) return;
      writeWeight(v ?? this.noBias(name), value, name, { sigma: isSigma });
    };
    write(kernelMu, values.kernelMu, 'kernelMu', false);
    if (values.kernelSigma !== undefined) write(kernelRho, values.kernelSigma, 'kernelSigma', true);
    else write(kernelRho, values.kernelRho, 'kernelRho', false);
    write(this.biasMu, values.biasMu, 'biasMu', false);
    if (values.biasSigma !== undefined) write(this.biasRho, values.biasSigma, 'biasSigma', true);
    else write(this.biasRho, values.biasRho, 'biasRho', false);
  }

  /**
   * Set the prior means `w0` of a layer with `centredPrior` (kernel layout of the matching tfjs
   * layer: Dense `[in, out]`, Conv2D `[kh, kw, in/group, out]`); then
   * `p(w_i) = N(w0_i, priorSigma^2)`. An omitted or null `bias` keeps its values.
   * The layer must be built.
   * @param kernel prior means of the kernel, the kernel's shape.
   * @param bias prior means of the bias, shape `[outChannels]` (only when `hasBias`).
   * @throws ArgumentError naming `centredPrior` when the flag is off, or the entry whose shape
   * does not match.
   * @example
   * ```ts
   * const l = new DenseReparam({ outChannels: 10, centredPrior: true });
   * l.apply(tf.zeros([1, 4]));
   * l.setPriorMean(dense.getWeights()[0], dense.getWeights()[1]);
   * ```
   */
  setPriorMean(kernel: tf.Tensor, bias?: tf.Tensor | null): void {
    this.checkCentred();
    const opts = { expected: `layer '${this.name}': expected prior means of`, scalar: false };
    writeWeight(this.kernelPriorMu ?? this.notBuilt(), kernel, 'kernel', opts);
    if (bias !== undefined && bias !== null) {
      writeWeight(this.biasPriorMu ?? this.noBias('bias'), bias, 'bias', opts);
    }
  }

  /**
   * The prior means `w0` of a layer with `centredPrior`.
   * @returns new tensors owned by the caller (`bias` null without bias).
   * @throws ArgumentError naming `centredPrior` when the flag is off, or `layer` when not built.
   * @example
   * ```ts
   * const { kernel, bias } = layer.getPriorMean();
   * tf.dispose([kernel, bias]);
   * ```
   */
  getPriorMean(): PriorMeans {
    this.checkCentred();
    const kernel = this.kernelPriorMu ?? this.notBuilt();
    return {
      kernel: kernel.read().clone(),
      bias: this.biasPriorMu === null ? null : this.biasPriorMu.read().clone(),
    };
  }

  /** Number of scalar weights with a posterior (kernel plus bias). */
  numBayesianParams(): number {
    const { kernelMu } = this.variables();
    return kernelMu.read().size + (this.hasBias ? this.outChannels : 0);
  }

  // ---- helpers ------------------------------------------------------------------------------

  /** Throw naming the input when its shape does not fit the built layer. */
  protected checkInput(x: tf.Tensor): void {
    const c = this.channelsOf(x.shape);
    if (this.inChannels !== null && c !== this.inChannels) {
      throw new ArgumentError(
        'inputs',
        `layer '${this.name}' expects ${this.inChannels} input channels (its channel axis), got ` +
          `input shape [${x.shape.join(', ')}]`,
      );
    }
  }

  /** The kernel variables; throws when the layer is not built yet. */
  protected variables(): { kernelMu: tf.LayerVariable; kernelRho: tf.LayerVariable } {
    if (this.kernelMu === null || this.kernelRho === null) this.notBuilt();
    return { kernelMu: this.kernelMu, kernelRho: this.kernelRho };
  }

  /** Throw the error of a layer used before `build`. */
  private notBuilt(): never {
    throw new ArgumentError(
      'layer',
      `'${this.name}' is not built yet: call it on an input or put it in a model first`,
    );
  }

  /** Throw naming `centredPrior` when the layer has no prior means. */
  private checkCentred(): void {
    if (!this.centredPrior) {
      throw new ArgumentError(
        'centredPrior',
        `layer '${this.name}' has a scalar prior: construct it with centredPrior: true to set ` +
          'or read prior means',
      );
    }
  }

  /** Throw naming `name` for a bias of a layer without bias. */
  private noBias(name: string): never {
    throw new ArgumentError(name, `layer '${this.name}' has no bias (hasBias is false)`);
  }
}

/** True when `layer` is a Bayesian layer. */
export function isBayesianLayer(layer: unknown): layer is BayesianLayer {
  return layer instanceof BayesianLayer;
}
