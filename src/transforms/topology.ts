/**
 * The generic topology rewrite of DNN -> BNN conversion: a model's JSON topology (Sequential or
 * functional, nested models included) is rewritten by {@link ConversionRule}s (a DNN class ->
 * a Bayesian class with its arguments), rebuilt, and every weight copied over (kept layers) or
 * used to start the posterior (converted layers, `posterior_init.ts`). Layer names, order and
 * connections stay those of the DNN. A `Bidirectional` or `TimeDistributed` whose wrapped layer a
 * rule converts becomes `BidirectionalVariational` / `TimeDistributedVariational` over the
 * Bayesian layer (each direction's posterior started from that direction's DNN weights).
 */
import * as tf from '@tensorflow/tfjs';
import { isBayesianLayer } from '../layers/bayesian_layer.js';
import { wrappedLayers } from '../layers/tfjs_wrappers.js';
import { ArgumentError } from '../utils/errors.js';
import type { LayerArgsDict } from './layer_args.js';
import {
  checkInit,
  initFromDnn,
  initFromWeights,
  type PosteriorInitOptions,
} from './posterior_init.js';
import {
  checkedArgs,
  checkExcludeLayers,
  checkFiniteWeights,
  checkModel,
  checkOutputShape,
} from './topology_checks.js';
import type { ConversionRule, ConvertedLayer, DnnWrapperType } from './conversion_types.js';
import { BAYESIAN_WRAPPER_CLASS } from './conversion_types.js';

/** The DNN class whose converted layers start from its depthwise and pointwise weights. */
const SEPARABLE = 'SeparableConv2D';

/** A layer entry of a model's (Python-style) JSON topology. */
interface PyLayerEntry {
  class_name: string;
  config: Record<string, unknown>;
  name?: string;
  inbound_nodes?: unknown;
}

const NESTED_MODEL_CLASSES = ['Sequential', 'Model', 'Functional'];

/**
 * Rewrite the layer entries of a JSON topology in place (recursing into nested models); every
 * layer of an excluded nested model is kept (`excludeAll`).
 */
function rewriteEntries(
  entries: PyLayerEntry[],
  layers: readonly tf.layers.Layer[],
  rules: readonly ConversionRule[],
  prefix: string,
  converted: ConvertedLayer[],
  inserted: Map<string, string>,
  exclude: ReadonlySet<string> = new Set(),
  excludeAll = false,
): void {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const taken = new Set(entries.map((e) => String(e.config.name)));
  for (const entry of [...entries]) {
    const name = String(entry.config.name);
    const layer = byName.get(name);
    if (layer === undefined) {
      throw new ArgumentError(
        'model',
        `layer '${prefix}${name}' of the topology is not in the model`,
      );
    }
    const excluded = excludeAll || exclude.has(name) || exclude.has(`${prefix}${name}`);
    if (NESTED_MODEL_CLASSES.includes(entry.class_name) && layer instanceof tf.LayersModel) {
      const inner = entry.config.layers;
      if (Array.isArray(inner)) {
        // a nested model named in excludeLayers keeps every layer it holds
        rewriteEntries(
          inner as PyLayerEntry[],
          layer.layers,
          rules,
          `${prefix}${name}/`,
          converted,
          inserted,
          exclude,
          excluded,
        );
      }
      continue;
    }
    if (excluded) {
      repairConfig(entry, layer);
      continue;
    }
    if (Object.hasOwn(BAYESIAN_WRAPPER_CLASS, entry.class_name)) {
      rewriteWrapper(entry, layer, rules, `${prefix}${name}`, converted);
      continue;
    }
    repairConfig(entry, layer);
    const rule = rules.find((r) => r.from === entry.class_name);
    if (rule === undefined) continue;
    const args = checkedArgs(rule.args(layer), `${prefix}${name}`, rule);
    if (rule.before === undefined) checkOutputShape(rule, args, layer, `${prefix}${name}`);
    const trainable = entry.config.trainable ?? true;
    const keep: Record<string, unknown> = { name, trainable };
    // Sequential models carry their input shape on the first layer.
    const inputShape = entry.config.batch_input_shape;
    if (rule.before !== undefined) {
      const firstArgs = checkedArgs(rule.before(layer), `${prefix}${name}`, rule);
      let first = `${name}_depthwise`;
      for (let i = 1; taken.has(first); i++) first = `${name}_depthwise_${i}`;
      taken.add(first);
      const firstConfig: Record<string, unknown> = { ...firstArgs, name: first, trainable };
      if (inputShape !== undefined) firstConfig.batch_input_shape = inputShape;
      const firstEntry: PyLayerEntry = { class_name: rule.to, config: firstConfig, name: first };
      if (Array.isArray(entry.inbound_nodes)) {
        // the inserted layer takes the DNN layer's inputs; node i of the converted layer reads
        // node i of the inserted one
        firstEntry.inbound_nodes = entry.inbound_nodes;
        entry.inbound_nodes = (entry.inbound_nodes as unknown[]).map((node, i) => [
          [first, i, 0, nodeKwargs(node)],
        ]);
      }
      entries.splice(entries.indexOf(entry), 0, firstEntry);
      inserted.set(`${prefix}${first}`, name);
      converted.push({ name: first, path: `${prefix}${first}`, from: rule.from, to: rule.to });
    } else if (inputShape !== undefined) {
      keep.batch_input_shape = inputShape;
    }
    // Keys and string values without underscores pass tfjs's pythonic->ts conversion unchanged.
    entry.class_name = rule.to;
    entry.config = { ...args, ...keep };
    converted.push({ name, path: `${prefix}${name}`, from: rule.from, to: rule.to });
  }
}

/**
 * Rewrite a tfjs `Bidirectional` / `TimeDistributed` entry whose wrapped layer a rule converts:
 * the wrapper becomes its Bayesian class (`BidirectionalVariational`, `TimeDistributedVariational`)
 * over the rule's Bayesian layer, with the arguments the rule reads from the DNN's wrapped layer
 * (a `Bidirectional`'s forward layer: the backward one is its copy with `goBackwards` flipped).
 * The wrapped layer keeps its name; the wrapper keeps its name, merge mode and connections.
 * @throws ArgumentError naming `model` for a wrapped layer a rule splits in two (SeparableConv2D).
 */
function rewriteWrapper(
  entry: PyLayerEntry,
  layer: tf.layers.Layer,
  rules: readonly ConversionRule[],
  path: string,
  converted: ConvertedLayer[],
): void {
  const inner = entry.config.layer as PyLayerEntry | undefined;
  const dnnInner = wrappedLayers(layer)[0];
  if (inner === undefined || typeof inner.class_name !== 'string' || dnnInner === undefined) return;
  const rule = rules.find((r) => r.from === inner.class_name);
  if (rule === undefined) return;
  const wrapper = entry.class_name as DnnWrapperType;
  if (rule.before !== undefined) {
    throw new ArgumentError(
      'model',
      `layer '${path}': a ${wrapper} over a ${rule.from} cannot be converted (the ${rule.from} ` +
        'becomes two layers); rebuild the DNN with the two convolutions in their own wrappers',
    );
  }
  let dnnArgs: LayerArgsDict;
  try {
    dnnArgs = rule.args(dnnInner);
  } catch (e) {
    // name the wrapper the refused layer runs in (its copy is named forward_<name>)
    if (e instanceof ArgumentError && e.argument === 'model') {
      throw new ArgumentError(
        'model',
        `in the ${wrapper} '${path}': ${e.message.replace(/^model: /, '')}`,
      );
    }
    throw e;
  }
  const args = checkedArgs(dnnArgs, path, rule);
  const keep: Record<string, unknown> = {
    name: inner.config.name,
    trainable: inner.config.trainable ?? true,
  };
  if (inner.config.batch_input_shape !== undefined) {
    keep.batch_input_shape = inner.config.batch_input_shape;
  }
  entry.class_name = BAYESIAN_WRAPPER_CLASS[wrapper];
  entry.config = { ...entry.config, layer: { class_name: rule.to, config: { ...args, ...keep } } };
  converted.push({ name: String(entry.config.name), path, from: rule.from, to: rule.to, wrapper });
}

/**
 * Put back what tfjs 4.22's serialization of a layer leaves out: `SeparableConv2D.getConfig` has
 * no `depthMultiplier`, so a kept separable layer with a multiplier m > 1 was rebuilt with m = 1
 * and its weights no longer fitted ("Layer weight shape 3,3,3,1 not compatible with provided
 * weight shape 3,3,3,2").
 */
function repairConfig(entry: PyLayerEntry, layer: tf.layers.Layer): void {
  const m = (layer as unknown as { depthMultiplier?: unknown }).depthMultiplier;
  if (
    entry.class_name.startsWith('SeparableConv') &&
    typeof m === 'number' &&
    entry.config.depth_multiplier === undefined
  ) {
    entry.config.depth_multiplier = m;
  }
}

/** The keyword arguments of a node of a JSON topology (`[[layer, node, tensor, kwargs], ...]`). */
function nodeKwargs(node: unknown): Record<string, unknown> {
  const first = Array.isArray(node) ? (node[0] as unknown) : undefined;
  const kwargs = Array.isArray(first) ? (first[3] as unknown) : undefined;
  return kwargs !== null && typeof kwargs === 'object' ? (kwargs as Record<string, unknown>) : {};
}

/**
 * Copy the DNN's weights into the rebuilt model, layer by layer (recursing into nested models);
 * the two layers a `SeparableConv2D` became start from its depthwise kernel and from its
 * pointwise kernel and bias.
 */
function copyWeights(
  layers: readonly tf.layers.Layer[],
  old: readonly tf.layers.Layer[],
  init: PosteriorInitOptions,
  inserted: ReadonlyMap<string, string>,
  prefix: string,
): void {
  const byName = new Map(old.map((l) => [l.name, l]));
  for (const layer of layers) {
    const source = inserted.get(`${prefix}${layer.name}`);
    if (source !== undefined) {
      const sep = byName.get(source);
      const [depthwise] = sep?.getWeights() ?? [];
      if (isBayesianLayer(layer) && depthwise !== undefined) {
        initFromWeights(layer, depthwise, undefined, init);
      }
      continue;
    }
    const prev = byName.get(layer.name);
    if (prev === undefined) continue;
    if (layer instanceof tf.LayersModel && prev instanceof tf.LayersModel) {
      copyWeights(layer.layers, prev.layers, init, inserted, `${prefix}${layer.name}/`);
    } else if (isBayesianLayer(layer) && prev.getClassName() === SEPARABLE) {
      const [, pointwise, bias] = prev.getWeights();
      if (pointwise !== undefined) initFromWeights(layer, pointwise, bias, init);
    } else if (isBayesianLayer(layer) && !isBayesianLayer(prev)) {
      initFromDnn(layer, prev, init);
    } else if (convertedWrapper(layer, prev)) {
      // a Bidirectional's two directions, a TimeDistributed's layer
      const dnn = wrappedLayers(prev);
      wrappedLayers(layer).forEach((l, i) => {
        const d = dnn[i];
        if (isBayesianLayer(l) && d !== undefined) initFromDnn(l, d, init);
      });
    } else if (prev.weights.length > 0) {
      layer.setWeights(prev.getWeights());
    }
  }
}

/** Whether `layer` is a Bayesian wrapper made from the DNN wrapper `prev` by the conversion. */
function convertedWrapper(layer: tf.layers.Layer, prev: tf.layers.Layer): boolean {
  const inner = wrappedLayers(layer);
  const dnn = wrappedLayers(prev);
  return (
    inner.length > 0 &&
    inner.length === dnn.length &&
    inner.some(isBayesianLayer) &&
    !dnn.some(isBayesianLayer)
  );
}

/**
 * Rebuild `model` with the layers matched by `rules` replaced, copy all other weights and start
 * the Bayesian posteriors from the DNN. The input model is not modified; the new model owns new
 * variables (dispose it with `model.dispose()`).
 * @param model the DNN.
 * @param rules which layer class becomes which Bayesian class, with its arguments.
 * @param init posterior (and prior) initialisation.
 * @param excludeLayers names (or `outer/inner` paths) of layers to keep deterministic even when a
 *   rule matches them (a bare name matches that layer at any depth; a nested model's name keeps
 *   every layer it holds).
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
  excludeLayers: readonly string[] = [],
): Promise<{ model: tf.LayersModel; converted: ConvertedLayer[] }> {
  checkModel(model);
  const opts = checkInit(init);
  const exclude = checkExcludeLayers(excludeLayers, model);
  checkFiniteWeights(model);
  const json = model.toJSON(null, false) as unknown as { config: { layers?: PyLayerEntry[] } };
  const entries = json.config.layers;
  if (!Array.isArray(entries)) {
    throw new ArgumentError('model', 'its JSON topology has no layer list');
  }
  const converted: ConvertedLayer[] = [];
  const inserted = new Map<string, string>();
  rewriteEntries(entries, model.layers, rules, '', converted, inserted, exclude);
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
    copyWeights(bnn.layers, model.layers, opts, inserted, '');
  } catch (e) {
    bnn.dispose();
    throw e;
  }
  return { model: bnn, converted };
}
