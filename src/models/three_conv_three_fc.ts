/**
 * 3Conv3FC as in PyTorch-BayesianCNN (`ThreeConvThreeFC` / `BBB3Conv3FC`): conv 32@5x5 pad 2 ->
 * act -> maxpool 3 stride 2 -> conv 64@5x5 pad 2 -> act -> maxpool 3/2 -> conv 128@5x5 pad 1 ->
 * act -> maxpool 3/2 -> flatten -> fc 1000 -> act -> fc 1000 -> act -> fc num_class.
 *
 * For 32x32 inputs the flattened size is 2x2x128 = 512 (as in BayesianCNN); 28x28 inputs give
 * 1x1x128 = 128 (the first fc adapts).
 *
 * With the reference's default softplus the net barely learns on short runs: softplus(z) =
 * ln 2 + z/2 + O(z^2) near 0 adds an input-independent offset of about 0.7 at every layer
 * (widened by the zero padding's border and the 3x3 max-pools) and halves the input-dependent
 * part, so at initialisation the logits' spread across inputs is about 1/600 of their
 * input-independent spread (ReLU: 1/5). Measured (2,000 MNIST images, 2 epochs, Adam, batch 64):
 * softplus stays at chance for every lr in 3e-5..3e-3 (also for 8 epochs at 1e-3, with Glorot or
 * PyTorch's default init; `bayes-3conv3fc` too), where `activation: 'relu'` reaches 87-89 %
 * test accuracy. Pass `activation: 'relu'` for a net that trains quickly.
 */
import type * as tf from '@tensorflow/tfjs';
import { buildZooModel, checkModelOptions, type ModelOptions } from './build.js';
import { checkNumClasses } from './lenet5.js';
import type { Activation, LayerSpec } from './spec.js';

/** Options of {@link threeConvThreeFC}. */
export interface ThreeConvThreeFCOptions extends ModelOptions {
  /**
   * Hidden activation (default softplus, BayesianCNN's default; it learns very slowly here, see
   * the module note: `'relu'` trains quickly).
   */
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
  checkModelOptions(options, ['activation'], 'threeConvThreeFC');
  const numClasses = checkNumClasses(options.numClasses);
  return buildZooModel(threeConvThreeFCSpec(numClasses, options.activation), options, {
    inputShape: [32, 32, 1],
    name: '3conv3fc',
  });
}
