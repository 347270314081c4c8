/**
 * What every fitted Laplace approximation has (last layer or all layers): the Gaussian posterior
 * `N(theta_*, (H + delta I)^{-1})` with a block-diagonal curvature `H` held on the host as
 * eigen-forms, the training data's log-likelihood at `theta_*` and `||theta_*||^2`, and from them
 * the Laplace marginal likelihood in the isotropic prior precision `delta` and its maximiser
 * (`marginal_likelihood.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../../utils/errors.js';
import { checkLink, checkPositive, checkTargets } from './checks.js';
import { sliceInputs, type ModelInput } from '../../../layers/model_input.js';
import type { LaplaceLikelihood } from './curvature.js';
import { classProbs, numClassesOf, type OutputLikelihood } from './likelihood.js';
import { integerOption, optionsObject } from '../../../utils/options.js';
import {
  laplaceLogMarginal,
  laplaceLogMarginalBlocks,
  laplaceLogMarginalParams,
  maximizeLaplaceMarginal,
  maximizeParamMarginal,
  numLaplaceParams,
} from './marginal_likelihood.js';
import { posteriorDeviations, withParamPrior, type EigenCurvature } from './posterior.js';
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

/** How {@link LaplacePosterior.optimizePriorPrecision} fits the prior precision. */
export interface PriorPrecisionOptions {
  /**
   * `'marglik'` (default): maximise the Laplace marginal likelihood; `'gridsearch'`: the scalar
   * precision of a log grid with the lowest validation NLL (needs `xVal`, `yVal`).
   */
  method?: 'marglik' | 'gridsearch';
  /**
   * `'marglik'`: `'scalar'` (default), `'layerwise'` (one per block) or `'diag'` (one per
   * parameter; `diag` / `full` structures). `'gridsearch'` takes `'scalar'` only.
   */
  priorStructure?: 'scalar' | 'layerwise' | 'diag';
  /** Gridsearch: validation inputs `[M, ...]` shaped like the model's input. */
  xVal?: ModelInput;
  /** Gridsearch: validation labels (`M` integers) or targets `[M, K]`. */
  yVal?: tf.Tensor | ArrayLike<number>;
  /**
   * Gridsearch: `'glm'` (default, the linearised predictive) or `'nn'` (the network run with
   * sampled weights, `numSamples` draws; laplace-torch's `pred_type='nn'`).
   */
  predType?: 'glm' | 'nn';
  /**
   * Gridsearch, classification with `predType: 'glm'`: `'probit'` (default), `'mc'`, `'bridge'` or
   * `'bridgeNorm'` (ignored by `'nn'`, whose probabilities are the Monte Carlo mean).
   */
  link?: 'probit' | 'mc' | 'bridge' | 'bridgeNorm';
  /** Gridsearch: Monte Carlo draws for `'nn'` or `link: 'mc'` (default 100). */
  numSamples?: number;
  /** Gridsearch: seed of the draws, the same at every grid point. */
  seed?: number;
  /** Gridsearch: grid points (default 100), `log10 delta` evenly spaced on `[min, max]`. */
  gridSize?: number;
  /** Gridsearch: `log10` of the smallest precision (default -4). */
  logPriorPrecMin?: number;
  /** Gridsearch: `log10` of the largest precision (default 4). */
  logPriorPrecMax?: number;
}

const PRIOR_OPTIONS = [
  'method',
  'priorStructure',
  'xVal',
  'yVal',
  'predType',
  'link',
  'numSamples',
  'seed',
  'gridSize',
  'logPriorPrecMin',
  'logPriorPrecMax',
];

/** `fn()`, its `ArgumentError` on `from` (or `from[i]`) renamed to `to` (`to[i]`). */
function renamed<T>(from: string, to: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ArgumentError && (e.argument === from || e.argument.startsWith(`${from}[`))) {
      const arg = to + e.argument.slice(from.length);
      throw new ArgumentError(arg, e.message.slice(e.argument.length + 2));
    }
    throw e;
  }
}

/** Base of the Laplace posteriors: the marginal likelihood and the prior precision. */
export abstract class LaplacePosterior<S extends string> {
  private delta = 1;
  /** Per-block prior precisions, when set (`layerPriorPrecision`); else `delta` for every block. */
  private layerDeltas: number[] | undefined;
  /** Per-parameter prior precisions, per block, when set (`paramPriorPrecision`). */
  private paramDeltas: Float64Array[] | undefined;
  /** The blocks' posteriors `H_b + diag(delta_b)` as eigen forms, for `paramDeltas`. */
  private paramBlocks: EigenCurvature[] | undefined;
  private thetaCache: Float64Array[] | undefined;
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
    this.likelihood = options.likelihood;
    this.structure = options.hessianStructure;
    this.batchSize = options.batchSize;
    this.fitSigmaNoise = options.sigmaNoise;
    const prior = options.priorPrecision;
    if (typeof prior === 'number') this.priorPrecision = prior;
    else if (prior.length === this.blocks.length) this.layerPriorPrecision = [...prior];
    else this.paramPriorPrecision = [...prior];
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
    const layers = this.blockLayers();
    const saved = layers.map((l) => l.getWeights().map((w) => w.clone()));
    const outs: tf.Tensor[] = [];
    try {
      for (let s = 0; s < numSamples; s++) {
        let at = 0;
        layers.forEach((l, b) => {
          const ws = saved[b] as tf.Tensor[];
          const vals = ws.map((w) => {
            const t = tf.tidy(() => tf.reshape(tf.slice(draws, [s, at], [1, w.size]), w.shape));
            at += w.size;
            return t;
          });
          try {
            l.setWeights(vals);
          } finally {
            tf.dispose(vals);
          }
        });
        outs.push(this.batched(x, (xb) => this.forwardOutputs(xb), 0, [0, k]));
      }
      return tf.stack(outs) as tf.Tensor3D;
    } finally {
      layers.forEach((l, b) => l.setWeights(saved[b] as tf.Tensor[]));
      tf.dispose(saved);
      tf.dispose(outs);
      draws.dispose();
    }
  }

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
   * Isotropic prior precision `delta` in use (the prior `theta ~ N(0, I / delta)`). Setting it
   * (finite, `> 0`) gives every parameter this precision, dropping per-layer and per-parameter
   * precisions; while per-layer ({@link layerPriorPrecision}) or per-parameter
   * ({@link paramPriorPrecision}) precisions are in use, it keeps the last isotropic value and is
   * not used: read those (laplace-torch's `prior_precision` returns whichever tensor is set).
   */
  get priorPrecision(): number {
    return this.delta;
  }

  set priorPrecision(v: number) {
    checkPositive(v, 'priorPrecision');
    this.delta = v;
    this.layerDeltas = undefined;
    this.clearParamDeltas();
  }

  /**
   * The prior precision of every parameter, `[delta_1, ..., delta_P]` (laplace-torch's
   * `prior_precision` of length `P`, i.e. `prior_precision_diag`), ordered as {@link sample}'s
   * columns (blocks in order; per block the kernel `[D, K]` rows, then the bias): the prior is
   * `theta_i ~ N(0, 1/delta_i)` and the posterior precision of block `b`
   *
   * $$\Lambda_b = H_b + \operatorname{diag}(\delta_b),$$
   *
   * exact for the `diag` and `full` structures (a `full` block is eigendecomposed again, `O(P_b^3)`,
   * when set). Reads the scalar or per-layer precisions expanded when those are in use. Setting it
   * (an array of `P` finite numbers `> 0`) replaces them.
   *
   * @throws ArgumentError naming `priorPrecision` on a wrong length or value, and for `kron`: a
   *   Kronecker factor has no per-parameter prior term (`diag(delta)` is not `A (x) G`), so, as
   *   laplace-torch's `KronLaplace`, it takes a number or one precision per layer.
   */
  get paramPriorPrecision(): number[] {
    const out: number[] = [];
    this.blocks.forEach((e, b) => {
      const d = this.paramDeltas?.[b];
      for (let i = 0; i < e.d1 * e.k; i++) {
        out.push(d !== undefined ? (d[i] as number) : (this.layerDeltas?.[b] ?? this.delta));
      }
    });
    return out;
  }

  set paramPriorPrecision(v: number[]) {
    const d = this.checkParamDeltas(v);
    this.layerDeltas = undefined;
    this.paramDeltas = d;
    this.paramBlocks = this.blocks.map((e, b) => withParamPrior(e, d[b] as Float64Array));
  }

  /**
   * The prior precision of every block (layer with a posterior), `[delta_1, ..., delta_B]`
   * (laplace-torch's layerwise `prior_precision`; one block for the last layer): the prior is
   * `theta_b ~ N(0, I / delta_b)` and the posterior `N(theta_*, (H_b + delta_b I)^{-1})` per block.
   * Reads `delta` repeated when isotropic. Set it to an array of `B` finite numbers `> 0`.
   */
  get layerPriorPrecision(): number[] {
    return this.blocks.map((_, b) => this.layerDeltas?.[b] ?? this.delta);
  }

  set layerPriorPrecision(v: number[]) {
    this.layerDeltas = this.checkDeltas(v);
    this.clearParamDeltas();
  }

  /**
   * The isotropic prior precision to add to {@link blockOf}`(b)`'s eigenvalues: block `b`'s
   * precision, or `0` under per-parameter precisions (already in the block).
   */
  protected deltaOf(b: number): number {
    if (this.paramBlocks !== undefined) return 0;
    return this.layerDeltas?.[b] ?? this.delta;
  }

  /**
   * Block `b`'s posterior eigen form: the curvature `H_b` (posterior precision
   * `H_b + deltaOf(b) I`), or `H_b + diag(delta_b)` itself under per-parameter precisions.
   */
  protected blockOf(b: number): EigenCurvature {
    return (this.paramBlocks ?? this.blocks)[b] as EigenCurvature;
  }

  /** Every block's {@link blockOf}. */
  protected posteriorBlocks(): readonly EigenCurvature[] {
    return this.paramBlocks ?? this.blocks;
  }

  private clearParamDeltas(): void {
    this.paramDeltas = undefined;
    this.paramBlocks = undefined;
  }

  /** Per-parameter precisions checked (`P` finite values `> 0`, no `kron` block), split per block. */
  private checkParamDeltas(v: readonly number[]): Float64Array[] {
    const p = this.numParams;
    if (!Array.isArray(v) || v.length !== p) {
      throw new ArgumentError(
        'priorPrecision',
        `expected a number, ${this.blocks.length} per-layer or ${p} per-parameter precisions, got ${Array.isArray(v) ? `${v.length} values` : String(v)}`,
      );
    }
    if (this.blocks.some((e) => e.structure === 'kron')) {
      throw new ArgumentError(
        'priorPrecision',
        `${p} per-parameter precisions need hessianStructure 'diag' or 'full'; 'kron' takes a number or ${this.blocks.length} per-layer precisions (as laplace-torch's KronLaplace)`,
      );
    }
    v.forEach((d, i) => checkPositive(d, `priorPrecision[${i}]`));
    let at = 0;
    return this.blocks.map((e) => {
      const n = e.d1 * e.k;
      const out = Float64Array.from(v.slice(at, at + n));
      at += n;
      return out;
    });
  }

  private checkDeltas(v: readonly number[]): number[] {
    if (!Array.isArray(v) || v.length !== this.blocks.length) {
      throw new ArgumentError(
        'priorPrecision',
        `expected a number, ${this.blocks.length} per-layer or ${this.numParams} per-parameter precisions, got ${Array.isArray(v) ? `${v.length} values` : String(v)}`,
      );
    }
    v.forEach((d, b) => checkPositive(d, `priorPrecision[${b}]`));
    return [...v];
  }

  /** `||theta_{*,b}||^2` per block (host, computed once). */
  private blockThetaSq(): number[] {
    if (this.thetaSqCache === undefined) {
      this.thetaSqCache = this.blockTheta().map((v) => {
        let s = 0;
        for (let i = 0; i < v.length; i++) s += (v[i] as number) ** 2;
        return s;
      });
    }
    return this.thetaSqCache;
  }

  /** `theta_{*,b}` per block on the host (float64 copies, computed once). */
  private blockTheta(): Float64Array[] {
    if (this.thetaCache === undefined) {
      const theta = this.mapWeights();
      try {
        this.thetaCache = theta.map((t) => Float64Array.from(t.dataSync()));
      } finally {
        tf.dispose(theta);
      }
    }
    return this.thetaCache;
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
    if (method === 'gridsearch') return this.gridsearch(options, structure);
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

  /** The gridsearch of {@link optimizePriorPrecision}, options checked first. */
  private gridsearch(o: PriorPrecisionOptions, structure: string): number {
    if (structure !== 'scalar') {
      throw new ArgumentError(
        'priorStructure',
        `gridsearch fits one scalar precision; got '${structure}' (use method 'marglik')`,
      );
    }
    if (o.xVal === undefined) throw new ArgumentError('xVal', 'gridsearch needs validation inputs');
    if (o.yVal === undefined)
      throw new ArgumentError('yVal', 'gridsearch needs validation targets');
    const predType = o.predType ?? 'glm';
    if (predType !== 'glm' && predType !== 'nn') {
      throw new ArgumentError('predType', `expected 'glm' or 'nn', got '${String(predType)}'`);
    }
    const cls = this.likelihood === 'classification';
    const link = cls ? checkLink(o.link ?? 'probit', this.binary) : undefined;
    if (!cls && o.link !== undefined) {
      throw new ArgumentError('link', "is for likelihood 'classification' (regression has none)");
    }
    const numSamples = integerOption(o.numSamples, 'numSamples', 100);
    const gridSize = integerOption(o.gridSize, 'gridSize', 100);
    const lo = o.logPriorPrecMin ?? -4;
    const hi = o.logPriorPrecMax ?? 4;
    for (const [v, name] of [
      [lo, 'logPriorPrecMin'],
      [hi, 'logPriorPrecMax'],
    ] as const) {
      if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > 30) {
        throw new ArgumentError(name, `expected a finite number in [-30, 30], got ${String(v)}`);
      }
    }
    if (hi < lo) {
      throw new ArgumentError('logPriorPrecMax', `expected >= logPriorPrecMin (${lo}), got ${hi}`);
    }
    const xVal = o.xVal;
    const m = renamed('x', 'xVal', () => this.rows(xVal));
    if (m < 1) throw new ArgumentError('xVal', 'expected at least 1 validation input, got 0');
    const k = this.outputDim();
    const yv = renamed('y', 'yVal', () =>
      checkTargets(o.yVal as tf.Tensor, m, this.classesFor(k), this.likelihood),
    );
    const seed = nextSeed(o.seed);
    const grid = Array.from({ length: gridSize }, (_, g) =>
      Math.pow(10, gridSize === 1 ? lo : lo + (g * (hi - lo)) / (gridSize - 1)),
    );
    const before = { delta: this.delta, layer: this.layerDeltas, param: this.paramDeltas };
    let best = Infinity;
    let bestDelta = grid[0] as number;
    try {
      for (const d of grid) {
        this.priorPrecision = d;
        const nll = this.validationNll(o.xVal, yv, m, predType, link, numSamples, seed);
        if (nll < best) {
          best = nll;
          bestDelta = d;
        }
      }
    } catch (e) {
      this.delta = before.delta;
      this.layerDeltas = before.layer;
      if (before.param !== undefined)
        this.paramPriorPrecision = before.param.flatMap((v) => [...v]);
      throw e;
    }
    this.priorPrecision = bestDelta;
    return bestDelta;
  }

  /** Mean validation NLL of the current posterior (float64 on the host). */
  private validationNll(
    x: ModelInput,
    y: Float64Array,
    m: number,
    predType: 'glm' | 'nn',
    link: 'probit' | 'mc' | 'bridge' | 'bridgeNorm' | undefined,
    numSamples: number,
    seed: number,
  ): number {
    const k = this.outputDim();
    if (link !== undefined) {
      let probs: tf.Tensor;
      if (predType === 'nn') {
        const f = this.nnSampleOutputs(x, numSamples, seed);
        probs = tf.tidy(() => tf.mean(classProbs(f, this.outputLikelihood), 0));
        f.dispose();
      } else {
        probs = this.predictProbs(x, { link, numSamples, seed });
      }
      const p = probs.dataSync();
      probs.dispose();
      const c = this.classesFor(k);
      let s = 0;
      for (let i = 0; i < m; i++)
        s -= Math.log(Math.max(p[i * c + (y[i] as number)] as number, 1e-300));
      return s / m;
    }
    let mean: Float32Array | Float64Array;
    let variance: Float32Array | Float64Array;
    if (predType === 'nn') {
      const f = this.nnSampleOutputs(x, numSamples, seed);
      const [mu, v] = tf.tidy(() => {
        const mo = tf.moments(f, 0);
        return [mo.mean.dataSync(), mo.variance.dataSync()] as const;
      });
      f.dispose();
      mean = mu as Float32Array;
      variance = v as Float32Array;
    } else {
      const { mean: mu, cov } = this.glmPredictive(x);
      mean = mu.dataSync() as Float32Array;
      variance = tf.tidy(() => tf.sum(tf.mul(cov, tf.eye(k)), 2).dataSync()) as Float32Array;
      tf.dispose([mu, cov]);
    }
    const s0 = this.fitSigmaNoise * this.fitSigmaNoise;
    let s = 0;
    for (let i = 0; i < m * k; i++) {
      const v = (variance[i] as number) + s0;
      s += 0.5 * (Math.log(2 * Math.PI * v) + ((y[i] as number) - (mean[i] as number)) ** 2 / v);
    }
    return s / m;
  }
}
