/**
 * 3Conv3FC as in PyTorch-BayesianCNN (`ThreeConvThreeFC` / `BBB3Conv3FC`): conv 32@5x5 pad 2 ->
 * act -> maxpool 3 stride 2 -> conv 64@5x5 pad 2 -> act -> maxpool 3/2 -> conv 128@5x5 pad 1 ->
 * act -> maxpool 3/2 -> flatten -> fc 1000 -> act -> fc 1000 -> act -> fc num_class.
 *
 * For 32x32 inputs the flattened size is 2x2x128 = 512 (as in BayesianCNN); 28x28 inputs give
 * 1x1x128 = 128 (the first fc adapts).
 */
import type * as tf from '@tensorflow/tfjs';
import { buildZooModel, type ModelOptions } from './build.js';
import { checkNumClasses } from './lenet5.js';
import type { Activation, LayerSpec } from './spec.js';

/** Options of {@link threeConvThreeFC}. */
export interface ThreeConvThreeFCOptions extends ModelOptions {
  /** Hidden activation (default softplus, BayesianCNN's default). */
  activation?: Activation;
}

/** The 3Conv3FC layer list. */
export function threeConvThreeFCSpec(
  numClasses: number,
  act: Activation = 'softplus',
): LayerSpec[] {
  return [
    { kind: 'conv', name: 'conv1', filters: 32, kernelSize: 5, padding: 2 },
    { kind: 'act', fn: act },
    { kind: 'maxpool', size: 3, stride: 2 },
    { kind: 'conv', name: 'conv2', filters: 64, kernelSize: 5, padding: 2 },
    { kind: 'act', fn: act },
    { kind: 'maxpool', size: 3, stride: 2 },
    { kind: 'conv', name: 'conv3', filters: 128, kernelSize: 5, padding: 1 },
    { kind: 'act', fn: act },
    { kind: 'maxpool', size: 3, stride: 2 },
    { kind: 'flatten' },
    { kind: 'dense', name: 'fc1', units: 1000 },
    { kind: 'act', fn: act },
    { kind: 'dense', name: 'fc2', units: 1000 },
    { kind: 'act', fn: act },
    { kind: 'dense', name: 'fc3', units: numClasses },
  ];
}

/**
 * 3Conv3FC (BayesianCNN), plain or Bayesian; outputs logits.
 *
 * @param options `numClasses` (10), `inputShape` (default `[32, 32, 1]`), `bayesian`, `priors`,
 *   `activation`.
 * @example
 * ```ts
 * const net = threeConvThreeFC({ inputShape: [32, 32, 3], numClasses: 100 });
 * ```
 */
export function threeConvThreeFC(options: ThreeConvThreeFCOptions = {}): tf.Sequential {
  const numClasses = checkNumClasses(options.numClasses);
  return buildZooModel(threeConvThreeFCSpec(numClasses, options.activation), options, {
    inputShape: [32, 32, 1],
    name: '3conv3fc',
  });
}
