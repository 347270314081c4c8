/**
 * Last-layer Laplace approximation of a trained tfjs classifier or regressor (laplace-torch's
 * `Laplace(model, likelihood, subset_of_weights='last_layer', hessian_structure=...)`;
 * Daxberger et al. 2021): the network up to its last Dense layer is a fixed feature map `phi(x)`,
 * the last layer's weights get the Gaussian posterior
 *
 * $$q(\theta) = \mathcal N\big(\theta_{MAP},\ (H_{GGN} + \delta I)^{-1}\big)$$
 *
 * with the GGN `H` in a `diag`, `kron` (KFAC) or `full` structure, an isotropic prior precision
 * `delta` fitted by the Laplace marginal likelihood, and the GLM (linearised) predictive.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../../utils/errors.js';
import { nextSeed } from '../../../utils/seed.js';
import type { Predictor } from '../../predictors.js';
import {
  accumulateCurvature,
  emptyCurvature,
  type HessianStructure,
  type LaplaceLikelihood,
} from './curvature.js';
import {
  eigenCurvature,
  glmCovariance,
  glmNoise,
  logDetPosterior,
  denseFromEigen,
  noiseShape,
  type EigenCurvature,
} from './posterior.js';

/** Options of {@link lastLayerLaplace}. */
export interface LaplaceOptions {
  /** `'classification'` (softmax cross-entropy, default) or `'regression'` (Gaussian). */
  likelihood?: LaplaceLikelihood;
  /** GGN structure: `'kron'` (default, KFAC), `'diag'` or `'full'`. */
  hessianStructure?: HessianStructure;
  /** Initial isotropic prior precision `delta` (default 1). */
  priorPrecision?: number;
  /** Regression noise standard deviation `sigma` (default 1). */
  sigmaNoise?: number;
  /** Inputs per forward pass while fitting and predicting (default 256). */
  batchSize?: number;
}

/** How the GLM predictive is turned into class probabilities. */
export type LinkApproximation = 'probit' | 'mc';

/** Options of {@link LastLayerLaplace.predictProbs}. */
export interface LaplacePredictOptions {
  /** `'probit'` (default): `softmax(mu / sqrt(1 + pi/8 diag Var))`; `'mc'`: average of sampled softmaxes. */
  link?: LinkApproximation;
  /** MC samples (default 100). */
  numSamples?: number;
  /** Seed of the MC draws. */
  seed?: number;
}

function checkPositive(v: number, name: string): void {
  if (!(v > 0) || !Number.isFinite(v)) {
    throw new ArgumentError(name, `expected a finite number > 0, got ${v}`);
  }
}

function lastDense(model: tf.LayersModel): tf.layers.Layer {
  if (!(model instanceof tf.LayersModel))
    throw new ArgumentError('model', 'expected a tf.LayersModel');
  const last = model.layers[model.layers.length - 1];
  if (last === undefined || last.getClassName() !== 'Dense') {
    throw new ArgumentError(
      'model',
      `expected a last layer of class Dense (the layer Laplace acts on), got ${last?.getClassName() ?? 'none'}`,
    );
  }
  const act = (last.getConfig() as { activation?: string }).activation;
  if (act !== undefined && act !== 'linear') {
    throw new ArgumentError(
      'model',
      `expected the last Dense layer to output logits (activation 'linear'), got '${act}'`,
    );
  }
  return last;
}

/**
 * A fitted last-layer Laplace approximation. Made by {@link lastLayerLaplace}; owns no tensors
 * (the curvature lives on the host), so it needs no disposal; the model stays the caller's.
 */
export class LastLayerLaplace {
  /** Isotropic prior precision `delta` in use. */
  priorPrecision: number;
  readonly likelihood: LaplaceLikelihood;
  readonly structure: HessianStructure;
  readonly sigmaNoise: number;
  /** Training examples the curvature was summed over. */
  readonly n: number;
  /** Log-likelihood of the training data at `theta_MAP`. */
  readonly logLikelihood: number;
  private readonly eig: EigenCurvature;
  private readonly thetaSq: number;
  private readonly features: tf.LayersModel;
  private readonly layer: tf.layers.Layer;
  private readonly batchSize: number;

  /** @internal use {@link lastLayerLaplace}. */
  constructor(args: {
    model: tf.LayersModel;
    features: tf.LayersModel;
    layer: tf.layers.Layer;
    eig: EigenCurvature;
    thetaSq: number;
    n: number;
    logLikelihood: number;
    options: Required<LaplaceOptions>;
  }) {
    this.features = args.features;
    this.layer = args.layer;
    this.eig = args.eig;
    this.thetaSq = args.thetaSq;
    this.n = args.n;
    this.logLikelihood = args.logLikelihood;
    this.priorPrecision = args.options.priorPrecision;
    this.likelihood = args.options.likelihood;
    this.structure = args.options.hessianStructure;
    this.sigmaNoise = args.options.sigmaNoise;
    this.batchSize = args.options.batchSize;
  }

  /** Number of last-layer parameters `P = (D + 1) K`. */
  get numParams(): number {
    return this.eig.d1 * this.eig.k;
  }

  /**
   * Laplace log marginal likelihood (laplace-torch's `log_marginal_likelihood`) at prior precision
   * `delta` (default: the current one):
   *
   * $$\log p(\mathcal D\mid\delta) \approx \log p(\mathcal D\mid\theta_{MAP})
   *   - \tfrac12\big[\log\det(H + \delta I) - P\log\delta\big] - \tfrac\delta2\lVert\theta_{MAP}\rVert^2 .$$
   *
   * Exact for a linear-Gaussian model (Bayesian linear regression) when `theta_MAP` is the posterior
   * mean for `delta`.
   */
  logMarginalLikelihood(priorPrecision: number = this.priorPrecision): number {
    checkPositive(priorPrecision, 'priorPrecision');
    const p = this.numParams;
    const logDetRatio = logDetPosterior(this.eig, priorPrecision) - p * Math.log(priorPrecision);
    return this.logLikelihood - 0.5 * (logDetRatio + priorPrecision * this.thetaSq);
  }

  /**
   * Set the prior precision to the maximiser of {@link logMarginalLikelihood}. Its derivative
   * `1/2 [P/delta - sum_i 1/(lambda_i + delta) - ||theta||^2]` is decreasing in `delta`, so the
   * unique root is found by bisection in `log delta` on `[1e-8, 1e8]`.
   *
   * @returns the fitted prior precision.
   */
  optimizePriorPrecision(): number {
    const p = this.numParams;
    const grad = (d: number): number => {
      let s = 0;
      for (let i = 0; i < this.eig.lambda.length; i++)
        s += 1 / ((this.eig.lambda[i] as number) + d);
      return p / d - s - this.thetaSq;
    };
    let lo = Math.log(1e-8);
    let hi = Math.log(1e8);
    if (grad(Math.exp(hi)) > 0) lo = hi;
    else if (grad(Math.exp(lo)) < 0) hi = lo;
    for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
      const mid = 0.5 * (lo + hi);
      if (grad(Math.exp(mid)) > 0) lo = mid;
      else hi = mid;
    }
    this.priorPrecision = Math.exp(0.5 * (lo + hi));
    return this.priorPrecision;
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
    return denseFromEigen(this.eig, this.priorPrecision, which === 'precision' ? 1 : -1);
  }

  private phi(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      const f = this.features.apply(x, { training: false }) as tf.Tensor;
      const flat = tf.reshape(f, [f.shape[0] as number, -1]) as tf.Tensor2D;
      return (
        this.eig.d1 > flat.shape[1] ? tf.concat([flat, tf.ones([flat.shape[0], 1])], 1) : flat
      ) as tf.Tensor2D;
    });
  }

  private mapOutputs(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      const f = this.features.apply(x, { training: false }) as tf.Tensor;
      return this.layer.apply(f) as tf.Tensor2D;
    });
  }

  private batched(x: tf.Tensor, fn: (xb: tf.Tensor) => tf.Tensor, axis: number): tf.Tensor {
    if (!(x instanceof tf.Tensor)) throw new ArgumentError('x', 'expected a tensor of inputs');
    const n = x.shape[0] as number;
    const parts: tf.Tensor[] = [];
    try {
      for (let i = 0; i < n; i += this.batchSize) {
        const size = Math.min(this.batchSize, n - i);
        parts.push(tf.tidy(() => fn(tf.slice(x, [i], [size]))));
      }
      return parts.length === 1 ? (parts[0] as tf.Tensor).clone() : tf.concat(parts, axis);
    } finally {
      tf.dispose(parts);
    }
  }

  /**
   * Mean and covariance of the GLM predictive logits (outputs for regression):
   * `mean = f(x; theta_MAP)`, `cov = J (H + delta I)^{-1} J^T`.
   *
   * @returns `{ mean: [N, K], cov: [N, K, K] }` (the caller disposes both).
   */
  glmPredictive(x: tf.Tensor): { mean: tf.Tensor2D; cov: tf.Tensor3D } {
    const mean = this.batched(x, (xb) => this.mapOutputs(xb), 0) as tf.Tensor2D;
    try {
      const cov = this.batched(
        x,
        (xb) => glmCovariance(this.eig, this.priorPrecision, this.phi(xb)),
        0,
      ) as tf.Tensor3D;
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
   * @returns `[N, K]` probabilities.
   */
  predictProbs(x: tf.Tensor, options: LaplacePredictOptions = {}): tf.Tensor2D {
    this.checkClassification();
    const link = options.link ?? 'probit';
    if (link !== 'probit' && link !== 'mc') {
      throw new ArgumentError('link', `expected 'probit' or 'mc', got '${String(link)}'`);
    }
    if (link === 'mc') {
      const s = options.numSamples ?? 100;
      return tf.tidy(() => tf.mean(this.sampleProbs(x, s, options.seed), 0) as tf.Tensor2D);
    }
    return this.batched(
      x,
      (xb) => {
        const mu = this.mapOutputs(xb);
        const cov = glmCovariance(this.eig, this.priorPrecision, this.phi(xb));
        const v = tf.sum(tf.mul(cov, tf.eye(this.eig.k)), 2);
        return tf.softmax(tf.div(mu, tf.sqrt(tf.add(1, tf.mul(Math.PI / 8, v)))));
      },
      0,
    ) as tf.Tensor2D;
  }

  /**
   * `S` Monte Carlo samples of the GLM predictive probabilities, `[S, N, K]` (the same posterior
   * draws for every input), ready for `toolbox.decompose` (mutual information etc.).
   */
  sampleProbs(x: tf.Tensor, numSamples: number, seed?: number): tf.Tensor3D {
    this.checkClassification();
    if (!Number.isInteger(numSamples) || numSamples < 1) {
      throw new ArgumentError('numSamples', `expected a positive integer, got ${numSamples}`);
    }
    const z = tf.randomNormal(noiseShape(this.eig, numSamples), 0, 1, 'float32', nextSeed(seed));
    try {
      return this.batched(
        x,
        (xb) => {
          const mu = this.mapOutputs(xb);
          const noise = glmNoise(this.eig, this.priorPrecision, this.phi(xb), z);
          return tf.softmax(tf.add(tf.expandDims(mu, 0), noise));
        },
        1,
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

/**
 * Fit a last-layer Laplace approximation to a trained model: sum the GGN of the last Dense layer
 * over the training data (in batches), eigendecompose it, and record `log p(D | theta_MAP)` and
 * `||theta_MAP||^2` for the marginal likelihood.
 *
 * @param model trained `tf.LayersModel` whose last layer is a linear `Dense` (logits or means).
 * @param x training inputs `[N, ...]`.
 * @param y labels: `N` integers (classification) or targets `[N, K]` (regression).
 * @param options `likelihood`, `hessianStructure`, `priorPrecision`, `sigmaNoise`, `batchSize`.
 * @example
 * ```ts
 * const la = toolbox.lastLayerLaplace(net, xTrain, yTrain, { hessianStructure: 'kron' });
 * la.optimizePriorPrecision();
 * const probs = la.predictProbs(xTest);          // probit GLM predictive
 * ```
 */
export function lastLayerLaplace(
  model: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor | ArrayLike<number>,
  options: LaplaceOptions = {},
): LastLayerLaplace {
  const o: Required<LaplaceOptions> = {
    likelihood: options.likelihood ?? 'classification',
    hessianStructure: options.hessianStructure ?? 'kron',
    priorPrecision: options.priorPrecision ?? 1,
    sigmaNoise: options.sigmaNoise ?? 1,
    batchSize: options.batchSize ?? 256,
  };
  if (o.likelihood !== 'classification' && o.likelihood !== 'regression') {
    throw new ArgumentError(
      'likelihood',
      `expected 'classification' or 'regression', got '${String(o.likelihood)}'`,
    );
  }
  if (!['diag', 'kron', 'full'].includes(o.hessianStructure)) {
    throw new ArgumentError(
      'hessianStructure',
      `expected diag, kron or full, got '${String(o.hessianStructure)}'`,
    );
  }
  checkPositive(o.priorPrecision, 'priorPrecision');
  checkPositive(o.sigmaNoise, 'sigmaNoise');
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) {
    throw new ArgumentError('batchSize', `expected a positive integer, got ${o.batchSize}`);
  }
  const layer = lastDense(model);
  if (!(x instanceof tf.Tensor) || x.rank < 2)
    throw new ArgumentError('x', 'expected a tensor [N, ...]');
  const n = x.shape[0] as number;
  if (n < 1) throw new ArgumentError('x', 'expected at least one training input');
  const weights = layer.getWeights();
  const kernel = weights[0] as tf.Tensor;
  const d = kernel.shape[0] as number;
  const k = kernel.shape[1] as number;
  const d1 = weights.length > 1 ? d + 1 : d;
  const yHost = checkTargets(y, n, k, o.likelihood);
  const thetaSq = weights.reduce(
    (s, w) => s + (tf.tidy(() => tf.sum(tf.square(w)).dataSync()[0]) as number),
    0,
  );
  const features = tf.model({ inputs: model.inputs, outputs: layer.input as tf.SymbolicTensor });
  const sums = emptyCurvature(o.hessianStructure, d1, k);
  let logLik = 0;
  for (let i = 0; i < n; i += o.batchSize) {
    const size = Math.min(o.batchSize, n - i);
    logLik += tf.tidy(() => {
      const xb = tf.slice(x, [i], [size]);
      const f = tf.reshape(features.apply(xb, { training: false }) as tf.Tensor, [
        size,
        -1,
      ]) as tf.Tensor2D;
      const phi = (d1 > d ? tf.concat([f, tf.ones([size, 1])], 1) : f) as tf.Tensor2D;
      const out = layer.apply(f) as tf.Tensor2D;
      accumulateCurvature(sums, phi, out, o.likelihood, o.sigmaNoise);
      const yb = yHost.subarray(
        i * (o.likelihood === 'classification' ? 1 : k),
        (i + size) * (o.likelihood === 'classification' ? 1 : k),
      );
      if (o.likelihood === 'classification') {
        const lp = tf.logSoftmax(out);
        const picked = tf.sum(tf.mul(lp, tf.oneHot(tf.tensor1d(Int32Array.from(yb), 'int32'), k)));
        return picked.dataSync()[0] as number;
      }
      const r = tf.sub(out, tf.tensor2d(Float32Array.from(yb), [size, k]));
      const s2 = o.sigmaNoise * o.sigmaNoise;
      const sse = tf.sum(tf.square(r)).dataSync()[0] as number;
      return (-0.5 * sse) / s2 - 0.5 * size * k * Math.log(2 * Math.PI * s2);
    });
  }
  const eig = eigenCurvature(sums);
  return new LastLayerLaplace({
    model,
    features,
    layer,
    eig,
    thetaSq,
    n,
    logLikelihood: logLik,
    options: o,
  });
}

function checkTargets(
  y: tf.Tensor | ArrayLike<number>,
  n: number,
  k: number,
  likelihood: LaplaceLikelihood,
): Float64Array {
  const v = Float64Array.from(y instanceof tf.Tensor ? y.dataSync() : y);
  const want = likelihood === 'classification' ? n : n * k;
  if (v.length !== want) {
    throw new ArgumentError(
      'y',
      `expected ${likelihood === 'classification' ? `${n} labels` : `targets [${n}, ${k}]`}, got ${v.length} values`,
    );
  }
  for (let i = 0; i < v.length; i++) {
    const t = v[i] as number;
    if (
      likelihood === 'classification'
        ? !(Number.isInteger(t) && t >= 0 && t < k)
        : !Number.isFinite(t)
    ) {
      throw new ArgumentError(
        'y',
        `expected ${likelihood === 'classification' ? `integer labels in [0, ${k})` : 'finite targets'}, got ${t} at ${i}`,
      );
    }
  }
  return v;
}
