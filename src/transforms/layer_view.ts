/**
 * What every MindSpore-style view of a tfjs layer reads (`layer_args.ts`, `conv_views.ts`,
 * `recurrent_views.ts`): the layer check, its kernel shape, activation name, data format and
 * padding, and the lengths of a convolution's config as `n`-tuples. One convolution reader serves
 * every rank: a view is `{kind, layer, name, inChannels, outChannels}` followed by
 * {@link convGeometry} (`kernelSize`, `stride`, `padMode`, each read as `n` numbers) and
 * {@link convTail} (`hasBias`, `activation`, `dataFormat`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import type { DataFormat } from '../layers/conv_format.js';

/** Arguments given to a Bayesian layer constructor (plain JSON values). */
export type LayerArgsDict = Record<string, unknown>;

/** A MindSpore-style getter: which arguments of the DNN layer the Bayesian layer receives. */
export type GetArgs<V> = (dp: V) => LayerArgsDict;

/** `n` lengths of a convolution (`n = 2`: height, width; `n = 3`: depth, height, width). */
export type Lengths<N extends 2 | 3> = N extends 2 ? [number, number] : [number, number, number];

/**
 * A config length `v` as `n` numbers: a number `k` is `[k, ..., k]`, an array must have `n`
 * numbers.
 * @throws ArgumentError naming `name` for anything else.
 */
export function lengths<N extends 2 | 3>(v: unknown, n: N, name: string): Lengths<N> {
  const arr: unknown[] =
    typeof v === 'number' ? new Array<number>(n).fill(v) : Array.isArray(v) ? v : [];
  if (arr.length !== n || arr.some((d) => typeof d !== 'number')) {
    const what = n === 2 ? 'a pair of numbers' : 'three numbers';
    throw new ArgumentError(name, `expected a number or ${what}, got ${JSON.stringify(v)}`);
  }
  return [...arr] as Lengths<N>;
}

/** One length of a 1-D layer's config (`k` or `[k]`). */
export function single(v: unknown, name: string): number {
  const n = typeof v === 'number' ? v : Array.isArray(v) && v.length === 1 ? v[0] : undefined;
  if (typeof n !== 'number') {
    throw new ArgumentError(name, `expected a number or [number], got ${JSON.stringify(v)}`);
  }
  return n;
}

/** TF.js's activation of a config as its name (`'linear'` when absent). */
export function activationName(v: unknown): string {
  if (v === undefined || v === null) return 'linear';
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && 'getClassName' in v) {
    return String((v as { getClassName: () => string }).getClassName()).toLowerCase();
  }
  return String(v);
}

/** The shape of a built layer's first weight (its kernel). */
export function kernelShape(layer: tf.layers.Layer): number[] {
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
export function dataFormatOf(layer: tf.layers.Layer, c: tf.serialization.ConfigDict): DataFormat {
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

/** @throws ArgumentError naming `layer` unless it is a tfjs layer. */
export function checkLayer(layer: unknown): void {
  if (!(layer instanceof tf.layers.Layer)) {
    throw new ArgumentError(
      'layer',
      `expected a tf.layers.Layer, got ${layer === null ? 'null' : typeof layer}`,
    );
  }
}

/**
 * A built 2-D or 3-D convolution's config, padding and kernel shape, checked in this order (the
 * layer, its data format and padding, `check` of the config, its weights).
 */
export function convParts(
  layer: tf.layers.Layer,
  check?: (c: tf.serialization.ConfigDict) => void,
): { c: tf.serialization.ConfigDict; padMode: 'same' | 'valid'; k: number[] } {
  checkLayer(layer);
  const c = layer.getConfig();
  const padMode = convPadding(layer, c);
  check?.(c);
  return { c, padMode, k: kernelShape(layer) };
}

/** `kernelSize`, `stride` (`n` lengths each) and `padMode` of a convolution view. */
export function convGeometry<N extends 2 | 3>(
  c: tf.serialization.ConfigDict,
  n: N,
  padMode: 'same' | 'valid',
): { kernelSize: Lengths<N>; stride: Lengths<N>; padMode: 'same' | 'valid' } {
  return {
    kernelSize: lengths(c.kernelSize, n, 'kernelSize'),
    stride: lengths(c.strides ?? 1, n, 'strides'),
    padMode,
  };
}

/** `hasBias`, `activation` and `dataFormat` of a convolution view. */
export function convTail(
  layer: tf.layers.Layer,
  c: tf.serialization.ConfigDict,
): { hasBias: boolean; activation: string; dataFormat: DataFormat } {
  return {
    hasBias: c.useBias !== false,
    activation: activationName(c.activation),
    dataFormat: dataFormatOf(layer, c),
  };
}

/** `{dataFormat: 'channelsFirst'}` for a channels-first view, `{}` otherwise (configs unchanged). */
export function formatArg(dp: { readonly dataFormat?: DataFormat }): LayerArgsDict {
  return dp.dataFormat === 'channelsFirst' ? { dataFormat: 'channelsFirst' } : {};
}

/** What the default getters of the 2-D and 3-D convolutions read of a view. */
interface GeometryView {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly padMode: string;
  readonly kernelSize: readonly number[];
  readonly stride: readonly number[];
  readonly hasBias: boolean;
  readonly activation: string;
  readonly dataFormat: DataFormat;
}

/**
 * The default getter's arguments of a 2-D or 3-D convolution view: in/out channels, `padMode`,
 * `kernelSize`, `stride`, `hasBias`, then the kind's `extra` (dilation, groups, ...), then
 * `activation` and a channels-first `dataFormat`.
 */
export function geometryArgs(dp: GeometryView, extra: LayerArgsDict = {}): LayerArgsDict {
  return {
    inChannels: dp.inChannels,
    outChannels: dp.outChannels,
    padMode: dp.padMode,
    kernelSize: dp.kernelSize,
    stride: dp.stride,
    hasBias: dp.hasBias,
    ...extra,
    activation: dp.activation,
    ...formatArg(dp),
  };
}
