/**
 * A printable listing of a model in the style of MindSpore's cell printout: one line per layer
 * with its arguments; Bayesian layers also show their prior and posterior.
 */
import * as tf from '@tensorflow/tfjs';
import { isBayesianLayer } from '../layers/bayesian_layer.js';
import { wrappedLayers } from '../layers/tfjs_wrappers.js';
import { checkModel } from '../layers/model_input.js';
import { isCentredPriorLayer } from '../layers/moped_classes.js';

function fmt(v: unknown): string {
  if (Array.isArray(v)) return `(${v.map(fmt).join(', ')})`;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

const SHOWN: Readonly<Record<string, readonly string[]>> = {
  Dense: ['units', 'activation', 'useBias'],
  Conv2D: ['filters', 'kernelSize', 'strides', 'padding', 'dilationRate', 'activation', 'useBias'],
  DepthwiseConv2D: ['kernelSize', 'depthMultiplier', 'strides', 'padding', 'useBias'],
  Conv2DTranspose: ['filters', 'kernelSize', 'strides', 'padding', 'activation', 'useBias'],
  SeparableConv2D: [
    'filters',
    'kernelSize',
    'depthMultiplier',
    'strides',
    'padding',
    'dilationRate',
    'activation',
    'useBias',
  ],
  MaxPooling2D: ['poolSize', 'strides', 'padding'],
  AveragePooling2D: ['poolSize', 'strides', 'padding'],
  Dropout: ['rate'],
  Activation: ['activation'],
  BatchNormalization: ['axis', 'momentum', 'epsilon'],
  LSTM: ['units', 'activation', 'recurrentActivation', 'returnSequences', 'goBackwards', 'useBias'],
  GRU: ['units', 'activation', 'recurrentActivation', 'returnSequences', 'goBackwards', 'useBias'],
  SimpleRNN: ['units', 'activation', 'returnSequences', 'goBackwards', 'useBias'],
};

const BAYES_SHOWN = [
  'inChannels',
  'outChannels',
  'kernelSize',
  'stride',
  'padMode',
  'padding',
  'dilation',
  'group',
  'hasBias',
  'activation',
  // the recurrent kinds (LSTM, GRU, SimpleRNN)
  'units',
  'useBias',
  'recurrentActivation',
  'returnSequences',
  'goBackwards',
] as const;

function snake(k: string): string {
  return k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function layerLines(layers: readonly tf.layers.Layer[], pad: string, lines: string[]): void {
  for (const layer of layers) {
    const cls = layer.getClassName();
    if (layer instanceof tf.LayersModel) {
      lines.push(`${pad}(${layer.name}) ${cls}`);
      layerLines(layer.layers, `${pad}  `, lines);
      continue;
    }
    const inner = wrappedLayers(layer);
    if (inner.some(isBayesianLayer)) {
      // a Bayesian wrapper: its line, then the Bayesian layers it runs
      const merge = cls.startsWith('Bidirectional')
        ? `  merge_mode=${fmt(layer.getConfig().mergeMode ?? null)}`
        : '';
      lines.push(`${pad}(${layer.name}) ${cls}${merge}`);
      layerLines(inner, `${pad}  `, lines);
      continue;
    }
    const cfg = layer.getConfig();
    if (isBayesianLayer(layer)) {
      const args = BAYES_SHOWN.filter((k) => cfg[k] !== undefined).map(
        (k) => `${snake(k)}=${fmt(cfg[k])}`,
      );
      const params = layer.weights.map((w) => w.name).join(', ');
      const p = layer.prior;
      lines.push(
        `${pad}(${layer.name}) ${cls}  [Bayesian]`,
        `${pad}  ${args.join(', ')}`,
        `${pad}  parameters: ${params}`,
        p.type !== 'normal'
          ? `${pad}  (weight_prior) ScaleMixturePrior  ${fmt(p)}`
          : isCentredPriorLayer(layer)
            ? `${pad}  (weight_prior) NormalPrior  mean = DNN weights (MOPED), standard deviation = ${p.sigma}`
            : `${pad}  (weight_prior) NormalPrior  mean = ${p.mu}, standard deviation = ${p.sigma}`,
        `${pad}  (weight_posterior) NormalPosterior  sigma = softplus(rho), mode = ${layer.mode}`,
      );
    } else {
      const keys = SHOWN[cls] ?? [];
      const args = keys
        .filter((k) => cfg[k] !== undefined)
        .map((k) => `${snake(k)}=${fmt(cfg[k])}`);
      lines.push(`${pad}(${layer.name}) ${cls}${args.length > 0 ? `  ${args.join(', ')}` : ''}`);
    }
  }
}

/**
 * The model listing in the style of MindSpore's cell printout: `(name) ClassName arg=value, ...`
 * per layer (nested models, and the layers a Bayesian wrapper runs, indented); Bayesian layers are marked `[Bayesian]` and add their
 * arguments, parameter names, `(weight_prior)` and `(weight_posterior)` lines.
 * @param model any tfjs model.
 * @returns a multi-line string (print it with `console.log`).
 * @example
 * ```ts
 * console.log(summarizeModel(bnn)); // "lenet5\n  (conv1) ConvReparam  [Bayesian]\n ..."
 * ```
 */
export function summarizeModel(model: tf.LayersModel): string {
  checkModel(model);
  const lines = [model.name];
  layerLines(model.layers, '  ', lines);
  return lines.join('\n');
}
