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
import {
  laplaceLogMarginal,
  maximizeLaplaceMarginal,
  numLaplaceParams,
} from './marginal_likelihood.js';
import { posteriorDeviations, type EigenCurvature } from './posterior.js';
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
  priorPrecision: number;
  likelihood: LaplaceLikelihood;
  hessianStructure: S;
  /** Inputs per pass at prediction. */
  batchSize: number;
  /** The regression noise `sigma_0` the curvature and log-likelihood were computed with. */
  sigmaNoise: number;
}

/** Base of the Laplace posteriors: the marginal likelihood and the prior precision. */
export abstract class LaplacePosterior<S extends string> {
  /** Isotropic prior precision `delta` in use. */
  priorPrecision: number;
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
  protected readonly blocks: readonly EigenCurvature[];
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
    this.blocks = blocks;
    this.thetaSq = fit.thetaSq;
    this.n = fit.n;
    this.logLikelihood = fit.logLikelihood;
    this.outputLikelihood = fit.outputLikelihood;
    this.binary = fit.outputLikelihood === 'bernoulli';
    this.priorPrecision = options.priorPrecision;
    this.likelihood = options.likelihood;
    this.structure = options.hessianStructure;
    this.batchSize = options.batchSize;
    this.fitSigmaNoise = options.sigmaNoise;
  }

  /** Outputs `K` of the network (the last layer's units, or the model's outputs). */
  protected abstract outputDim(): number;

  /**
   * The MAP weights of every block as a flat `[D1 * K]` tensor each, ordered `(d, k)`: the kernel
   * `[D, K]` rows (a convolution's kernel flattened to `[kh kw cin, cout]`), then the bias row.
   */
  protected abstract mapWeights(): tf.Tensor1D[];

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
          this.blocks.map((e, b) =>
            tf.add(
              posteriorDeviations(e, this.priorPrecision, numSamples, seeds[b] as number),
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

  /** Parameters with a posterior, `P = sum_b (D_b + 1) K_b`. */
  get numParams(): number {
    return numLaplaceParams(this.blocks);
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
   * @throws ArgumentError naming `priorPrecision` or `sigmaNoise` unless finite and `> 0`, and
   *   `sigmaNoise` for a classifier (no noise to vary).
   */
  logMarginalLikelihood(priorPrecision: number = this.priorPrecision, sigmaNoise?: number): number {
    checkPositive(priorPrecision, 'priorPrecision');
    if (sigmaNoise === undefined) {
      return laplaceLogMarginal(this.blocks, this.logLikelihood, this.thetaSq, priorPrecision);
    }
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
    return laplaceLogMarginal(this.blocks, ll, this.thetaSq, priorPrecision, s0 / s2);
  }

  /**
   * Set the prior precision to the maximiser of {@link logMarginalLikelihood}: its derivative
   * `1/2 [P/delta - sum_i 1/(lambda_i + delta) - ||theta||^2]` is decreasing in `delta`, so the
   * unique root is found by bisection in `log delta` on `[1e-8, 1e8]`.
   *
   * @returns the fitted prior precision.
   */
  optimizePriorPrecision(): number {
    this.priorPrecision = maximizeLaplaceMarginal(this.blocks, this.thetaSq);
    return this.priorPrecision;
  }
}
