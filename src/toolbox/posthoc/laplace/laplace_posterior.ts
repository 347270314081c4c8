/**
 * What every fitted Laplace approximation has (last layer or all layers): the Gaussian posterior
 * `N(theta_*, (H + delta I)^{-1})` with a block-diagonal curvature `H` held on the host as
 * eigen-forms, the training data's log-likelihood at `theta_*` and `||theta_*||^2`, and from them
 * the Laplace marginal likelihood in the isotropic prior precision `delta` and its maximiser
 * (`marginal_likelihood.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../../utils/errors.js';
import { checkPositive } from './checks.js';
import { sliceInputs, type ModelInput } from '../../../layers/model_input.js';
import type { LaplaceLikelihood } from './curvature.js';
import { numClassesOf, type OutputLikelihood } from './likelihood.js';
import { optionsObject } from '../../../utils/options.js';
import {
  laplaceLogMarginal,
  laplaceLogMarginalBlocks,
  laplaceLogMarginalParams,
  maximizeLaplaceMarginal,
  maximizeParamMarginal,
} from './marginal_likelihood.js';
import { posteriorDeviations, type EigenCurvature } from './posterior.js';
import { LaplacePrior } from './laplace_prior.js';
import { withSampledWeights } from './nn_predictive.js';
import {
  PRIOR_OPTIONS,
  gridsearchPriorPrecision,
  type GridsearchHost,
  type PriorPrecisionOptions,
} from './prior_gridsearch.js';

export type { PriorPrecisionOptions } from './prior_gridsearch.js';
import { deriveSeeds, nextSeed } from '../../../utils/seed.js';

/** The fitted statistics a Laplace posterior is made from (besides its curvature blocks). */
export interface LaplaceFit {
  /** `||theta_*||^2` over the parameters with a posterior. */
  thetaSq: number;
  /** Training examples the curvature was summed over. */
  n: number;
  /** `log p(D | theta_*)`. */
  logLikelihood: number;
  /** The likelihood of the outputs (softmax, Bernoulli for a binary head, Gaussian). */
  outputLikelihood: OutputLikelihood;
}

/** The fit options a Laplace posterior keeps. */
export interface LaplacePosteriorOptions<S extends string> {
  /** A number, one per block (layer) or one per parameter (see {@link LaplacePosterior}). */
  priorPrecision: number | readonly number[];
  likelihood: LaplaceLikelihood;
  hessianStructure: S;
  /** Inputs per pass at prediction. */
  batchSize: number;
  /** The regression noise `sigma_0` the curvature and log-likelihood were computed with. */
  sigmaNoise: number;
}

/** Base of the Laplace posteriors: the marginal likelihood and the prior precision. */
export abstract class LaplacePosterior<S extends string> extends LaplacePrior {
  readonly likelihood: LaplaceLikelihood;
  readonly structure: S;
  /** Training examples the curvature was summed over. */
  readonly n: number;
  /** `log p(D | theta_*)`, the training data's log-likelihood at the MAP. */
  readonly logLikelihood: number;
  /**
   * Whether the model is a binary classifier read through one logit `z` (a sigmoid head or one raw
   * output): Bernoulli likelihood, class probabilities `[1 - p, p]` with `p = sigmoid(z)`.
   */
  readonly binary: boolean;
  protected readonly outputLikelihood: OutputLikelihood;
  protected readonly thetaSq: number;
  protected readonly batchSize: number;
  /** The fit's Gaussian noise `sigma_0` (regression). */
  private readonly fitSigmaNoise: number;

  /**
   * @param blocks curvature blocks (one per layer with a posterior).
   * @param fit `thetaSq`, `n`, `logLikelihood`; @param options the fit's options.
   */
  protected constructor(
    blocks: readonly EigenCurvature[],
    fit: LaplaceFit,
    options: LaplacePosteriorOptions<S>,
  ) {
    super(blocks, options.priorPrecision);
    this.thetaSq = fit.thetaSq;
    this.n = fit.n;
    this.logLikelihood = fit.logLikelihood;
    this.outputLikelihood = fit.outputLikelihood;
    this.binary = fit.outputLikelihood === 'bernoulli';
    this.likelihood = options.likelihood;
    this.structure = options.hessianStructure;
    this.batchSize = options.batchSize;
    this.fitSigmaNoise = options.sigmaNoise;
  }

  /** Outputs `K` of the network (the last layer's units, or the model's outputs). */
  protected abstract outputDim(): number;

  /** The layer of every block, whose `getWeights()` flattened are {@link mapWeights}. */
  protected abstract blockLayers(): tf.layers.Layer[];

  /** The network's outputs (logits for classification) at the layers' current weights `[B, K]`. */
  protected abstract forwardOutputs(xb: ModelInput): tf.Tensor2D;

  /** Class probabilities of the GLM predictive (see the subclasses). */
  abstract predictProbs(
    x: ModelInput,
    options?: {
      link?: 'probit' | 'mc' | 'bridge' | 'bridgeNorm';
      numSamples?: number;
      seed?: number;
    },
  ): tf.Tensor2D;

  /** Mean and covariance of the GLM predictive outputs (see the subclasses). */
  abstract glmPredictive(x: ModelInput): { mean: tf.Tensor2D; cov: tf.Tensor3D };

  /**
   * `S` samples of the network's outputs with sampled weights (laplace-torch's
   * `predictive_samples(x, pred_type='nn')`): with the draws `theta_s` of {@link sample},
   *
   * $$f_s(x) = f(x;\,\theta_s),\qquad \theta_s \sim \mathcal N\big(\theta_*, \Lambda^{-1}\big),$$
   *
   * the layers with a posterior set to `theta_s` in turn (and restored to `theta_*` afterwards,
   * also on a failure): `[S, N, K]`, logits for classification (one for a binary head), means for
   * regression. Unlike the GLM predictive, the network is not linearised.
   *
   * @param x inputs `[N, ...]` shaped like the model's input (`N = 0` gives `[S, 0, K]`).
   * @param numSamples `S`, a positive integer; @param seed seed of the draws ({@link sample}'s).
   * @throws ArgumentError naming `numSamples`, `seed` or `x`.
   */
  nnSampleOutputs(x: ModelInput, numSamples: number, seed?: number): tf.Tensor3D {
    if (!Number.isInteger(numSamples) || numSamples < 1) {
      throw new ArgumentError('numSamples', `expected a positive integer, got ${numSamples}`);
    }
    const k = this.outputDim();
    if (this.rows(x) === 0) return tf.zeros([numSamples, 0, k]);
    const draws = this.sample(numSamples, seed);
    try {
      return withSampledWeights(this.blockLayers(), draws, () =>
        this.batched(x, (xb) => this.forwardOutputs(xb), 0, [0, k]),
      );
    } finally {
      draws.dispose();
    }
  }

  /**
   * `S` draws of the parameters with a posterior (laplace-torch's `sample(n_samples)`),
   *
   * $$\theta_s = \theta_* + Q_b\,(\lambda_b + \delta)^{-1/2} z_s,\qquad z_s \sim \mathcal N(0, I),$$
   *
   * i.e. `theta_s ~ N(theta_*, (H + delta I)^{-1})` block by block: `[S, P]`, blocks in order
   * (layers), each ordered as {@link numParams} counts it and as the dense matrices are (kernel
   * `[D, K]` rows, then the bias).
   *
   * @param numSamples `S`, a positive integer; @param seed seed of the draws.
   * @throws ArgumentError naming `numSamples` or `seed`.
   */
  sample(numSamples: number, seed?: number): tf.Tensor2D {
    if (!Number.isInteger(numSamples) || numSamples < 1) {
      throw new ArgumentError('numSamples', `expected a positive integer, got ${numSamples}`);
    }
    if (seed !== undefined && (typeof seed !== 'number' || !Number.isFinite(seed))) {
      throw new ArgumentError('seed', `expected a finite number, got ${String(seed)}`);
    }
    const seeds = deriveSeeds(nextSeed(seed), this.blocks.length);
    const theta = this.mapWeights();
    try {
      return tf.tidy(() =>
        tf.concat(
          this.blocks.map((_, b) =>
            tf.add(
              posteriorDeviations(this.blockOf(b), this.deltaOf(b), numSamples, seeds[b] as number),
              tf.expandDims(theta[b] as tf.Tensor1D, 0),
            ),
          ),
          1,
        ),
      ) as tf.Tensor2D;
    } finally {
      tf.dispose(theta);
    }
  }

  /** Classes of the class probabilities: 2 for a binary head, else the outputs `K`. */
  protected classesFor(k: number): number {
    return numClassesOf(k, this.outputLikelihood);
  }

  /** Rows of `x`, checked against the model's input (an empty batch allowed). */
  protected abstract rows(x: ModelInput): number;

  /**
   * `fn` over batches of `x` (`batchSize` rows each; every input tensor sliced alike), concatenated
   * along `axis`; for `N = 0` zeros of `emptyShape`.
   */
  protected batched(
    x: ModelInput,
    fn: (xb: ModelInput) => tf.Tensor,
    axis: number,
    emptyShape: number[],
  ): tf.Tensor {
    const n = this.rows(x);
    if (n === 0) return tf.zeros(emptyShape);
    const parts: tf.Tensor[] = [];
    try {
      for (let i = 0; i < n; i += this.batchSize) {
        const size = Math.min(this.batchSize, n - i);
        parts.push(tf.tidy(() => fn(sliceInputs(x, i, size))));
      }
      return parts.length === 1 ? (parts[0] as tf.Tensor).clone() : tf.concat(parts, axis);
    } finally {
      tf.dispose(parts);
    }
  }

  /**
   * Laplace log marginal likelihood (laplace-torch's `log_marginal_likelihood(prior_precision,
   * sigma_noise)`) at prior precision `delta` (default: the current one):
   *
   * $$\log p(\mathcal D\mid\delta) \approx \log p(\mathcal D\mid\theta_*)
   *   - \tfrac12\Big[\sum_b \log\det(H_b + \delta I) - P\log\delta\Big] - \tfrac\delta2\lVert\theta_*\rVert^2 .$$
   *
   * Exact for a linear-Gaussian model (Bayesian linear regression) when `theta_*` is the posterior
   * mean for `delta`.
   *
   * For regression, `sigmaNoise` (default: the fit's `sigma_0`) evaluates it at another Gaussian
   * noise with the same `theta_*`, as laplace-torch does when `sigma_noise` is tuned (e.g. by
   * gradient ascent on this value): with `R = sum_n ||y_n - f(x_n; theta_*)||^2` over the `N K`
   * targets and the GGN `H = J^T J / sigma^2`,
   *
   * $$\log p(\mathcal D\mid\theta_*, \sigma) = -\frac{R}{2\sigma^2} - \frac{NK}{2}\log(2\pi\sigma^2),
   *   \qquad H(\sigma) = \frac{\sigma_0^2}{\sigma^2} H(\sigma_0).$$
   *
   * It only scores `sigma`: the posterior and the predictive keep the fit's `sigma_0` (fit again
   * with `sigmaNoise` to use another).
   *
   * `priorPrecision` may also be one precision per block (layer), `[delta_1, ..., delta_B]`: the
   * bracket is then `sum_b [log det(H_b + delta_b I) - P_b log delta_b + delta_b ||theta_{*,b}||^2]`
   * (the default is the precisions in use, per layer when {@link layerPriorPrecision} was set).
   *
   * Or one precision per parameter, `[delta_1, ..., delta_P]` (ordered as {@link sample}'s
   * columns; `diag` and `full` structures only): the bracket is then
   * `sum_b [log det(H_b + diag(delta_b)) - sum_i log delta_i + sum_i delta_i theta_{*,i}^2]`
   * (the default when {@link paramPriorPrecision} was set).
   *
   * @throws ArgumentError naming `priorPrecision` or `sigmaNoise` unless finite and `> 0`, and
   *   `sigmaNoise` for a classifier (no noise to vary); `priorPrecision` for an array of neither
   *   `B` nor `P` values, or of `P` values for `kron`.
   */
  logMarginalLikelihood(
    priorPrecision: number | readonly number[] = this.paramDeltas !== undefined
      ? this.paramPriorPrecision
      : (this.layerDeltas ?? this.delta),
    sigmaNoise?: number,
  ): number {
    const perParam =
      typeof priorPrecision !== 'number' &&
      Array.isArray(priorPrecision) &&
      priorPrecision.length !== this.blocks.length;
    const pDeltas = perParam ? this.checkParamDeltas(priorPrecision) : undefined;
    const deltas =
      typeof priorPrecision === 'number' || perParam ? undefined : this.checkDeltas(priorPrecision);
    if (deltas === undefined && !perParam) {
      checkPositive(priorPrecision as number, 'priorPrecision');
    }
    const score = (ll: number, c: number): number =>
      pDeltas !== undefined
        ? laplaceLogMarginalParams(this.blocks, ll, this.blockTheta(), pDeltas, c)
        : deltas === undefined
          ? laplaceLogMarginal(this.blocks, ll, this.thetaSq, priorPrecision as number, c)
          : laplaceLogMarginalBlocks(this.blocks, ll, this.blockThetaSq(), deltas, c);
    if (sigmaNoise === undefined) return score(this.logLikelihood, 1);
    checkPositive(sigmaNoise, 'sigmaNoise');
    if (this.outputLikelihood !== 'gaussian') {
      throw new ArgumentError(
        'sigmaNoise',
        "is only for likelihood 'regression' (a classifier's likelihood has no noise)",
      );
    }
    const s0 = this.fitSigmaNoise * this.fitSigmaNoise;
    const s2 = sigmaNoise * sigmaNoise;
    const half = 0.5 * this.n * this.outputDim();
    // R from the fit's log-likelihood: ll_0 = -R / (2 sigma_0^2) - (N K / 2) log(2 pi sigma_0^2)
    const rss = -2 * s0 * (this.logLikelihood + half * Math.log(2 * Math.PI * s0));
    const ll = -rss / (2 * s2) - half * Math.log(2 * Math.PI * s2);
    return score(ll, s0 / s2);
  }

  /**
   * Fit the prior precision (laplace-torch's `optimize_prior_precision`) and set it.
   *
   * `method: 'marglik'` (default) sets it to the maximiser of {@link logMarginalLikelihood}: its
   * derivative `1/2 [P/delta - sum_i 1/(lambda_i + delta) - ||theta||^2]` is decreasing in
   * `delta`, so the unique root is found by bisection in `log delta` on `[1e-8, 1e8]`.
   *
   * With `{ priorStructure: 'layerwise' }` (laplace-torch's `prior_structure='layerwise'`), one
   * precision per block: the marginal likelihood is a sum of one such term per block in its own
   * `delta_b`, so each is the root of `P_b/delta_b - sum_{i in b} 1/(lambda_i + delta_b) -
   * ||theta_{*,b}||^2`; they are set as {@link layerPriorPrecision} and returned.
   *
   * With `{ priorStructure: 'diag' }` (one precision per parameter; `diag` and `full` structures),
   * each `delta_i` solves `1/delta_i - Sigma_ii - theta_i^2 = 0` (closed form for `diag`, MacKay's
   * fixed point for `full`; see `maximizeParamMarginal`); they are set as
   * {@link paramPriorPrecision} and returned.
   *
   * `method: 'gridsearch'` (laplace-torch's gridsearch) tries the scalar precisions
   * `delta_g = 10^(m + g (M - m) / (G - 1))`, `g = 0..G-1` (`m = logPriorPrecMin`,
   * `M = logPriorPrecMax`, `G = gridSize`), and keeps the first with the lowest validation NLL,
   *
   * $$\mathrm{NLL}(\delta) = -\frac1M\sum_{m}\log \hat p_\delta(y_m\mid x_m),$$
   *
   * `p^` the class probabilities of the predictive (`predType: 'glm'` with `link`, or `'nn'`: the
   * mean of `softmax(f(x; theta_s))` over `numSamples` weight draws), or for regression the
   * Gaussian `N(y; mu, diag(var) + sigma^2 I)` with the GLM's mean and variance (`'nn'`: the mean
   * and variance of `f(x; theta_s)` over the draws). laplace-torch scores regression by the MSE,
   * which does not depend on `delta` for the GLM; the Gaussian NLL does. The draws use the same
   * `seed` at every grid point, so the grid is compared on common random numbers.
   *
   * @returns the fitted prior precision (one per block for `'layerwise'`, per parameter for
   *   `'diag'`).
   * @throws ArgumentError naming the option (an unknown key, a value out of range, `xVal`/`yVal`
   *   missing or not matching the model, a gridsearch option with `'marglik'`, a non-scalar
   *   gridsearch, `'diag'` for `kron`), before any work.
   */
  optimizePriorPrecision(options?: PriorPrecisionOptions & { priorStructure?: 'scalar' }): number;
  optimizePriorPrecision(
    options: PriorPrecisionOptions & { priorStructure: 'layerwise' | 'diag' },
  ): number[];
  optimizePriorPrecision(options: PriorPrecisionOptions = {}): number | number[] {
    optionsObject(options, PRIOR_OPTIONS, 'optimizePriorPrecision');
    const method = options.method ?? 'marglik';
    if (method !== 'marglik' && method !== 'gridsearch') {
      throw new ArgumentError(
        'method',
        `expected 'marglik' or 'gridsearch', got '${String(method)}'`,
      );
    }
    const structure = options.priorStructure ?? 'scalar';
    if (structure !== 'scalar' && structure !== 'layerwise' && structure !== 'diag') {
      throw new ArgumentError(
        'priorStructure',
        `expected 'scalar', 'layerwise' or 'diag', got '${String(structure)}'`,
      );
    }
    if (method === 'gridsearch') {
      const host: GridsearchHost = {
        likelihood: this.likelihood,
        binary: this.binary,
        outputLikelihood: this.outputLikelihood,
        sigmaNoise: this.fitSigmaNoise,
        outputDim: () => this.outputDim(),
        classes: () => this.classesFor(this.outputDim()),
        rows: (x) => this.rows(x),
        setPrecision: (d) => {
          this.priorPrecision = d;
        },
        snapshot: () => this.priorSnapshot(),
        predictProbs: (x, o) => this.predictProbs(x, o),
        glmPredictive: (x) => this.glmPredictive(x),
        nnSampleOutputs: (x, n, seed) => this.nnSampleOutputs(x, n, seed),
      };
      return gridsearchPriorPrecision(host, options, structure);
    }
    const extra = PRIOR_OPTIONS.slice(2).find(
      (key) => (options as Record<string, unknown>)[key] !== undefined,
    );
    if (extra !== undefined) {
      throw new ArgumentError(extra, "is a gridsearch option; pass method: 'gridsearch'");
    }
    if (structure === 'layerwise') {
      const t = this.blockThetaSq();
      const d = this.blocks.map((e, b) => maximizeLaplaceMarginal([e], t[b] as number));
      this.layerPriorPrecision = d;
      return [...d];
    }
    if (structure === 'diag') {
      if (this.blocks.some((e) => e.structure === 'kron')) {
        throw new ArgumentError(
          'priorStructure',
          "'diag' (per-parameter precisions) needs hessianStructure 'diag' or 'full'; 'kron' takes 'scalar' or 'layerwise'",
        );
      }
      const th = this.blockTheta();
      const d = this.blocks.flatMap((e, b) => [...maximizeParamMarginal(e, th[b] as Float64Array)]);
      this.paramPriorPrecision = d;
      return d;
    }
    this.priorPrecision = maximizeLaplaceMarginal(this.blocks, this.thetaSq);
    return this.priorPrecision;
  }
}
