/**
 * The model zoo by name, as used by the CLI (`--model`).
 */
import type * as tf from '@tensorflow/tfjs';
import { DEFAULT_ESTIMATOR } from '../layers/estimator_registry.js';
import { ArgumentError } from '../utils/errors.js';
import { optionsObject } from '../utils/options.js';
import { alexnet, alexnetSpec } from './alexnet.js';
import type { Estimator, ModelOptions } from './build.js';
import { evidentialLenet, lenet, lenetSpec } from './lenet.js';
import { lenet5, lenet5Spec } from './lenet5.js';
import { minInputSide, type Activation } from './spec.js';
import { threeConvThreeFC, threeConvThreeFCSpec } from './three_conv_three_fc.js';

/** {@link createModel}'s options: the factories' common options and the hidden activation. */
export interface ZooModelOptions extends ModelOptions {
  /** Hidden activation, one of the entry's {@link ModelEntry.activations} (default its first). */
  activation?: Activation;
}

/** What a registered model is trained with. */
export type ModelKind = 'plain' | 'bayesian' | 'evidential';

/**
 * Training settings a model of the zoo was measured with; the CLI (`deepprob train`, the queue's
 * jobs) uses them where a run leaves the setting out ({@link withModelRecipe} of the app layer).
 */
export interface TrainingRecipe {
  /** Estimator of the Bayesian layers. */
  estimator?: Estimator;
  /** Mean of the initial posterior `rho` (`sigma = softplus(rho)`). */
  rhoInit?: number;
  /** Adam learning rate at the first epoch. */
  lr?: number;
  /**
   * The learning rate falls geometrically, once per epoch, to this fraction of `lr` at the last
   * epoch: epoch `e` of `E` (0-based) uses `lr * f^(e / (E - 1))`, whatever the run's length.
   */
  lrFinalFraction?: number;
  /** Where the recipe's figures are documented. */
  measured: string;
}

/** A registry entry. */
export interface ModelEntry {
  /** Registry name. */
  name: string;
  /** Plain (cross-entropy), Bayesian (ELBO) or evidential (evidential loss). */
  kind: ModelKind;
  /** Default input shape `[H, W, C]` for 1-channel data. */
  defaultInputShape: [number, number, number];
  /**
   * The smallest input side the architecture takes (`minInputSide` of its layer list: below it a
   * convolution or pooling window no longer fits): LeNet-5 16, 3Conv3FC 23, AlexNet 29, LeNet 16.
   */
  minInputSide: number;
  /** One-line description. */
  description: string;
  /** Build the model. */
  build(options: ZooModelOptions): tf.Sequential;
  /**
   * The hidden activations the architecture takes (`createModel`'s `activation`, the CLI's
   * `--activation`), its default first; absent where the activation is fixed.
   */
  activations?: readonly Activation[];
  /** Training settings used where a CLI run leaves them out (none: the CLI's global defaults). */
  recipe?: TrainingRecipe;
}

/**
 * A plain model and its Bayesian twin `bayes-<name>` (default estimator {@link DEFAULT_ESTIMATOR}).
 * @param name the plain model's name.
 * @param descriptions the plain model's and the twin's descriptions.
 * @param build the factory (a `bayesian` estimator makes the twin).
 */
function twins(
  name: string,
  descriptions: [string, string],
  build: (o: ZooModelOptions) => tf.Sequential,
  minSide: number,
  activations: readonly Activation[],
  bayesRecipe?: TrainingRecipe,
): Record<string, ModelEntry> {
  const defaultInputShape: [number, number, number] = [32, 32, 1];
  const bayesName = `bayes-${name}`;
  return {
    [name]: {
      name,
      kind: 'plain',
      defaultInputShape,
      minInputSide: minSide,
      description: descriptions[0],
      build: (o) => build({ ...o, bayesian: undefined }),
      activations,
    },
    [bayesName]: {
      name: bayesName,
      kind: 'bayesian',
      defaultInputShape,
      minInputSide: minSide,
      description: descriptions[1],
      build: (o) =>
        build({ ...o, bayesian: o.bayesian ?? DEFAULT_ESTIMATOR, name: o.name ?? bayesName }),
      activations,
      ...(bayesRecipe !== undefined ? { recipe: bayesRecipe } : {}),
    },
  };
}

/**
 * The Bayesian LeNet-5's recipe (issue 17's search, docs/uncertainty.md "recipe search"): Flipout,
 * exact ELBO, `rho` from -5, Adam 2e-3 falling to 0.13x by the last epoch (0.6 per epoch over 5
 * epochs). On MNIST, 5 epochs, seeds 1-5: 98.95-99.05 % MC-20, ECE 0.0067-0.0099; against plain
 * twins on the same schedule, NLL at 45 degrees 0.59-0.80x, at 60 degrees 0.56-0.72x, ECE at 45
 * degrees 0.44-0.73x (the earlier default, reparam from rho -3 at a constant 1e-3: 98.2-98.6 %,
 * ECE 0.032).
 */
export const BAYES_LENET5_RECIPE: TrainingRecipe = {
  estimator: 'flipout',
  rhoInit: -5,
  lr: 2e-3,
  lrFinalFraction: 0.6 ** 4,
  measured: 'docs/uncertainty.md, recipe search',
};

/** Every model of the zoo. */
export const MODELS: Record<string, ModelEntry> = {
  ...twins(
    'lenet5',
    [
      "MindSpore's LeNet-5 (conv 6/16 5x5, fc 120/84), 32x32 input",
      "MindSpore's BNNLeNet5 (Bayesian conv/dense layers), 32x32 input",
    ],
    lenet5,
    // the 32x32 MindSpore variant (a 28x28 input selects the classic one, which takes it too)
    minInputSide(lenet5Spec(10, 'mindspore')),
    ['relu', 'softplus'],
    BAYES_LENET5_RECIPE,
  ),
  ...twins(
    'alexnet',
    [
      'BayesianCNN AlexNet (conv 64/192/384/256/128), 32x32 input',
      'BayesianCNN BBBAlexNet, 32x32 input',
    ],
    alexnet,
    minInputSide(alexnetSpec(10)),
    ['softplus', 'relu'],
  ),
  ...twins(
    '3conv3fc',
    [
      'BayesianCNN 3Conv3FC (conv 32/64/128, fc 1000/1000, softplus as the reference: stays near chance on short runs, --activation relu trains), 32x32 input',
      'BayesianCNN BBB3Conv3FC (softplus: stays near chance on short runs, --activation relu trains), 32x32 input',
    ],
    threeConvThreeFC,
    minInputSide(threeConvThreeFCSpec(10)),
    ['softplus', 'relu'],
  ),
  lenet: {
    name: 'lenet',
    kind: 'plain',
    defaultInputShape: [28, 28, 1],
    minInputSide: minInputSide(lenetSpec(10, 0)),
    description: 'LeNet with conv 20/50 5x5, fc 500, 28x28 input',
    build: (o) => lenet(o),
  },
  'evidential-lenet': {
    name: 'evidential-lenet',
    kind: 'evidential',
    defaultInputShape: [28, 28, 1],
    minInputSide: minInputSide(lenetSpec(10, 0.5)),
    description: 'evidential LeNet (conv 20/50, fc 500, dropout 0.5), 28x28 input',
    build: (o) => evidentialLenet({ ...o, bayesian: undefined }),
  },
};

/**
 * Look up a model of the zoo.
 *
 * @param name a key of {@link MODELS}.
 * @throws ArgumentError listing the known names.
 */
export function getModelEntry(name: string): ModelEntry {
  const e = MODELS[name];
  if (e === undefined) {
    throw new ArgumentError(
      'model',
      `expected one of ${Object.keys(MODELS).join(', ')}, got '${name}'`,
    );
  }
  return e;
}

/**
 * Build a model of the zoo by name.
 *
 * @param name e.g. `'bayes-lenet5'`.
 * @param options `numClasses`, `inputShape`, `bayesian` estimator (Bayesian models; default
 *   `'reparam'`), `priors`.
 * @example
 * ```ts
 * const net = createModel('bayes-lenet5', { bayesian: 'flipout' });
 * ```
 * @throws ArgumentError naming `model` (an unknown name), an unknown option key, `bayesian`,
 *   `numClasses` or `inputShape` (not `[H, W, C]` positive integers, or too small for the
 *   architecture), before any layer is made.
 */
export function createModel(name: string, options: ZooModelOptions = {}): tf.Sequential {
  const e = getModelEntry(name);
  optionsObject(
    options,
    ['numClasses', 'inputShape', 'bayesian', 'priors', 'name', 'activation'],
    'createModel',
  );
  checkActivation(e, options.activation);
  const o: ZooModelOptions = { ...options, inputShape: options.inputShape ?? e.defaultInputShape };
  if (e.kind !== 'bayesian' && options.bayesian !== undefined) {
    throw new ArgumentError('bayesian', `model '${name}' is not Bayesian; use 'bayes-${name}'`);
  }
  return e.build(o);
}

/**
 * Check a hidden activation against a model of the zoo.
 *
 * @param e the model's entry.
 * @param activation the requested activation (`undefined`: the model's default).
 * @throws ArgumentError naming `activation`: the model's activation is fixed, or it takes others.
 */
export function checkActivation(e: ModelEntry, activation: unknown): void {
  if (activation === undefined) return;
  if (e.activations === undefined) {
    const takers = Object.values(MODELS)
      .filter((m) => m.activations !== undefined)
      .map((m) => m.name);
    throw new ArgumentError(
      'activation',
      `model '${e.name}' has a fixed activation; the models that take one are ${takers.join(', ')}`,
    );
  }
  if (!e.activations.includes(activation as Activation)) {
    throw new ArgumentError(
      'activation',
      `expected one of ${e.activations.join(', ')} for ${e.name}, got ${JSON.stringify(activation)}`,
    );
  }
}

/** Names of the Bayesian models. */
export type { Estimator };
