/**
 * Last-layer Laplace approximation of a trained tfjs classifier or regressor (laplace-torch's
 * `Laplace(model, likelihood, subset_of_weights='last_layer', hessian_structure=...)`;
 * Daxberger et al. 2021): the network up to its last Dense layer is a fixed feature map `phi(x)`,
 * the last layer's weights get the Gaussian posterior
 *
 * $$q(\theta) = \mathcal N\big(\theta_{MAP},\ (H_{GGN} + \delta I)^{-1}\big)$$
 *
 * with the GGN `H` in a `diag`, `kron` (KFAC) or `full` structure, an isotropic prior precision
 * `delta` fitted by the Laplace marginal likelihood, and the GLM (linearised) predictive. A
 * classifier ending in a softmax is handled on its logits `z` (`p = softmax(z)`, see `head.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../../utils/errors.js';
import { integerOption, optionsObject } from '../../../utils/options.js';
import { PREDICT_OPTIONS, checkInputs, checkLink } from './checks.js';
import type { ModelInput } from '../../../layers/model_input.js';
import { LaplacePosterior } from './laplace_posterior.js';
import { nextSeed } from '../../../utils/seed.js';
import type { Predictor } from '../../predictors.js';
import { type HessianStructure, type LaplaceLikelihood } from './curvature.js';
import { classProbs, probitProbs, bridgeProbs, type OutputLikelihood } from './likelihood.js';
import {
  glmCovariance,
  glmNoise,
  denseFromEigen,
  factorNoise,
  jacobianFactor,
  noiseShape,
  type EigenCurvature,
} from './posterior.js';
import { inputList } from '../../../layers/model_input.js';
import { type LayerGraph } from './layer_graph.js';
import { backprop, graphPass, graphForward, layerJacobian } from './graph_run.js';
import { unitRows } from './glm_jacobian.js';

/**
 * The pre-activation output of a Dense layer, `z = f W + b` (its logits when it ends in a softmax,
 * its output when linear), from the layer's own variables.
 */
export function denseLogits(layer: tf.layers.Layer, f: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [kernel, bias] = layer.weights.map((w) => w.read());
    const z = tf.matMul(f, kernel as tf.Tensor2D);
    return (bias === undefined ? z : tf.add(z, bias)) as tf.Tensor2D;
  });
}

/**
 * The feature map `phi(x)` of the last layer: the network up to its last Dense's input (`x` one
 * tensor, or one per input of a multi-input model).
 */
export type FeatureMap = (x: ModelInput) => tf.Tensor;

/** Options of {@link lastLayerLaplace}. */
export interface LaplaceOptions {
  /**
   * `'classification'` (default: softmax cross-entropy; Bernoulli for a model with one output, a
   * sigmoid or one raw logit) or `'regression'` (Gaussian).
   */
  likelihood?: LaplaceLikelihood;
  /** GGN structure: `'kron'` (default, KFAC), `'diag'` or `'full'`. */
  hessianStructure?: HessianStructure;
  /**
   * Initial prior precision (default 1): a number `delta` (isotropic), or an array of the `P`
   * per-parameter precisions (`diag` / `full` only; see `paramPriorPrecision`; one block, so one
   * value is the scalar).
   */
  priorPrecision?: number | readonly number[];
  /** Regression noise standard deviation `sigma` (default 1). */
  sigmaNoise?: number;
  /** Inputs per forward pass while fitting and predicting (default 256). */
  batchSize?: number;
}

/** How the GLM predictive is turned into class probabilities. */
export type LinkApproximation = 'probit' | 'mc' | 'bridge' | 'bridgeNorm';

/** Options of {@link LastLayerLaplace.predictProbs}. */
export interface LaplacePredictOptions {
  /**
   * `'probit'` (default): `softmax(mu / sqrt(1 + pi/8 diag Var))` (a binary head:
   * `sigmoid(kappa mu)`, `kappa = (1 + pi var / 8)^(-1/2)`); `'mc'`: the average of the class
   * probabilities of sampled logits; `'bridge'`: the Laplace bridge (Hobbhahn et al. 2022, as
   * laplace-torch), the mean of the Dirichlet matched to `N(mu, Var)` (see `bridgeProbs`; not for a
   * binary head); `'bridgeNorm'`: laplace-torch's `'bridge_norm'`, the bridge after rescaling the
   * zero-sum Gaussian by `s = mean_k Var_kk / sqrt(K/2)` (`mu / sqrt(s)`, `Var_kk / s`).
   */
  link?: LinkApproximation;
  /** MC samples (default 100). */
  numSamples?: number;
  /** Seed of the MC draws. */
  seed?: number;
}

/**
 * A fitted last-layer Laplace approximation. Made by {@link lastLayerLaplace}; owns no tensors
 * (the curvature lives on the host), so it needs no disposal; the model stays the caller's.
 */
export class LastLayerLaplace extends LaplacePosterior<HessianStructure> {
  readonly sigmaNoise: number;
  private readonly eig: EigenCurvature;
  private readonly model: tf.LayersModel;
  /** The feature map of a Dense applied once (`J = phi~^T (x) I`). */
  private readonly features: FeatureMap | undefined;
  /** The layer graph of a Dense applied several times (`J` summed over its applications). */
  private readonly graph: LayerGraph | undefined;
  private readonly layer: tf.layers.Layer;
  /** Outputs `K` (the Dense's units, or the graph's outputs for a shared Dense). */
  private readonly outputs: number;

  /** @internal use {@link lastLayerLaplace}. */
  constructor(args: {
    model: tf.LayersModel;
    features?: FeatureMap;
    graph?: LayerGraph;
    layer: tf.layers.Layer;
    eig: EigenCurvature;
    thetaSq: number;
    n: number;
    logLikelihood: number;
    outputLikelihood: OutputLikelihood;
    options: Required<LaplaceOptions>;
  }) {
    super([args.eig], args, args.options);
    this.model = args.model;
    this.features = args.features;
    this.graph = args.graph;
    this.layer = args.layer;
    this.eig = args.eig;
    this.outputs = args.graph?.k ?? args.eig.k;
    this.sigmaNoise = args.options.sigmaNoise;
  }

  /** The last Dense's `[W (D x K) rows, b]` flattened. */
  protected mapWeights(): tf.Tensor1D[] {
    return [
      tf.tidy(
        () => tf.concat(this.layer.getWeights().map((w) => tf.reshape(w, [-1]))) as tf.Tensor1D,
      ),
    ];
  }

  /** The last Dense. */
  protected blockLayers(): tf.layers.Layer[] {
    return [this.layer];
  }

  /** The outputs at the Dense's current weights. */
  protected forwardOutputs(xb: ModelInput): tf.Tensor2D {
    return this.mapOutputs(xb);
  }

  /** Outputs `K` of the last layer (its units, or the graph's outputs for a shared Dense). */
  protected outputDim(): number {
    return this.outputs;
  }

  /**
   * The posterior precision `H + delta I` or covariance `(H + delta I)^{-1}` as a dense row-major
   * `[P x P]` host matrix (parameters ordered `W[d, k]` then the bias); for inspection and small
   * layers (`P^2` doubles).
   */
  denseMatrix(which: 'precision' | 'covariance'): Float64Array {
    if (which !== 'precision' && which !== 'covariance') {
      throw new ArgumentError(
        'which',
        `expected 'precision' or 'covariance', got '${String(which)}'`,
      );
    }
    return denseFromEigen(this.blockOf(0), this.deltaOf(0), which === 'precision' ? 1 : -1);
  }

  private phi(x: ModelInput): tf.Tensor2D {
    return tf.tidy(() => {
      const f = (this.features as FeatureMap)(x);
      const flat = tf.reshape(f, [f.shape[0] as number, -1]) as tf.Tensor2D;
      return (
        this.eig.d1 > flat.shape[1] ? tf.concat([flat, tf.ones([flat.shape[0], 1])], 1) : flat
      ) as tf.Tensor2D;
    });
  }

  private mapOutputs(x: ModelInput): tf.Tensor2D {
    return tf.tidy(() => {
      if (this.graph !== undefined) return graphForward(this.graph, inputList(x)).outputs;
      const f = (this.features as FeatureMap)(x);
      return denseLogits(this.layer, tf.reshape(f, [f.shape[0] as number, -1]) as tf.Tensor2D);
    });
  }

  /**
   * For a Dense applied several times: the factor `F` `[B, K, P]` of the GLM predictive,
   * `J Sigma J^T = F F^T` (see `jacobianFactor`), from the per-example Jacobians of each output
   * `c`, `J_c = sum_s a~_s g_{s,c}^T` (one backward pass per output).
   */
  private factor(x: ModelInput): tf.Tensor3D {
    return tf.tidy(() => {
      const g = this.graph as LayerGraph;
      const xs = inputList(x);
      const { fwd, shapes, rows } = graphPass(g, xs);
      const [b, k] = fwd.outputs.shape;
      const jac = tf.stack(
        Array.from({ length: k }, (_, c) =>
          layerJacobian(g, 0, rows, backprop(g, xs, unitRows(b, k, c), shapes)),
        ),
        1,
      ) as tf.Tensor4D;
      return jacobianFactor(this.blockOf(0), this.deltaOf(0), jac);
    });
  }

  /** `J Sigma J^T` `[B, K, K]` of a batch. */
  private covariance(x: ModelInput): tf.Tensor3D {
    if (this.graph === undefined) {
      return glmCovariance(this.blockOf(0), this.deltaOf(0), this.phi(x));
    }
    return tf.tidy(() => {
      const f = this.factor(x);
      return tf.matMul(f, f, false, true);
    });
  }

  /** `J (theta_s - theta_*)` `[S, B, K]` of a batch for standard normal draws `z`. */
  private noise(x: ModelInput, z: tf.Tensor): tf.Tensor3D {
    if (this.graph === undefined) {
      return glmNoise(this.blockOf(0), this.deltaOf(0), this.phi(x), z);
    }
    return tf.tidy(() => factorNoise(this.factor(x), z));
  }

  /**
   * Check `x` against the model's input shape and for NaN / Infinity (a non-finite input would
   * give NaN probabilities); `N` (0 allowed).
   */
  protected rows(x: ModelInput): number {
    return checkInputs(this.model, x, { finite: true, minRows: 0 });
  }

  /**
   * Mean and covariance of the GLM predictive logits (outputs for regression):
   * `mean = f(x; theta_MAP)`, `cov = J (H + delta I)^{-1} J^T` (for a softmax-ended classifier,
   * of the logits before the softmax).
   *
   * @param x inputs `[N, ...]` shaped like the model's input (an array of one tensor per input for a
   *   multi-input model; `N = 0` gives empty results).
   * @returns `{ mean: [N, K], cov: [N, K, K] }` (the caller disposes both).
   */
  glmPredictive(x: ModelInput): { mean: tf.Tensor2D; cov: tf.Tensor3D } {
    const k = this.outputs;
    const mean = this.batched(x, (xb) => this.mapOutputs(xb), 0, [0, k]) as tf.Tensor2D;
    try {
      const cov = this.batched(x, (xb) => this.covariance(xb), 0, [0, k, k]) as tf.Tensor3D;
      return { mean, cov };
    } catch (e) {
      mean.dispose();
      throw e;
    }
  }

  /**
   * Class probabilities of the GLM predictive (classification only):
   *
   * - `probit` (default, laplace-torch's `link_approx='probit'`):
   *   $$p(y\mid x) \approx \operatorname{softmax}\Big(\frac{\mu_k}{\sqrt{1 + \frac\pi8 \Sigma_{kk}}}\Big);$$
   * - `mc`: `(1/S) sum_s softmax(mu + J (theta_s - theta_MAP))`, `theta_s` from the posterior.
   *
   * A binary head (one logit `mu`, GLM variance `v`) gives the two classes `[1 - p, p]` with the
   * probit (MacKay) `p = sigmoid(mu / sqrt(1 + pi v / 8))`, or the MC mean of `sigmoid(f_s)`.
   *
   * @param x inputs `[N, ...]` shaped like the model's input.
   * @returns `[N, K]` probabilities (`[N, 2]` for a binary head; `[0, K]` for `N = 0`).
   */
  predictProbs(x: ModelInput, options: LaplacePredictOptions = {}): tf.Tensor2D {
    this.checkClassification();
    optionsObject(options, PREDICT_OPTIONS, 'predictProbs');
    this.rows(x);
    const link = checkLink(options.link ?? 'probit', this.binary);
    if (options.numSamples !== undefined) integerOption(options.numSamples, 'numSamples', 100);
    if (link === 'mc') {
      const s = options.numSamples ?? 100;
      return tf.tidy(() => tf.mean(this.sampleProbs(x, s, options.seed), 0) as tf.Tensor2D);
    }
    return this.batched(
      x,
      (xb) => {
        const mu = this.mapOutputs(xb);
        const cov = this.covariance(xb);
        if (link !== 'probit') return bridgeProbs(mu, cov, link === 'bridgeNorm');
        const v = tf.sum(tf.mul(cov, tf.eye(this.outputs)), 2);
        return probitProbs(mu, v, this.outputLikelihood);
      },
      0,
      [0, this.classesFor(this.outputs)],
    ) as tf.Tensor2D;
  }

  /**
   * `S` Monte Carlo samples of the GLM predictive probabilities, `[S, N, K]` (the same posterior
   * draws for every input), ready for `toolbox.decompose` (mutual information etc.);
   * `[S, N, 2]` (`[1 - p, p]`) for a binary head; `[S, 0, K]` for `N = 0`.
   */
  sampleProbs(x: ModelInput, numSamples: number, seed?: number): tf.Tensor3D {
    this.checkClassification();
    return this.sampleGlm(x, numSamples, seed, (f) => classProbs(f, this.outputLikelihood), [
      numSamples,
      0,
      this.classesFor(this.outputs),
    ]);
  }

  /**
   * `S` samples of the GLM predictive outputs (laplace-torch's `predictive_samples` with
   * `pred_type='glm'`), the same parameter draws for every input:
   *
   * $$f_s(x) = f(x; \theta_{MAP}) + J(x)(\theta_s - \theta_{MAP}),\qquad
   *   \theta_s \sim \mathcal N\big(\theta_{MAP}, (H + \delta I)^{-1}\big),$$
   *
   * `[S, N, K]`: a regressor's means (add `sigmaNoise * eps` for samples of `y`), a classifier's
   * logits (one for a binary head). Their mean and covariance over `s` are `glmPredictive`'s.
   *
   * @param x inputs `[N, ...]` shaped like the model's input (`N = 0` gives `[S, 0, K]`).
   * @param numSamples `S`, a positive integer; @param seed seed of the draws.
   */
  sampleOutputs(x: ModelInput, numSamples: number, seed?: number): tf.Tensor3D {
    return this.sampleGlm(x, numSamples, seed, (f) => f.clone(), [numSamples, 0, this.outputs]);
  }

  /** GLM samples `mu + J (theta_s - theta_MAP)` of a batch, through `link`. */
  private sampleGlm(
    x: ModelInput,
    numSamples: number,
    seed: number | undefined,
    link: (f: tf.Tensor) => tf.Tensor,
    emptyShape: number[],
  ): tf.Tensor3D {
    if (!Number.isInteger(numSamples) || numSamples < 1) {
      throw new ArgumentError('numSamples', `expected a positive integer, got ${numSamples}`);
    }
    this.rows(x);
    const z = tf.randomNormal(noiseShape(this.eig, numSamples), 0, 1, 'float32', nextSeed(seed));
    try {
      return this.batched(
        x,
        (xb) => {
          const mu = this.mapOutputs(xb);
          const noise = this.noise(xb, z);
          return link(tf.add(tf.expandDims(mu, 0), noise));
        },
        1,
        emptyShape,
      ) as tf.Tensor3D;
    } finally {
      z.dispose();
    }
  }

  /** This posterior as a toolbox {@link Predictor} (GLM Monte Carlo samples). */
  predictor(seed?: number): Predictor {
    return { predictSamples: (x, s) => this.sampleProbs(x, s, seed) };
  }

  private checkClassification(): void {
    if (this.likelihood !== 'classification') {
      throw new ArgumentError(
        'likelihood',
        "class probabilities need likelihood 'classification'; use glmPredictive",
      );
    }
  }
}
