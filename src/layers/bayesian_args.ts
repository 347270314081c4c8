/**
 * The arguments of a Bayesian layer and their normalisation: MindSpore names (`inChannels`,
 * `outChannels`, `hasBias`), BayesianCNN priors (`priorMu`, `priorSigma`,
 * `posteriorMuInitial`, `posteriorRhoInitial`) or full prior/posterior objects, the prediction
 * mode, the KL scale and the MOPED flag, each checked with an `ArgumentError` naming it.
 */
import type * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { booleanOption } from '../utils/options.js';
import { normalizeActivation } from './activations.js';
import type { TfjsLayerArgs } from './tfjs_args.js';
import {
  checkFinite,
  checkMeanStd,
  DEFAULT_POSTERIOR,
  DEFAULT_PRIOR,
  normalizePosterior,
  normalizePrior,
  type PosteriorConfig,
  type PosteriorInput,
  type PriorConfig,
  type PriorInput,
} from './priors.js';

/** Arguments of the tfjs `Layer` constructor (name, trainable, inputShape, batchInputShape...). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** `'sample'`: draw weights/activations on every call; `'mean'`: use the posterior means. */
export type BayesianMode = 'sample' | 'mean';

/**
 * Arguments shared by all Bayesian layers: TF.js names ({@link TfjsLayerArgs}: `useBias`,
 * `kernelInitializer`, `biasInitializer`; `units` / `filters` on the kinds, mapped in
 * `tfjs_args.ts`), MindSpore names (`outChannels`, `hasBias`, ...) as aliases, BayesianCNN priors.
 */
export interface BayesianLayerArgs extends LayerArgs, TfjsLayerArgs {
  /** Number of input channels (features); inferred from the input when omitted, checked when given. */
  inChannels?: number;
  /** Number of output channels (MindSpore's name of `units` / `filters`). */
  outChannels?: number;
  /**
   * Whether the layer has a (Bayesian) bias (MindSpore's name of `useBias`). Default `true`, but
   * `false` for a convolution written with MindSpore's `outChannels` (as MindSpore).
   */
  hasBias?: boolean;
  /** Activation name (`'relu'`, `'tanh'`, `'softmax'`, ...). Default linear. */
  activation?: string | null;
  /** Mean of the Normal prior (BayesianCNN `prior_mu`). Default 0. Ignored when `prior` is given. */
  priorMu?: number;
  /** Std of the Normal prior (BayesianCNN `prior_sigma`), > 0. Default 0.1. */
  priorSigma?: number;
  /** (mean, std) of the normal initialisation of the posterior means. Default `[0, 0.1]`. */
  posteriorMuInitial?: readonly number[];
  /** (mean, std) of the normal initialisation of `rho`, `sigma = softplus(rho)`. Default `[-3, 0.1]`. */
  posteriorRhoInitial?: readonly number[];
  /** Full prior object; overrides `priorMu`/`priorSigma`. */
  prior?: PriorInput;
  /** Full posterior object; overrides `posteriorMuInitial`/`posteriorRhoInitial`. */
  posterior?: PosteriorInput;
  /** Prediction mode (saved with the model). Default `'sample'`. */
  mode?: BayesianMode;
  /** Factor of `kl()` in the layer's losses seen by `model.fit`. Default 1 (TFP's convention). */
  klScale?: number;
  /**
   * Centre the Normal prior of each weight on its own mean `w0_i` (non-trainable weights set by
   * {@link BayesianLayer.setPriorMean}, saved with the model): `p(w_i) = N(w0_i, priorSigma^2)`.
   * Default false (the scalar prior `N(priorMu, priorSigma^2)`).
   */
  centredPrior?: boolean;
}

function positiveInt(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ArgumentError(name, `expected an integer >= 1, got ${String(v)}`);
  }
  return v;
}

/** {@link BayesianLayerArgs} checked and completed with their defaults. */
export interface NormalizedBayesianArgs {
  outChannels: number;
  inChannels: number | null;
  hasBias: boolean;
  activation: string;
  prior: PriorConfig;
  posterior: PosteriorConfig;
  mode: BayesianMode;
  klScale: number;
  centredPrior: boolean;
}

/**
 * Check `args` (also tfjs's `trainable`, a boolean, and `name`, a string) and fill in
 * the defaults (`hasBias` defaults to `defaultHasBias`; the prior to
 * `N(0, 0.1^2)`, the posterior initialisation to `mu ~ N(0, 0.1^2)`, `rho ~ N(-3, 0.1^2)`).
 * @throws ArgumentError naming the first bad argument.
 */
export function normalizeBayesianArgs(
  args: BayesianLayerArgs,
  defaultHasBias: boolean,
): NormalizedBayesianArgs {
  const out = {} as NormalizedBayesianArgs;
  if (args === undefined || args === null || typeof args !== 'object') {
    throw new ArgumentError('args', 'expected an object with at least outChannels');
  }
  // tfjs's Layer takes these unchecked (a truthy 'no' would train, a number would name weights)
  booleanOption(args.trainable, 'trainable', true);
  if (args.name !== undefined && args.name !== null && typeof args.name !== 'string') {
    throw new ArgumentError('name', `expected a string, got ${String(args.name)}`);
  }
  out.outChannels = positiveInt(args.outChannels, 'outChannels');
  out.inChannels =
    args.inChannels === undefined || args.inChannels === null
      ? null
      : positiveInt(args.inChannels, 'inChannels');
  out.hasBias = args.hasBias ?? defaultHasBias;
  if (typeof out.hasBias !== 'boolean') {
    throw new ArgumentError('hasBias', `expected true or false, got ${String(args.hasBias)}`);
  }
  out.activation = normalizeActivation(args.activation);
  if (args.prior !== undefined && args.prior !== null) {
    out.prior = normalizePrior(args.prior, 'prior');
  } else {
    const mu = checkFinite(args.priorMu ?? DEFAULT_PRIOR.mu, 'priorMu');
    const sigma = checkFinite(args.priorSigma ?? DEFAULT_PRIOR.sigma, 'priorSigma');
    if (!(sigma > 0)) throw new ArgumentError('priorSigma', `expected a number > 0, got ${sigma}`);
    out.prior = { type: 'normal', mu, sigma };
  }
  out.posterior =
    args.posterior !== undefined && args.posterior !== null
      ? normalizePosterior(args.posterior, 'posterior')
      : {
          type: 'normal',
          muInitial: checkMeanStd(
            args.posteriorMuInitial ?? DEFAULT_POSTERIOR.muInitial,
            'posteriorMuInitial',
          ),
          rhoInitial: checkMeanStd(
            args.posteriorRhoInitial ?? DEFAULT_POSTERIOR.rhoInitial,
            'posteriorRhoInitial',
          ),
        };
  const mode = args.mode ?? 'sample';
  if (mode !== 'sample' && mode !== 'mean') {
    throw new ArgumentError('mode', `expected 'sample' or 'mean', got '${String(mode)}'`);
  }
  out.mode = mode;
  const klScale = args.klScale ?? 1;
  if (typeof klScale !== 'number' || !Number.isFinite(klScale) || klScale < 0) {
    throw new ArgumentError('klScale', `expected a finite number >= 0, got ${String(klScale)}`);
  }
  out.klScale = klScale;
  const centred = args.centredPrior ?? false;
  if (typeof centred !== 'boolean') {
    throw new ArgumentError(
      'centredPrior',
      `expected true or false, got ${String(args.centredPrior)}`,
    );
  }
  out.centredPrior = centred;
  return out;
}
