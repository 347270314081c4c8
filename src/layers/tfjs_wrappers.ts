/**
 * TF.js's layer wrappers (`tf.layers.bidirectional`, `tf.layers.timeDistributed`) as classes to
 * extend, the argument check shared by their Bayesian subclasses, and {@link wrappedLayers}: the
 * layers a wrapper runs (a `Bidirectional`'s forward and backward layers, a `TimeDistributed`'s
 * inner layer), so that the model-level helpers (`bayesianLayers`, `setMode`, the KL sum) reach
 * Bayesian layers inside wrappers.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError, DeepProbError } from '../utils/errors.js';
import { checkOptionKeys } from '../utils/options.js';

/** TF.js's `Bidirectional` layer (the instance type of `tf.layers.bidirectional`). */
export type TfjsBidirectional = ReturnType<typeof tf.layers.bidirectional>;
/** TF.js's `TimeDistributed` layer (the instance type of `tf.layers.timeDistributed`). */
export type TfjsTimeDistributed = ReturnType<typeof tf.layers.timeDistributed>;

/**
 * The class registered with TF.js's serialization under `name` (TF.js exports its wrappers as
 * factories only; the classes are reached through the registry they are serialized with).
 * @throws DeepProbError when the tfjs build has no such class.
 */
export function tfjsLayerClass<C>(name: string): C {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[name];
  if (entry === undefined) {
    throw new DeepProbError(`this tfjs build registers no '${name}' layer class`);
  }
  return entry[0] as unknown as C;
}

/** The argument names of a Bayesian wrapper: tfjs's `LayerArgs` plus the wrapped layer. */
export const WRAPPER_KEYS: readonly string[] = [
  'layer',
  'inputShape',
  'batchInputShape',
  'batchSize',
  'dtype',
  'name',
  'trainable',
  'inputDType',
  // tfjs's deserialization passes its custom-object table in the config
  'customObjects',
];

/**
 * `args` of a Bayesian wrapper, checked: an object with known keys whose `layer` passes `isInner`.
 * @throws ArgumentError naming `args`, an unknown key, or `layer` (with `expected`).
 */
export function checkWrapperArgs<A extends { layer?: unknown }>(
  args: A,
  what: string,
  extraKeys: readonly string[],
  isInner: (layer: unknown) => boolean,
  expected: string,
): A {
  if (args === null || typeof args !== 'object') {
    throw new ArgumentError('args', `expected an object with a layer, got ${String(args)}`);
  }
  checkOptionKeys(args, [...WRAPPER_KEYS, ...extraKeys], what);
  const layer = args.layer;
  if (!isInner(layer)) {
    const got =
      layer instanceof tf.layers.Layer
        ? `'${layer.name}' of class ${layer.getClassName()}`
        : layer === null
          ? 'null'
          : typeof layer;
    throw new ArgumentError('layer', `${what} wraps ${expected}, got ${got}`);
  }
  return args;
}

/**
 * The layers a wrapper runs: a `Bidirectional`'s `[forwardLayer, backwardLayer]` (not the unbuilt
 * template it was made from), a `TimeDistributed`'s (or any tfjs `Wrapper`'s) `[layer]`; `[]` for
 * any other layer.
 */
export function wrappedLayers(layer: tf.layers.Layer): tf.layers.Layer[] {
  const w = layer as unknown as {
    forwardLayer?: unknown;
    backwardLayer?: unknown;
    layer?: unknown;
  };
  if (w.forwardLayer instanceof tf.layers.Layer && w.backwardLayer instanceof tf.layers.Layer) {
    return [w.forwardLayer, w.backwardLayer];
  }
  if (w.layer instanceof tf.layers.Layer && !(layer instanceof tf.LayersModel)) return [w.layer];
  return [];
}
