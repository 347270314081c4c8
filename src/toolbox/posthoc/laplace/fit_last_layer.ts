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
import { modelHead } from './head.js';
import { LastLayerLaplace, denseLogits, type LaplaceOptions } from './last_layer.js';
import { eigenCurvature } from './posterior.js';

/**
 * The Dense layer that makes the model's logits / means (see `head.ts`): linear, or with a softmax
 * activation (ignored) for classification; applied once, to inputs `[batch, features]`.
 */
function lastDense(model: tf.LayersModel, likelihood: LaplaceLikelihood): tf.layers.Layer {
  const { layer, dropActivation } = modelHead(model, likelihood);
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
      `expected the last Dense layer '${layer.name}' to output ${likelihood === 'classification' ? "logits (activation 'linear' or 'softmax')" : "means (activation 'linear')"}, got '${act}'`,
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
  return layer;
}

/**
 * Fit a last-layer Laplace approximation to a trained model: sum the GGN of the last Dense layer
 * over the training data (in batches), eigendecompose it, and record `log p(D | theta_MAP)` and
 * `||theta_MAP||^2` for the marginal likelihood.
 *
 * A classifier may end in a softmax (the last Dense's `activation: 'softmax'`, or a trailing
 * `Softmax` / `Activation('softmax')` layer): the approximation is then over the logits `z` before
 * it (`p = softmax(z)`), which is what the model computes, so its predictions are unchanged.
 *
 * @param model trained single-input, single-output `tf.LayersModel` whose output comes from a
 *   `Dense` layer on `[batch, features]`: linear (logits or means) or, for classification, softmax;
 *   classification needs `K >= 2` outputs (a one-unit or multi-unit sigmoid head is rejected).
 * @param x training inputs `[N, ...]` shaped like the model's input, all finite.
 * @param y labels: `N` integers in `[0, K)` (classification) or finite targets `[N, K]` (regression).
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
  x: tf.Tensor,
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
  const layer = lastDense(model, o.likelihood);
  const n = checkInputs(model, x, { finite: true, minRows: 1 });
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
      const out = denseLogits(layer, f);
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
