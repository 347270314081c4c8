/**
 * TF.js argument names for the Bayesian layers. A TF.js user writes `units`, `filters`,
 * `kernelSize`, `strides`, `padding: 'same' | 'valid'`, `dilationRate`, `useBias`,
 * `kernelInitializer`; the layers' own (MindSpore) names are `outChannels`, `stride`, `padMode`,
 * `dilation`, `hasBias`. This module maps the first onto the second, so both spellings work and the
 * saved configuration keeps one form. Giving both names of one argument with different values is
 * an error naming both.
 *
 * Defaults follow the spelling: a convolution written with `filters` has TF.js's defaults
 * (`useBias: true`, `padding: 'valid'`); one written with MindSpore's `outChannels` keeps
 * MindSpore's (`hasBias: false`, `padMode: 'same'`). Dense layers have a bias by default either way.
 */
import { ArgumentError } from '../utils/errors.js';
import { checkOptionKeys } from '../utils/options.js';
import { checkDataFormat, type DataFormat } from './conv_format.js';
import type { InitializerSpec } from './initializers.js';

/** TF.js names shared by the Dense and Conv2D Bayesian layers. */
export interface TfjsLayerArgs {
  /** Whether the layer has a Bayesian bias (alias of `hasBias`). Default `true`. */
  useBias?: boolean;
  /**
   * Initializer of the kernel's posterior means `mu` (instead of `posteriorMuInitial`), e.g.
   * `'glorotUniform'`; the posterior scales still start from `posteriorRhoInitial`.
   */
  kernelInitializer?: InitializerSpec;
  /** Initializer of the bias's posterior means (instead of `posteriorMuInitial`). */
  biasInitializer?: InitializerSpec;
}

/** TF.js names of the Dense layers. */
export interface TfjsDenseArgs extends TfjsLayerArgs {
  /** Output units (alias of `outChannels`). */
  units?: number;
  /**
   * Width of the input, as tfjs's `dense({inputDim})`: the first layer of a model then takes
   * inputs `[batch, inputDim]` (`inputShape: [inputDim]`; ignored when `inputShape` or
   * `batchInputShape` is given, as in tfjs).
   */
  inputDim?: number;
}

/** TF.js names of the Conv2D layers (NHWC). */
export interface TfjsConvArgs extends TfjsLayerArgs {
  /** Output channels (alias of `outChannels`). */
  filters?: number;
  /** Strides (height, width) (alias of `stride`). Default 1. */
  strides?: number | readonly number[];
  /** Dilation (alias of `dilation`). Default 1. */
  dilationRate?: number | readonly number[];
  /**
   * `'channelsLast'` (default: `[batch, ...spatial, channels]`) or `'channelsFirst'`
   * (`[batch, channels, ...spatial]`, transposed to channels-last around the convolution, as
   * TF.js's layers do; see `conv_format.ts`).
   */
  dataFormat?: DataFormat;
}

/** The MindSpore-named fields {@link fromTfjsArgs} fills in. */
/** The argument names of tfjs's `LayerArgs` (and what its deserialization passes). */
export const TFJS_LAYER_ARG_KEYS = [
  'inputShape',
  'batchInputShape',
  'batchSize',
  'dtype',
  'name',
  'trainable',
  'weights',
  'inputDType',
  // tfjs's deserialization passes its custom-object table in the config
  'customObjects',
] as const;

/** Arguments of every Bayesian layer: tfjs's `LayerArgs`, the variational ones, the TF.js aliases. */
const COMMON_KEYS = [
  ...TFJS_LAYER_ARG_KEYS,
  'inChannels',
  'outChannels',
  'hasBias',
  'useBias',
  'activation',
  'priorMu',
  'priorSigma',
  'posteriorMuInitial',
  'posteriorRhoInitial',
  'prior',
  'posterior',
  'mode',
  'klScale',
  'centredPrior',
  'kernelInitializer',
  'biasInitializer',
] as const;

/** The argument names a Bayesian Dense / convolution accepts (both spellings). */
export const LAYER_ARG_KEYS: Readonly<Record<'dense' | 'conv', readonly string[]>> = {
  dense: [...COMMON_KEYS, 'units', 'inputDim'],
  conv: [
    ...COMMON_KEYS,
    'filters',
    'kernelSize',
    'stride',
    'strides',
    'padMode',
    'padding',
    'dilation',
    'dilationRate',
    'group',
  ],
};

/** tf.layers options the Bayesian layers do not implement, and why. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  kernelRegularizer: 'the prior KL regularises the weights: set the prior (priorSigma) instead',
  biasRegularizer: 'the prior KL regularises the weights: set the prior (priorSigma) instead',
  activityRegularizer: 'not supported by the Bayesian layers',
  kernelConstraint: 'not supported by the Bayesian layers',
  biasConstraint: 'not supported by the Bayesian layers',
};

/**
 * Refuse options a Bayesian layer would otherwise ignore: tf.layers options it does not implement
 * (a Dense `dataFormat` other than `'channelsLast'`, a convolution's other than `'channelsLast'` /
 * `'channelsFirst'`, regularizers, constraints) and unknown keys (typos),
 * each naming the key.
 */
function checkLayerKeys(a: Record<string, unknown>, kind: 'dense' | 'conv'): void {
  const df = a['dataFormat'];
  if (kind === 'conv') {
    checkDataFormat(df);
  } else if (df !== undefined && df !== 'channelsLast') {
    throw new ArgumentError(
      'dataFormat',
      `expected 'channelsLast' (inputs [batch, height, width, channels]); the Bayesian layers do not implement '${String(df)}': transpose the inputs (tf.layers.permute) instead`,
    );
  }
  for (const [key, why] of Object.entries(UNSUPPORTED)) {
    if (a[key] !== undefined) throw new ArgumentError(key, why);
  }
  const rest = { ...a };
  delete rest['dataFormat'];
  checkOptionKeys(
    rest,
    LAYER_ARG_KEYS[kind],
    kind === 'dense' ? 'a Bayesian Dense layer' : 'a Bayesian convolution',
  );
}

interface Canonical {
  outChannels?: number;
  hasBias?: boolean;
  stride?: number | readonly number[];
  dilation?: number | readonly number[];
  padMode?: 'same' | 'valid' | 'pad';
  padding?: number | readonly number[];
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Move `args[alias]` to `out[canonical]`, rejecting two different values. */
function alias(
  args: Record<string, unknown>,
  out: Record<string, unknown>,
  tfName: string,
  msName: string,
): void {
  const a = args[tfName];
  if (a === undefined) return;
  const b = args[msName];
  if (b !== undefined && !same(a, b)) {
    throw new ArgumentError(
      tfName,
      `and ${msName} name the same argument; got ${JSON.stringify(a)} and ${JSON.stringify(b)}`,
    );
  }
  out[msName] = a;
  delete out[tfName];
}

/**
 * Map TF.js argument names onto the layers' names (see the module documentation).
 *
 * For a convolution, `padding: 'same' | 'valid'` becomes `padMode`; a numeric `padding` keeps
 * MindSpore's meaning (explicit padding with `padMode: 'pad'`).
 *
 * @param args the arguments as the user wrote them.
 * @param kind `'dense'` or `'conv'`.
 * @returns a copy with the canonical names, and the bias default that applies to it.
 * @example
 * ```ts
 * fromTfjsArgs({ filters: 8, kernelSize: 3, padding: 'valid' }, 'conv');
 * // { args: { outChannels: 8, kernelSize: 3, padMode: 'valid' }, defaultHasBias: true }
 * ```
 */
export function fromTfjsArgs<T extends object>(
  args: T,
  kind: 'dense' | 'conv',
): { args: T & Canonical; defaultHasBias: boolean } {
  if (args === undefined || args === null || typeof args !== 'object') {
    throw new ArgumentError(
      'args',
      kind === 'dense'
        ? 'expected an object with at least units (or outChannels)'
        : 'expected an object with at least filters (or outChannels) and kernelSize',
    );
  }
  const a = args as Record<string, unknown>;
  const out: Record<string, unknown> = { ...a };
  alias(a, out, kind === 'dense' ? 'units' : 'filters', 'outChannels');
  if (kind === 'dense' && a['filters'] !== undefined) {
    throw new ArgumentError('filters', 'is an argument of convolutions; a Dense layer takes units');
  }
  if (kind === 'conv' && a['units'] !== undefined) {
    throw new ArgumentError('units', 'is an argument of Dense layers; a convolution takes filters');
  }
  checkLayerKeys(a, kind);
  if (kind === 'dense' && a['inputDim'] !== undefined) {
    const d = a['inputDim'];
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) {
      throw new ArgumentError('inputDim', `expected an integer >= 1, got ${String(d)}`);
    }
    // tfjs's Dense: inputDim stands for inputShape [inputDim] unless a shape is given
    if (a['inputShape'] === undefined && a['batchInputShape'] === undefined)
      out['inputShape'] = [d];
    delete out['inputDim'];
  }
  // a convolution keeps its data format (conv_format.ts); a Dense layer has none
  if (kind !== 'conv' || out['dataFormat'] !== 'channelsFirst') delete out['dataFormat'];
  alias(a, out, 'useBias', 'hasBias');
  if (kind === 'conv') {
    alias(a, out, 'strides', 'stride');
    alias(a, out, 'dilationRate', 'dilation');
    const p = a['padding'];
    if (typeof p === 'string') {
      if (p !== 'same' && p !== 'valid') {
        throw new ArgumentError('padding', `expected 'same' or 'valid' (or a number), got '${p}'`);
      }
      if (a['padMode'] !== undefined && a['padMode'] !== p) {
        throw new ArgumentError(
          'padding',
          `and padMode name the same argument; got '${p}' and '${String(a['padMode'])}'`,
        );
      }
      out['padMode'] = p;
      delete out['padding'];
    }
  }
  // the output size is checked under the name the user wrote (units / filters / outChannels)
  const sizeName =
    a['units'] !== undefined ? 'units' : a['filters'] !== undefined ? 'filters' : 'outChannels';
  const size = out['outChannels'];
  if (size !== undefined && (typeof size !== 'number' || !Number.isInteger(size) || size < 1)) {
    throw new ArgumentError(
      sizeName,
      `expected an integer >= 1, got ${typeof size === 'string' ? JSON.stringify(size) : String(size)}`,
    );
  }
  if (out['outChannels'] === undefined) {
    throw new ArgumentError(
      kind === 'dense' ? 'units' : 'filters',
      kind === 'dense'
        ? 'is required: the number of output units, an integer >= 1 (or outChannels)'
        : 'is required: the number of output channels, an integer >= 1 (or outChannels)',
    );
  }
  // TF.js defaults: useBias true, padding 'valid'; a convolution in MindSpore's names keeps
  // hasBias false and padMode 'same' (applied by the layer).
  const tfjsStyle = kind === 'dense' || a['filters'] !== undefined;
  if (
    kind === 'conv' &&
    tfjsStyle &&
    out['padMode'] === undefined &&
    out['padding'] === undefined
  ) {
    out['padMode'] = 'valid';
  }
  return { args: out as T & Canonical, defaultHasBias: tfjsStyle };
}
