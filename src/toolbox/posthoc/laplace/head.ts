/**
 * Where the Laplace approximations read a model's outputs: a single-output `tf.LayersModel` (one
 * input, or several: `x` is then an array of tensors) whose output, for classification, is read as the logits `z` of
 * `p(y | x) = softmax(z)` or, with one output, as the logit of a binary classifier,
 * `p(y = 1 | x) = sigmoid(z)` (Bernoulli). Keras / TF.js classifiers commonly end in a softmax (a
 * binary one in a sigmoid), so that final link is removed and the approximation works on the
 * logits before it:
 *
 * - the last layer's `activation: 'softmax'` (`'sigmoid'` for one output) is ignored;
 * - trailing link-only layers (`Softmax` over the last axis, `Activation('softmax')`, or
 *   `Activation('sigmoid')` for one output) are skipped, as are layers that are the identity at
 *   inference (`Dropout` and the like).
 *
 * A nested model at the output (a `Sequential` head inside a functional model) is entered, at any
 * depth, as laplace-torch's `FeatureExtractor` finds the last `Linear` module; it may be applied
 * several times (the application that makes the output is followed).
 *
 * A skipped layer may be applied several times (one `Dropout` object shared by several branches):
 * the application that makes the output is followed. At most one link is removed; a sigmoid over several outputs (a multi-label head) or a softmax
 * over one output (constant 1) is rejected for classification.
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
  /** The last layer whose output before the link (softmax / sigmoid) is the model output, up to skipped layers. */
  layer: tf.layers.Layer;
  /** Layers after `layer` that are skipped (link-only or identity at inference). */
  skipped: Set<tf.layers.Layer>;
  /** Whether `layer`'s own link activation (softmax, or sigmoid for one output) is ignored. */
  dropActivation: boolean;
  /** Outputs `K` (the last dimension of the model output). */
  k: number;
  /** Classification with one output: the logit of a Bernoulli `p(y = 1)`. */
  binary: boolean;
  /**
   * Nested models entered on the way from the output to `layer` (a `Sequential` head inside a
   * functional model, ...), outermost first: `container` applies the nested model to `feed`, a
   * tensor of `container`'s graph. Empty when `layer` is a layer of `model` itself.
   */
  nesting: NestedModelStep[];
  /** The model whose graph holds `layer` (`model`, or the innermost nested model). */
  owner: tf.LayersModel;
  /** `layer`'s output in `owner`'s graph: the logits (before a dropped link) or means. */
  output: tf.SymbolicTensor;
}

/** One nested model on the way to the output layer (see {@link ModelHead.nesting}). */
export interface NestedModelStep {
  /** The model (the outer one, or a nested one) that applies the nested model. */
  container: tf.LayersModel;
  /** The inputs the nested model is applied to (one per input), in `container`'s graph. */
  feeds: tf.SymbolicTensor[];
  /** The nested model. */
  nested: tf.LayersModel;
  /**
   * How many times `container` applies the nested model (more than once: a shared head applied in
   * series, `head(f(head(x)))`; `feeds` are those of the application that makes the output).
   */
  uses: number;
}

/**
 * Step into the nested model that makes `t` in `container`'s graph: checks it has one output (and
 * one input or several), records the step (the feeds of the application that makes `t`, and how
 * many times the nested model is applied), and returns its own output tensor.
 */
function enterNested(
  nested: tf.LayersModel,
  t: tf.SymbolicTensor,
  container: tf.LayersModel,
  nesting: NestedModelStep[],
): tf.SymbolicTensor {
  if (nested.outputs.length !== 1) {
    throw new ArgumentError(
      'model',
      `expected the nested model '${nested.name}' at the output to have one output, got ${nested.outputs.length}`,
    );
  }
  // node 0 links the nested model's own inputs to its outputs; nodes 1.. are its uses
  const nodes = (nested as unknown as { inboundNodes: { inputTensors: tf.SymbolicTensor[] }[] })
    .inboundNodes;
  const feeds = nodes[t.nodeIndex]?.inputTensors;
  if (t.nodeIndex < 1 || feeds === undefined) {
    throw new ArgumentError(
      'model',
      `expected the nested model '${nested.name}' at the output to be applied to the model's inputs`,
    );
  }
  nesting.push({ container, feeds, nested, uses: nodes.length - 1 });
  return nested.outputs[0] as tf.SymbolicTensor;
}

function config(layer: tf.layers.Layer): Record<string, unknown> {
  return layer.getConfig() as Record<string, unknown>;
}

function activationOf(layer: tf.layers.Layer): string | undefined {
  const act = config(layer).activation;
  return typeof act === 'string' ? act : undefined;
}

/**
 * The input of the application of `layer` that makes `t` (a layer applied several times, e.g. one
 * `Dropout` or `Softmax` object shared by several branches, has one node per application).
 */
function nodeInput(t: tf.SymbolicTensor): tf.SymbolicTensor {
  const nodes = (
    t.sourceLayer as unknown as { inboundNodes?: { inputTensors: tf.SymbolicTensor[] }[] }
  ).inboundNodes;
  const input = nodes?.[t.nodeIndex]?.inputTensors;
  if (input === undefined || input.length !== 1) {
    throw new ArgumentError(
      'model',
      `expected the layer '${t.sourceLayer.name}' at the output to take one input, got ${input?.length ?? 0}`,
    );
  }
  return input[0] as tf.SymbolicTensor;
}

function isLinkOnly(layer: tf.layers.Layer, rank: number, link: 'softmax' | 'sigmoid'): boolean {
  const cls = layer.getClassName();
  if (cls === 'Activation') return activationOf(layer) === link;
  if (link === 'sigmoid') return false;
  if (cls !== 'Softmax') return false;
  const axis = config(layer).axis;
  const axes = Array.isArray(axis) ? axis : [axis ?? -1];
  return axes.length === 1 && (axes[0] === -1 || axes[0] === rank - 1);
}

/**
 * Check `model` is a `tf.LayersModel` with one output `[batch, K]` (and one input or several), and find where
 * its logits (classification) or means (regression) are made.
 *
 * @throws ArgumentError naming `model` otherwise, or for classification with a sigmoid over
 *   several outputs, a softmax over one, or more than one final link.
 */
export function modelHead(model: tf.LayersModel, likelihood: LaplaceLikelihood): ModelHead {
  if (!(model instanceof tf.LayersModel)) {
    throw new ArgumentError('model', 'expected a tf.LayersModel');
  }
  if (model.inputs.length < 1 || model.outputs.length !== 1) {
    throw new ArgumentError(
      'model',
      `expected a model with one output (and one input or several), got ${model.inputs.length} inputs and ${model.outputs.length} outputs`,
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
  const binary = cls && k === 1;
  const link = binary ? 'sigmoid' : 'softmax';
  const skipped = new Set<tf.layers.Layer>();
  let links = 0;
  let t = out;
  const nesting: NestedModelStep[] = [];
  let owner: tf.LayersModel = model;
  for (;;) {
    const layer = t.sourceLayer;
    if (layer instanceof tf.LayersModel) {
      // laplace-torch's FeatureExtractor finds the last Linear module at any depth
      t = enterNested(layer, t, owner, nesting);
      owner = layer;
      continue;
    }
    const name = layer.getClassName();
    const linkOnly = cls && isLinkOnly(layer, t.shape.length, link);
    if (!linkOnly && !INFERENCE_IDENTITY.has(name)) break;
    if (linkOnly) links++;
    skipped.add(layer);
    // a layer applied several times: follow the application that makes `t`
    t = nodeInput(t);
  }
  const layer = t.sourceLayer;
  const act = activationOf(layer);
  const dropActivation = cls && act === link;
  if (dropActivation) links++;
  if (links > 1) {
    throw new ArgumentError(
      'model',
      `expected at most one final ${link} (the Laplace fit works on the logits before it), got ${links} in a row`,
    );
  }
  if (cls && !dropActivation) {
    if (act === 'sigmoid' || act === 'hardSigmoid') {
      throw new ArgumentError(
        'model',
        `expected a classifier ending in K >= 2 logits or a softmax, or in one logit or sigmoid (binary), got a '${act}' head over K = ${k} output(s) ('${layer.name}': ${binary ? 'not the logistic link of one logit' : 'a multi-label model'})`,
      );
    }
    if (binary && act === 'softmax') {
      throw new ArgumentError(
        'model',
        `expected a binary classifier to end in one logit or a sigmoid, got a softmax over one output ('${layer.name}': constant 1)`,
      );
    }
  }
  return { layer, skipped, dropActivation, k, binary, nesting, owner, output: t };
}
