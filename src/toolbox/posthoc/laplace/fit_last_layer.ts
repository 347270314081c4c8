/**
 * Fitting the last-layer Laplace approximation: the GGN of the model's last (linear) Dense layer
 * summed over the training data, its eigendecomposition, `log p(D | theta_MAP)` and
 * `||theta_MAP||^2` for the marginal likelihood (see `last_layer.ts` for the posterior).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../../utils/errors.js';
import { optionsObject } from '../../../utils/options.js';
import { LAPLACE_OPTIONS, checkInputs, checkPositive, checkTargets } from './checks.js';
import { accumulateCurvature, emptyCurvature, type LaplaceLikelihood } from './curvature.js';
import { modelHead, type ModelHead } from './head.js';
import {
  LastLayerLaplace,
  denseLogits,
  type FeatureMap,
  type LaplaceOptions,
} from './last_layer.js';
import { batchLogLikelihood, outputLikelihood } from './likelihood.js';
import { eigenCurvature } from './posterior.js';
import { sliceInputs, type ModelInput } from '../../../layers/model_input.js';

/**
 * The Dense layer that makes the model's logits / means (see `head.ts`; inside a nested model at
 * the output, at any depth): linear, or with a softmax (sigmoid for one output) activation
 * (ignored) for classification; applied once, to inputs `[batch, features]`.
 */
function lastDense(
  model: tf.LayersModel,
  likelihood: LaplaceLikelihood,
): { layer: tf.layers.Layer; head: ModelHead } {
  const head = modelHead(model, likelihood);
  const { layer, dropActivation } = head;
  if (layer.getClassName() !== 'Dense') {
    throw new ArgumentError(
      'model',
      `expected the output to come from a Dense layer (the layer Laplace acts on), got '${layer.name}' of class ${layer.getClassName()}`,
    );
  }
  const act = (layer.getConfig() as { activation?: string }).activation;
  if (!dropActivation && act !== undefined && act !== 'linear') {
    throw new ArgumentError(
      'model',
      `expected the last Dense layer '${layer.name}' to output ${likelihood === 'classification' ? `logits (activation 'linear' or '${head.binary ? 'sigmoid' : 'softmax'}')` : "means (activation 'linear')"}, got '${act}'`,
    );
  }
  const nodes = (layer as unknown as { inboundNodes: unknown[] }).inboundNodes;
  if (nodes.length !== 1) {
    throw new ArgumentError(
      'model',
      `expected the last Dense layer '${layer.name}' to be applied once, got ${nodes.length} times`,
    );
  }
  const inShape = (layer.input as tf.SymbolicTensor).shape;
  if (inShape.length !== 2) {
    throw new ArgumentError(
      'model',
      `the last Dense layer '${layer.name}' takes rank-${inShape.length} inputs; expected [batch, features] (add a Flatten)`,
    );
  }
  return { layer, head };
}

/**
 * The feature map `phi(x)`: the model up to the input of the head's Dense layer. Through nested
 * models it is the composition of each container's graph up to the nested model's input, then
 * the innermost graph up to the Dense's input (as laplace-torch's `FeatureExtractor` hooks the
 * input of the last `Linear` at any depth).
 */
function featureMap(model: tf.LayersModel, head: ModelHead): FeatureMap {
  const stages = head.nesting.map((s) =>
    tf.model({ inputs: s.container.inputs, outputs: s.feeds }),
  );
  stages.push(
    tf.model({ inputs: head.owner.inputs, outputs: head.layer.input as tf.SymbolicTensor }),
  );
  return (x) =>
    tf.tidy(() =>
      stages.reduce<ModelInput>((h, m) => m.apply(h, { training: false }) as tf.Tensor, x),
    ) as tf.Tensor;
}

/**
 * Fit a last-layer Laplace approximation to a trained model: sum the GGN of the last Dense layer
 * over the training data (in batches), eigendecompose it, and record `log p(D | theta_MAP)` and
 * `||theta_MAP||^2` for the marginal likelihood.
 *
 * A classifier may end in a softmax (the last Dense's `activation: 'softmax'`, or a trailing
 * `Softmax` / `Activation('softmax')` layer): the approximation is then over the logits `z` before
 * it (`p = softmax(z)`), which is what the model computes, so its predictions are unchanged. A
 * classifier with one output (a sigmoid, or one raw logit `z`) is binary: Bernoulli likelihood
 * `p(y = 1) = sigmoid(z)`, GGN `Lambda = p (1 - p)`, labels in `{0, 1}`, class probabilities
 * `[1 - p, p]`. The last Dense may sit inside a nested model at the output (a `Sequential` head
 * in a functional model), found at any depth as laplace-torch's `FeatureExtractor` finds the last
 * `Linear`.
 *
 * @param model trained single-output `tf.LayersModel` (one input, or several: `x` is then an array
 *   of tensors) whose output comes from a
 *   `Dense` layer on `[batch, features]`: linear (logits or means) or, for classification, softmax
 *   (`K >= 2`) or sigmoid (one unit; a multi-unit sigmoid head is rejected).
 * @param x training inputs `[N, ...]` shaped like the model's input, all finite.
 * @param y labels: `N` integers in `[0, K)` (classification; `{0, 1}` for one output) or finite
 *   targets `[N, K]` (regression).
 * @throws ArgumentError naming the argument, before any work, on a model or input it cannot use.
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
  x: ModelInput,
  y: tf.Tensor | ArrayLike<number>,
  options: LaplaceOptions = {},
): LastLayerLaplace {
  optionsObject(options, LAPLACE_OPTIONS, 'lastLayerLaplace');
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
  const { layer, head } = lastDense(model, o.likelihood);
  const n = checkInputs(model, x, { finite: true, minRows: 1 });
  const weights = layer.getWeights();
  const kernel = weights[0] as tf.Tensor;
  const d = kernel.shape[0] as number;
  const k = kernel.shape[1] as number;
  const d1 = weights.length > 1 ? d + 1 : d;
  const lik = outputLikelihood(o.likelihood, k);
  const yHost = checkTargets(y, n, lik === 'bernoulli' ? 2 : k, o.likelihood);
  const thetaSq = weights.reduce(
    (s, w) => s + (tf.tidy(() => tf.sum(tf.square(w)).dataSync()[0]) as number),
    0,
  );
  const features = featureMap(model, head);
  const sums = emptyCurvature(o.hessianStructure, d1, k);
  let logLik = 0;
  for (let i = 0; i < n; i += o.batchSize) {
    const size = Math.min(o.batchSize, n - i);
    logLik += tf.tidy(() => {
      const xb = sliceInputs(x, i, size);
      const f = tf.reshape(features(xb), [size, -1]) as tf.Tensor2D;
      const phi = (d1 > d ? tf.concat([f, tf.ones([size, 1])], 1) : f) as tf.Tensor2D;
      const out = denseLogits(layer, f);
      accumulateCurvature(sums, phi, out, lik, o.sigmaNoise);
      const yb = yHost.subarray(
        i * (o.likelihood === 'classification' ? 1 : k),
        (i + size) * (o.likelihood === 'classification' ? 1 : k),
      );
      return batchLogLikelihood(out, yb, lik, o.sigmaNoise);
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
    outputLikelihood: lik,
    options: o,
  });
}
