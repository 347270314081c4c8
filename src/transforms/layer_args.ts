/**
 * MindSpore-style views of TF.js layers and the argument rules of `TransformToBNN`.
 *
 * MindSpore's `get_dense_args` / `get_conv_args` read a DNN layer `dp` through its attributes
 * (`dp.in_channels`, `dp.has_bias`, ...). Here {@link denseView} and {@link convView} build the same
 * view of a tfjs `Dense` / `Conv2D` layer, so user getters are written as in MindSpore:
 * `(dp) => ({ inChannels: dp.inChannels, outChannels: dp.outChannels })`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import type { DataFormat } from '../layers/conv_format.js';

/** What a getter sees of a Dense layer (MindSpore `nn.Dense` attribute names). */
export interface DenseView {
  readonly kind: 'Dense';
  /** The tfjs layer itself. */
  readonly layer: tf.layers.Layer;
  readonly name: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly hasBias: boolean;
  readonly activation: string;
}

/**
 * What a getter sees of a Conv2D layer (MindSpore `nn.Conv2d` attribute names); a
 * `DepthwiseConv2D` is seen as the grouped convolution it is (`group = inChannels`,
 * `outChannels = inChannels * depthMultiplier`, MindSpore's depthwise `nn.Conv2d`).
 */
export interface ConvView {
  readonly kind: 'Conv2D' | 'DepthwiseConv2D';
  readonly layer: tf.layers.Layer;
  readonly name: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padMode: 'same' | 'valid';
  readonly padding: number;
  readonly dilation: [number, number];
  readonly group: number;
  readonly hasBias: boolean;
  readonly activation: string;
  /** The DNN layer's data format (a channels-first layer converts to a channels-first one). */
  readonly dataFormat: DataFormat;
}

/** What a getter sees of a Conv1D layer (MindSpore `nn.Conv1d` attribute names). */
export interface Conv1DView {
  readonly kind: 'Conv1D';
  readonly layer: tf.layers.Layer;
  readonly name: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  /** TF.js's padding; `'causal'` pads `(k - 1) * dilation` on the left. */
  readonly padMode: 'same' | 'valid' | 'causal';
  readonly dilation: number;
  readonly hasBias: boolean;
  readonly activation: string;
}

/**
 * What a getter sees of a Conv2DTranspose layer (MindSpore `nn.Conv2dTranspose` attribute
 * names): a transposed convolution has no dilation or groups.
 */
export interface Conv2DTransposeView {
  readonly kind: 'Conv2DTranspose';
  readonly layer: tf.layers.Layer;
  readonly name: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padMode: 'same' | 'valid';
  readonly hasBias: boolean;
  readonly activation: string;
  /** The DNN layer's data format. */
  readonly dataFormat: DataFormat;
}

/** Arguments given to a Bayesian layer constructor (plain JSON values). */
export type LayerArgsDict = Record<string, unknown>;

/** A MindSpore-style getter: which arguments of the DNN layer the Bayesian layer receives. */
export type GetArgs<V> = (dp: V) => LayerArgsDict;

function pair(v: unknown, name: string): [number, number] {
  const arr = typeof v === 'number' ? [v, v] : Array.isArray(v) ? v : [];
  if (arr.length !== 2 || arr.some((d) => typeof d !== 'number')) {
    throw new ArgumentError(
      name,
      `expected a number or a pair of numbers, got ${JSON.stringify(v)}`,
    );
  }
  return [arr[0] as number, arr[1] as number];
}

function activationName(v: unknown): string {
  if (v === undefined || v === null) return 'linear';
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && 'getClassName' in v) {
    return String((v as { getClassName: () => string }).getClassName()).toLowerCase();
  }
  return String(v);
}

function kernelShape(layer: tf.layers.Layer): number[] {
  const w = layer.weights[0];
  if (w === undefined) {
    throw new ArgumentError('model', `layer '${layer.name}' is not built (it has no weights)`);
  }
  return w.shape as number[];
}

/**
 * A convolution's data format (`'channelsLast'` when absent): the layer's own, since tfjs 4.22's
 * `Conv1D.getConfig` leaves it out, else its config's.
 */
function dataFormatOf(layer: tf.layers.Layer, c: tf.serialization.ConfigDict): DataFormat {
  const own = (layer as unknown as { dataFormat?: unknown }).dataFormat;
  const df = own ?? c.dataFormat;
  if (df === undefined || df === null || df === 'channelsLast') return 'channelsLast';
  if (df === 'channelsFirst') return 'channelsFirst';
  throw new ArgumentError('model', `layer '${layer.name}': unknown dataFormat ${String(df)}`);
}

/**
 * The `'same'` / `'valid'` padding of a 2-D or 3-D convolution's config (either data format).
 * @throws ArgumentError naming `model` and the layer for another padding.
 */
function convPadding(layer: tf.layers.Layer, c: tf.serialization.ConfigDict): 'same' | 'valid' {
  dataFormatOf(layer, c);
  const padding = c.padding === 'same' ? 'same' : c.padding === 'valid' ? 'valid' : undefined;
  if (padding === undefined) {
    throw new ArgumentError(
      'model',
      `layer '${layer.name}': unsupported padding ${String(c.padding)}`,
    );
  }
  return padding;
}

/** The MindSpore view of a built tfjs `Dense` layer. */
export function denseView(layer: tf.layers.Layer): DenseView {
  checkLayer(layer);
  const c = layer.getConfig();
  const [inChannels] = kernelShape(layer);
  return {
    kind: 'Dense',
    layer,
    name: layer.name,
    inChannels: inChannels as number,
    outChannels: c.units as number,
    hasBias: c.useBias !== false,
    activation: activationName(c.activation),
  };
}

/**
 * The view of a built channels-last 2-D convolution (`Conv2D`, or `DepthwiseConv2D` seen as the
 * grouped convolution it is).
 */
function conv2dView(layer: tf.layers.Layer, kind: ConvView['kind']): ConvView {
  checkLayer(layer);
  const c = layer.getConfig();
  const padding = convPadding(layer, c);
  const k = kernelShape(layer);
  // a depthwise kernel [kh, kw, in, multiplier]: group = in, out = in * multiplier
  const inChannels = k[2] as number;
  const depthwise = kind === 'DepthwiseConv2D';
  return {
    kind,
    layer,
    name: layer.name,
    inChannels,
    outChannels: depthwise ? inChannels * (k[3] as number) : (c.filters as number),
    kernelSize: pair(c.kernelSize, 'kernelSize'),
    stride: pair(c.strides ?? 1, 'strides'),
    padMode: padding,
    padding: 0,
    dilation: pair(c.dilationRate ?? 1, 'dilationRate'),
    group: depthwise ? inChannels : 1,
    hasBias: c.useBias !== false,
    activation: activationName(c.activation),
    dataFormat: dataFormatOf(layer, c),
  };
}

/** The MindSpore view of a built tfjs `Conv2D` layer (either data format). */
export function convView(layer: tf.layers.Layer): ConvView {
  return conv2dView(layer, 'Conv2D');
}

/** One length of a 1-D layer's config (`k` or `[k]`). */
function single(v: unknown, name: string): number {
  const n = typeof v === 'number' ? v : Array.isArray(v) && v.length === 1 ? v[0] : undefined;
  if (typeof n !== 'number') {
    throw new ArgumentError(name, `expected a number or [number], got ${JSON.stringify(v)}`);
  }
  return n;
}

/** The MindSpore view of a built tfjs `Conv1D` layer (channels-last). */
export function conv1dView(layer: tf.layers.Layer): Conv1DView {
  checkLayer(layer);
  const c = layer.getConfig();
  if (dataFormatOf(layer, c) === 'channelsFirst') {
    // tfjs 4.22's conv1dWithBias transposes an NCW input to NWC and never back: the layer returns
    // [batch, length', filters] while declaring [batch, filters, length']
    throw new ArgumentError(
      'model',
      `layer '${layer.name}': a channels-first Conv1D cannot be converted: TF.js 4.22's Conv1D ` +
        "with dataFormat 'channelsFirst' returns its output channels-last [batch, length, " +
        'filters] while declaring [batch, filters, length], so no converted layer can match both ' +
        "its predictions and its topology; rebuild the DNN with dataFormat 'channelsLast' " +
        '(tf.layers.permute({dims: [2, 1]}) before it)',
    );
  }
  const k = kernelShape(layer);
  const padding = c.padding;
  if (padding !== 'same' && padding !== 'valid' && padding !== 'causal') {
    throw new ArgumentError(
      'model',
      `layer '${layer.name}': unsupported padding ${String(c.padding)}`,
    );
  }
  return {
    kind: 'Conv1D',
    layer,
    name: layer.name,
    inChannels: k[1] as number,
    outChannels: c.filters as number,
    kernelSize: single(c.kernelSize, 'kernelSize'),
    stride: single(c.strides ?? 1, 'strides'),
    padMode: padding,
    dilation: single(c.dilationRate ?? 1, 'dilationRate'),
    hasBias: c.useBias !== false,
    activation: activationName(c.activation),
  };
}

/**
 * The MindSpore view of a built tfjs `DepthwiseConv2D` layer: a grouped Conv2D with
 * `group = inChannels` and `outChannels = inChannels * depthMultiplier` (output channel
 * `c * depthMultiplier + m`, the order of tfjs's depthwise kernel `[kh, kw, in, multiplier]`).
 */
export function depthwiseView(layer: tf.layers.Layer): ConvView {
  return conv2dView(layer, 'DepthwiseConv2D');
}

/** The default getter of a Conv1D layer: every geometric argument (`padding: 'causal'` kept). */
export const defaultConv1dArgs: GetArgs<Conv1DView> = (dp) => ({
  inChannels: dp.inChannels,
  outChannels: dp.outChannels,
  ...(dp.padMode === 'causal' ? { padding: 'causal' } : { padMode: dp.padMode }),
  kernelSize: dp.kernelSize,
  stride: dp.stride,
  hasBias: dp.hasBias,
  dilation: dp.dilation,
  activation: dp.activation,
});

/** `{dataFormat: 'channelsFirst'}` for a channels-first view, `{}` otherwise (configs unchanged). */
export function formatArg(dp: { readonly dataFormat?: DataFormat }): LayerArgsDict {
  return dp.dataFormat === 'channelsFirst' ? { dataFormat: 'channelsFirst' } : {};
}

/** MindSpore's default `get_dense_args`: in/out channels, bias and activation. */
export const defaultDenseArgs: GetArgs<DenseView> = (dp) => ({
  inChannels: dp.inChannels,
  outChannels: dp.outChannels,
  hasBias: dp.hasBias,
  activation: dp.activation,
});

/** MindSpore's default `get_conv_args`: every geometric argument of the convolution. */
export const defaultConvArgs: GetArgs<ConvView> = (dp) => ({
  inChannels: dp.inChannels,
  outChannels: dp.outChannels,
  padMode: dp.padMode,
  kernelSize: dp.kernelSize,
  stride: dp.stride,
  hasBias: dp.hasBias,
  padding: dp.padding,
  dilation: dp.dilation,
  group: dp.group,
  activation: dp.activation,
  ...formatArg(dp),
});

/**
 * `{...get, ...add}`, with MindSpore's rule that `add` may not repeat a key of `get` (nor another
 * spelling of one: `units` repeats `outChannels`, `useBias` repeats `hasBias`, ...).
 * @param argName the option name used in the error (`addDenseArgs`, `addConvArgs`, `addArgs`).
 */
export function mergeArgs(
  get: LayerArgsDict,
  add: LayerArgsDict | undefined,
  argName: string,
): LayerArgsDict {
  // a getter that returned no object is refused by the topology rewrite, naming the getter
  if (get === null || typeof get !== 'object' || Array.isArray(get)) return get;
  if (add === undefined) return { ...get };
  if (add === null || typeof add !== 'object' || Array.isArray(add)) {
    throw new ArgumentError(argName, 'expected an object of extra layer arguments');
  }
  const dup = Object.keys(add).filter((k) => k in get || aliasesOf(k).some((a) => a in get));
  if (dup.length > 0) {
    throw new ArgumentError(
      argName,
      `may not repeat arguments taken from the DNN layer (${dup.join(', ')}); ` +
        'change the get*Args function instead',
    );
  }
  return { ...get, ...add };
}

/**
 * The argument names that mean the same argument as `key` (TF.js's and MindSpore's spellings,
 * which the Bayesian layers take both of): `units` / `filters` / `outChannels`, `useBias` /
 * `hasBias`, `strides` / `stride`, `dilationRate` / `dilation`.
 */
function aliasesOf(key: string): readonly string[] {
  for (const group of ARG_ALIASES) if (group.includes(key)) return group.filter((k) => k !== key);
  return [];
}

const ARG_ALIASES: readonly (readonly string[])[] = [
  ['units', 'filters', 'outChannels'],
  ['useBias', 'hasBias'],
  ['strides', 'stride'],
  ['dilationRate', 'dilation'],
];

/** @throws ArgumentError naming `layer` unless it is a tfjs layer. */
function checkLayer(layer: unknown): void {
  if (!(layer instanceof tf.layers.Layer)) {
    throw new ArgumentError(
      'layer',
      `expected a tf.layers.Layer, got ${layer === null ? 'null' : typeof layer}`,
    );
  }
}

/**
 * The MindSpore view of a built tfjs `Conv2DTranspose` layer (channels-last; kernel
 * `[kh, kw, filters, inChannels]`, so `inChannels` is its last axis).
 */
export function conv2dTransposeView(layer: tf.layers.Layer): Conv2DTransposeView {
  checkLayer(layer);
  const c = layer.getConfig();
  const padding = convPadding(layer, c);
  const dilation = pair(c.dilationRate ?? 1, 'dilationRate');
  if (dilation[0] !== 1 || dilation[1] !== 1) {
    throw new ArgumentError(
      'model',
      `layer '${layer.name}': a dilated Conv2DTranspose (dilationRate ${JSON.stringify(c.dilationRate)}) cannot be converted`,
    );
  }
  const k = kernelShape(layer);
  return {
    kind: 'Conv2DTranspose',
    layer,
    name: layer.name,
    inChannels: k[3] as number,
    outChannels: c.filters as number,
    kernelSize: pair(c.kernelSize, 'kernelSize'),
    stride: pair(c.strides ?? 1, 'strides'),
    padMode: padding,
    hasBias: c.useBias !== false,
    activation: activationName(c.activation),
    dataFormat: dataFormatOf(layer, c),
  };
}

/** The default getter of a Conv2DTranspose layer: every geometric argument of the layer. */
export const defaultConv2dTransposeArgs: GetArgs<Conv2DTransposeView> = (dp) => ({
  inChannels: dp.inChannels,
  outChannels: dp.outChannels,
  padMode: dp.padMode,
  kernelSize: dp.kernelSize,
  stride: dp.stride,
  hasBias: dp.hasBias,
  activation: dp.activation,
  ...formatArg(dp),
});

/**
 * A tfjs `SeparableConv2D` as the two convolutions it runs (`tf.separableConv2d`): a depthwise
 * one (strides, padding, dilation; kernel `[kh, kw, in, m]`, no bias, no activation), seen as a
 * grouped Conv2D with `group = in`, `outChannels = in * m`, then a pointwise 1x1 Conv2D
 * (`in * m -> filters`, stride 1, `'valid'`) with the layer's bias and activation:
 *
 * $$y = \sigma\big(\mathrm{conv}_{1\times1}(\mathrm{depthwise}(x, W_d), W_p) + b\big).$$
 */
export interface SeparableView {
  readonly depthwise: ConvView;
  readonly pointwise: ConvView;
}

/** The two MindSpore views of a built tfjs `SeparableConv2D` layer (either data format). */
export function separableView(layer: tf.layers.Layer): SeparableView {
  checkLayer(layer);
  const c = layer.getConfig();
  const padding = convPadding(layer, c);
  const dk = kernelShape(layer);
  const inChannels = dk[2] as number;
  const mid = inChannels * (dk[3] as number);
  const common = { layer, name: layer.name, padding: 0, dataFormat: dataFormatOf(layer, c) };
  return {
    depthwise: {
      ...common,
      kind: 'DepthwiseConv2D',
      inChannels,
      outChannels: mid,
      kernelSize: pair(c.kernelSize, 'kernelSize'),
      stride: pair(c.strides ?? 1, 'strides'),
      padMode: padding,
      dilation: pair(c.dilationRate ?? 1, 'dilationRate'),
      group: inChannels,
      hasBias: false,
      activation: 'linear',
    },
    pointwise: {
      ...common,
      kind: 'Conv2D',
      inChannels: mid,
      outChannels: c.filters as number,
      kernelSize: [1, 1],
      stride: [1, 1],
      padMode: 'valid',
      dilation: [1, 1],
      group: 1,
      hasBias: c.useBias !== false,
      activation: activationName(c.activation),
    },
  };
}

/**
 * What a getter sees of every tfjs recurrent layer (`LSTM`, `GRU`, `SimpleRNN`): its hidden size
 * and recurrence options, with `inChannels` read from the kernel `[in, g units]`. The Bayesian
 * layer's one kernel is `[W; U]` `[in + units, g units]` (TF.js's `kernel` over its
 * `recurrentKernel`), so the converted layer computes `[x_t, h_{t-1}] [W; U] + b` as the DNN does.
 */
export interface RecurrentView<K extends 'LSTM' | 'GRU' | 'SimpleRNN'> {
  readonly kind: K;
  readonly layer: tf.layers.Layer;
  readonly name: string;
  readonly inChannels: number;
  /** Hidden size (width of `h_t`). */
  readonly units: number;
  readonly hasBias: boolean;
  /** Output (cell / candidate) activation (TF.js's `activation`, default tanh). */
  readonly activation: string;
  readonly returnSequences: boolean;
  readonly goBackwards: boolean;
  /** Whether the layer also returns its last states (`[output, h_T(, c_T)]`). */
  readonly returnState: boolean;
}

/**
 * What a getter sees of a tfjs `LSTM` layer (gate order i, f, c, o; `g = 4`).
 */
export interface LSTMView extends RecurrentView<'LSTM'> {
  /** Gate activation (TF.js's `recurrentActivation`, default hardSigmoid). */
  readonly recurrentActivation: string;
  readonly unitForgetBias: boolean;
}

/** What a getter sees of a tfjs `GRU` layer (gate order z, r, h; `g = 3`; reset before the matmul). */
export interface GRUView extends RecurrentView<'GRU'> {
  /** Gate activation (TF.js's `recurrentActivation`, default hardSigmoid). */
  readonly recurrentActivation: string;
}

/** What a getter sees of a tfjs `SimpleRNN` layer (`h_t = a(x_t W + h_{t-1} U + b)`; `g = 1`). */
export type SimpleRNNView = RecurrentView<'SimpleRNN'>;

/**
 * The shared part of the view of a built tfjs recurrent layer, and its config.
 * @throws ArgumentError naming `layer` when it is not of class `kind`; naming `model` and the
 *   layer when it is stateful or uses (recurrent) dropout: the Bayesian recurrent layers have no
 *   counterpart for these (returned and initial states are converted).
 */
function recurrentView<K extends 'LSTM' | 'GRU' | 'SimpleRNN'>(
  layer: tf.layers.Layer,
  kind: K,
): [RecurrentView<K>, tf.serialization.ConfigDict] {
  checkLayer(layer);
  if (layer.getClassName() !== kind) {
    throw new ArgumentError(
      'layer',
      `expected a tfjs ${kind} layer, got '${layer.name}' of class ${layer.getClassName()}`,
    );
  }
  const c = layer.getConfig();
  const refuse = (what: string): never => {
    throw new ArgumentError(
      'model',
      `layer '${layer.name}': ${kind === 'LSTM' ? 'an' : 'a'} ${kind} ${what} cannot be converted ` +
        `(the Bayesian ${kind} has no counterpart); rebuild the DNN without it`,
    );
  };
  if (c.stateful === true) refuse('with stateful: true');
  if (typeof c.dropout === 'number' && c.dropout > 0) refuse(`with dropout ${c.dropout}`);
  if (typeof c.recurrentDropout === 'number' && c.recurrentDropout > 0) {
    refuse(`with recurrentDropout ${c.recurrentDropout}`);
  }
  if (c.resetAfter === true) refuse('with resetAfter: true');
  const [inChannels] = kernelShape(layer);
  const view = {
    kind,
    layer,
    name: layer.name,
    inChannels: inChannels as number,
    units: c.units as number,
    hasBias: c.useBias !== false,
    activation: activationName(c.activation),
    returnSequences: c.returnSequences === true,
    goBackwards: c.goBackwards === true,
    returnState: c.returnState === true,
  };
  return [view, c];
}

/**
 * The view of a built tfjs `LSTM` layer.
 * @throws ArgumentError naming `model` and the layer when it is stateful or
 *   uses (recurrent) dropout: the Bayesian LSTM has no counterpart for these.
 */
export function lstmView(layer: tf.layers.Layer): LSTMView {
  const [view, c] = recurrentView(layer, 'LSTM');
  return {
    ...view,
    recurrentActivation: activationName(c.recurrentActivation),
    unitForgetBias: c.unitForgetBias !== false,
  };
}

/**
 * The view of a built tfjs `GRU` layer.
 * @throws ArgumentError naming `model` and the layer as {@link lstmView}, and for `resetAfter: true`.
 */
export function gruView(layer: tf.layers.Layer): GRUView {
  const [view, c] = recurrentView(layer, 'GRU');
  return { ...view, recurrentActivation: activationName(c.recurrentActivation) };
}

/**
 * The view of a built tfjs `SimpleRNN` layer.
 * @throws ArgumentError naming `model` and the layer as {@link lstmView}.
 */
export function simpleRnnView(layer: tf.layers.Layer): SimpleRNNView {
  return recurrentView(layer, 'SimpleRNN')[0];
}

/** The arguments every Bayesian recurrent layer takes from its DNN layer's view. */
function recurrentArgs(dp: RecurrentView<'LSTM' | 'GRU' | 'SimpleRNN'>): LayerArgsDict {
  return {
    inChannels: dp.inChannels,
    units: dp.units,
    hasBias: dp.hasBias,
    activation: dp.activation,
    returnSequences: dp.returnSequences,
    goBackwards: dp.goBackwards,
    ...(dp.returnState ? { returnState: true } : {}),
  };
}

/** The default getter of a SimpleRNN layer: every argument of the recurrence. */
export const defaultSimpleRnnArgs: GetArgs<SimpleRNNView> = recurrentArgs;

/** The default getter of a GRU layer: every argument of the recurrence. */
export const defaultGruArgs: GetArgs<GRUView> = (dp) => ({
  ...recurrentArgs(dp),
  recurrentActivation: dp.recurrentActivation,
});

/** The default getter of an LSTM layer: every argument of the recurrence. */
export const defaultLstmArgs: GetArgs<LSTMView> = (dp) => ({
  ...recurrentArgs(dp),
  recurrentActivation: dp.recurrentActivation,
  unitForgetBias: dp.unitForgetBias,
});

/**
 * What a getter sees of a tfjs `Conv3D` layer (MindSpore `nn.Conv3d` attribute names; kernel
 * `[kd, kh, kw, in, filters]`): `y = conv3d(x, W) + b` on `[batch, depth, height, width, in]`
 * (or channels-first `[batch, in, depth, height, width]`).
 */
export interface Conv3DView {
  readonly kind: 'Conv3D';
  readonly layer: tf.layers.Layer;
  readonly name: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number, number];
  readonly stride: [number, number, number];
  readonly padMode: 'same' | 'valid';
  readonly dilation: [number, number, number];
  readonly hasBias: boolean;
  readonly activation: string;
  readonly dataFormat: DataFormat;
}

/**
 * What a getter sees of a tfjs `Conv3DTranspose` layer (kernel `[kd, kh, kw, filters, in]`, so
 * `inChannels` is its last axis; no dilation).
 */
export interface Conv3DTransposeView {
  readonly kind: 'Conv3DTranspose';
  readonly layer: tf.layers.Layer;
  readonly name: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number, number];
  readonly stride: [number, number, number];
  readonly padMode: 'same' | 'valid';
  readonly hasBias: boolean;
  readonly activation: string;
  readonly dataFormat: DataFormat;
}

function triple(v: unknown, name: string): [number, number, number] {
  const arr = typeof v === 'number' ? [v, v, v] : Array.isArray(v) ? v : [];
  if (arr.length !== 3 || arr.some((d) => typeof d !== 'number')) {
    throw new ArgumentError(name, `expected a number or three numbers, got ${JSON.stringify(v)}`);
  }
  return arr as [number, number, number];
}

/** The MindSpore view of a built tfjs `Conv3D` layer (either data format). */
export function conv3dView(layer: tf.layers.Layer): Conv3DView {
  checkLayer(layer);
  const c = layer.getConfig();
  const padding = convPadding(layer, c);
  const k = kernelShape(layer);
  return {
    kind: 'Conv3D',
    layer,
    name: layer.name,
    inChannels: k[3] as number,
    outChannels: c.filters as number,
    kernelSize: triple(c.kernelSize, 'kernelSize'),
    stride: triple(c.strides ?? 1, 'strides'),
    padMode: padding,
    dilation: triple(c.dilationRate ?? 1, 'dilationRate'),
    hasBias: c.useBias !== false,
    activation: activationName(c.activation),
    dataFormat: dataFormatOf(layer, c),
  };
}

/** The MindSpore view of a built tfjs `Conv3DTranspose` layer (either data format). */
export function conv3dTransposeView(layer: tf.layers.Layer): Conv3DTransposeView {
  checkLayer(layer);
  const c = layer.getConfig();
  const padding = convPadding(layer, c);
  const k = kernelShape(layer);
  return {
    kind: 'Conv3DTranspose',
    layer,
    name: layer.name,
    inChannels: k[4] as number,
    outChannels: c.filters as number,
    kernelSize: triple(c.kernelSize, 'kernelSize'),
    stride: triple(c.strides ?? 1, 'strides'),
    padMode: padding,
    hasBias: c.useBias !== false,
    activation: activationName(c.activation),
    dataFormat: dataFormatOf(layer, c),
  };
}

/** The default getter of a Conv3D layer: every geometric argument of the layer. */
export const defaultConv3dArgs: GetArgs<Conv3DView> = (dp) => ({
  inChannels: dp.inChannels,
  outChannels: dp.outChannels,
  padMode: dp.padMode,
  kernelSize: dp.kernelSize,
  stride: dp.stride,
  hasBias: dp.hasBias,
  dilation: dp.dilation,
  activation: dp.activation,
  ...formatArg(dp),
});

/** The default getter of a Conv3DTranspose layer: every geometric argument of the layer. */
export const defaultConv3dTransposeArgs: GetArgs<Conv3DTransposeView> = (dp) => ({
  inChannels: dp.inChannels,
  outChannels: dp.outChannels,
  padMode: dp.padMode,
  kernelSize: dp.kernelSize,
  stride: dp.stride,
  hasBias: dp.hasBias,
  activation: dp.activation,
  ...formatArg(dp),
});
