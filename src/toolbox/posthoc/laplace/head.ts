/**
 * Where the Laplace approximations read a model's outputs: a single-input, single-output
 * `tf.LayersModel` whose output, for classification, is read as the logits `z` of
 * `p(y | x) = softmax(z)`. Keras / TF.js classifiers commonly end in a softmax, so a final softmax
 * is removed and the approximation works on the logits before it:
 *
 * - the last layer's `activation: 'softmax'` (`Dense`, `Conv2D`) is ignored;
 * - trailing softmax-only layers (`Softmax` over the last axis, `Activation('softmax')`) are
 *   skipped, as are layers that are the identity at inference (`Dropout` and the like).
 *
 * At most one softmax is removed; a sigmoid head (binary / multi-label) or fewer than two outputs is
 * rejected for classification, since `softmax` over one logit is constant.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../../utils/errors.js';
import type { LaplaceLikelihood } from './curvature.js';

/** Layers that are the identity at inference (`training: false`). */
const INFERENCE_IDENTITY = new Set([
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'ActivityRegularization',
]);

/** The output end of a model, as the Laplace approximations read it. */
export interface ModelHead {
  /** The last layer whose (pre-softmax) output is the model output, up to skipped layers. */
  layer: tf.layers.Layer;
  /** Layers after `layer` that are skipped (softmax-only or identity at inference). */
  skipped: Set<tf.layers.Layer>;
  /** Whether `layer`'s own softmax activation is ignored. */
  dropActivation: boolean;
  /** Outputs `K` (the last dimension of the model output). */
  k: number;
}

function config(layer: tf.layers.Layer): Record<string, unknown> {
  return layer.getConfig() as Record<string, unknown>;
}

function activationOf(layer: tf.layers.Layer): string | undefined {
  const act = config(layer).activation;
  return typeof act === 'string' ? act : undefined;
}

function singleNode(layer: tf.layers.Layer): boolean {
  const nodes = (layer as unknown as { inboundNodes?: unknown[] }).inboundNodes;
  return nodes !== undefined && nodes.length === 1;
}

function isSoftmaxOnly(layer: tf.layers.Layer, rank: number): boolean {
  const cls = layer.getClassName();
  if (cls === 'Activation') return activationOf(layer) === 'softmax';
  if (cls !== 'Softmax') return false;
  const axis = config(layer).axis;
  const axes = Array.isArray(axis) ? axis : [axis ?? -1];
  return axes.length === 1 && (axes[0] === -1 || axes[0] === rank - 1);
}

/**
 * Check `model` is a `tf.LayersModel` with one input and one output `[batch, K]`, and find where
 * its logits (classification) or means (regression) are made.
 *
 * @throws ArgumentError naming `model` otherwise, or for classification with `K < 2`, a sigmoid
 *   head, or more than one final softmax.
 */
export function modelHead(model: tf.LayersModel, likelihood: LaplaceLikelihood): ModelHead {
  if (!(model instanceof tf.LayersModel)) {
    throw new ArgumentError('model', 'expected a tf.LayersModel');
  }
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new ArgumentError(
      'model',
      `expected a model with one input and one output, got ${model.inputs.length} inputs and ${model.outputs.length} outputs`,
    );
  }
  const out = model.outputs[0] as tf.SymbolicTensor;
  if (out.shape.length !== 2 || typeof out.shape[1] !== 'number') {
    throw new ArgumentError(
      'model',
      `expected outputs [batch, K], got [${out.shape.map(String).join(', ')}]`,
    );
  }
  const k = out.shape[1];
  const cls = likelihood === 'classification';
  const skipped = new Set<tf.layers.Layer>();
  let softmaxes = 0;
  let t = out;
  for (;;) {
    const layer = t.sourceLayer;
    const name = layer.getClassName();
    const softmaxOnly = cls && isSoftmaxOnly(layer, t.shape.length);
    if (!softmaxOnly && !INFERENCE_IDENTITY.has(name)) break;
    if (!singleNode(layer)) {
      throw new ArgumentError(
        'model',
        `expected each layer of the output head to be used once; '${layer.name}' is applied ${String((layer as unknown as { inboundNodes: unknown[] }).inboundNodes.length)} times`,
      );
    }
    if (softmaxOnly) softmaxes++;
    skipped.add(layer);
    t = layer.input as tf.SymbolicTensor;
  }
  const layer = t.sourceLayer;
  const act = activationOf(layer);
  const dropActivation = cls && act === 'softmax';
  if (dropActivation) softmaxes++;
  if (softmaxes > 1) {
    throw new ArgumentError(
      'model',
      `expected at most one final softmax (the Laplace fit works on the logits before it), got ${softmaxes} in a row`,
    );
  }
  if (cls) {
    if (act === 'sigmoid' || act === 'hardSigmoid') {
      throw new ArgumentError(
        'model',
        `expected a classifier ending in K >= 2 logits or a softmax, got a '${act}' head ('${layer.name}': a binary or multi-label model); write a binary classifier as 2 logits`,
      );
    }
    if (k < 2) {
      throw new ArgumentError(
        'model',
        `expected a classifier with K >= 2 logits or softmax outputs, got K = ${k} (write a binary classifier as 2 logits)`,
      );
    }
  }
  return { layer, skipped, dropActivation, k };
}
