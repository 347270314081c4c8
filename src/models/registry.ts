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

const bayes = (o: ModelOptions, name: string): ModelOptions => ({
  ...o,
  bayesian: o.bayesian ?? DEFAULT_ESTIMATOR,
  name: o.name ?? name,
});

/** Every model of the zoo. */
export const MODELS: Record<string, ModelEntry> = {
  lenet5: {
    name: 'lenet5',
    kind: 'plain',
    defaultInputShape: [32, 32, 1],
    description: "MindSpore's LeNet-5 (conv 6/16 5x5, fc 120/84), 32x32 input",
    build: (o) => lenet5({ ...o, bayesian: undefined }),
  },
  'bayes-lenet5': {
    name: 'bayes-lenet5',
    kind: 'bayesian',
    defaultInputShape: [32, 32, 1],
    description: "MindSpore's BNNLeNet5 (Bayesian conv/dense layers), 32x32 input",
    build: (o) => lenet5(bayes(o, 'bayes-lenet5')),
  },
  alexnet: {
    name: 'alexnet',
    kind: 'plain',
    defaultInputShape: [32, 32, 1],
    description: 'BayesianCNN AlexNet (conv 64/192/384/256/128), 32x32 input',
    build: (o) => alexnet({ ...o, bayesian: undefined }),
  },
  'bayes-alexnet': {
    name: 'bayes-alexnet',
    kind: 'bayesian',
    defaultInputShape: [32, 32, 1],
    description: 'BayesianCNN BBBAlexNet, 32x32 input',
    build: (o) => alexnet(bayes(o, 'bayes-alexnet')),
  },
  '3conv3fc': {
    name: '3conv3fc',
    kind: 'plain',
    defaultInputShape: [32, 32, 1],
    description: 'BayesianCNN 3Conv3FC (conv 32/64/128, fc 1000/1000), 32x32 input',
    build: (o) => threeConvThreeFC({ ...o, bayesian: undefined }),
  },
  'bayes-3conv3fc': {
    name: 'bayes-3conv3fc',
    kind: 'bayesian',
    defaultInputShape: [32, 32, 1],
    description: 'BayesianCNN BBB3Conv3FC, 32x32 input',
    build: (o) => threeConvThreeFC(bayes(o, 'bayes-3conv3fc')),
  },
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
