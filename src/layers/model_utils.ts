/**
 * Model-level helpers for Bayesian layers: find them (also inside nested models), switch their
 * prediction mode, sum their KL divergences, and set the KL factor seen by `model.fit`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { BayesianLayer, type BayesianMode } from './bayesian_layer.js';
import { wrappedLayers } from './tfjs_wrappers.js';

/** A model, a layer, or a list of them. */
export type LayerContainer = tf.LayersModel | tf.layers.Layer | readonly tf.layers.Layer[];

/**
 * The posterior scale parameters `rho` (`sigma = softplus(rho)`) of a model's Bayesian layers:
 * their trainable `kernel_rho` / `bias_rho` weights, layer by layer.
 * @param model a model, a layer or an array of layers.
 * @example
 * ```ts
 * const names = posteriorRhoVariables(net).map((v) => v.read().name);
 * ```
 */
export function posteriorRhoVariables(model: LayerContainer): tf.LayerVariable[] {
  return bayesianLayers(model).flatMap((l) =>
    l.trainableWeights.filter((w) => /(^|\/)(kernel|bias)_rho(_\d+)?$/.test(w.originalName)),
  );
}

/**
 * All Bayesian layers of a model, depth first, including those of nested models and those run by
 * wrappers (both directions of a `Bidirectional`, the layer of a `TimeDistributed`); each layer once.
 * @param model a `tf.LayersModel` (`tf.sequential`, `tf.model`), a layer or an array of layers.
 * @example
 * ```ts
 * const bl = bayesianLayers(model); // [DenseReparam, DenseReparam]
 * ```
 */
export function bayesianLayers(model: LayerContainer): BayesianLayer[] {
  const out: BayesianLayer[] = [];
  const seen = new Set<tf.layers.Layer>();
  const visit = (layer: tf.layers.Layer): void => {
    if (seen.has(layer)) return;
    seen.add(layer);
    if (layer instanceof BayesianLayer) out.push(layer);
    else if (layer instanceof tf.LayersModel) layer.layers.forEach(visit);
    else wrappedLayers(layer).forEach(visit);
  };
  if (model instanceof tf.LayersModel) model.layers.forEach(visit);
  else if (Array.isArray(model) && model.every((l) => l instanceof tf.layers.Layer)) {
    (model as readonly tf.layers.Layer[]).forEach(visit);
  } else if (model instanceof tf.layers.Layer) visit(model);
  else {
    throw new ArgumentError(
      'model',
      `expected a tf.LayersModel, a tf.layers.Layer or an array of layers, got ${model === null ? 'null' : typeof model}`,
    );
  }
  return out;
}

/**
 * Set the prediction mode of every Bayesian layer: `'sample'` draws new weights (or activations)
 * on every call (Monte Carlo prediction, training); `'mean'` uses the posterior means (a
 * deterministic, "frozen" network).
 * @returns the previous mode of each layer, in {@link bayesianLayers} order, to restore later.
 * @example
 * ```ts
 * const before = setMode(model, 'mean');
 * const logits = model.predict(x) as tf.Tensor;
 * restoreModes(model, before);
 * ```
 */
export function setMode(model: LayerContainer, mode: BayesianMode): BayesianMode[] {
  if (mode !== 'sample' && mode !== 'mean') {
    throw new ArgumentError('mode', `expected 'sample' or 'mean', got '${String(mode)}'`);
  }
  return bayesianLayers(model).map((l) => {
    const prev = l.mode;
    l.mode = mode;
    return prev;
  });
}

/**
 * Restore modes returned by {@link setMode}.
 * @throws ArgumentError naming `modes` when it is not the array {@link setMode} returned for
 *   this model (one `'sample' | 'mean'` per Bayesian layer).
 */
export function restoreModes(model: LayerContainer, modes: readonly BayesianMode[]): void {
  if (!Array.isArray(modes)) {
    throw new ArgumentError(
      'modes',
      `expected the array of modes returned by setMode(model, mode), got ${modes === null ? 'null' : typeof modes}`,
    );
  }
  const bad = modes.findIndex((m) => m !== 'sample' && m !== 'mean');
  if (bad >= 0) {
    throw new ArgumentError(
      'modes',
      `expected 'sample' or 'mean' at index ${bad}, got '${String(modes[bad])}'`,
    );
  }
  const layers = bayesianLayers(model);
  if (layers.length !== modes.length) {
    throw new ArgumentError('modes', `expected ${layers.length} modes, got ${modes.length}`);
  }
  layers.forEach((l, i) => {
    l.mode = modes[i] as BayesianMode;
  });
}

/**
 * Sum of the KL divergences `sum_l KL(q_l || p_l)` of all Bayesian layers (0 when there are
 * none); differentiable in every posterior parameter.
 * @returns a new scalar owned by the caller.
 */
export function modelKL(model: LayerContainer): tf.Scalar {
  const layers = bayesianLayers(model);
  return tf.tidy(() => {
    if (layers.length === 0) return tf.scalar(0);
    return tf.addN(layers.map((l) => l.kl())) as tf.Scalar;
  });
}

/**
 * Set `klScale` of every Bayesian layer: `model.fit` then minimises
 * `mean data loss + klScale * sum_l KL_l`. Use `1 / datasetSize` for the per-example ELBO.
 * @param scale a finite number >= 0.
 */
export function setKLScale(model: LayerContainer, scale: number): void {
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale < 0) {
    throw new ArgumentError('scale', `expected a finite number >= 0, got ${String(scale)}`);
  }
  bayesianLayers(model).forEach((l) => {
    l.klScale = scale;
  });
}

/** Total number of scalar weights with a posterior in the model's Bayesian layers. */
export function numBayesianParams(model: LayerContainer): number {
  return bayesianLayers(model).reduce((a, l) => a + l.numBayesianParams(), 0);
}

/**
 * The activation a layer ends in, from its config (`'softmax'`, `'linear'`, ...; a `Softmax` layer
 * is `'softmax'`, a nested model its last layer's), if it has one.
 *
 * @param layer a tfjs layer or model.
 * @returns the activation name, or undefined.
 * @example
 * ```ts
 * finalActivation(tf.layers.dense({ units: 3, activation: 'softmax' })); // 'softmax'
 * ```
 */
export function finalActivation(layer: tf.layers.Layer): string | undefined {
  if (layer.getClassName() === 'Softmax') return 'softmax';
  if (layer instanceof tf.LayersModel) {
    const last = layer.layers[layer.layers.length - 1];
    return last === undefined ? undefined : finalActivation(last);
  }
  const act = (layer.getConfig() as Record<string, unknown>)['activation'];
  return typeof act === 'string' ? act : undefined;
}
