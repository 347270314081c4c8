/**
 * MindSpore-style views of TF.js convolution layers (`nn.Conv1d`, `nn.Conv2d`,
 * `nn.Conv2dTranspose`, `nn.Conv3d`, `nn.Conv3dTranspose` attribute names) and their default
 * getters. Every 2-D and 3-D view is read by the one rank-generic reader of `layer_view.ts`
 * (`convParts`, `convGeometry`, `convTail`): a view of rank `n` has `n` lengths per
 * `kernelSize` / `stride` (/ `dilation`), its kind adds what it has (groups, dilation).
 */
import type * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import type { DataFormat } from '../layers/conv_format.js';
import {
  activationName,
  checkLayer,
  convGeometry,
  convParts,
  convTail,
  dataFormatOf,
  geometryArgs,
  kernelShape,
  lengths,
  single,
  type GetArgs,
} from './layer_view.js';

/**
 * What every 2-D and 3-D convolution view has: `kernelSize` and `stride` of `S` (`[h, w]` or
 * `[d, h, w]`), TF.js's `'same'` / `'valid'` padding, bias, activation and data format.
 */
export interface ConvViewBase<K extends string, S extends number[]> {
  readonly kind: K;
  /** The tfjs layer itself. */
  readonly layer: tf.layers.Layer;
  readonly name: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: S;
  readonly stride: S;
  readonly padMode: 'same' | 'valid';
  readonly hasBias: boolean;
  readonly activation: string;
  /** The DNN layer's data format (a channels-first layer converts to a channels-first one). */
  readonly dataFormat: DataFormat;
}

/**
 * What a getter sees of a Conv2D layer (MindSpore `nn.Conv2d` attribute names); a
 * `DepthwiseConv2D` is seen as the grouped convolution it is (`group = inChannels`,
 * `outChannels = inChannels * depthMultiplier`, MindSpore's depthwise `nn.Conv2d`).
 */
export interface ConvView extends ConvViewBase<'Conv2D' | 'DepthwiseConv2D', [number, number]> {
  readonly padding: number;
  readonly dilation: [number, number];
  readonly group: number;
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
export type Conv2DTransposeView = ConvViewBase<'Conv2DTranspose', [number, number]>;

/**
 * What a getter sees of a tfjs `Conv3D` layer (MindSpore `nn.Conv3d` attribute names; kernel
 * `[kd, kh, kw, in, filters]`): `y = conv3d(x, W) + b` on `[batch, depth, height, width, in]`
 * (or channels-first `[batch, in, depth, height, width]`).
 */
export interface Conv3DView extends ConvViewBase<'Conv3D', [number, number, number]> {
  readonly dilation: [number, number, number];
}

/**
 * What a getter sees of a tfjs `Conv3DTranspose` layer (kernel `[kd, kh, kw, filters, in]`, so
 * `inChannels` is its last axis; no dilation).
 */
export type Conv3DTransposeView = ConvViewBase<'Conv3DTranspose', [number, number, number]>;

/**
 * The view of a built 2-D convolution (`Conv2D`, or `DepthwiseConv2D` seen as the grouped
 * convolution it is).
 */
function conv2dView(layer: tf.layers.Layer, kind: ConvView['kind']): ConvView {
  const { c, padMode, k } = convParts(layer);
  // a depthwise kernel [kh, kw, in, multiplier]: group = in, out = in * multiplier
  const inChannels = k[2] as number;
  const depthwise = kind === 'DepthwiseConv2D';
  return {
    kind,
    layer,
    name: layer.name,
    inChannels,
    outChannels: depthwise ? inChannels * (k[3] as number) : (c.filters as number),
    ...convGeometry(c, 2, padMode),
    padding: 0,
    // tfjs 4.22's DepthwiseConv2D keeps a dilationRate in its config but runs (and declares its
    // output shape) without it, so the converted layer matches what the DNN computes: dilation 1
    dilation: depthwise ? [1, 1] : lengths(c.dilationRate ?? 1, 2, 'dilationRate'),
    group: depthwise ? inChannels : 1,
    ...convTail(layer, c),
  };
}

/** The MindSpore view of a built tfjs `Conv2D` layer (either data format). */
export function convView(layer: tf.layers.Layer): ConvView {
  return conv2dView(layer, 'Conv2D');
}

/**
 * The MindSpore view of a built tfjs `DepthwiseConv2D` layer: a grouped Conv2D with
 * `group = inChannels` and `outChannels = inChannels * depthMultiplier` (output channel
 * `c * depthMultiplier + m`, the order of tfjs's depthwise kernel `[kh, kw, in, multiplier]`).
 * Its `dilation` is `[1, 1]` whatever the layer's `dilationRate`: tfjs 4.22's DepthwiseConv2D
 * ignores that argument (`y = depthwiseConv2d(x, W)` undilated, output `conv_len(H, k, s)`).
 */
export function depthwiseView(layer: tf.layers.Layer): ConvView {
  return conv2dView(layer, 'DepthwiseConv2D');
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

/** MindSpore's default `get_conv_args`: every geometric argument of the convolution. */
export const defaultConvArgs: GetArgs<ConvView> = (dp) =>
  geometryArgs(dp, { padding: dp.padding, dilation: dp.dilation, group: dp.group });

/**
 * The MindSpore view of a built tfjs `Conv2DTranspose` layer (channels-last; kernel
 * `[kh, kw, filters, inChannels]`, so `inChannels` is its last axis).
 */
export function conv2dTransposeView(layer: tf.layers.Layer): Conv2DTransposeView {
  const { c, padMode, k } = convParts(layer, (config) => {
    const dilation = lengths(config.dilationRate ?? 1, 2, 'dilationRate');
    if (dilation[0] !== 1 || dilation[1] !== 1) {
      throw new ArgumentError(
        'model',
        `layer '${layer.name}': a dilated Conv2DTranspose (dilationRate ${JSON.stringify(config.dilationRate)}) cannot be converted`,
      );
    }
  });
  return {
    kind: 'Conv2DTranspose',
    layer,
    name: layer.name,
    inChannels: k[3] as number,
    outChannels: c.filters as number,
    ...convGeometry(c, 2, padMode),
    ...convTail(layer, c),
  };
}

/** The default getter of a Conv2DTranspose layer: every geometric argument of the layer. */
export const defaultConv2dTransposeArgs: GetArgs<Conv2DTransposeView> = (dp) => geometryArgs(dp);

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
  const { c, padMode, k: dk } = convParts(layer);
  const inChannels = dk[2] as number;
  const mid = inChannels * (dk[3] as number);
  const common = { layer, name: layer.name, padding: 0, dataFormat: dataFormatOf(layer, c) };
  return {
    depthwise: {
      ...common,
      kind: 'DepthwiseConv2D',
      inChannels,
      outChannels: mid,
      ...convGeometry(c, 2, padMode),
      dilation: lengths(c.dilationRate ?? 1, 2, 'dilationRate'),
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

/** The MindSpore view of a built tfjs `Conv3D` layer (either data format). */
export function conv3dView(layer: tf.layers.Layer): Conv3DView {
  const { c, padMode, k } = convParts(layer);
  return {
    kind: 'Conv3D',
    layer,
    name: layer.name,
    inChannels: k[3] as number,
    outChannels: c.filters as number,
    ...convGeometry(c, 3, padMode),
    dilation: lengths(c.dilationRate ?? 1, 3, 'dilationRate'),
    ...convTail(layer, c),
  };
}

/** The MindSpore view of a built tfjs `Conv3DTranspose` layer (either data format). */
export function conv3dTransposeView(layer: tf.layers.Layer): Conv3DTransposeView {
  const { c, padMode, k } = convParts(layer);
  return {
    kind: 'Conv3DTranspose',
    layer,
    name: layer.name,
    inChannels: k[4] as number,
    outChannels: c.filters as number,
    ...convGeometry(c, 3, padMode),
    ...convTail(layer, c),
  };
}

/** The default getter of a Conv3D layer: every geometric argument of the layer. */
export const defaultConv3dArgs: GetArgs<Conv3DView> = (dp) =>
  geometryArgs(dp, { dilation: dp.dilation });

/** The default getter of a Conv3DTranspose layer: every geometric argument of the layer. */
export const defaultConv3dTransposeArgs: GetArgs<Conv3DTransposeView> = (dp) => geometryArgs(dp);
