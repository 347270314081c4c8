/**
 * AlexNet as in PyTorch-BayesianCNN (`AlexNet` / `BBBAlexNet`, Shridhar et al. 2019), sized for
 * 32x32 inputs: conv 64@11x11 stride 4 pad 5 -> act -> maxpool 2 -> conv 192@5x5 pad 2 -> act ->
 * maxpool 2 -> conv 384@3x3 pad 1 -> act -> conv 256@3x3 pad 1 -> act -> conv 128@3x3 pad 1 ->
 * act -> maxpool 2 -> flatten (1x1x128) -> fc num_class.
 *
 * 1-channel (MNIST-like, padded to 32x32) or 3-channel (CIFAR) inputs; 28x28 inputs are too small
 * (the last pooling would reach 0x0) and are rejected with a hint to pad to 32.
 */
import type * as tf from '@tensorflow/tfjs';
import { buildZooModel, checkModelOptions, type ModelOptions } from './build.js';
import { checkNumClasses } from './lenet5.js';
import type { Activation, LayerSpec } from './spec.js';

/** Options of {@link alexnet}. */
export interface AlexNetOptions extends ModelOptions {
  /** Hidden activation (default softplus, BayesianCNN's default `activation_type`). */
  activation?: Activation;
}

/** The AlexNet layer list. */
export function alexnetSpec(numClasses: number, act: Activation = 'softplus'): LayerSpec[] {
  checkNumClasses(numClasses);
  return [
    { kind: 'conv', name: 'conv1', filters: 64, kernelSize: 11, stride: 4, padding: 5 },
    { kind: 'act', fn: act },
    { kind: 'maxpool', size: 2, stride: 2 },
    { kind: 'conv', name: 'conv2', filters: 192, kernelSize: 5, padding: 2 },
    { kind: 'act', fn: act },
    { kind: 'maxpool', size: 2, stride: 2 },
    { kind: 'conv', name: 'conv3', filters: 384, kernelSize: 3, padding: 1 },
    { kind: 'act', fn: act },
    { kind: 'conv', name: 'conv4', filters: 256, kernelSize: 3, padding: 1 },
    { kind: 'act', fn: act },
    { kind: 'conv', name: 'conv5', filters: 128, kernelSize: 3, padding: 1 },
    { kind: 'act', fn: act },
    { kind: 'maxpool', size: 2, stride: 2 },
    { kind: 'flatten' },
    { kind: 'dense', name: 'classifier', units: numClasses },
  ];
}

/**
 * AlexNet (BayesianCNN variant), plain or Bayesian; outputs logits.
 *
 * @param options `numClasses` (10), `inputShape` (default `[32, 32, 1]`; `[32, 32, 3]` for CIFAR),
 *   `bayesian`, `priors`, `activation`.
 * @example
 * ```ts
 * const net = alexnet({ inputShape: [32, 32, 3], bayesian: 'local' }); // BBB_LRT AlexNet for CIFAR-10
 * ```
 */
export function alexnet(options: AlexNetOptions = {}): tf.Sequential {
  checkModelOptions(options, ['activation'], 'alexnet');
  const numClasses = checkNumClasses(options.numClasses);
  return buildZooModel(alexnetSpec(numClasses, options.activation), options, {
    inputShape: [32, 32, 1],
    name: 'alexnet',
  });
}
