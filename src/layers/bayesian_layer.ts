/**
 * The base of every Bayesian layer (after TFP's `_DenseVariational`): it owns the variational
 * parameters, `build`, `call`, `getConfig`, the KL divergence and its report to the model's
 * losses. A kind (Dense, Conv2D) adds the linear map and the shapes; an estimator
 * (Reparam, LocalReparam, Flipout) overrides only {@link BayesianLayer.applyVariationalKernel}.
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
 * KL divergence `KL(q || p) = sum_w KL(q(w) || p(w))` over kernel and bias:
 * analytic for a {@link NormalPrior},
 * `log(s_p / s) + (s^2 + (mu - mu_p)^2) / (2 s_p^2) - 1/2`; for a {@link ScaleMixturePrior},
 * `-H[q] - log p(w)` with the entropy `H[q] = sum(1/2 log(2 pi e s^2))` exact and `log p(w)` at
 * one fresh reparameterized sample `w = mu + s * eps` (unbiased, differentiable).
 *
 * Prior centred on given weights (`centredPrior: true`, MOPED's empirical-Bayes prior, Krishnan,
 * Subedar & Tickoo 2020): every weight has its own prior mean `w0_i` (e.g. a trained DNN's weight),
 * `p(w_i) = N(w0_i, s_p^2)` with `s_p = prior.sigma` (`prior.mu` is unused), so
 * `KL = sum_i log(s_p / s_i) + (s_i^2 + (mu_i - w0_i)^2) / (2 s_p^2) - 1/2`. Needs a Normal prior.
 *
 * `model.fit`: every layer adds `klScale * kl()` to its losses (`layer.addLoss`), which tfjs-layers
 * adds to the mean data loss of each batch. For the per-example ELBO on a data set of `N`
 * examples use `klScale = 1 / N` ({@link setKLScale}). Custom loops use `WithBNNLoss` or
 * `BayesianELBO`, which read `kl()` directly and ignore `klScale`.
 */
import * as tf from '@tensorflow/tfjs';
import { klSoftplusNormal, softplusReparam } from '../backend/fused.js';
import { ArgumentError } from '../utils/errors.js';
import { nextSeed } from '../utils/seed.js';
import { softplusInverse } from '../utils/tensor.js';
import { applyActivation, normalizeActivation } from './activations.js';
import { standardNormal } from './estimators.js';
import { resolveInitializer, type Initializer, type TfjsLayerArgs } from './tfjs_args.js';
import {
  checkFinite,
  checkMeanStd,
  DEFAULT_POSTERIOR,
  DEFAULT_PRIOR,
  normalizePosterior,
  normalizePrior,
  priorLogProb,
  type PosteriorConfig,
  type PosteriorInput,
  type PriorConfig,
  type PriorInput,
} from './priors.js';

/** Arguments of the tfjs `Layer` constructor (name, trainable, inputShape, batchInputShape...). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** `'sample'`: draw weights/activations on every call; `'mean'`: use the posterior means. */
export type BayesianMode = 'sample' | 'mean';

const HALF_LOG_2PI_E = 0.5 * Math.log(2 * Math.PI * Math.E);

/**
 * Arguments shared by all Bayesian layers: TF.js names ({@link TfjsLayerArgs}: `useBias`,
 * `kernelInitializer`, `biasInitializer`; `units` / `filters` on the kinds), MindSpore names
 * (`outChannels`, `hasBias`, ...) as aliases, and BayesianCNN's priors.
 */
export interface BayesianLayerArgs extends LayerArgs, TfjsLayerArgs {
  /** Number of input channels (features); inferred from the input when omitted, checked when given. */
  inChannels?: number;
  /** Number of output channels (MindSpore's name of `units` / `filters`). */
  outChannels?: number;
  /**
   * Whether the layer has a (Bayesian) bias (MindSpore's name of `useBias`). Default `true`, but
   * `false` for a convolution written with MindSpore's `outChannels` (as MindSpore).
   */
  hasBias?: boolean;
  /** Activation name (`'relu'`, `'tanh'`, `'softmax'`, ...). Default linear. */
  activation?: string | null;
  /** Mean of the Normal prior (BayesianCNN `prior_mu`). Default 0. Ignored when `prior` is given. */
  priorMu?: number;
  /** Std of the Normal prior (BayesianCNN `prior_sigma`), > 0. Default 0.1. */
  priorSigma?: number;
  /** (mean, std) of the normal initialisation of the posterior means. Default `[0, 0.1]`. */
  posteriorMuInitial?: readonly number[];
  /** (mean, std) of the normal initialisation of `rho`, `sigma = softplus(rho)`. Default `[-3, 0.1]`. */
  posteriorRhoInitial?: readonly number[];
  /** Full prior object; overrides `priorMu`/`priorSigma`. */
  prior?: PriorInput;
  /** Full posterior object; overrides `posteriorMuInitial`/`posteriorRhoInitial`. */
  posterior?: PosteriorInput;
  /** Prediction mode (saved with the model). Default `'sample'`. */
  mode?: BayesianMode;
  /** Factor of `kl()` in the layer's losses seen by `model.fit`. Default 1 (TFP's convention). */
  klScale?: number;
  /**
   * Centre the Normal prior of each weight on its own mean `w0_i` (non-trainable weights set by
   * {@link BayesianLayer.setPriorMean}, saved with the model): `p(w_i) = N(w0_i, priorSigma^2)`.
   * Default false (the scalar prior `N(priorMu, priorSigma^2)`).
   */
  centredPrior?: boolean;
}

/** Prior means of a layer with `centredPrior` (new tensors owned by the caller). */
export interface PriorMeans {
  kernel: tf.Tensor;
  bias: tf.Tensor | null;
}

/** Posterior parameters given to {@link BayesianLayer.setPosterior}; `sigma` wins over `rho`. */
export interface PosteriorValues {
  kernelMu?: tf.Tensor | tf.TensorLike;
  kernelRho?: tf.Tensor | tf.TensorLike;
  kernelSigma?: tf.Tensor | tf.TensorLike;
  biasMu?: tf.Tensor | tf.TensorLike;
  biasRho?: tf.Tensor | tf.TensorLike;
  biasSigma?: tf.Tensor | tf.TensorLike;
}

/** Posterior means and standard deviations (new tensors owned by the caller). */
export interface PosteriorTensors {
  kernelMu: tf.Tensor;
  kernelSigma: tf.Tensor;
  biasMu: tf.Tensor | null;
  biasSigma: tf.Tensor | null;
}

function positiveInt(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ArgumentError(name, `expected an integer >= 1, got ${String(v)}`);
  }
  return v;
}

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

  constructor(args: BayesianLayerArgs, defaultHasBias: boolean) {
    super(args);
    if (args === undefined || args === null || typeof args !== 'object') {
      throw new ArgumentError('args', 'expected an object with at least outChannels');
    }
    this.outChannels = positiveInt(args.outChannels, 'outChannels');
    this.inChannels =
      args.inChannels === undefined || args.inChannels === null
        ? null
        : positiveInt(args.inChannels, 'inChannels');
    this.hasBias = args.hasBias ?? defaultHasBias;
    if (typeof this.hasBias !== 'boolean') {
      throw new ArgumentError('hasBias', `expected true or false, got ${String(args.hasBias)}`);
    }
    this.activation = normalizeActivation(args.activation);
    if (args.prior !== undefined && args.prior !== null) {
      this.prior = normalizePrior(args.prior, 'prior');
    } else {
      const mu = checkFinite(args.priorMu ?? DEFAULT_PRIOR.mu, 'priorMu');
      const sigma = checkFinite(args.priorSigma ?? DEFAULT_PRIOR.sigma, 'priorSigma');
      if (!(sigma > 0))
        throw new ArgumentError('priorSigma', `expected a number > 0, got ${sigma}`);
      this.prior = { type: 'normal', mu, sigma };
    }
    this.posterior =
      args.posterior !== undefined && args.posterior !== null
        ? normalizePosterior(args.posterior, 'posterior')
        : {
            type: 'normal',
            muInitial: checkMeanStd(
              args.posteriorMuInitial ?? DEFAULT_POSTERIOR.muInitial,
              'posteriorMuInitial',
            ),
            rhoInitial: checkMeanStd(
              args.posteriorRhoInitial ?? DEFAULT_POSTERIOR.rhoInitial,
              'posteriorRhoInitial',
            ),
          };
    const mode = args.mode ?? 'sample';
    if (mode !== 'sample' && mode !== 'mean') {
      throw new ArgumentError('mode', `expected 'sample' or 'mean', got '${String(mode)}'`);
    }
    this.mode = mode;
    const klScale = args.klScale ?? 1;
    if (typeof klScale !== 'number' || !Number.isFinite(klScale) || klScale < 0) {
      throw new ArgumentError('klScale', `expected a finite number >= 0, got ${String(klScale)}`);
    }
    this.klScale = klScale;
    const centred = args.centredPrior ?? false;
    if (typeof centred !== 'boolean') {
      throw new ArgumentError(
        'centredPrior',
        `expected true or false, got ${String(args.centredPrior)}`,
      );
    }
    if (centred && this.prior.type !== 'normal') {
      throw new ArgumentError(
        'prior',
        `layer '${this.name}': a prior centred on the DNN weights (MOPED) needs a Normal prior, ` +
          `got '${this.prior.type}'`,
      );
    }
    this.centredPrior = centred;
    this.muInitializers = {
      kernel:
        args.kernelInitializer === undefined
          ? null
          : resolveInitializer(args.kernelInitializer, 'kernelInitializer'),
      bias:
        args.biasInitializer === undefined
          ? null
          : resolveInitializer(args.biasInitializer, 'biasInitializer'),
    };
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
  protected abstract applyVariationalKernel(x: tf.Tensor, mu: tf.Tensor, rho: tf.Tensor): tf.Tensor;

  // ---- tfjs Layer -------------------------------------------------------------------------

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const c = this.channelsOf(shape);
    if (this.inChannels !== null && this.inChannels !== c) {
      throw new ArgumentError(
        'inChannels',
        `layer '${this.name}' was declared with inChannels=${this.inChannels} but its input has ` +
          `${c} channels (input shape [${shape.map((d) => (d === null ? 'null' : d)).join(', ')}])`,
      );
    }
    this.inChannels = c;
    const kShape = this.kernelShape(c);
    const [muMean, muStd] = this.posterior.muInitial;
    const [rhoMean, rhoStd] = this.posterior.rhoInitial;
    // tfjs's randomNormal initializer replaces a stddev of 0 by 0.05: use a constant instead.
    const init = (mean: number, stddev: number) =>
      stddev === 0
        ? tf.initializers.constant({ value: mean })
        : tf.initializers.randomNormal({ mean, stddev, seed: nextSeed() });
    this.kernelMu = this.addWeight(
      'kernel_mu',
      kShape,
      'float32',
      this.muInitializers.kernel ?? init(muMean, muStd),
    );
    this.kernelRho = this.addWeight('kernel_rho', kShape, 'float32', init(rhoMean, rhoStd));
    if (this.hasBias) {
      this.biasMu = this.addWeight(
        'bias_mu',
        [this.outChannels],
        'float32',
        this.muInitializers.bias ?? init(muMean, muStd),
      );
      this.biasRho = this.addWeight(
        'bias_rho',
        [this.outChannels],
        'float32',
        init(rhoMean, rhoStd),
      );
    }
    if (this.centredPrior) {
      // After the variational weights, so the order of the other weights does not depend on it.
      const zeros = () => tf.initializers.zeros();
      this.kernelPriorMu = this.addWeight(
        'kernel_prior_mu',
        kShape,
        'float32',
        zeros(),
        undefined,
        false,
      );
      if (this.hasBias) {
        this.biasPriorMu = this.addWeight(
          'bias_prior_mu',
          [this.outChannels],
          'float32',
          zeros(),
          undefined,
          false,
        );
      }
    }
    this.addLoss(() => tf.tidy(() => tf.mul(this.kl(), this.klScale) as tf.Scalar));
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
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
    const config: tf.serialization.ConfigDict = {
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      hasBias: this.hasBias,
      activation: this.activation,
      prior: { ...this.prior },
      posterior: {
        type: this.posterior.type,
        muInitial: [...this.posterior.muInitial],
        rhoInitial: [...this.posterior.rhoInitial],
      },
      mode: this.mode,
      klScale: this.klScale,
      centredPrior: this.centredPrior,
    };
    return { ...super.getConfig(), ...config };
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
      let total = this.klOf(kernelMu.read(), kernelRho.read(), centre(this.kernelPriorMu));
      if (this.biasMu !== null && this.biasRho !== null) {
        total = tf.add(
          total,
          this.klOf(this.biasMu.read(), this.biasRho.read(), centre(this.biasPriorMu)),
        );
      }
      return total as tf.Scalar;
    });
  }

  /**
   * Sum of the KL of the weights with means `mu` and raw scales `rho`; `centre` (with
   * `centredPrior`) replaces the scalar prior mean by elementwise ones.
   */
  private klOf(mu: tf.Tensor, rho: tf.Tensor, centre: tf.Tensor | null): tf.Tensor {
    if (this.prior.type === 'normal') {
      return klSoftplusNormal(mu, rho, centre ?? this.prior.mu, this.prior.sigma);
    }
    const sigma = tf.softplus(rho);
    const w = tf.add(mu, tf.mul(sigma, standardNormal(mu.shape)));
    const negEntropy = tf.neg(tf.add(tf.sum(tf.log(sigma)), HALF_LOG_2PI_E * mu.size));
    return tf.sub(negEntropy, tf.sum(priorLogProb(this.prior, w)));
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
    const assign = (
      v: tf.LayerVariable | null,
      value: tf.Tensor | tf.TensorLike | undefined,
      name: string,
      isSigma: boolean,
    ): void => {
      if (value === undefined) return;
      if (v === null) {
        throw new ArgumentError(name, `layer '${this.name}' has no bias (hasBias is false)`);
      }
      const shape = v.read().shape;
      tf.tidy(() => {
        let t = value instanceof tf.Tensor ? tf.cast(value, 'float32') : tf.tensor(value);
        if (t.rank === 0) t = tf.fill(shape, t.dataSync()[0] as number);
        if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
          throw new ArgumentError(
            name,
            `expected shape [${shape.join(', ')}], got [${t.shape.join(', ')}]`,
          );
        }
        if (isSigma) {
          if (tf.min(t).dataSync()[0]! <= 0) {
            throw new ArgumentError(name, 'expected standard deviations > 0');
          }
          t = softplusInverse(t);
        }
        v.write(t);
      });
    };
    assign(kernelMu, values.kernelMu, 'kernelMu', false);
    if (values.kernelSigma !== undefined)
      assign(kernelRho, values.kernelSigma, 'kernelSigma', true);
    else assign(kernelRho, values.kernelRho, 'kernelRho', false);
    assign(this.biasMu, values.biasMu, 'biasMu', false);
    if (values.biasSigma !== undefined) assign(this.biasRho, values.biasSigma, 'biasSigma', true);
    else assign(this.biasRho, values.biasRho, 'biasRho', false);
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
    this.writePriorMean(this.kernelPriorMu, kernel, 'kernel');
    this.writePriorMean(this.biasPriorMu, bias, 'bias');
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
        `layer '${this.name}' expects ${this.inChannels} input channels in the last axis, got ` +
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

  /** Write checked prior means into `target` (no-op for an omitted value). */
  private writePriorMean(
    target: tf.LayerVariable | null,
    value: tf.Tensor | null | undefined,
    name: string,
  ): void {
    if (value === undefined || value === null) return;
    if (target === null) {
      if (name === 'bias') {
        throw new ArgumentError(name, `layer '${this.name}' has no bias (hasBias is false)`);
      }
      this.notBuilt();
    }
    const shape = target.shape;
    if (value.shape.length !== shape.length || value.shape.some((d, i) => d !== shape[i])) {
      throw new ArgumentError(
        name,
        `layer '${this.name}': expected prior means of shape [${shape.join(', ')}], got ` +
          `[${value.shape.join(', ')}]`,
      );
    }
    tf.tidy(() => {
      target.write(tf.cast(value, 'float32'));
    });
  }
}

/** True when `layer` is a Bayesian layer. */
export function isBayesianLayer(layer: unknown): layer is BayesianLayer {
  return layer instanceof BayesianLayer;
}
