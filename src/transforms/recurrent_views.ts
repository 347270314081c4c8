/**
 * MindSpore-style views of TF.js's recurrent layers (`LSTM`, `GRU`, `SimpleRNN`) and their default
 * getters: one shared reader (`recurrentView`) of the hidden size and recurrence options,
 * each kind adding its gate options.
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
