/**
 * The "LeNet" of the evidential deep learning experiment (seed 001, Sensoy et al. 2018):
 * conv 20@5x5 -> ReLU -> maxpool 2 -> conv 50@5x5 -> ReLU -> maxpool 2 -> fc 500 -> ReLU ->
 * [dropout 0.5] -> fc 10, on 28x28 inputs (50x4x4 = 800 features into fc1); 431,080 parameters.
 * `lenet` is the plain classifier (no dropout), `evidentialLenet` the evidential one (dropout
 * 0.5; its outputs are turned into evidence by the evidential losses of the toolbox).
 */
import type * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { buildSequential, checkModelOptions, type ModelOptions } from './build.js';
import { checkNumClasses } from './lenet5.js';
import type { LayerSpec } from './spec.js';

/** Options of {@link lenet} and {@link evidentialLenet}. */
export interface LeNetOptions extends ModelOptions {
  /** Dropout rate before the last layer (0 = none). */
  dropout?: number;
}

/** The conv 20/50 LeNet layer list. */
export function lenetSpec(numClasses: number, dropout: number): LayerSpec[] {
  checkNumClasses(numClasses);
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) {
    throw new ArgumentError('dropout', `expected a rate in [0, 1), got ${String(dropout)}`);
  }
  const specs: LayerSpec[] = [
    { kind: 'conv', name: 'conv1', filters: 20, kernelSize: 5 },
    { kind: 'act', fn: 'relu' },
    { kind: 'maxpool', size: 2, stride: 2 },
    { kind: 'conv', name: 'conv2', filters: 50, kernelSize: 5 },
    { kind: 'act', fn: 'relu' },
    { kind: 'maxpool', size: 2, stride: 2 },
    { kind: 'flatten' },
    { kind: 'dense', name: 'fc1', units: 500 },
    { kind: 'act', fn: 'relu' },
  ];
  if (dropout > 0) specs.push({ kind: 'dropout', rate: dropout });
  specs.push({ kind: 'dense', name: 'fc2', units: numClasses });
  return specs;
}

/**
 * Plain conv 20/50 LeNet (no dropout unless `dropout` is given); outputs logits.
 *
 * @example
 * ```ts
 * lenet().predict(tf.zeros([2, 28, 28, 1])); // [2, 10]
 * ```
 */
export function lenet(options: LeNetOptions = {}): tf.Sequential {
  checkModelOptions(options, ['dropout'], 'lenet');
  const numClasses = checkNumClasses(options.numClasses);
  return buildSequential(
    lenetSpec(numClasses, options.dropout ?? 0),
    options.inputShape ?? [28, 28, 1],
    {
      name: options.name ?? 'lenet',
      bayesian: options.bayesian,
      priors: options.priors,
    },
  );
}

/**
 * The evidential LeNet of seed 001 (dropout 0.5 before the output layer). Its outputs are
 * unconstrained; the evidential losses map them to evidence `e = softplus(o)` (or ReLU), Dirichlet
 * parameters `alpha = e + 1`.
 *
 * @example
 * ```ts
 * const net = evidentialLenet(); // train with the toolbox's evidential loss
 * ```
 */
export function evidentialLenet(options: LeNetOptions = {}): tf.Sequential {
  checkModelOptions(options, ['dropout'], 'evidentialLenet');
  return lenet({ name: 'evidential-lenet', ...options, dropout: options.dropout ?? 0.5 });
}
