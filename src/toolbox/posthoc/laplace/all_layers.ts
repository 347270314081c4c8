/**
 * Laplace approximation over all weights of a network (laplace-torch's
 * `subset_of_weights='all'`): every `Dense` and `Conv2D` layer `l` gets a Gaussian posterior
 * `N(theta_l*, (H_l + delta I)^{-1})` from the generalised Gauss-Newton of the whole network,
 * block-diagonal over layers, in a `diag` or `kron` (KFAC) structure:
 *
 * $$H = \sum_n J_n^T \Lambda_n J_n,\qquad \Lambda_n = \sum_c u_{n,c} u_{n,c}^T,\quad
 *   u_{n,c} = \sqrt{p_{n,c}}\,(e_c - p_n)\ \text{(softmax)},\quad \sqrt{p_n(1-p_n)}\ \text{(Bernoulli, one logit)},\quad e_c/\sigma\ \text{(Gaussian)} .$$
 *
 * With the layer input rows `a~_{n,t}` (`t` over the output positions of a convolution, one row
 * for Dense; bias as a trailing 1) and the back-propagated signals `g_{n,c,t} = J_{z}^T u_{n,c}`:
 *
 * - `diag`: `H_ll = sum_{n,c} (sum_t a~_{n,t} g_{n,c,t}^T)^2` (exact diagonal of the GGN);
 * - `kron`: `H_l ~ (1/(N T)) A (x) G`, `A = sum_{n,t} a~ a~^T`, `G = sum_{n,c,t} g g^T` (KFAC; KFC
 *   for convolutions with independent positions; exact for a Dense layer on one example).
 *
 * The marginal likelihood, its maximiser `delta` and the GLM predictive are those of the
 * last-layer version with the sums running over all layers; the GLM predictive
 * `f(x; theta*) + J(x)(theta - theta*)` is sampled with Jacobian-vector products
 * `J v = sum_l <lin_l(a_l; V_l) + v_b, d f / d z_l>` (one backward pass per output), and its
 * covariance is `J Sigma J^T = sum_l J_l Sigma_l J_l^T` with the per-example Jacobian of output `c`
 * in layer `l`'s parameters `J_{c,l} = sum_t a~_t g_{c,t}^T` (`[D1, U]`, from the same backward
 * passes): with `Sigma_l = Q diag(lambda + delta)^{-1} Q^T`,
 * `(J Sigma J^T)_{ce} = sum_l <M_{c,l} (lambda + delta)^{-1/2}, M_{e,l} (lambda + delta)^{-1/2}>`,
 * `M = Q_A^T J Q_G` (`kron`) or `M = J` (`diag`). A softmax-ended classifier is handled on its
 * logits (see `head.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../../utils/errors.js';
import { integerOption, optionsObject } from '../../../utils/options.js';
import { PREDICT_OPTIONS, checkInputs, checkLink } from './checks.js';
import type { LaplacePredictOptions } from './last_layer.js';
import { LaplacePosterior } from './laplace_posterior.js';
import { nextSeed } from '../../../utils/seed.js';
import type { Predictor } from '../../predictors.js';
import { type LaplaceLikelihood } from './curvature.js';
import { classProbs, probitProbs, bridgeProbs, type OutputLikelihood } from './likelihood.js';
import { type LayerGraph } from './layer_graph.js';
import { inputList, type ModelInput } from '../../../layers/model_input.js';
import { graphForward } from './graph_run.js';
import { denseFromEigen, type EigenCurvature } from './posterior.js';
import { glmJvp, glmMeanCov, sampleDeviations } from './glm_jacobian.js';

/** Hessian structures of the all-weights Laplace approximation. */
export type AllLayersStructure = 'diag' | 'kron';

/** Options of {@link allLayersLaplace}. */
export interface AllLayersLaplaceOptions {
  /**
   * `'classification'` (default: softmax cross-entropy; Bernoulli for a model with one output, a
   * sigmoid or one raw logit) or `'regression'` (Gaussian).
   */
  likelihood?: LaplaceLikelihood;
  /** `'kron'` (default, KFAC per layer) or `'diag'`. */
  hessianStructure?: AllLayersStructure;
  /**
   * Initial prior precision (default 1): a number `delta` (isotropic), one per layer (`B` values,
   * as `layerPriorPrecision`) or one per parameter (`P` values, `diag` only, as
   * `paramPriorPrecision`).
   */
  priorPrecision?: number | readonly number[];
  /** Regression noise standard deviation (default 1). */
  sigmaNoise?: number;
  /** Inputs per pass (default 128). */
  batchSize?: number;
}

/** A fitted all-weights Laplace approximation (host curvature; the model stays the caller's). */
export class AllLayersLaplace extends LaplacePosterior<AllLayersStructure> {
  /** Names of the layers with a posterior, in order. */
  readonly layerNames: string[];
  private readonly graph: LayerGraph;

  /** @internal use {@link allLayersLaplace}. */
  constructor(args: {
    graph: LayerGraph;
    eigs: EigenCurvature[];
    thetaSq: number;
    n: number;
    logLikelihood: number;
    outputLikelihood: OutputLikelihood;
    options: Required<AllLayersLaplaceOptions>;
  }) {
    super(args.eigs, args, args.options);
    this.graph = args.graph;
    this.layerNames = args.graph.params.map((p) => p.layer.name);
  }

  /** Every layer's `[kernel rows, bias]` flattened. */
  protected mapWeights(): tf.Tensor1D[] {
    return this.graph.params.map((p) =>
      tf.tidy(() => tf.concat(p.layer.getWeights().map((w) => tf.reshape(w, [-1]))) as tf.Tensor1D),
    );
  }

  /** Every layer with a posterior. */
  protected blockLayers(): tf.layers.Layer[] {
    return this.graph.params.map((p) => p.layer);
  }

  /** The model's outputs (logits for classification) at the layers' current weights. */
  protected forwardOutputs(xb: ModelInput): tf.Tensor2D {
    return graphForward(this.graph, inputList(xb)).outputs;
  }

  /** Outputs `K` of the model. */
  protected outputDim(): number {
    return this.graph.k;
  }

  /**
   * Eigenvalues of the GGN block of layer `l` (host copy; `[D1 * U]`, ordered as the block's
   * eigenbasis: the diagonal itself for `diag`, `lambda^A_i lambda^G_j / (N T)` for `kron`).
   */
  curvatureEigenvalues(l: number): Float64Array {
    const e = this.blocks[l];
    if (e === undefined) {
      throw new ArgumentError(
        'l',
        `expected a layer index in [0, ${this.blocks.length}), got ${l}`,
      );
    }
    return Float64Array.from(e.lambda);
  }

  /**
   * Layer `l`'s block as a dense row-major `[P_l x P_l]` host matrix (kernel rows `[D, U]`
   * flattened, then the bias): the GGN `H_l`, the posterior precision `H_l + delta I` or the
   * posterior covariance `(H_l + delta I)^{-1}`. For inspection and small layers.
   */
  denseBlock(l: number, which: 'curvature' | 'precision' | 'covariance'): Float64Array {
    const e = this.blocks[l];
    if (e === undefined) {
      throw new ArgumentError(
        'l',
        `expected a layer index in [0, ${this.blocks.length}), got ${l}`,
      );
    }
    if (which === 'curvature') return denseFromEigen(e, 0, 1);
    if (which === 'precision') return denseFromEigen(this.blockOf(l), this.deltaOf(l), 1);
    if (which === 'covariance') return denseFromEigen(this.blockOf(l), this.deltaOf(l), -1);
    throw new ArgumentError(
      'which',
      `expected 'curvature', 'precision' or 'covariance', got '${String(which)}'`,
    );
  }

  /**
   * Check `x` against the model's input shape and for NaN / Infinity (a non-finite input would
   * give NaN probabilities); `N` (0 allowed).
   */
  protected rows(x: ModelInput): number {
    return checkInputs(this.graph.model, x, { finite: true, minRows: 0 });
  }

  /**
   * `S` samples of the GLM predictive outputs `f(x; theta*) + J(x)(theta_s - theta*)`, `[S, N, K]`
   * (logits for classification, means for regression); the same parameter draws for every input.
   *
   * @param x inputs `[N, ...]` shaped like the model's input (`N = 0` gives `[S, 0, K]`).
   */
  sampleOutputs(x: ModelInput, numSamples: number, seed?: number): tf.Tensor3D {
    if (!Number.isInteger(numSamples) || numSamples < 1) {
      throw new ArgumentError('numSamples', `expected a positive integer, got ${numSamples}`);
    }
    const k = this.graph.k;
    if (this.rows(x) === 0) return tf.zeros([numSamples, 0, k]);
    const dev = sampleDeviations(
      this.posteriorBlocks(),
      (l) => this.deltaOf(l),
      numSamples,
      nextSeed(seed),
    );
    try {
      return this.batched(
        x,
        (xb) => {
          const { mean, jv } = glmJvp(this.graph, xb, dev);
          return tf.add(tf.expandDims(mean, 0), jv);
        },
        1,
        [numSamples, 0, k],
      ) as tf.Tensor3D;
    } finally {
      tf.dispose(dev);
    }
  }

  /**
   * `S` Monte Carlo samples of the GLM predictive class probabilities `[S, N, K]` (a binary head:
   * `[S, N, 2]`, `[1 - p, p]` with `p = sigmoid(f)`).
   */
  sampleProbs(x: ModelInput, numSamples: number, seed?: number): tf.Tensor3D {
    this.checkClassification();
    const f = this.sampleOutputs(x, numSamples, seed);
    try {
      return classProbs(f, this.outputLikelihood) as tf.Tensor3D;
    } finally {
      f.dispose();
    }
  }

  /**
   * Mean and covariance of the GLM predictive outputs (logits for classification, means for
   * regression): `mean = f(x; theta*)`, `cov = J (H + delta I)^{-1} J^T` summed over the layer
   * blocks (see the module comment; `K` backward passes per batch, and per-example Jacobians
   * `[B, K, D1, U]` of one layer at a time: lower `batchSize` for large layers).
   *
   * @param x inputs `[N, ...]` shaped like the model's input (`N = 0` gives empty results).
   * @returns `{ mean: [N, K], cov: [N, K, K] }` (the caller disposes both).
   */
  glmPredictive(x: ModelInput): { mean: tf.Tensor2D; cov: tf.Tensor3D } {
    const k = this.graph.k;
    const both = this.batched(
      x,
      (xb) => {
        const { mean, cov } = glmMeanCov(
          this.graph,
          this.posteriorBlocks(),
          (l) => this.deltaOf(l),
          xb,
        );
        return tf.concat([tf.expandDims(mean, 1), cov], 1); // [B, 1 + K, K]
      },
      0,
      [0, 1 + k, k],
    );
    try {
      const n = both.shape[0] as number;
      return tf.tidy(() => ({
        mean: tf.reshape(tf.slice(both, [0, 0, 0], [n, 1, k]), [n, k]) as tf.Tensor2D,
        cov: tf.slice(both, [0, 1, 0], [n, k, k]) as tf.Tensor3D,
      }));
    } finally {
      both.dispose();
    }
  }

  /**
   * Class probabilities of the GLM predictive (classification only), with the options of
   * {@link LastLayerLaplace.predictProbs}:
   *
   * - `probit` (default, as laplace-torch's `link_approx='probit'` and the last-layer fit):
   *   $$p(y\mid x) \approx \operatorname{softmax}\Big(\frac{\mu_k}{\sqrt{1 + \frac\pi8 (J\Sigma J^T)_{kk}}}\Big)$$
   *   from {@link glmPredictive} (deterministic, `K` backward passes per batch);
   * - `mc`: `(1/S) sum_s softmax(f(x; theta*) + J (theta_s - theta*))`, `S = numSamples`
   *   (default 100; checked whatever the link).
   *
   * The positional form `predictProbs(x, numSamples, seed)` is the `mc` link. A binary head gives
   * `[1 - p, p]`: the MC mean of `sigmoid(f_s)`, or the probit `sigmoid(mu / sqrt(1 + pi v / 8))`.
   *
   * @returns `[N, K]` probabilities (`[N, 2]` for a binary head; `[0, K]` for `N = 0`).
   */
  predictProbs(
    x: ModelInput,
    options: LaplacePredictOptions | number = {},
    seed?: number,
  ): tf.Tensor2D {
    this.checkClassification();
    const o: LaplacePredictOptions =
      typeof options === 'number'
        ? { link: 'mc', numSamples: options, ...(seed !== undefined ? { seed } : {}) }
        : options;
    if (o === null || typeof o !== 'object') {
      throw new ArgumentError(
        'options',
        `expected { link, numSamples, seed } or a number of samples, got ${String(options)}`,
      );
    }
    optionsObject(o, PREDICT_OPTIONS, 'predictProbs');
    const link = checkLink(o.link ?? 'probit', this.binary);
    if (o.numSamples !== undefined) integerOption(o.numSamples, 'numSamples', 100);
    if (link === 'mc') {
      const p = this.sampleProbs(x, o.numSamples ?? 100, o.seed);
      try {
        return tf.mean(p, 0) as tf.Tensor2D;
      } finally {
        p.dispose();
      }
    }
    return this.batched(
      x,
      (xb) => {
        const { mean, cov } = glmMeanCov(
          this.graph,
          this.posteriorBlocks(),
          (l) => this.deltaOf(l),
          xb,
        );
        if (link !== 'probit') return bridgeProbs(mean, cov, link === 'bridgeNorm');
        const v = tf.sum(tf.mul(cov, tf.eye(this.graph.k)), 2);
        return probitProbs(mean, v, this.outputLikelihood);
      },
      0,
      [0, this.classesFor(this.graph.k)],
    ) as tf.Tensor2D;
  }

  private checkClassification(): void {
    if (this.likelihood !== 'classification') {
      throw new ArgumentError(
        'likelihood',
        "class probabilities need likelihood 'classification'; use sampleOutputs or glmPredictive",
      );
    }
  }

  /** This posterior as a toolbox {@link Predictor} (GLM Monte Carlo samples). */
  predictor(seed?: number): Predictor {
    return { predictSamples: (x, s) => this.sampleProbs(x, s, seed) };
  }
}
