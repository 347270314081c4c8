/**
 * The checks of the DNN -> BNN topology rewrite, each run before any layer is built: the model, the
 * layers to keep deterministic (`excludeLayers`), the finiteness of the DNN's weights, and each
 * converted layer's arguments (an object, an activation with a Bayesian counterpart, the DNN
 * layer's output shape kept).
 */
import * as tf from '@tensorflow/tfjs';
import { ACTIVATION_NAMES, normalizeActivation } from '../layers/activations.js';
import { ArgumentError } from '../utils/errors.js';
import type { LayerArgsDict } from './layer_args.js';
import type { ConversionRule } from './conversion_types.js';

/**
 * `model` as a `tf.LayersModel` with a graph to rewrite (at least one symbolic input and layer);
 * throws naming `model` otherwise: a `tf.sequential()` without layers, or one whose first layer has
 * no `inputShape` (never built), has no topology to convert.
 */
export function checkModel(model: unknown): tf.LayersModel {
  if (!(model instanceof tf.LayersModel)) {
    throw new ArgumentError(
      'model',
      'expected a tf.LayersModel (tf.sequential, tf.model or a loaded model.json), got ' +
        (model === null
          ? 'null'
          : typeof model === 'object'
            ? model.constructor.name
            : typeof model),
    );
  }
  const inputs = (model as { inputs?: unknown }).inputs;
  if (model.layers.length === 0) {
    throw new ArgumentError('model', 'has no layers: there is nothing to convert');
  }
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new ArgumentError(
      'model',
      'is not built (it has no inputs): give its first layer an inputShape (or call ' +
        'model.build / predict once) before converting it',
    );
  }
  return model;
}

/**
 * `args`, checked to be an object of layer arguments (naming the rule's option) and a string
 * activation to have a Bayesian counterpart (naming the layer).
 */
export function checkedArgs(
  args: LayerArgsDict,
  path: string,
  rule: ConversionRule,
): LayerArgsDict {
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    throw new ArgumentError(
      rule.argsName ?? 'model',
      `layer '${path}': expected an object of ${rule.to} arguments, got ` +
        (args === null ? 'null' : Array.isArray(args) ? 'an array' : typeof args),
    );
  }
  if (typeof args.activation === 'string') {
    try {
      normalizeActivation(args.activation);
    } catch {
      throw new ArgumentError(
        'model',
        `layer '${path}': activation '${args.activation}' has no Bayesian ` +
          `counterpart (supported: ${ACTIVATION_NAMES.join(', ')})`,
      );
    }
  }
  return args;
}

/** A shape or a list of shapes as a list of shapes. */
function shapeList(s: tf.Shape | tf.Shape[]): tf.Shape[] {
  return Array.isArray(s[0]) ? (s as tf.Shape[]) : [s as tf.Shape];
}

/** A list of shapes as text (one shape without the outer brackets). */
function shapeText(s: tf.Shape[]): string {
  return JSON.stringify(s.length === 1 ? s[0] : s).replace(/null/g, 'batch');
}

/**
 * Refuse arguments that change a converted layer's output shape (a getter's `units`, `kernelSize`,
 * `strides`, ...): the layers after it could not take its output, and tfjs would fail building
 * one of them with a message about that layer. The Bayesian layer is made from `args` (no weights)
 * and its `computeOutputShape` on the input shape of the DNN layer's first node compared with
 * that node's output shape; a layer whose output shape cannot be computed is not judged.
 * @throws ArgumentError naming the rule's option (`getDenseArgs`, ...).
 */
export function checkOutputShape(
  rule: ConversionRule,
  args: LayerArgsDict,
  layer: tf.layers.Layer,
  path: string,
): void {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[rule.to];
  if (entry === undefined) return;
  // tfjs 4.22 declares a causal Conv1D's output as if it were 'valid' (and cannot run it): its
  // shape is no reference (a Keras-trained causal model converts when what follows takes any length)
  if (layer.getClassName() === 'Conv1D' && layer.getConfig().padding === 'causal') return;
  const node = layer.inboundNodes[0];
  if (node === undefined) return;
  const want = shapeList(node.outputShapes);
  let got: tf.Shape[];
  try {
    const [cls, fromConfig] = entry;
    const probe = fromConfig(cls, {
      ...args,
      name: `${layer.name}_probe`,
    } as tf.serialization.ConfigDict) as unknown as tf.layers.Layer;
    const inputs = shapeList(node.inputShapes);
    got = shapeList(probe.computeOutputShape(inputs.length === 1 ? inputs[0]! : inputs));
  } catch {
    return;
  }
  if (shapeText(got) !== shapeText(want)) {
    throw new ArgumentError(
      rule.argsName ?? 'model',
      `layer '${path}': the ${rule.to} made from these arguments outputs ${shapeText(got)} where ` +
        `the DNN's ${rule.from} outputs ${shapeText(want)}; the arguments must keep the layer's ` +
        'geometry (units/filters, kernelSize, strides, padding, dilation)',
    );
  }
}

/**
 * Refuse a DNN with a weight holding NaN or an infinity (a damaged or diverged model): its
 * posterior means (and a MOPED scale `|w| * delta`) would be NaN and every prediction with them.
 * @throws ArgumentError naming `model` and the weight.
 */
export function checkFiniteWeights(model: tf.LayersModel): void {
  for (const w of model.weights) {
    if (w.dtype !== 'float32') continue;
    const ok = tf.tidy(() => tf.all(tf.isFinite(w.read())).dataSync()[0]);
    if (ok !== 1) {
      throw new ArgumentError(
        'model',
        `weight '${w.originalName}' holds NaN or Infinity (a damaged or diverged model); ` +
          'it cannot be the posterior mean of a Bayesian layer',
      );
    }
  }
}

/** The names and `outer/inner` paths of every layer of `model` (recursing into nested models). */
function layerPaths(layers: readonly tf.layers.Layer[], prefix: string, out: string[]): string[] {
  for (const l of layers) {
    out.push(`${prefix}${l.name}`);
    if (l instanceof tf.LayersModel) layerPaths(l.layers, `${prefix}${l.name}/`, out);
  }
  return out;
}

/**
 * The layers to keep deterministic, checked: an array of layer names (or `outer/inner` paths of
 * layers of nested models), each naming a layer of `model`.
 * @throws ArgumentError naming `excludeLayers` otherwise.
 */
export function checkExcludeLayers(names: unknown, model: tf.LayersModel): ReadonlySet<string> {
  if (names === undefined) return new Set();
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string' || n === '')) {
    throw new ArgumentError(
      'excludeLayers',
      'expected an array of layer names (strings, `outer/inner` for a nested model)',
    );
  }
  const paths = layerPaths(model.layers, '', []);
  const known = new Set([...paths, ...paths.map((p) => p.slice(p.lastIndexOf('/') + 1))]);
  const unknown = (names as string[]).filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new ArgumentError(
      'excludeLayers',
      `no layer named ${unknown.map((n) => `'${n}'`).join(', ')} in the model (its layers: ${paths.join(', ')})`,
    );
  }
  return new Set(names as string[]);
}
