/**
 * The arguments of the Bayesian recurrent layers (LSTM, GRU, SimpleRNN): TF.js's recurrent names
 * plus the variational ones, checked, and turned into the base's (`outChannels = g · units` for
 * `g` gate blocks, `tanh` by default); and the gate activation's canonical name.
 */
import { ArgumentError } from '../utils/errors.js';
import { booleanOption, checkOptionKeys } from '../utils/options.js';
import { normalizeActivation } from './activations.js';
import { type BayesianLayerArgs } from './bayesian_layer.js';
import { LAYER_ARG_KEYS, type TfjsLayerArgs } from './tfjs_args.js';

/** Arguments shared by the Bayesian recurrent layers: TF.js's recurrent names plus the variational ones. */
export interface RecurrentVariationalArgs
  extends Omit<BayesianLayerArgs, 'outChannels'>, TfjsLayerArgs {
  /** Hidden size (width of `h_t`), an integer >= 1. Required. */
  units: number;
  /** Output (candidate) activation `a`. Default `'tanh'`. */
  activation?: string | null;
  /** Return `h_t` of every step (`[batch, T, units]`) instead of the last (`[batch, units]`). Default false. */
  returnSequences?: boolean;
  /** Read the sequence from its last step to its first. Default false. */
  goBackwards?: boolean;
  /** Must be false: a Bayesian recurrent layer keeps no state between calls. */
  stateful?: boolean;
  /** Also return the last states: `[output, h_T]` (`[output, h_T, c_T]` for an LSTM). Default false. */
  returnState?: boolean;
  /** Must be 0: the weight posterior replaces dropout. */
  dropout?: number;
  /** Must be 0: the weight posterior replaces dropout. */
  recurrentDropout?: number;
  /** Accepted and ignored (TF.js ignores it too). */
  unroll?: boolean;
}

/** The argument names every Bayesian recurrent layer accepts. */
const RECURRENT_KEYS: readonly string[] = [
  ...LAYER_ARG_KEYS.dense.filter((k) => k !== 'outChannels'),
  'returnSequences',
  'goBackwards',
  'stateful',
  'returnState',
  'dropout',
  'recurrentDropout',
  'unroll',
];

/**
 * The base's arguments of a recurrent layer with `gates` blocks: `outChannels = gates * units`,
 * tanh by default; `extraKeys` are the kind's own argument names (dropped from the base's).
 * @throws ArgumentError naming the argument on unknown keys, state/dropout, a bad `units`.
 */
export function recurrentBaseArgs(
  a: RecurrentVariationalArgs,
  what: string,
  gates: number,
  extraKeys: readonly string[],
): BayesianLayerArgs {
  if (a === null || typeof a !== 'object') {
    throw new ArgumentError('args', 'expected an object with at least units');
  }
  if ((a as { outChannels?: unknown }).outChannels !== undefined) {
    throw new ArgumentError(
      'outChannels',
      `is not an argument of a Bayesian ${what}: give units (the hidden size); the gate width ` +
        `${gates === 1 ? '' : `${gates} * `}units is derived`,
    );
  }
  checkOptionKeys(a, [...RECURRENT_KEYS, ...extraKeys], `a Bayesian ${what} layer`);
  if (booleanOption(a.stateful, 'stateful', false)) {
    throw new ArgumentError(
      'stateful',
      `a Bayesian ${what} keeps no state between calls (stateful must be false; give the ` +
        'states of a previous call as initialState instead)',
    );
  }
  booleanOption(a.returnState, 'returnState', false);
  for (const key of ['dropout', 'recurrentDropout'] as const) {
    const v = a[key];
    if (v !== undefined && v !== 0) {
      throw new ArgumentError(
        key,
        `expected 0 (the weight posterior replaces dropout in a Bayesian ${what}), got ${String(v)}`,
      );
    }
  }
  const u = a.units;
  if (typeof u !== 'number' || !Number.isInteger(u) || u < 1) {
    throw new ArgumentError(
      'units',
      `expected an integer >= 1 (the hidden size), got ${String(u)}`,
    );
  }
  if (a.useBias !== undefined && a.hasBias !== undefined && a.useBias !== a.hasBias) {
    throw new ArgumentError(
      'useBias',
      `and hasBias name the same argument; got ${String(a.useBias)} and ${String(a.hasBias)}`,
    );
  }
  const drop = new Set([
    ...RECURRENT_KEYS.filter((k) => !LAYER_ARG_KEYS.dense.includes(k)),
    ...extraKeys,
    'units',
    'useBias',
  ]);
  const rest = Object.fromEntries(Object.entries(a).filter(([k]) => !drop.has(k)));
  return {
    ...(rest as Omit<BayesianLayerArgs, 'outChannels'>),
    outChannels: gates * u,
    hasBias: a.hasBias ?? a.useBias ?? true,
    activation: a.activation === undefined ? 'tanh' : a.activation,
  };
}

/**
 * The canonical name of a gate activation, `'hardSigmoid'` (TF.js's default) when not given.
 * @throws ArgumentError naming `recurrentActivation` for an unknown name.
 */
export function recurrentActivationOf(name: string | null | undefined): string {
  return normalizeActivation(name === undefined ? 'hardSigmoid' : name, 'recurrentActivation');
}
