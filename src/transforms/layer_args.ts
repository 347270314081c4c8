/**
 * MindSpore-style views of TF.js layers and the argument rules of `TransformToBNN`.
 *
 * MindSpore's `get_dense_args` / `get_conv_args` read a DNN layer `dp` through its attributes
 * (`dp.in_channels`, `dp.has_bias`, ...). Here {@link denseView} and {@link convView} build the same
 * view of a tfjs `Dense` / `Conv2D` layer, so user getters are written as in MindSpore:
 * `(dp) => ({ inChannels: dp.inChannels, outChannels: dp.outChannels })`. The convolution views
 * are in `conv_views.ts`, the recurrent ones in `recurrent_views.ts` (both re-exported here), and
 * what every view reads in `layer_view.ts`.
 */
import type * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import {
  activationName,
  checkLayer,
  kernelShape,
  type GetArgs,
  type LayerArgsDict,
} from './layer_view.js';

export { formatArg, type GetArgs, type LayerArgsDict } from './layer_view.js';
export * from './conv_views.js';
export * from './recurrent_views.js';

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

/** MindSpore's default `get_dense_args`: in/out channels, bias and activation. */
export const defaultDenseArgs: GetArgs<DenseView> = (dp) => ({
  inChannels: dp.inChannels,
  outChannels: dp.outChannels,
  hasBias: dp.hasBias,
  activation: dp.activation,
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
