/**
 * LeNet-5 (LeCun et al. 1998) in MindSpore's form (`BNNLeNet5` / `LeNet5` of the MindSpore
 * probability tutorials): conv 6@5x5 (no bias) -> ReLU -> maxpool 2 -> conv 16@5x5 (no bias) ->
 * ReLU -> maxpool 2 -> fc 120 -> ReLU -> fc 84 -> ReLU -> fc num_class.
 *
 * Two input variants: `'mindspore'` takes 32x32 inputs with `'valid'` convolutions (the MNIST
 * images are padded/resized to 32x32); `'classic'` takes 28x28 inputs and pads the first
 * convolution by 2 pixels. Both reach the 16x5x5 = 400 features of fc1 and have the same
 * 61,684 parameters for 10 classes (posterior mean and rho: twice that in the Bayesian twin).
 */
import type * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { buildZooModel, checkModelOptions, type ModelOptions } from './build.js';
import type { Activation, LayerSpec } from './spec.js';

/** Options of {@link lenet5}. */
export interface LeNet5Options extends ModelOptions {
  /** `'mindspore'` (32x32 input) or `'classic'` (28x28, padded conv1); default from `inputShape`. */
  variant?: 'mindspore' | 'classic';
  /** Hidden activation (default ReLU as MindSpore; BayesianCNN uses softplus). */
  activation?: Activation;
  /**
   * Give the two convolutions a bias (default false, as MindSpore's LeNet-5; true is
   * PyTorch-BayesianCNN's `LeNet` / `BBBLeNet`, `bias=True`: 22 more weights, 61,706 for 10
   * classes on 32x32x1).
   */
  convBias?: boolean;
}

/** The LeNet-5 layer list. */
export function lenet5Spec(
  numClasses: number,
  variant: 'mindspore' | 'classic',
  act: Activation = 'relu',
  convBias = false,
): LayerSpec[] {
  return [
    {
      kind: 'conv',
      name: 'conv1',
      filters: 6,
      kernelSize: 5,
      padding: variant === 'classic' ? 2 : 'valid',
      bias: convBias,
    },
    { kind: 'act', fn: act },
    { kind: 'maxpool', size: 2, stride: 2 },
    { kind: 'conv', name: 'conv2', filters: 16, kernelSize: 5, bias: convBias },
    { kind: 'act', fn: act },
    { kind: 'maxpool', size: 2, stride: 2 },
    { kind: 'flatten' },
    { kind: 'dense', name: 'fc1', units: 120 },
    { kind: 'act', fn: act },
    { kind: 'dense', name: 'fc2', units: 84 },
    { kind: 'act', fn: act },
    { kind: 'dense', name: 'fc3', units: numClasses },
  ];
}

/** Check `numClasses`. */
export function checkNumClasses(n: number | undefined): number {
  const v = n ?? 10;
  if (!Number.isInteger(v) || v < 2) {
    throw new ArgumentError('numClasses', `expected an integer >= 2, got ${v}`);
  }
  return v;
}

/**
 * LeNet-5, plain or Bayesian; outputs logits `[batch, numClasses]`.
 *
 * @param options `numClasses` (10), `inputShape` (`[32, 32, 1]`; `[28, 28, 1]` selects the classic
 *   variant), `variant`, `bayesian` estimator, `priors`, `activation`, `convBias` (BayesianCNN's
 *   `BBBLeNet`: `{ bayesian: 'local', activation: 'softplus', convBias: true }`).
 * @example
 * ```ts
 * const net = lenet5({ bayesian: 'reparam' });   // MindSpore's BNNLeNet5
 * net.predict(tf.zeros([8, 32, 32, 1]));         // [8, 10] logits
 * ```
 */
export function lenet5(options: LeNet5Options = {}): tf.Sequential {
  checkModelOptions(options, ['variant', 'activation', 'convBias'], 'lenet5');
  if (options.convBias !== undefined && typeof options.convBias !== 'boolean') {
    throw new ArgumentError('convBias', `expected true or false, got ${String(options.convBias)}`);
  }
  const numClasses = checkNumClasses(options.numClasses);
  if (
    options.variant !== undefined &&
    options.variant !== 'mindspore' &&
    options.variant !== 'classic'
  ) {
    throw new ArgumentError(
      'variant',
      `expected 'mindspore' or 'classic', got '${String(options.variant)}'`,
    );
  }
  const variant =
    options.variant ??
    (options.inputShape !== undefined && options.inputShape[0] === 28 ? 'classic' : 'mindspore');
  const inputShape = options.inputShape ?? (variant === 'classic' ? [28, 28, 1] : [32, 32, 1]);
  const spec = lenet5Spec(numClasses, variant, options.activation, options.convBias ?? false);
  return buildZooModel(spec, options, {
    inputShape,
    name: 'lenet5',
  });
}
