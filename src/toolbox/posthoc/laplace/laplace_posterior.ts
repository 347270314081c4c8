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
  private delta = 1;
  /** Per-block prior precisions, when set (`layerPriorPrecision`); else `delta` for every block. */
  private layerDeltas: number[] | undefined;
  private thetaSqCache: number[] | undefined;
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
    this.delta = options.priorPrecision;
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
              posteriorDeviations(e, this.deltaOf(b), numSamples, seeds[b] as number),
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
   * `priorPrecision` may also be one precision per block (layer), `[delta_1, ..., delta_B]`: the
   * bracket is then `sum_b [log det(H_b + delta_b I) - P_b log delta_b + delta_b ||theta_{*,b}||^2]`
   * (the default is the precisions in use, per layer when {@link layerPriorPrecision} was set).
   *
   * @throws ArgumentError naming `priorPrecision` or `sigmaNoise` unless finite and `> 0`, and
   *   `sigmaNoise` for a classifier (no noise to vary).
   */
  logMarginalLikelihood(
    priorPrecision: number | readonly number[] = this.layerDeltas ?? this.delta,
    sigmaNoise?: number,
  ): number {
    const deltas =
      typeof priorPrecision === 'number' ? undefined : this.checkDeltas(priorPrecision);
    if (deltas === undefined) checkPositive(priorPrecision as number, 'priorPrecision');
    const score = (ll: number, c: number): number =>
      deltas === undefined
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
   * Isotropic prior precision `delta` in use (the prior `theta ~ N(0, I / delta)`). Setting it
   * (finite, `> 0`) gives every layer this precision, dropping per-layer precisions; while
   * per-layer precisions are in use ({@link layerPriorPrecision}), it keeps the last isotropic
   * value and is not used.
   */
  get priorPrecision(): number {
    return this.delta;
  }

  set priorPrecision(v: number) {
    checkPositive(v, 'priorPrecision');
    this.delta = v;
    this.layerDeltas = undefined;
  }

  /**
   * The prior precision of every block (layer with a posterior), `[delta_1, ..., delta_B]`
   * (laplace-torch's layerwise `prior_precision`; one block for the last layer): the prior is
   * `theta_b ~ N(0, I / delta_b)` and the posterior `N(theta_*, (H_b + delta_b I)^{-1})` per block.
   * Reads `delta` repeated when isotropic. Set it to an array of `B` finite numbers `> 0`.
   */
  get layerPriorPrecision(): number[] {
    return this.blocks.map((_, b) => this.deltaOf(b));
  }

  set layerPriorPrecision(v: number[]) {
    this.layerDeltas = this.checkDeltas(v);
  }

  /** The prior precision of block `b`. */
  protected deltaOf(b: number): number {
    return this.layerDeltas?.[b] ?? this.delta;
  }

  private checkDeltas(v: readonly number[]): number[] {
    if (!Array.isArray(v) || v.length !== this.blocks.length) {
      throw new ArgumentError(
        'priorPrecision',
        `expected a number or ${this.blocks.length} per-layer precisions, got ${Array.isArray(v) ? `${v.length} values` : String(v)}`,
      );
    }
    v.forEach((d, b) => checkPositive(d, `priorPrecision[${b}]`));
    return [...v];
  }

  /** `||theta_{*,b}||^2` per block (host, computed once). */
  private blockThetaSq(): number[] {
    if (this.thetaSqCache === undefined) {
      const theta = this.mapWeights();
      try {
        this.thetaSqCache = theta.map((t) => {
          const v = t.dataSync();
          let s = 0;
          for (let i = 0; i < v.length; i++) s += (v[i] as number) ** 2;
          return s;
        });
      } finally {
        tf.dispose(theta);
      }
    }
    return this.thetaSqCache;
  }

  /**
   * Set the prior precision to the maximiser of {@link logMarginalLikelihood}: its derivative
   * `1/2 [P/delta - sum_i 1/(lambda_i + delta) - ||theta||^2]` is decreasing in `delta`, so the
   * unique root is found by bisection in `log delta` on `[1e-8, 1e8]`.
   *
   * With `{ priorStructure: 'layerwise' }` (laplace-torch's `prior_structure='layerwise'`), one
   * precision per block: the marginal likelihood is a sum of one such term per block in its own
   * `delta_b`, so each is the root of `P_b/delta_b - sum_{i in b} 1/(lambda_i + delta_b) -
   * ||theta_{*,b}||^2`; they are set as {@link layerPriorPrecision} and returned.
   *
   * @returns the fitted prior precision (one per block for `'layerwise'`).
   * @throws ArgumentError naming `priorStructure` (`'scalar'` or `'layerwise'`) or an unknown key.
   */
  optimizePriorPrecision(options?: { priorStructure?: 'scalar' }): number;
  optimizePriorPrecision(options: { priorStructure: 'layerwise' }): number[];
  optimizePriorPrecision(
    options: { priorStructure?: 'scalar' | 'layerwise' } = {},
  ): number | number[] {
    optionsObject(options, ['priorStructure'], 'optimizePriorPrecision');
    const structure = options.priorStructure ?? 'scalar';
    if (structure === 'layerwise') {
      const t = this.blockThetaSq();
      this.layerDeltas = this.blocks.map((e, b) => maximizeLaplaceMarginal([e], t[b] as number));
      return [...this.layerDeltas];
    }
    if (structure !== 'scalar') {
      throw new ArgumentError(
        'priorStructure',
        `expected 'scalar' or 'layerwise', got '${String(structure)}'`,
      );
    }
    this.priorPrecision = maximizeLaplaceMarginal(this.blocks, this.thetaSq);
    return this.priorPrecision;
  }
}
