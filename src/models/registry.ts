/**
 * The model zoo by name, as used by the CLI (`--model`).
 */
import type * as tf from '@tensorflow/tfjs';
import { DEFAULT_ESTIMATOR } from '../layers/estimator_registry.js';
import { ArgumentError } from '../utils/errors.js';
import { alexnet } from './alexnet.js';
import type { Estimator, ModelOptions } from './build.js';
import { evidentialLenet, lenet } from './lenet.js';
import { lenet5 } from './lenet5.js';
import { threeConvThreeFC } from './three_conv_three_fc.js';

/** What a registered model is trained with. */
export type ModelKind = 'plain' | 'bayesian' | 'evidential';

/** A registry entry. */
export interface ModelEntry {
  /** Registry name. */
  name: string;
  /** Plain (cross-entropy), Bayesian (ELBO) or evidential (evidential loss). */
  kind: ModelKind;
  /** Default input shape `[H, W, C]` for 1-channel data. */
  defaultInputShape: [number, number, number];
  /** One-line description. */
  description: string;
  /** Build the model. */
  build(options: ModelOptions): tf.Sequential;
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
  build: (o: ModelOptions) => tf.Sequential,
): Record<string, ModelEntry> {
  const defaultInputShape: [number, number, number] = [32, 32, 1];
  const bayesName = `bayes-${name}`;
  return {
    [name]: {
      name,
      kind: 'plain',
      defaultInputShape,
      description: descriptions[0],
      build: (o) => build({ ...o, bayesian: undefined }),
    },
    [bayesName]: {
      name: bayesName,
      kind: 'bayesian',
      defaultInputShape,
      description: descriptions[1],
      build: (o) =>
        build({ ...o, bayesian: o.bayesian ?? DEFAULT_ESTIMATOR, name: o.name ?? bayesName }),
    },
  };
}

/** Every model of the zoo. */
export const MODELS: Record<string, ModelEntry> = {
  ...twins(
    'lenet5',
    [
      "MindSpore's LeNet-5 (conv 6/16 5x5, fc 120/84), 32x32 input",
      "MindSpore's BNNLeNet5 (Bayesian conv/dense layers), 32x32 input",
    ],
    lenet5,
  ),
  ...twins(
    'alexnet',
    [
      'BayesianCNN AlexNet (conv 64/192/384/256/128), 32x32 input',
      'BayesianCNN BBBAlexNet, 32x32 input',
    ],
    alexnet,
  ),
  ...twins(
    '3conv3fc',
    [
      'BayesianCNN 3Conv3FC (conv 32/64/128, fc 1000/1000), 32x32 input',
      'BayesianCNN BBB3Conv3FC, 32x32 input',
    ],
    threeConvThreeFC,
  ),
  lenet: {
    name: 'lenet',
    kind: 'plain',
    defaultInputShape: [28, 28, 1],
    description: 'LeNet with conv 20/50 5x5, fc 500, 28x28 input',
    build: (o) => lenet(o),
  },
  'evidential-lenet': {
    name: 'evidential-lenet',
    kind: 'evidential',
    defaultInputShape: [28, 28, 1],
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
 */
export function createModel(name: string, options: ModelOptions = {}): tf.Sequential {
  const e = getModelEntry(name);
  const o: ModelOptions = { ...options, inputShape: options.inputShape ?? e.defaultInputShape };
  if (e.kind !== 'bayesian' && options.bayesian !== undefined) {
    throw new ArgumentError('bayesian', `model '${name}' is not Bayesian; use 'bayes-${name}'`);
  }
  return e.build(o);
}

/** Names of the Bayesian models. */
export type { Estimator };
