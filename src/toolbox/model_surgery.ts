/**
 * Copies of a tfjs layers model with extra pieces, as MindSpore's toolbox builds them: an
 * MC-dropout copy (a dropout layer after the first dense/conv layer) and heteroscedastic copies
 * (an extra head predicting the log variance). The given model is never modified: every copy is
 * rebuilt from its JSON topology and gets copies of its weights.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { checkModel } from '../layers/model_input.js';

interface LayerJson {
  class_name: string;
  config: Record<string, unknown>;
}

interface ModelJson {
  class_name: string;
  config: { name?: string; layers: LayerJson[] } & Record<string, unknown>;
}

/** The Python-style topology JSON of a model. */
function topology(model: tf.LayersModel): ModelJson {
  return model.toJSON(null, false) as unknown as ModelJson;
}

async function fromTopology(json: ModelJson): Promise<tf.LayersModel> {
  return tf.models.modelFromJSON({
    modelTopology: json as unknown as tf.io.ModelJSON['modelTopology'],
  } as tf.io.ModelJSON);
}

/** Copy weights of `from` into `to` (same order and shapes). */
function copyWeights(from: tf.LayersModel, to: tf.LayersModel): void {
  const w = from.getWeights();
  to.setWeights(w);
}

/**
 * A deep copy of `model` (new layers, copied weights).
 *
 * @param model any layers model whose layer classes are registered.
 * @example
 * ```ts
 * const copy = await cloneModel(net);
 * ```
 */
export async function cloneModel(model: tf.LayersModel): Promise<tf.LayersModel> {
  checkModel(model);
  const copy = await fromTopology(topology(model));
  copyWeights(model, copy);
  return copy;
}

const TRAINABLE_CLASS = /dense|conv/i;

/**
 * A copy of a `tf.Sequential` with a `Dropout(rate)` layer inserted after its first dense or
 * convolutional layer (MindSpore's `EpistemicUncertaintyModel._make_epistemic`), so that MC
 * dropout can sample it; when that layer is the output head (no layer with weights follows it:
 * an Embedding + LSTM + Dense classifier, a linear regressor) the dropout goes on the head's
 * input instead, never on the outputs; for a functional model (one input or several), on the input of the Dense
 * layer that makes its output (where every branch meets). Models that already contain dropout are
 * returned as copies unchanged.
 *
 * @param model a sequential model, or a functional one whose output is made by a Dense layer.
 * @param rate dropout rate (default 0.5, MindSpore's `keep_prob=0.5`).
 * @example
 * ```ts
 * const mc = await withMcDropout(lenet5Model);
 * ```
 */
export async function withMcDropout(model: tf.LayersModel, rate = 0.5): Promise<tf.LayersModel> {
  checkModel(model);
  if (!(rate > 0 && rate < 1))
    throw new ArgumentError('rate', `expected a rate in (0, 1), got ${rate}`);
  const json = topology(model);
  if (json.class_name !== 'Sequential') {
    if (!model.layers.some((l) => /dropout/i.test(l.getClassName()))) {
      insertDropoutBeforeHead(model, json, rate);
    }
    const copy = await fromTopology(json);
    copyWeights(model, copy);
    return copy;
  }
  const layers = json.config.layers;
  if (!layers.some((l) => /dropout/i.test(l.class_name))) {
    const i = layers.findIndex((l) => TRAINABLE_CLASS.test(l.class_name));
    if (i < 0) {
      throw new ArgumentError(
        'model',
        'has no dense or convolutional layer to follow with dropout',
      );
    }
    const dropout: LayerJson = {
      class_name: 'Dropout',
      config: {
        name: `mc_dropout_${Date.now() % 100000}`,
        rate,
        trainable: true,
        dtype: 'float32',
      },
    };
    // the first dense/conv layer is the output head (Embedding + LSTM + Dense, a linear model):
    // dropout after it would zero outputs, so it goes on the head's input instead
    const at = isHead(model, i) ? i : i + 1;
    if (at === 0) moveInputShape(layers[0] as LayerJson, dropout);
    layers.splice(at, 0, dropout);
  }
  const copy = await fromTopology(json);
  copyWeights(model, copy);
  return copy;
}

/**
 * Whether layer `i` of a sequential model makes its output: no layer after it has weights (what
 * follows is an activation, a softmax, a reshape), so dropout after it would drop outputs.
 */
function isHead(model: tf.LayersModel, i: number): boolean {
  return model.layers.slice(i + 1).every((l) => l.weights.length === 0);
}

/** Move the input shape of a sequential model's first layer to a layer inserted before it. */
function moveInputShape(first: LayerJson, inserted: LayerJson): void {
  for (const key of ['batch_input_shape', 'input_shape', 'input_dim']) {
    if (key in first.config) {
      inserted.config[key] = first.config[key];
      delete first.config[key];
    }
  }
}

/**
 * Insert `Dropout(rate)` on the input of the Dense layer that makes a functional model's output
 * (every branch of a multi-input model meets there), in the model's topology JSON.
 */
function insertDropoutBeforeHead(model: tf.LayersModel, json: ModelJson, rate: number): void {
  const head = meanHeadOf(model);
  const layers = json.config.layers as (LayerJson & {
    name?: string;
    inbound_nodes?: unknown[][];
  })[];
  const at = head === undefined ? -1 : layers.findIndex((l) => l.config.name === head.name);
  const entry = layers[at];
  const node = entry?.inbound_nodes?.[0];
  if (head === undefined || entry === undefined || node?.length !== 1) {
    throw new ArgumentError(
      'model',
      'inserting dropout into a functional model needs its output made by a Dense layer applied once (dropout goes on its input); add a Dropout layer to the model instead',
    );
  }
  const name = `mc_dropout_${Date.now() % 100000}`;
  layers.splice(at, 0, {
    class_name: 'Dropout',
    name,
    config: { name, rate, trainable: true, dtype: 'float32' },
    inbound_nodes: [[node[0]]],
  });
  entry.inbound_nodes = [[[name, 0, 0, {}]]];
}

/** Input shape of a model's input `i` without the batch dimension. */
function inputShapeOf(model: tf.LayersModel, i = 0): number[] {
  const shape = model.inputs[i]?.shape;
  if (shape === undefined) throw new ArgumentError('model', 'has no input');
  return shape.slice(1).map((d) => {
    if (d === null) {
      throw new ArgumentError(
        'model',
        `input shape must be fully defined${model.inputs.length > 1 ? ` (input '${model.inputNames[i] ?? i}')` : ''}`,
      );
    }
    return d;
  });
}

/** New symbolic inputs shaped like every input of `model` (`model.inputs` order). */
function inputsLike(model: tf.LayersModel): tf.SymbolicTensor[] {
  return model.inputs.map((_, i) => tf.input({ shape: inputShapeOf(model, i) }));
}

/**
 * The mean head of a functional regressor: the Dense layer that makes its one output, applied
 * once (undefined when the output is made otherwise).
 *
 * @param model a layers model.
 */
export function meanHeadOf(model: tf.LayersModel): tf.layers.Layer | undefined {
  const out = model.outputs.length === 1 ? model.outputs[0] : undefined;
  const layer = out?.sourceLayer;
  if (layer === undefined || !/^dense/i.test(layer.getClassName())) return undefined;
  const nodes = (layer as unknown as { inboundNodes?: unknown[] }).inboundNodes ?? [];
  return nodes.length === 1 ? layer : undefined;
}

/**
 * Heteroscedastic classifier (MindSpore's `AleatoricUncertaintyModel` for classification): a
 * copy of `model` (outputs logits `[N, K]`) followed by `Dense(K)` on the logits predicting the
 * log variance `s` of each logit. Outputs `[logits, logVar]`.
 *
 * @param model the trained classifier.
 * @param numClasses `K`.
 */
export async function heteroscedasticClassifier(
  model: tf.LayersModel,
  numClasses: number,
): Promise<tf.LayersModel> {
  checkModel(model);
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new ArgumentError('numClasses', `expected an integer >= 2, got ${String(numClasses)}`);
  }
  const inputs = inputsLike(model);
  const base = await cloneModel(model);
  // a model with several inputs (image + metadata, ...) is applied to one new input per input
  const logits =
    inputs.length === 1
      ? applyLayers(base, inputs[0] as tf.SymbolicTensor)
      : (base.apply(inputs) as tf.SymbolicTensor);
  const logVar = logVarHead(numClasses, logits);
  const m = tf.model({
    inputs: inputs.length === 1 ? (inputs[0] as tf.SymbolicTensor) : inputs,
    outputs: [logits, logVar],
    name: 'aleatoric_classifier',
  });
  releaseContainer(base);
  return m;
}

/**
 * Heteroscedastic regressor (MindSpore's `AleatoricUncertaintyModel` for regression): the
 * features before the last dense layer of a copy of `model` feed both that layer (the mean) and a
 * new dense layer of the same width (the log variance `s`). Outputs `[mean, logVar]`.
 *
 * @param model the trained regressor: a `tf.Sequential` ending in a dense layer, or a functional
 *   model (one input or several) whose one output is made by a Dense layer applied once (its
 *   input `h` feeds the log-variance head `s = W h + b`).
 */
export async function heteroscedasticRegressor(model: tf.LayersModel): Promise<tf.LayersModel> {
  checkModel(model);
  // checked on the model itself before the copy is made (a refused model leaves no copy behind)
  if (!(model instanceof tf.Sequential)) {
    const head = meanHeadOf(model);
    if (head === undefined) {
      throw new ArgumentError(
        'model',
        'a regression model must be a tf.Sequential ending in a dense layer, or a functional model with one output made by a Dense layer applied once',
      );
    }
    const units = headUnits(head);
    const base = await cloneModel(model);
    // the copy keeps the layer names: its mean head and the features feeding it
    const dense = base.getLayer(head.name);
    const logVar = logVarHead(units, dense.input as tf.SymbolicTensor);
    // the copy's layers now belong to the new model (their reference counts are one use each)
    return tf.model({
      inputs: base.inputs,
      outputs: [base.outputs[0] as tf.SymbolicTensor, logVar],
      name: 'aleatoric_regressor',
    });
  }
  let last = -1;
  model.layers.forEach((l, i) => {
    if (/^dense/i.test(l.getClassName())) last = i;
  });
  if (last < 0) throw new ArgumentError('model', 'has no dense layer to use as the mean head');
  const units = headUnits(model.layers[last] as tf.layers.Layer);
  const base = await cloneModel(model);
  const dense = base.layers[last] as tf.layers.Layer;
  const input = tf.input({ shape: inputShapeOf(model) });
  let h: tf.SymbolicTensor = input;
  for (let i = 0; i < last; i++)
    h = (base.layers[i] as tf.layers.Layer).apply(h) as tf.SymbolicTensor;
  let mean = dense.apply(h) as tf.SymbolicTensor;
  for (let i = last + 1; i < base.layers.length; i++) {
    mean = (base.layers[i] as tf.layers.Layer).apply(mean) as tf.SymbolicTensor;
  }
  const logVar = logVarHead(units, h);
  const m = tf.model({ inputs: input, outputs: [mean, logVar], name: 'aleatoric_regressor' });
  releaseContainer(base);
  return m;
}

/**
 * The width `D` of a mean head: the last dimension of its output `[N, ..., D]`, read from the
 * output shape so that a tfjs `Dense` (`units`) and a Bayesian Dense (`outChannels`, e.g. a
 * converted BNN's `DenseReparam`) are read alike.
 * @throws ArgumentError naming `model` when that width is not a positive integer.
 */
function headUnits(head: tf.layers.Layer): number {
  const shape = head.outputShape as (number | null)[];
  const units = Array.isArray(shape) ? shape[shape.length - 1] : undefined;
  if (typeof units !== 'number' || !Number.isInteger(units) || units < 1) {
    throw new ArgumentError(
      'model',
      `its mean head '${head.name}' has no fixed output width (output shape ${JSON.stringify(shape)})`,
    );
  }
  return units;
}

/** The log-variance head `s = W h + b`, started at `s = 0` (zero kernel and bias). */
function logVarHead(units: number, h: tf.SymbolicTensor): tf.SymbolicTensor {
  const dense = tf.layers.dense({
    units,
    name: 'aleatoric_log_var',
    kernelInitializer: 'zeros',
    biasInitializer: 'zeros',
  });
  return dense.apply(h) as tf.SymbolicTensor;
}

/** Apply the layers of a sequential model in order (flat graph), or the model as one layer. */
function applyLayers(model: tf.LayersModel, input: tf.SymbolicTensor): tf.SymbolicTensor {
  if (model instanceof tf.Sequential) {
    let h = input;
    for (const l of model.layers) h = l.apply(h) as tf.SymbolicTensor;
    return h;
  }
  return model.apply(input) as tf.SymbolicTensor;
}

/**
 * Drop the copy's own reference to its layers once they live in a new model, so that disposing
 * the new model frees their weights (tfjs counts the models each layer belongs to).
 */
function releaseContainer(base: tf.LayersModel): void {
  if (base instanceof tf.Sequential) base.dispose();
}
