/**
 * The generic topology rewrite of DNN -> BNN conversion: a model's JSON topology (Sequential or
 * functional, nested models included) is rewritten by {@link ConversionRule}s (a DNN class ->
 * a Bayesian class with its arguments), rebuilt, and every weight copied over (kept layers) or
 * used to start the posterior (converted layers, `posterior_init.ts`). Layer names, order and
 * connections stay those of the DNN.
 */
import * as tf from '@tensorflow/tfjs';
import { ACTIVATION_NAMES, normalizeActivation } from '../layers/activations.js';
import { isBayesianLayer } from '../layers/bayesian_layer.js';
import { ArgumentError } from '../utils/errors.js';
import type { LayerArgsDict } from './layer_args.js';
import { checkInit, initFromDnn, type PosteriorInitOptions } from './posterior_init.js';

/** The DNN layer types that can be converted. */
export type DnnLayerType = 'Dense' | 'Conv2D' | 'Conv1D' | 'DepthwiseConv2D' | 'LSTM';

/** One replaced layer (`path` is `outer/inner` for layers of nested models). */
export interface ConvertedLayer {
  name: string;
  path: string;
  from: DnnLayerType;
  to: string;
}

/** One conversion rule: DNN class -> Bayesian class with the argument function. */
export interface ConversionRule {
  from: DnnLayerType;
  to: string;
  args: (layer: tf.layers.Layer) => LayerArgsDict;
}

/** A layer entry of a model's (Python-style) JSON topology. */
interface PyLayerEntry {
  class_name: string;
  config: Record<string, unknown>;
  name?: string;
  inbound_nodes?: unknown;
}

const NESTED_MODEL_CLASSES = ['Sequential', 'Model', 'Functional'];

/** `model` as a `tf.LayersModel`; throws naming `model` otherwise. */
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
  return model;
}

/** Rewrite the layer entries of a JSON topology in place (recursing into nested models). */
function rewriteEntries(
  entries: PyLayerEntry[],
  layers: readonly tf.layers.Layer[],
  rules: readonly ConversionRule[],
  prefix: string,
  converted: ConvertedLayer[],
): void {
  const byName = new Map(layers.map((l) => [l.name, l]));
  for (const entry of entries) {
    const name = String(entry.config.name);
    const layer = byName.get(name);
    if (layer === undefined) {
      throw new ArgumentError(
        'model',
        `layer '${prefix}${name}' of the topology is not in the model`,
      );
    }
    if (NESTED_MODEL_CLASSES.includes(entry.class_name) && layer instanceof tf.LayersModel) {
      const inner = entry.config.layers;
      if (Array.isArray(inner)) {
        rewriteEntries(
          inner as PyLayerEntry[],
          layer.layers,
          rules,
          `${prefix}${name}/`,
          converted,
        );
      }
      continue;
    }
    const rule = rules.find((r) => r.from === entry.class_name);
    if (rule === undefined) continue;
    const args = rule.args(layer);
    if (typeof args.activation === 'string') {
      try {
        normalizeActivation(args.activation);
      } catch {
        throw new ArgumentError(
          'model',
          `layer '${prefix}${name}': activation '${args.activation}' has no Bayesian ` +
            `counterpart (supported: ${ACTIVATION_NAMES.join(', ')})`,
        );
      }
    }
    const keep: Record<string, unknown> = { name, trainable: entry.config.trainable ?? true };
    // Sequential models carry their input shape on the first layer.
    if (entry.config.batch_input_shape !== undefined) {
      keep.batch_input_shape = entry.config.batch_input_shape;
    }
    // Keys and string values without underscores pass tfjs's pythonic->ts conversion unchanged.
    entry.class_name = rule.to;
    entry.config = { ...args, ...keep };
    converted.push({ name, path: `${prefix}${name}`, from: rule.from, to: rule.to });
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

/** Copy the DNN's weights into the rebuilt model, layer by layer (recursing into nested models). */
function copyWeights(
  layers: readonly tf.layers.Layer[],
  old: readonly tf.layers.Layer[],
  init: PosteriorInitOptions,
): void {
  const byName = new Map(old.map((l) => [l.name, l]));
  for (const layer of layers) {
    const prev = byName.get(layer.name);
    if (prev === undefined) continue;
    if (layer instanceof tf.LayersModel && prev instanceof tf.LayersModel) {
      copyWeights(layer.layers, prev.layers, init);
    } else if (isBayesianLayer(layer) && !isBayesianLayer(prev)) {
      initFromDnn(layer, prev, init);
    } else if (prev.weights.length > 0) {
      layer.setWeights(prev.getWeights());
    }
  }
}

/**
 * Rebuild `model` with the layers matched by `rules` replaced, copy all other weights and start
 * the Bayesian posteriors from the DNN. The input model is not modified; the new model owns new
 * variables (dispose it with `model.dispose()`).
 * @param model the DNN.
 * @param rules which layer class becomes which Bayesian class, with its arguments.
 * @param init posterior (and prior) initialisation.
 * @returns the Bayesian model and the converted layers.
 * @example
 * ```ts
 * const { model } = await convertModel(dnn, [{ from: 'Dense', to: 'DenseFlipout',
 *   args: (l) => defaultDenseArgs(denseView(l)) }], { init: 'dnn', moped: 0.1 });
 * ```
 */
export async function convertModel(
  model: tf.LayersModel,
  rules: readonly ConversionRule[],
  init: PosteriorInitOptions,
): Promise<{ model: tf.LayersModel; converted: ConvertedLayer[] }> {
  checkModel(model);
  const opts = checkInit(init);
  checkFiniteWeights(model);
  const json = model.toJSON(null, false) as unknown as { config: { layers?: PyLayerEntry[] } };
  const entries = json.config.layers;
  if (!Array.isArray(entries)) {
    throw new ArgumentError('model', 'its JSON topology has no layer list');
  }
  const converted: ConvertedLayer[] = [];
  rewriteEntries(entries, model.layers, rules, '', converted);
  // a layer constructor that throws midway leaves the variables of the layers tfjs built before
  // it: free every variable the failed build registered
  const existing = new Set(Object.keys(tf.engine().registeredVariables));
  let bnn: tf.LayersModel;
  try {
    bnn = await tf.models.modelFromJSON(
      json as unknown as Parameters<typeof tf.models.modelFromJSON>[0],
    );
  } catch (e) {
    for (const [name, v] of Object.entries(tf.engine().registeredVariables)) {
      if (!existing.has(name)) v.dispose();
    }
    throw e;
  }
  try {
    copyWeights(bnn.layers, model.layers, opts);
  } catch (e) {
    bnn.dispose();
    throw e;
  }
  return { model: bnn, converted };
}
